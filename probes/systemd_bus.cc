#include "probes/systemd_bus.h"

#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

// A restarted dbus is back within milliseconds (its socket is systemd's): try soon, then back
// off so a bus that stays away costs one attempt every few seconds.
constexpr base::Clock::duration kFirstBackoff = 100ms;
constexpr base::Clock::duration kMaxBackoff = 5s;

std::string errno_text(int r) {
  return std::strerror(r < 0 ? -r : r);
}

}  // namespace

SystemdBus::SystemdBus(base::EventLoop& loop, Notice notice, Options options)
    : loop_(loop),
      notice_(std::move(notice)),
      options_(std::move(options)),
      backoff_(kFirstBackoff) {}

Result<std::unique_ptr<SystemdBus>> SystemdBus::create(base::EventLoop& loop, Notice notice,
                                                       Options options) {
  std::unique_ptr<SystemdBus> bus(new SystemdBus(loop, std::move(notice), std::move(options)));
  if (Status s = bus->open(); !s) {
    // Not there yet (amatad may start before dbus): keep trying. Anything else is a mistake.
    if (bus->last_errno_ != ENOENT && bus->last_errno_ != ECONNREFUSED) {
      return s.error();
    }
    bus->outage_ = true;
    if (bus->notice_) bus->notice_("systemd bus: " + s.error().message + "; retrying");
    bus->reconnect_later();
  }
  return bus;
}

SystemdBus::~SystemdBus() {
  *alive_ = false;
  if (reconnect_timer_ != 0) loop_.cancel_timer(reconnect_timer_);
  if (timer_ != 0) loop_.cancel_timer(timer_);
  if (bus_ == nullptr) return;
  loop_.unwatch(fd_);
  subscribe_.reset();
  // Inside sd_bus_process() the bus holds a reference of its own and is freed (and closed)
  // when that returns; closing it under the running dispatch is not allowed.
  if (dispatching_) {
    sd_bus_unref(bus_);
  } else {
    sd_bus_close_unref(bus_);
  }
}

Status SystemdBus::open() {
  sd_bus* bus = nullptr;
  int r = 0;
  if (options_.address.empty()) {
    r = sd_bus_open_system(&bus);
  } else if ((r = sd_bus_new(&bus)) >= 0) {
    if ((r = sd_bus_set_address(bus, options_.address.c_str())) >= 0 &&
        (r = sd_bus_set_bus_client(bus, options_.bus_client ? 1 : 0)) >= 0) {
      r = sd_bus_start(bus);
    }
  }
  if (r < 0) {
    if (bus != nullptr) sd_bus_close_unref(bus);
    last_errno_ = -r;
    last_error_ = errno_text(r);
    return Error{"cannot connect to " +
                 (options_.address.empty() ? std::string("the system bus") : options_.address) +
                 ": " + last_error_};
  }
  // sd_bus_start() has only connected a non-blocking socket and queued the authentication and
  // Hello; the rest happens in dispatch().
  bus_ = bus;
  fd_ = sd_bus_get_fd(bus_);
  watched_events_ = EPOLLIN;
  if (Status s = loop_.watch(fd_, watched_events_, [this](std::uint32_t) { dispatch(); }); !s) {
    sd_bus_close_unref(bus_);
    bus_ = nullptr;
    last_errno_ = EBADF;
    last_error_ = s.error().message;
    return s.error();
  }
  // Sent before any listener's call, so systemd has the subscription before their methods.
  Status subscribed = call(
      &subscribe_, kSystemdPath, kManagerInterface, "Subscribe", [this](sd_bus_message* reply) {
        std::string error = error_of(reply);
        if (!error.empty() &&
            !sd_bus_message_is_method_error(reply, "org.freedesktop.systemd1.AlreadySubscribed")) {
          // Typically a restarted dbus that systemd has not reconnected to yet: start over
          // (after this dispatch: the bus cannot be closed under it), with backoff.
          reconnect_wanted_ = "Subscribe: " + error;
          return;
        }
        backoff_ = kFirstBackoff;  // a working connection: the next outage starts fresh
        if (outage_ && notice_) notice_("systemd bus: connected again; units are read anew");
        outage_ = false;
      });
  if (!subscribed) {
    loop_.unwatch(fd_);
    subscribe_.reset();
    sd_bus_close_unref(std::exchange(bus_, nullptr));
    last_error_ = subscribed.error().message;
    return subscribed;
  }
  auto alive = alive_;
  std::vector<Listener*> listeners = listeners_;
  for (Listener* l : listeners) {
    if (std::find(listeners_.begin(), listeners_.end(), l) == listeners_.end()) continue;
    l->on_connected();
    if (!*alive || bus_ == nullptr) return {};
  }
  rearm();
  return {};
}

void SystemdBus::reconnect_later() {
  reconnect_timer_ = loop_.add_timer_after(backoff_, [this] {
    reconnect_timer_ = 0;
    if (bus_ != nullptr) return;
    if (Status s = open(); !s) {
      backoff_ = std::min(backoff_ * 2, kMaxBackoff);
      reconnect_later();
    }
  });
}

void SystemdBus::add_listener(Listener* listener) {
  listeners_.push_back(listener);
  if (bus_ != nullptr) {
    listener->on_connected();
    if (bus_ != nullptr && !dispatching_) rearm();
  }
}

void SystemdBus::remove_listener(Listener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

Status SystemdBus::match_signal(BusSlot* slot, const char* path, const char* interface,
                                const char* member, Handler on_signal, Handler on_installed) {
  if (bus_ == nullptr) return Error{"not connected to systemd: " + last_error_};
  auto* cb = new Callbacks{this, std::move(on_signal), std::move(on_installed)};  // NOLINT
  sd_bus_slot* s = nullptr;
  // The sender is systemd's well-known name: the bus daemon resolves it to systemd's unique
  // name, so another client cannot fake a unit's state change. A direct connection's messages
  // carry no sender at all (systemd's own bus-wait-for-jobs does the same).
  int r = sd_bus_match_signal_async(bus_, &s, options_.bus_client ? kSystemdService : nullptr, path,
                                    interface, member, &SystemdBus::on_first,
                                    &SystemdBus::on_second, cb);
  return adopt(r, s, cb, slot, member);
}

Status SystemdBus::adopt(int r, sd_bus_slot* s, Callbacks* cb, BusSlot* slot, const char* what) {
  if (r < 0) {
    delete cb;  // NOLINT(cppcoreguidelines-owning-memory): no slot took it
    return Error{std::string(what) + ": " + errno_text(r)};
  }
  sd_bus_slot_set_destroy_callback(s, &SystemdBus::on_destroy);
  if (slot != nullptr) {
    slot->reset(s);
  } else {
    // Floating: the connection owns the slot and frees it after the reply (or when it closes).
    sd_bus_slot_set_floating(s, 1);
    sd_bus_slot_unref(s);
  }
  if (!dispatching_) rearm();  // a write may be queued (EPOLLOUT)
  return {};
}

int SystemdBus::run(Callbacks* cb, const Handler& handler, sd_bus_message* m) {
  if (!handler) return 0;
  // An exception must not unwind through sd-bus's C frames: it is rethrown after
  // sd_bus_process(), to the loop, which reports it and carries on.
  try {
    handler(m);
  } catch (...) {
    cb->owner->thrown_ = std::current_exception();
  }
  return 0;
}

int SystemdBus::on_first(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
  auto* cb = static_cast<Callbacks*>(userdata);
  return run(cb, cb->first, m);
}

int SystemdBus::on_second(sd_bus_message* m, void* userdata, sd_bus_error* /*error*/) {
  auto* cb = static_cast<Callbacks*>(userdata);
  return run(cb, cb->second, m);
}

// sd-bus holds a reference to the slot while its callback runs, so this never runs under it.
void SystemdBus::on_destroy(void* userdata) {
  delete static_cast<Callbacks*>(userdata);  // NOLINT(cppcoreguidelines-owning-memory)
}

std::string SystemdBus::error_of(sd_bus_message* reply) {
  const sd_bus_error* e = sd_bus_message_get_error(reply);
  if (e == nullptr) return {};
  if (e->message != nullptr && e->message[0] != '\0') return e->message;
  return e->name != nullptr ? e->name : "D-Bus error";
}

void SystemdBus::dispatch() {
  auto alive = alive_;
  dispatching_ = true;
  int r = 0;
  do {
    r = sd_bus_process(bus_, nullptr);
    if (!*alive) return;  // a handler destroyed us: nothing here may be touched
    if (thrown_) {
      dispatching_ = false;
      rearm();
      std::rethrow_exception(std::exchange(thrown_, nullptr));
    }
  } while (r > 0);
  dispatching_ = false;
  if (!reconnect_wanted_.empty()) {
    lost(std::exchange(reconnect_wanted_, std::string()));
    return;
  }
  // A closing bus answers its pending calls with errors and a Disconnected signal (r > 0 each
  // time), then returns an error once closed.
  if (r < 0) {
    lost(errno_text(r));
    return;
  }
  rearm();
}

void SystemdBus::rearm() {
  if (bus_ == nullptr) return;
  int events = sd_bus_get_events(bus_);
  if (events < 0) {
    // Not here: rearm() runs inside call() and match_signal(), and losing the connection
    // ends listeners' requests, which must never end inside the call that made them.
    if (reconnect_wanted_.empty()) {
      reconnect_wanted_ = errno_text(events);
      loop_.add_timer_after(base::Clock::duration::zero(),
                            [this, alive = std::weak_ptr<bool>(alive_)] {
                              if (alive.expired() || bus_ == nullptr) return;
                              if (reconnect_wanted_.empty()) return;
                              lost(std::exchange(reconnect_wanted_, std::string()));
                            });
    }
    return;
  }
  std::uint32_t wanted = 0;
  if ((events & POLLIN) != 0) wanted |= EPOLLIN;
  if ((events & POLLOUT) != 0) wanted |= EPOLLOUT;
  if (wanted != watched_events_ && loop_.modify(fd_, wanted)) watched_events_ = wanted;
  std::uint64_t usec = UINT64_MAX;
  sd_bus_get_timeout(bus_, &usec);
  if (usec == UINT64_MAX) {
    if (timer_ != 0) loop_.cancel_timer(timer_);
    timer_ = 0;
    return;
  }
  // An absolute CLOCK_MONOTONIC time: the clock of base::Clock (0 means "now": queued input).
  auto deadline = base::Clock::time_point(std::chrono::microseconds(usec));
  if (timer_ != 0 && deadline == timer_deadline_) return;
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_deadline_ = deadline;
  timer_ = loop_.add_timer(deadline, [this] {
    timer_ = 0;
    dispatch();
  });
}

void SystemdBus::lost(const std::string& why) {
  loop_.unwatch(fd_);
  if (timer_ != 0) loop_.cancel_timer(timer_);
  timer_ = 0;
  last_error_ = why;
  // Closed for the listeners before they hear of it: a request a listener makes while it
  // winds down (a chained action) fails at once instead of going out on a dying connection.
  sd_bus* closing = std::exchange(bus_, nullptr);
  auto alive = alive_;
  std::vector<Listener*> listeners = listeners_;
  for (Listener* l : listeners) {
    if (std::find(listeners_.begin(), listeners_.end(), l) == listeners_.end()) continue;
    l->on_disconnected();
    if (!*alive) {
      sd_bus_close_unref(closing);
      return;
    }
  }
  subscribe_.reset();
  sd_bus_close_unref(closing);
  if (!outage_ && notice_) {
    notice_("systemd bus: connection lost (" + why +
            "); reconnecting, unit states are kept "
            "until read again");
  }
  outage_ = true;
  reconnect_later();
}

}  // namespace amata::probes
