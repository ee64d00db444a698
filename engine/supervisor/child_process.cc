#include "engine/supervisor/child_process.h"

#include <signal.h>

#include <string>

#include "base/pidfd.h"

namespace amata::supervisor {

ChildSet::~ChildSet() {
  release_all();
}

void ChildSet::release_all() {
  for (auto& [pid, child] : children_) loop_.unwatch(child.pidfd.get());
  children_.clear();
}

void ChildSet::kill_all() {
  for (auto& [pid, child] : children_) {
    loop_.unwatch(child.pidfd.get());
    if (child.ours) {
      base::kill_and_reap(pid, child.pidfd.get());
    } else {
      (void)base::pidfd_signal(child.pidfd.get(), SIGKILL);
    }
  }
  children_.clear();
}

Status ChildSet::add(base::Spawned child, ExitCallback on_exit) {
  const pid_t pid = child.pid;
  if (Status s = watch_child(pid, std::move(child.pidfd), true, std::move(on_exit)); !s) {
    // Its pidfd is closed by now; our unreaped child's pid still names it alone.
    base::kill_and_reap(pid, -1);
    return s;
  }
  return {};
}

Status ChildSet::adopt(pid_t pid, ExitCallback on_exit) {
  auto pidfd = base::open_pidfd(pid);
  if (!pidfd) return pidfd.error();
  return watch_child(pid, std::move(*pidfd), false, std::move(on_exit));
}

Status ChildSet::watch_child(pid_t pid, base::UniqueFd pidfd, bool ours, ExitCallback on_exit) {
  if (Status s =
          loop_.watch(pidfd.get(), EPOLLIN, [this, pid](std::uint32_t) { on_pidfd_ready(pid); });
      !s) {
    return s;
  }
  children_[pid] = Child{std::move(pidfd), ours, std::move(on_exit)};
  return {};
}

void ChildSet::on_pidfd_ready(pid_t pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  Child& child = it->second;
  base::ExitStatus status = base::ExitStatus::unknown();
  if (child.ours) {
    // The exited leader is a zombie until reaped, so its pid (= the group id) cannot be
    // reused yet: now is the one safe moment to kill whatever it left in its group.
    kill(-pid, SIGKILL);
    auto reaped = base::try_reap(child.pidfd.get());
    if (reaped && !*reaped) return;  // not ended yet (spurious wake-up)
    if (reaped) status = **reaped;
  }
  loop_.unwatch(child.pidfd.get());
  ExitCallback callback = std::move(child.on_exit);
  children_.erase(it);
  if (callback) callback(pid, status);
}

Status ChildSet::signal_group(pid_t pid, int sig) {
  auto it = children_.find(pid);
  if (it == children_.end()) return Error{"no child " + std::to_string(pid)};
  // A group id is the leader's pid; while we hold the leader unreaped (our child) it cannot
  // name another group. An adopted leader is checked alive through its pidfd first.
  if (!it->second.ours) {
    if (Status alive = base::pidfd_signal(it->second.pidfd.get(), 0); !alive) {
      return Error{"signal " + std::to_string(pid) + ": " + alive.error().message};
    }
  }
  if (kill(-pid, sig) < 0) {
    // Not a group leader (an adopted process that changed group): the process alone.
    return signal_process(pid, sig);
  }
  return {};
}

Status ChildSet::signal_process(pid_t pid, int sig) {
  auto it = children_.find(pid);
  if (it == children_.end()) return Error{"no child " + std::to_string(pid)};
  if (Status s = base::pidfd_signal(it->second.pidfd.get(), sig); !s) {
    return Error{"signal " + std::to_string(pid) + ": " + s.error().message};
  }
  return {};
}

}  // namespace amata::supervisor
