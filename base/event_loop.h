// The one event loop of amatad: every source of work is a file descriptor in one epoll set —
// timers through a single timerfd, signals through signalfd, netlink sockets, pidfds, client
// sockets. Nothing in the daemon sleeps or blocks; everything is a callback from here.
//
// It stands in base/, below every other layer: probes, the engine and the cluster layer all
// register their fds with it.
#pragma once

#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace amata::base {

class EventLoop {
 public:
  using FdCallback = std::function<void(std::uint32_t events)>;
  using TimerCallback = std::function<void()>;
  using SignalCallback = std::function<void(const signalfd_siginfo&)>;
  using ErrorHandler = std::function<void(std::string_view what)>;
  using TimerId = std::uint64_t;
  /// kFirst: the fd's events are handled at the start of every turn, before the turn's other
  /// fds, however many of those became ready before it. For the console: in a storm of
  /// deaths an operator's `amatactl status` waits for at most one turn, not for every death
  /// queued ahead of it.
  enum class Priority : std::uint8_t { kNormal, kFirst };

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Calls `callback` with the epoll event mask whenever `fd` is ready for `events`
  /// (EPOLLIN, EPOLLOUT, ...). The loop does not own the fd; unwatch it before closing it.
  Status watch(int fd, std::uint32_t events, FdCallback callback,
               Priority priority = Priority::kNormal);
  Status modify(int fd, std::uint32_t events);
  /// Safe to call from inside any callback, including the fd's own.
  void unwatch(int fd);
  bool watching(int fd) const { return watches_.count(fd) != 0; }

  /// One-shot timers. Ids are never reused; cancelling a fired or unknown id is harmless.
  TimerId add_timer(Clock::time_point when, TimerCallback callback);
  /// `delay` from now, at most kMaxDelaySeconds (clock.h): a longer one — or one that would
  /// overflow the clock — waits that long instead of wrapping into the past.
  TimerId add_timer_after(Clock::duration delay, TimerCallback callback);
  void cancel_timer(TimerId id);
  std::size_t pending_timers() const { return timers_.size(); }

  /// Runs `callback` on the loop's thread in its next turn. The one member that may be called
  /// from any thread (a writer thread reporting back, a worker done).
  void post(TimerCallback callback);

  /// Blocks `signals` for the whole process (so they arrive only through the loop) and calls
  /// `callback` for each one received. Call before starting threads or children.
  Status watch_signals(std::initializer_list<int> signals, SignalCallback callback);

  /// Waits for at most `max_wait` (forever when empty), then runs every ready callback and
  /// every due timer once. A callback that throws is reported to the error handler and the
  /// loop carries on: one faulty handler must never take the daemon down.
  Status run_once(std::optional<Clock::duration> max_wait = std::nullopt);
  /// Runs until stop() is called from a callback.
  Status run();
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

  void set_error_handler(ErrorHandler handler) { on_error_ = std::move(handler); }

 private:
  EventLoop(int epoll_fd, int first_epoll_fd, int timer_fd, int post_fd);
  void run_posted();
  /// Runs the callbacks of `events` (of either epoll set).
  void dispatch(const epoll_event* events, int n);
  void arm_timerfd();
  void run_due_timers();
  void guarded(const char* what, const std::function<void()>& fn);

  struct Watch {
    FdCallback callback;
    std::uint32_t generation;
    int epoll_fd;  // epoll_fd_ or first_epoll_fd_
  };

  int epoll_fd_;
  int first_epoll_fd_;  // the kFirst fds; itself watched in epoll_fd_
  int timer_fd_;
  int post_fd_;  // an eventfd: post() wakes the loop through it
  int signal_fd_ = -1;
  std::mutex posted_mutex_;
  std::vector<TimerCallback> posted_;  // guarded by posted_mutex_
  SignalCallback on_signal_;
  ErrorHandler on_error_;
  bool stopping_ = false;
  std::uint32_t next_generation_ = 1;
  std::unordered_map<int, Watch> watches_;
  // Ordered by deadline, then id, so equal deadlines fire in the order they were added.
  std::map<std::pair<Clock::time_point, TimerId>, TimerCallback> timers_;
  std::unordered_map<TimerId, Clock::time_point> timer_deadlines_;
  TimerId next_timer_id_ = 1;
  std::optional<Clock::time_point> armed_for_;
};

}  // namespace amata::base
