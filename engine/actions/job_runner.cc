#include "engine/actions/job_runner.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

namespace amata::actions {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// An environment variable is a C string: a NUL inside a value (a policy string may hold
// "\0") would silently cut it short in the child. It is written as the two characters \0.
std::string carried(const std::string& value) {
  if (value.find('\0') == std::string::npos) return value;
  std::string out;
  for (char c : value) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
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

/// Why a hook must not run as amatad's user, or "" when it may: it must belong to root or
/// to amatad's user, and neither it nor its directory may be writable by anyone else (who
/// could otherwise make amatad run their program, as root).
std::string unsafe_reason(const std::string& path) {
  const uid_t self = geteuid();
  auto check = [&](const std::string& what, const char* kind) -> std::string {
    struct stat st {};
    if (stat(what.c_str(), &st) != 0) return kind + std::string(" ") + what + " cannot be read";
    if (st.st_uid != 0 && st.st_uid != self) {
      return kind + std::string(" ") + what + " belongs to uid " + std::to_string(st.st_uid);
    }
    // A directory writable by others is safe only with the sticky bit (nobody can replace
    // another's file), and only for files that are not theirs — checked above.
    const bool sticky_dir = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !sticky_dir) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return kind + std::string(" ") + what + " is writable by others (mode " + mode + ")";
    }
    return "";
  };
  std::string reason = check(path, "the hook");
  if (reason.empty()) reason = check(path.substr(0, path.rfind('/')), "its directory");
  return reason;
}

}  // namespace

Result<pid_t> JobRunner::run(const JobSpec& job, Done done) {
  base::SpawnSpec spec;
  spec.argv = job.argv;
  spec.env = base::merge_environment(base_env_, job.env);
  spec.workdir = job.workdir;
  spec.log_path = job.log_path;
  // The pid is known only once the job has started; the callback looks its job up by it.
  auto pid = std::make_shared<pid_t>(0);
  auto started =
      base::Job::start(loop_, spec, base::from_seconds(job.timeout),
                       [this, pid, done = std::move(done)](const base::Job::Outcome& outcome) {
                         auto finished = std::move(jobs_[*pid]);
                         jobs_.erase(*pid);
                         if (done) done(outcome);
                       });
  if (!started) return started.error();
  *pid = (*started)->pid();
  jobs_[*pid] = std::move(*started);
  return *pid;
}

std::vector<std::pair<std::string, std::string>> EventEnvironment::variables() const {
  std::vector<std::pair<std::string, std::string>> vars = {
      {"AMATA_EVENT", carried(event)},
      {"AMATA_RULE", carried(rule)},
      {"AMATA_OBJECT", carried(objects.empty() ? "" : objects.front())},
      {"AMATA_OBJECTS", carried(join(objects))},
      {"AMATA_EDGE", carried(edge)},
      // fmt, not a fixed buffer: a time of any size is written whole.
      {"AMATA_TIME", fmt::format("{:.6f}", time)},
      {"AMATA_EVENT_ID", std::to_string(event_id)},
      {"AMATA_VALUES", values.empty() ? "{}" : carried(values)},
      {"AMATA_MESSAGE", carried(message)},
      {"AMATA_POLICY", carried(policy)},
      {"AMATA_ARGS", carried(join(args))},
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

int HookRunner::run(const EventEnvironment& env, const Done& done) {
  int started = 0;
  for (const auto& hook : hooks_for(env.event)) {
    if (std::string reason = unsafe_reason(hook); !reason.empty()) {
      if (done) {
        JobOutcome refused;
        refused.status = base::ExitStatus::unknown();
        refused.start_failure = "refused to run: " + reason;
        done(hook, refused);
      }
      continue;
    }
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
      failed.status = base::ExitStatus::exited(127);
      done(hook, failed);
    }
  }
  return started;
}

}  // namespace amata::actions
