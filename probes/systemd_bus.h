// One sd-bus connection to systemd, driven by the one EventLoop: its fd is watched for the
// events sd_bus_get_events() asks for, a loop timer stands for sd_bus_get_timeout(), and
// sd_bus_process() runs until it has nothing left. Only asynchronous calls go through it, so
// nothing ever waits on systemd or on the D-Bus daemon.
//
// When the connection goes away (dbus or systemd restarted) every listener is told to drop
// what it holds of the old connection, the operator is told once, and the bus is reopened on
// a loop timer with backoff; on each new connection Manager.Subscribe is sent again (systemd
// sends unit and job signals on the system bus only to subscribed clients) and every
// listener is told to install its matches and read everything anew.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/event_loop.h"
#include "base/result.h"

namespace amata::probes {

inline constexpr const char* kSystemdService = "org.freedesktop.systemd1";
inline constexpr const char* kSystemdPath = "/org/freedesktop/systemd1";
inline constexpr const char* kManagerInterface = "org.freedesktop.systemd1.Manager";
inline constexpr const char* kUnitInterface = "org.freedesktop.systemd1.Unit";
inline constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";

struct BusSlotUnref {
  void operator()(sd_bus_slot* slot) const { sd_bus_slot_unref(slot); }
};
/// A pending call or an installed match; dropping it cancels the call or removes the match.
using BusSlot = std::unique_ptr<sd_bus_slot, BusSlotUnref>;

/// Where to connect (outside the class: a default argument of its own members).
struct SystemdBusOptions {
  std::string address;     /// empty: the system bus ($DBUS_SYSTEM_BUS_ADDRESS or its socket)
  bool bus_client = true;  /// false for a direct connection (unix:path=/run/systemd/private)
};

class SystemdBus {
 public:
  /// A method reply (an error reply too: see error_of) or a signal.
  using Handler = std::function<void(sd_bus_message*)>;
  using Notice = std::function<void(std::string_view message)>;

  /// Users of the connection that must (re)install matches and (re)read on each connection.
  class Listener {
   public:
    virtual ~Listener() = default;
    /// A new connection: install matches, read every value anew.
    virtual void on_connected() = 0;
    /// The connection is gone: drop every BusSlot of it (a slot keeps its connection alive).
    virtual void on_disconnected() = 0;
  };

  using Options = SystemdBusOptions;

  /// Opens the connection. When the bus is not there yet (no socket, refused), says so through
  /// `notice` and keeps trying on the loop; other failures are errors.
  static Result<std::unique_ptr<SystemdBus>> create(base::EventLoop& loop, Notice notice,
                                                    Options options = {});
  /// Must not run while a listener still holds slots. May run from inside a handler.
  ~SystemdBus();
  SystemdBus(const SystemdBus&) = delete;
  SystemdBus& operator=(const SystemdBus&) = delete;

  bool connected() const { return bus_ != nullptr; }
  bool bus_client() const { return options_.bus_client; }
  /// The listener is told of every connection from now on (of the current one at once).
  void add_listener(Listener* listener);
  void remove_listener(Listener* listener);

  /// Calls systemd's `member` of `interface` at `path` with arguments `types`, `args...` (as
  /// sd_bus_message_append). `done` gets the reply — an error reply when the call failed or
  /// the connection closed first — unless the call is cancelled by dropping `*slot` first.
  /// With a null `slot` the call belongs to the connection and ends with it.
  template <typename... Args>
  Status call(BusSlot* slot, const char* path, const char* interface, const char* member,
              Handler done, const char* types = nullptr, Args... args) {
    if (bus_ == nullptr) return Error{"not connected to systemd: " + last_error_};
    auto* cb = new Callbacks{this, std::move(done), nullptr};  // NOLINT: the slot frees it
    sd_bus_slot* s = nullptr;
    int r = sd_bus_call_method_async(bus_, &s, kSystemdService, path, interface, member,
                                     &SystemdBus::on_first, cb, types, args...);
    return adopt(r, s, cb, slot, member);
  }
  /// Calls `on_signal` for each signal `member` of `interface` from systemd at `path` (any
  /// path when null) until `*slot` is dropped. `on_installed` gets the bus's reply to the
  /// match's AddMatch (bus clients only); signals are certain to arrive only after it.
  Status match_signal(BusSlot* slot, const char* path, const char* interface, const char* member,
                      Handler on_signal, Handler on_installed);

  /// "" for a method return, else the error's message (its name when it has none).
  static std::string error_of(sd_bus_message* reply);

 private:
  struct Callbacks {
    SystemdBus* owner;
    Handler first, second;
  };

  SystemdBus(base::EventLoop& loop, Notice notice, Options options);
  static int on_first(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static int on_second(sd_bus_message* m, void* userdata, sd_bus_error* error);
  static void on_destroy(void* userdata);
  static int run(Callbacks* cb, const Handler& handler, sd_bus_message* m);
  Status adopt(int r, sd_bus_slot* s, Callbacks* cb, BusSlot* slot, const char* what);
  /// Opens the bus and attaches it; an error leaves it closed.
  Status open();
  void reconnect_later();
  /// Runs sd_bus_process() until it is done, then re-arms fd events and the timer.
  void dispatch();
  void rearm();
  /// Closes a connection that went away and tells everyone; a reconnect follows.
  void lost(const std::string& why);

  base::EventLoop& loop_;
  Notice notice_;
  Options options_;
  sd_bus* bus_ = nullptr;
  int fd_ = -1;
  std::uint32_t watched_events_ = 0;
  base::EventLoop::TimerId timer_ = 0;  // sd-bus's own timeout (replies, auth)
  base::Clock::time_point timer_deadline_{};
  base::EventLoop::TimerId reconnect_timer_ = 0;
  base::Clock::duration backoff_;
  BusSlot subscribe_;
  std::vector<Listener*> listeners_;
  std::string last_error_ = "never connected";
  int last_errno_ = 0;   // of the last failed open()
  bool outage_ = false;  // said "lost" and not yet "back"
  bool dispatching_ = false;
  std::string reconnect_wanted_;  // why the connection must be started over, after dispatch
  // False once destroyed: a handler may destroy this object from inside sd_bus_process().
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::exception_ptr thrown_;  // by a handler, rethrown to the loop after sd_bus_process()
};

}  // namespace amata::probes
