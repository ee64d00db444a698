// Short-lived programs run for an event: `run ARGV` actions and hook scripts. Each is just
// another child on the loop with a deadline; a slow or failing one is reported, never waited
// for, so it cannot delay recovery.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/event_loop.h"
#include "base/job.h"
#include "base/result.h"

namespace amata::actions {

/// One program to run to completion.
struct JobSpec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;  // added to amatad's environment
  double timeout = 30;   // seconds, then SIGKILL to its process group
  std::string log_path;  // stdout+stderr (empty: /dev/null)
  std::string workdir = "/";
};

/// How a job ended: its exit status, whether its deadline killed it, how long it ran.
using JobOutcome = base::Job::Outcome;

class JobRunner {
 public:
  using Done = std::function<void(const JobOutcome&)>;

  explicit JobRunner(base::EventLoop& loop) : loop_(loop) {}
  /// Kills and reaps the jobs still running: they never outlive amatad.
  ~JobRunner() = default;
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Starts `job`; `done` is called from the loop when it ends or is killed at its deadline.
  Result<pid_t> run(const JobSpec& job, Done done);
  std::size_t running() const { return jobs_.size(); }

 private:
  base::EventLoop& loop_;
  std::vector<std::string> base_env_ = base::current_environment();
  std::unordered_map<pid_t, std::unique_ptr<base::Job>> jobs_;
};

/// The event in a hook's or a `run` action's environment.
struct EventEnvironment {
  std::string event;                 // AMATA_EVENT
  std::string rule;                  // AMATA_RULE
  std::vector<std::string> objects;  // AMATA_OBJECT (the first), AMATA_OBJECTS (all, spaces)
  std::string edge;                  // AMATA_EDGE: raise | clear | gave-up
  double time = 0;                   // AMATA_TIME: Unix seconds
  std::int64_t event_id = 0;         // AMATA_EVENT_ID: the row in the event store
  std::string values;                // AMATA_VALUES: JSON of the samples that fired it
  std::string message;               // AMATA_MESSAGE: notify text, give-up reason
  std::string policy;                // AMATA_POLICY
  std::vector<std::string> args;     // AMATA_ARGS: the `run` arguments, space-separated

  /// NAME=VALUE pairs, every value whole: a NUL, which an environment cannot carry, is
  /// written as the two characters \0 (docs/operations.md, "Hooks").
  std::vector<std::pair<std::string, std::string>> variables() const;
};

/// Hook scripts: DIR/EVENT and DIR/any, run for every event with the event in their
/// environment. A missing directory or hook is simply no hook. A hook that belongs to another
/// user, or that anyone else could change (it or its directory writable by group or others),
/// is refused: `done` gets an outcome whose start_failure says why.
class HookRunner {
 public:
  using Done = std::function<void(const std::string& hook, const JobOutcome& outcome)>;

  HookRunner(JobRunner& jobs, std::string dir, double timeout, std::string log_path)
      : jobs_(jobs), dir_(std::move(dir)), timeout_(timeout), log_path_(std::move(log_path)) {}

  /// Starts the hooks for `env.event` (and `any`); returns how many started. `done` is
  /// called once per hook when it ends.
  int run(const EventEnvironment& env, const Done& done);
  /// The hooks that would run for `event`, by path.
  std::vector<std::string> hooks_for(const std::string& event) const;
  const std::string& dir() const { return dir_; }

 private:
  JobRunner& jobs_;
  std::string dir_;
  double timeout_;
  std::string log_path_;
};

}  // namespace amata::actions
