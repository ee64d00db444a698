#include "base/spawner.h"

#include <fcntl.h>
#include <signal.h>

#include <utility>

#include "base/pidfd.h"
#include "base/priority.h"
#include "base/signal_free_thread.h"

namespace amata::base {

Spawner::Spawner(EventLoop& loop) : loop_(loop) {
  thread_ = start_signal_free_thread([this] { run(); });
}

Spawner::~Spawner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    requests_.clear();  // nobody would watch what they start
  }
  wake_.notify_one();
  thread_.join();
  // Posted deliveries that have not run yet find alive_ expired and do nothing.
  alive_.reset();
}

void Spawner::spawn(SpawnSpec spec, Done done) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(Request{std::move(spec), std::move(done)});
  }
  wake_.notify_one();
}

std::size_t Spawner::queued() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

void Spawner::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !requests_.empty(); });
    if (requests_.empty()) break;  // stopping, and everything asked was spawned
    Request request = std::move(requests_.front());
    requests_.pop_front();
    in_flight_ = true;
    lock.unlock();

    Result<Spawned> result = base::spawn(request.spec);
    if (result && request.spec.caller_moves_to_background) hold(*result);

    lock.lock();
    // The barrier lifts once nothing is left to spawn: what arrives later is a new turn.
    if (requests_.empty()) {
      lock.unlock();
      release_held();
      lock.lock();
    }
    in_flight_ = false;
    outcomes_.push_back(Outcome{std::move(result), std::move(request.done)});
    const bool post = !delivery_posted_;
    delivery_posted_ = true;
    if (requests_.empty()) idle_.notify_all();
    if (post) {
      std::weak_ptr<bool> alive = alive_;
      loop_.post([this, alive] {
        if (!alive.expired()) deliver();
      });
    }
  }
  lock.unlock();
  release_held();
  idle_.notify_all();
}

void Spawner::hold(const Spawned& child) {
  // Our own pidfd: the loop owns the child's, and may reap the child and close that at any
  // moment (a stop requested meanwhile).
  UniqueFd pidfd(fcntl(child.pidfd.get(), F_DUPFD_CLOEXEC, 0));
  if (!pidfd || !pidfd_signal(pidfd.get(), SIGSTOP)) {
    (void)move_to_background(child.pid);
    return;
  }
  held_.push_back(Held{child.pid, std::move(pidfd)});
}

void Spawner::release_held() {
  for (Held& h : held_) {
    // A pidfd names its process until the end, so a signal through it never reaches a
    // recycled pid; the priority is set by pid, which cannot be recycled while the signal
    // still finds the process.
    if (!pidfd_signal(h.pidfd.get(), 0)) continue;  // gone: nothing to continue
    (void)move_to_background(h.pid);
    (void)pidfd_signal(h.pidfd.get(), SIGCONT);
  }
  held_.clear();
}

void Spawner::finish() {
  {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [this] { return requests_.empty() && !in_flight_; });
  }
  deliver();
}

void Spawner::deliver() {
  std::vector<Outcome> outcomes;
  {
    std::lock_guard lock(mutex_);
    outcomes.swap(outcomes_);
    delivery_posted_ = false;
  }
  for (Outcome& o : outcomes) {
    if (o.done) o.done(std::move(o.result));
  }
}

}  // namespace amata::base
