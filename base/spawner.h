// Starting the services off the loop: a thread of its own runs base::spawn for each request,
// in the order asked, and hands each result back to the loop.
//
// A spawn waits for its child's exec (base/spawn.h: the child shares the memory of the
// thread that started it until then), and before that for the log file's open. On the loop,
// that wait held up everything amatad does: in a storm of a hundred restarts the next death,
// the console and the health checks all waited behind each child's exec, and a log directory
// on a stalled disk would have stalled the daemon. The spawner's thread waits instead, at
// the loop's priority, while the loop goes on.
//
// The spawn barrier lives here too. A service whose exec is done starts running its start-up
// (an interpreter loading: tens of ms of CPU) and would take the CPU the next child needs to
// reach its exec, so every spawn of a storm would wait longer than the last. A child spawned
// with SpawnSpec::caller_moves_to_background is held stopped, at amatad's priority, until
// no request is left; then every held child is moved to the background priority and
// continued at once. A single spawn is held for microseconds.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/spawn.h"
#include "base/unique_fd.h"

namespace amata::base {

class Spawner {
 public:
  /// The outcome of one request, on the loop's thread.
  using Done = std::function<void(Result<Spawned>)>;

  /// Starts the thread, which inherits the calling thread's priority and no signal.
  explicit Spawner(EventLoop& loop);
  /// Finishes the spawn in flight, continues every held child, and stops the thread. What was
  /// asked and not yet begun is never spawned; results not yet delivered are dropped (their
  /// children keep running, unwatched, as a supervisor's own do when it is destroyed).
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  /// Queues `spec`. `done` runs on the loop once the child has exec'd (or could not be
  /// started), in the order of the requests; never from inside this call.
  void spawn(SpawnSpec spec, Done done);
  /// Blocks until every queued request is spawned and every held child continued, then runs
  /// the `done` of each result not yet delivered, here. For a daemon that is about to hand
  /// its children to the next one: none may be left unaccounted for.
  void finish();
  /// Requests not yet begun.
  std::size_t queued() const;

 private:
  struct Request {
    SpawnSpec spec;
    Done done;
  };
  struct Outcome {
    Result<Spawned> result;
    Done done;
  };
  /// A child held by the barrier: its pid and a pidfd of our own, so continuing it can never
  /// reach a recycled pid.
  struct Held {
    pid_t pid = 0;
    UniqueFd pidfd;
  };

  void run();
  void hold(const Spawned& child);
  void release_held();
  /// Runs the `done` of every outcome delivered so far (on the loop's thread).
  void deliver();

  EventLoop& loop_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;   // the thread: a request, or stop
  std::condition_variable idle_;   // finish(): nothing queued, nothing in flight
  std::deque<Request> requests_;   // guarded by mutex_
  std::vector<Outcome> outcomes_;  // guarded by mutex_: spawned, not yet delivered
  bool in_flight_ = false;         // guarded by mutex_: the thread is spawning one
  bool delivery_posted_ = false;   // guarded by mutex_: a deliver() is on its way
  bool stopping_ = false;          // guarded by mutex_
  std::vector<Held> held_;         // the thread's own
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for posted deliveries
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace amata::base
