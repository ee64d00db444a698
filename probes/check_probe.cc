#include "probes/check_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace amata::probes {
namespace {

/// Plugins print a line or two; more than this is cut (and read off so the plugin never
/// blocks on a full pipe).
constexpr std::size_t kMaxOutput = 64 * 1024;

}  // namespace

Result<std::unique_ptr<CheckProbe>> CheckProbe::create(int object, const catalog::ObjectSpec& spec,
                                                       ProbeContext& ctx) {
  if (spec.command.empty() || spec.command.front().empty()) {
    return Error{"object " + spec.name + ": check needs a command"};
  }
  std::unique_ptr<CheckProbe> p(new CheckProbe(object, spec, ctx));
  for (const auto& arg : p->spec().command) p->argv_.push_back(const_cast<char*>(arg.c_str()));
  p->argv_.push_back(nullptr);
  p->output_.reserve(4096);
  return p;
}

CheckProbe::~CheckProbe() {
  if (pid_ > 0) {
    // Never leave a plugin behind: kill its group and reap it (it is dead after SIGKILL,
    // so this wait is short).
    kill(-pid_, SIGKILL);
    siginfo_t info{};
    if (pidfd_ >= 0) {
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED);
    } else {
      waitpid(pid_, nullptr, 0);
    }
  }
  cleanup();
}

void CheckProbe::poll() {
  if (pid_ > 0) return;  // still running: the timeout will end it
  if (Status s = spawn(); !s) finish(3, false, s.error().message);
}

Status CheckProbe::spawn() {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) return errno_error("pipe2", errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // The convention is read from stdout alone (as Nagios does); stderr chatter must not end
  // up in the status line or the perfdata.
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills the plugin and whatever it started. The loop
  // blocks signals for signalfd: the plugin must not inherit that mask.
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGCHLD, SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, s);
  }
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // The write end is O_NONBLOCK too; a plugin writing more than the pipe holds while we are
  // not reading gets EAGAIN — but we always read, so clear it for the child's end.
  fcntl(pipe_fds[1], F_SETFL, 0);
  pid_t pid = 0;
  // A bare program name is looked up in PATH; a path is used as it is.
  int rc = posix_spawnp(&pid, argv_[0], &actions, &attr, argv_.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    return errno_error("run " + spec().command.front(), rc);
  }
  pid_ = pid;
  out_fd_ = pipe_fds[0];
  timed_out_ = false;
  output_.clear();
  started_ = monotonic_seconds();
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd_ < 0) {
    int err = errno;
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid_ = 0;
    cleanup();
    return errno_error("pidfd_open", err);
  }
  Status watched = ctx_.loop.watch(out_fd_, EPOLLIN, [this](std::uint32_t) { on_output(); });
  if (watched) watched = ctx_.loop.watch(pidfd_, EPOLLIN, [this](std::uint32_t) { on_exit(); });
  if (!watched) {
    kill(-pid, SIGKILL);
    siginfo_t info{};
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED);
    pid_ = 0;
    cleanup();
    return watched;
  }
  auto timeout = std::chrono::nanoseconds(static_cast<std::int64_t>(spec().timeout * 1e9));
  timer_ = ctx_.loop.add_timer_after(timeout, [this] {
    timer_ = 0;
    on_timeout();
  });
  return {};
}

void CheckProbe::on_output() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n > 0) {
      std::size_t room = kMaxOutput - std::min(kMaxOutput, output_.size());
      output_.append(buf, std::min(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) {
      // EOF: every writer is gone; the exit comes through the pidfd.
      ctx_.loop.unwatch(out_fd_);
      ::close(out_fd_);
      out_fd_ = -1;
    }
    return;
  }
}

void CheckProbe::on_timeout() {
  timed_out_ = true;
  // The whole group: a plugin's own children must not outlive the check.
  kill(-pid_, SIGKILL);
}

void CheckProbe::on_exit() {
  siginfo_t info{};
  int rc =
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG);
  if (rc < 0 && errno == ECHILD) {
    // Someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1) elsewhere).
    if (out_fd_ >= 0) on_output();
    finish(3, timed_out_, timed_out_ ? "" : "exit status lost: the plugin was reaped elsewhere");
    return;
  }
  if (rc < 0 || info.si_pid == 0) return;  // not yet reapable (spurious wake-up)
  // Whatever is still in the pipe was written before the exit.
  if (out_fd_ >= 0) on_output();
  if (timed_out_) {
    finish(3, true, "");
  } else if (info.si_code == CLD_EXITED) {
    finish(info.si_status, false, "");
  } else {
    finish(3, false, std::string("killed by signal ") + std::to_string(info.si_status));
  }
}

void CheckProbe::cleanup() {
  if (timer_ != 0) ctx_.loop.cancel_timer(timer_);
  timer_ = 0;
  if (out_fd_ >= 0) {
    ctx_.loop.unwatch(out_fd_);
    ::close(out_fd_);
  }
  out_fd_ = -1;
  if (pidfd_ >= 0) {
    ctx_.loop.unwatch(pidfd_);
    ::close(pidfd_);
  }
  pidfd_ = -1;
}

void CheckProbe::finish(int exit_code, bool timed_out, const std::string& failure) {
  double duration = pid_ > 0 ? monotonic_seconds() - started_ : 0;
  pid_ = 0;
  cleanup();
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  sink.set_number(o, "exit_code", exit_code);
  sink.set_number(o, "status", plugin_status(exit_code));
  sink.set_number(o, "duration", duration);
  sink.set_number(o, "timed_out", timed_out ? 1 : 0);
  if (!failure.empty()) {
    sink.set_string(o, "output", failure);
  } else if (timed_out) {
    sink.set_string(o, "output", "timed out after " + std::to_string(spec().timeout) + " s");
  } else {
    PluginOutput parsed = parse_plugin_output(output_);
    sink.set_string(o, "output", parsed.text);
    std::string name;
    for (const auto& p : parsed.perf) {
      name.assign(catalog::kPerfdataPrefix);
      name += p.label;
      sink.set_number(o, name, p.value);
    }
  }
  sink.sampled(o);
}

}  // namespace amata::probes
