// Runs the real amatad binary for integration tests: a temp dir with the policy, the state
// dir and the hooks dir; amatad's stderr captured; its event store readable while it runs.
// Everything the harness starts it stops by pid; the services amatad started are found
// through the pidfiles the test policies make them write.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/event_store.h"

namespace amata::itest {

/// A test policy's service that records its pid in DIR/NAME.pid (through a rename, so a
/// reader never sees half a pid) and sleeps: `service NAME { start ...; stop ...; EXTRA }`.
std::string sleeper_service(const std::string& name, const std::string& extra = "");

/// The usual recovery: a service that is not alive is restarted.
inline constexpr const char* kRestartWhenDown =
    "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
    "recover ServiceDown(s) { restart s }\n";

/// A temp dir, removed (after killing what was recorded in it) when the harness goes.
class Amatad {
 public:
  Amatad();
  ~Amatad();
  Amatad(const Amatad&) = delete;
  Amatad& operator=(const Amatad&) = delete;

  const std::string& dir() const { return dir_; }
  std::string state_dir() const { return dir_ + "/state"; }
  std::string hooks_dir() const { return dir_ + "/hooks"; }
  std::string policy_path() const { return dir_ + "/policy.amata"; }

  /// Writes the policy; `@DIR@` in `text` becomes dir().
  void write_policy(const std::string& text);
  /// Writes an executable hook script DIR/hooks/NAME with `body` (a sh script).
  void write_hook(const std::string& name, const std::string& body);

  /// Starts amatad on the policy with `args` added; `env` added to its environment.
  void start(const std::vector<std::string>& args = {}, const std::vector<std::string>& env = {});
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  /// Sends `sig` and waits (at most `timeout`) for amatad to exit; its exit status.
  int stop(int sig = 15, double timeout = 15);
  /// kill -9 and reap.
  void kill9();
  /// Sends a signal without waiting.
  void signal(int sig) const;
  /// Runs amatad to completion (e.g. --once), capturing stdout; returns the exit code.
  int run_to_exit(const std::vector<std::string>& args, std::string& out, std::string& err);

  /// Runs `amatactl --socket DIR/amatad.sock ARGS...`; its exit code, stdout in `out`.
  int ctl(const std::vector<std::string>& args, std::string& out);

  /// amatad's stderr so far.
  std::string log() const;
  /// Polls until `pred` or `timeout` seconds; returns pred().
  static bool wait_for(const std::function<bool()>& pred, double timeout = 10);
  bool wait_for_log(const std::string& needle, double timeout = 10) const;

  /// The pid in DIR/NAME.pid (written by a test service), 0 if none yet.
  pid_t service_pid(const std::string& name) const;
  /// Waits until DIR/NAME.pid names a live process other than `old`; returns it (0 on timeout).
  pid_t wait_new_pid(const std::string& name, pid_t old, double timeout = 10) const;

  /// The event store of the running (or last) amatad.
  std::vector<store::EventRecord> events() const;
  std::vector<store::ActionRecord> actions() const;

  /// Children of amatad in state Z (zombies).
  std::vector<pid_t> zombie_children() const;
  /// utime+stime of amatad, in seconds.
  double cpu_seconds() const;

  /// Remembers a pid to SIGKILL at teardown if still alive (services left running).
  void track(pid_t pid) { tracked_.push_back(pid); }

 private:
  std::string dir_;
  pid_t pid_ = 0;
  std::vector<pid_t> tracked_;
};

/// True if `pid` exists and is not a zombie.
bool process_alive(pid_t pid);
/// Every live process whose command line (NUL-separated argv) is exactly `argv`.
std::vector<pid_t> processes_running(const std::vector<std::string>& argv);
/// The text of a file ("" if missing).
std::string read_file(const std::string& path);

}  // namespace amata::itest
