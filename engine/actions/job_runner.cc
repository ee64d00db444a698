#include "engine/actions/job_runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace amata::engine {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

/// An event name as a file name: identifiers only, so no event can name a path outside DIR.
bool safe_name(const std::string& name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string JobOutcome::describe() const {
  if (timed_out) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "timed out after %.0f ms (", duration_ms);
    return buf + status.describe() + ")";
  }
  return status.describe();
}

JobRunner::~JobRunner() {
  for (auto& [pid, timer] : deadlines_) loop_.cancel_timer(timer);
  children_.kill_all();
}

Result<pid_t> JobRunner::run(const JobSpec& job, Done done) {
  SpawnSpec spec;
  spec.argv = job.argv;
  spec.env = merge_environment(base_env_, job.env);
  spec.workdir = job.workdir;
  spec.log_path = job.log_path;
  auto started = Clock::now();
  auto timed_out = std::make_shared<bool>(false);
  auto pid =
      children_.spawn(spec, [this, started, timed_out, done](pid_t p, const ExitStatus& status) {
        auto it = deadlines_.find(p);
        if (it != deadlines_.end()) {
          loop_.cancel_timer(it->second);
          deadlines_.erase(it);
        }
        JobOutcome outcome;
        outcome.status = status;
        outcome.timed_out = *timed_out;
        outcome.ok = !*timed_out && status.known && !status.signaled && status.exit_code == 0;
        outcome.duration_ms =
            std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        if (done) done(outcome);
      });
  if (!pid) return pid.error();
  pid_t p = *pid;
  deadlines_[p] = loop_.add_timer_after(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(job.timeout)),
      [this, p, timed_out] {
        deadlines_.erase(p);
        *timed_out = true;
        (void)children_.signal_group(p, SIGKILL);  // its exit arrives through the pidfd
      });
  return p;
}

std::vector<std::pair<std::string, std::string>> EventEnvironment::variables() const {
  char time_text[32];
  std::snprintf(time_text, sizeof time_text, "%.6f", time);
  std::vector<std::pair<std::string, std::string>> vars = {
      {"AMATA_EVENT", event},
      {"AMATA_RULE", rule},
      {"AMATA_OBJECT", objects.empty() ? "" : objects.front()},
      {"AMATA_OBJECTS", join(objects)},
      {"AMATA_EDGE", edge},
      {"AMATA_TIME", time_text},
      {"AMATA_EVENT_ID", std::to_string(event_id)},
      {"AMATA_VALUES", values.empty() ? "{}" : values},
      {"AMATA_MESSAGE", message},
      {"AMATA_POLICY", policy},
      {"AMATA_ARGS", join(args)},
  };
  return vars;
}

std::vector<std::string> HookRunner::hooks_for(const std::string& event) const {
  std::vector<std::string> hooks;
  if (dir_.empty()) return hooks;
  if (safe_name(event) && is_executable_file(dir_ + "/" + event))
    hooks.push_back(dir_ + "/" + event);
  if (event != "any" && is_executable_file(dir_ + "/any")) hooks.push_back(dir_ + "/any");
  return hooks;
}

int HookRunner::run(const EventEnvironment& env, Done done) {
  int started = 0;
  for (const auto& hook : hooks_for(env.event)) {
    JobSpec job;
    job.argv = {hook, env.event};
    job.env = env.variables();
    job.timeout = timeout_;
    job.log_path = log_path_;
    job.workdir = dir_;
    auto pid = jobs_.run(job, [hook, done](const JobOutcome& outcome) {
      if (done) done(hook, outcome);
    });
    if (pid) {
      ++started;
    } else if (done) {
      JobOutcome failed;
      failed.status = ExitStatus{true, 127, 0, false};
      done(hook, failed);
    }
  }
  return started;
}

}  // namespace amata::engine
