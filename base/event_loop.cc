#include "base/event_loop.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <exception>
#include <vector>

namespace amata::base {
namespace {

// epoll_event.data carries the fd and the generation of its watch, so an event for an fd that
// was unwatched (and perhaps reused by a new watch) earlier in the same batch is recognised
// as stale and dropped.
std::uint64_t pack(int fd, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint32_t>(fd);
}
int unpack_fd(std::uint64_t data) {
  return static_cast<int>(data & 0xffffffffu);
}
std::uint32_t unpack_generation(std::uint64_t data) {
  return static_cast<std::uint32_t>(data >> 32);
}

timespec to_timespec(Clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  if (ns <= 0) ns = 1;  // 0 would disarm the timer
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return errno_error("epoll_create1", errno);
  int first_epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (first_epoll_fd < 0) {
    int err = errno;
    close(epoll_fd);
    return errno_error("epoll_create1", err);
  }
  int timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd < 0) {
    int err = errno;
    close(first_epoll_fd);
    close(epoll_fd);
    return errno_error("timerfd_create", err);
  }
  int post_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (post_fd < 0) {
    int err = errno;
    close(timer_fd);
    close(first_epoll_fd);
    close(epoll_fd);
    return errno_error("eventfd", err);
  }
  // Owned from here: the destructor closes all four.
  std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, first_epoll_fd, timer_fd, post_fd));
  // The kFirst set wakes the loop like any fd; each turn asks it first (run_once).
  for (int fd : {timer_fd, post_fd, first_epoll_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = pack(fd, 0);
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) return errno_error("epoll_ctl", errno);
  }
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int first_epoll_fd, int timer_fd, int post_fd)
    : epoll_fd_(epoll_fd),
      first_epoll_fd_(first_epoll_fd),
      timer_fd_(timer_fd),
      post_fd_(post_fd) {}

EventLoop::~EventLoop() {
  if (signal_fd_ >= 0) close(signal_fd_);
  close(post_fd_);
  close(timer_fd_);
  close(first_epoll_fd_);
  close(epoll_fd_);
}

void EventLoop::post(TimerCallback callback) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(callback));
  }
  const std::uint64_t one = 1;
  (void)!write(post_fd_, &one, sizeof one);  // EAGAIN: the counter is full, the loop awake
}

void EventLoop::run_posted() {
  std::uint64_t count;
  (void)!read(post_fd_, &count, sizeof count);
  std::vector<TimerCallback> posted;
  {
    std::lock_guard lock(posted_mutex_);
    posted.swap(posted_);
  }
  for (auto& callback : posted) guarded("posted", callback);
}

Status EventLoop::watch(int fd, std::uint32_t events, FdCallback callback, Priority priority) {
  if (watches_.count(fd)) return Error{"fd " + std::to_string(fd) + " is already watched"};
  std::uint32_t generation = next_generation_++;
  if (next_generation_ == 0) next_generation_ = 1;  // 0 is the loop's own fds'
  const int set = priority == Priority::kFirst ? first_epoll_fd_ : epoll_fd_;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, generation);
  if (epoll_ctl(set, EPOLL_CTL_ADD, fd, &ev) < 0) return errno_error("epoll_ctl(ADD)", errno);
  watches_.emplace(fd, Watch{std::move(callback), generation, set});
  return {};
}

Status EventLoop::modify(int fd, std::uint32_t events) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return Error{"fd " + std::to_string(fd) + " is not watched"};
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second.generation);
  if (epoll_ctl(it->second.epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0) {
    return errno_error("epoll_ctl(MOD)", errno);
  }
  return {};
}

void EventLoop::unwatch(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  // ENOENT/EBADF are fine here: the caller may already have closed the fd.
  epoll_ctl(it->second.epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(Clock::time_point when, TimerCallback callback) {
  TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(callback));
  timer_deadlines_.emplace(id, when);
  arm_timerfd();
  return id;
}

EventLoop::TimerId EventLoop::add_timer_after(Clock::duration delay, TimerCallback callback) {
  static const Clock::duration kMax = from_seconds(kMaxDelaySeconds);
  return add_timer(Clock::now() + std::clamp(delay, Clock::duration::zero(), kMax),
                   std::move(callback));
}

void EventLoop::cancel_timer(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(std::make_pair(it->second, id));
  timer_deadlines_.erase(it);
  arm_timerfd();
}

void EventLoop::arm_timerfd() {
  std::optional<Clock::time_point> next;
  if (!timers_.empty()) next = timers_.begin()->first.first;
  if (next == armed_for_) return;
  itimerspec spec{};
  if (next) spec.it_value = to_timespec(*next);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_for_ = next;
}

void EventLoop::run_due_timers() {
  std::uint64_t expirations;
  while (read(timer_fd_, &expirations, sizeof expirations) > 0) {
  }
  armed_for_.reset();  // the timerfd fired: whatever was armed is spent
  // Timers added by callbacks for "now" run in the next turn, so a callback that re-arms
  // itself with a zero delay cannot starve the fds.
  auto now = Clock::now();
  std::vector<std::pair<TimerId, TimerCallback>> due;
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    due.emplace_back(node.key().second, std::move(node.mapped()));
  }
  for (auto& [id, callback] : due) guarded("timer", callback);
  arm_timerfd();
}

Status EventLoop::watch_signals(std::initializer_list<int> signals, SignalCallback callback) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : signals) sigaddset(&mask, s);
  if (signal_fd_ >= 0) {
    // Merge with the signals already routed here.
    sigset_t old;
    sigprocmask(SIG_BLOCK, nullptr, &old);
    for (int s = 1; s < NSIG; ++s) {
      if (sigismember(&old, s) == 1) sigaddset(&mask, s);
    }
  }
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return errno_error("sigprocmask", errno);
  int fd = signalfd(signal_fd_, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return errno_error("signalfd", errno);
  if (signal_fd_ < 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = pack(fd, 0);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
      int err = errno;
      close(fd);
      return errno_error("epoll_ctl(signalfd)", err);
    }
    signal_fd_ = fd;
  }
  on_signal_ = std::move(callback);
  return {};
}

void EventLoop::guarded(const char* what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    if (on_error_) on_error_(std::string(what) + " callback threw: " + e.what());
  } catch (...) {
    if (on_error_) on_error_(std::string(what) + " callback threw a non-standard exception");
  }
}

Status EventLoop::run_once(std::optional<Clock::duration> max_wait) {
  int timeout_ms = -1;
  if (max_wait) {
    auto ms = std::chrono::ceil<std::chrono::milliseconds>(*max_wait).count();
    timeout_ms = static_cast<int>(std::max<decltype(ms)>(0, ms));
  }
  // A turn handles at most this many fds: what became ready meanwhile waits at most that
  // long behind them (a storm's deaths each cost the loop a fraction of a millisecond).
  std::array<epoll_event, 16> events{};
  int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return {};
    return errno_error("epoll_wait", errno);
  }
  // The kFirst fds go first, whether or not their set is among this turn's fds.
  std::array<epoll_event, 16> first{};
  int m = epoll_wait(first_epoll_fd_, first.data(), static_cast<int>(first.size()), 0);
  if (m > 0) dispatch(first.data(), m);
  dispatch(events.data(), n);
  return {};
}

void EventLoop::dispatch(const epoll_event* events, int n) {
  bool timers_due = false;
  for (int i = 0; i < n; ++i) {
    int fd = unpack_fd(events[i].data.u64);
    std::uint32_t generation = unpack_generation(events[i].data.u64);
    if (generation == 0) {
      if (fd == timer_fd_) {
        timers_due = true;
      } else if (fd == post_fd_) {
        run_posted();
      } else if (fd == signal_fd_) {
        signalfd_siginfo info{};
        while (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
          if (on_signal_) guarded("signal", [&] { on_signal_(info); });
        }
      }
      continue;  // first_epoll_fd_: handled at the start of the turn
    }
    auto it = watches_.find(fd);
    if (it == watches_.end() || it->second.generation != generation) continue;  // stale
    // Copy: the callback may unwatch its own fd, destroying the stored std::function.
    FdCallback callback = it->second.callback;
    std::uint32_t mask = events[i].events;
    guarded("fd", [&] { callback(mask); });
  }
  if (timers_due) run_due_timers();
}

Status EventLoop::run() {
  stopping_ = false;
  while (!stopping_) {
    if (Status s = run_once(); !s) return s;
  }
  return {};
}

}  // namespace amata::base
