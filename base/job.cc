#include "base/job.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "base/pidfd.h"

namespace amata::base {

std::string Job::Outcome::describe() const {
  if (!start_failure.empty()) return start_failure;
  if (!timed_out) return status.describe();
  return "timed out after " + std::to_string(static_cast<long long>(duration_ms)) + " ms (" +
         status.describe() + ")";
}

Result<std::unique_ptr<Job>> Job::start(EventLoop& loop, const SpawnSpec& spec,
                                        Clock::duration timeout, Done done,
                                        std::size_t max_output) {
  std::unique_ptr<Job> job(new Job(loop, std::move(done), max_output));
  auto spawned = spawn(spec);
  if (!spawned) return spawned.error();
  job->pid_ = spawned->pid;
  job->pidfd_ = std::move(spawned->pidfd);
  job->out_fd_ = std::move(spawned->stdout_fd);
  job->outcome_.start_failure = std::move(spawned->start_failure);
  job->started_ = Clock::now();
  Job* self = job.get();
  Status watched =
      loop.watch(job->pidfd_.get(), EPOLLIN, [self](std::uint32_t) { self->on_exit(); });
  if (watched && job->out_fd_) {
    watched = loop.watch(job->out_fd_.get(), EPOLLIN, [self](std::uint32_t) { self->on_output(); });
  }
  if (!watched) return watched.error();  // the destructor kills and reaps it
  job->timeout_.arm(timeout, [self] { self->kill_now(); });
  return job;
}

Job::~Job() {
  timeout_.cancel();
  if (pid_ > 0) kill_and_reap(pid_, pidfd_.get());
  release_fds();
}

void Job::kill_now() {
  if (pid_ <= 0) return;
  outcome_.timed_out = true;
  // The whole group: what the program started must not outlive it. Its exit (and so the
  // outcome) arrives through the pidfd.
  if (kill(-pid_, SIGKILL) < 0) (void)pidfd_signal(pidfd_.get(), SIGKILL);
}

void Job::on_output() {
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_fd_.get(), buf, sizeof buf);
    if (n > 0) {
      std::size_t room = max_output_ - std::min(max_output_, outcome_.output.size());
      outcome_.output.append(buf, std::min(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) {  // EOF (every writer is gone) or a broken pipe
      loop_.unwatch(out_fd_.get());
      out_fd_.reset();
    }
    return;
  }
}

void Job::on_exit() {
  // A readable pidfd means the leader has ended; as a zombie not yet reaped its pid (= the
  // group id) cannot name another group, so this is the one safe moment to kill whatever it
  // left behind in its group.
  kill(-pid_, SIGKILL);
  auto reaped = try_reap(pidfd_.get());
  if (reaped && !*reaped) return;  // not ended yet (a spurious wake-up)
  // ECHILD: someone else reaped it (SIGCHLD ignored, a waitpid(-1) elsewhere).
  outcome_.status = reaped ? **reaped : ExitStatus::unknown();
  pid_ = 0;
  if (out_fd_) on_output();  // whatever is still in the pipe was written before the exit
  timeout_.cancel();
  release_fds();
  outcome_.duration_ms = elapsed_ms(started_);
  // Last: the owner may destroy this Job from inside `done`.
  Done done = std::move(done_);
  Outcome outcome = std::move(outcome_);
  if (done) done(std::move(outcome));
}

void Job::release_fds() {
  if (out_fd_) loop_.unwatch(out_fd_.get());
  if (pidfd_) loop_.unwatch(pidfd_.get());
  out_fd_.reset();
  pidfd_.reset();
}

}  // namespace amata::base
