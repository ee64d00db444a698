// The probe of a systemd unit (kind `unit`): a service systemd runs, not amatad — sshd,
// postgresql, corosync. Read over the shared SystemdBus, never by running systemctl.
//
// Its state (active_state, sub_state, result, restarts, main_pid, load_state) comes from
// systemd's PropertiesChanged signals, not from polling: systemd emits them in the same turn
// of its loop as the change, so a unit that fails is seen within milliseconds, where a poll
// would see it up to a period late — and would miss an automatic restart's brief states
// entirely (`restarts` and `result` still tell of one: systemd goes from active to
// activating/auto-restart without a failed state in between, and a signal carries the values
// current when it is sent). Resource figures (memory, tasks, cpu) have no signal; poll() reads
// them.
//
// Attributes: active_state (ordinal of kActiveStates), sub_state, result, load_state
// (strings), restarts (NRestarts), main_pid (0: none), memory (bytes), tasks, cpu (percent of
// one core between two polls). NaN when unknown. A unit that does not exist is load_state
// "not-found", active_state inactive: that is systemd's answer, not an error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/systemd_bus.h"

namespace amata::probes {

/// systemd's active states, in the order of their catalog ordinals.
inline constexpr std::string_view kActiveStates[] = {"inactive",     "active",    "activating",
                                                     "deactivating", "reloading", "failed",
                                                     "maintenance",  "refreshing"};

/// The unit `name` as systemd names it: "sshd" becomes "sshd.service"; an error for a name
/// systemd would refuse.
Result<std::string> unit_name(std::string_view name);

class UnitProbe : public Probe, public SystemdBus::Listener {
 public:
  static Result<std::unique_ptr<UnitProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx);
  ~UnitProbe() override;
  /// Reads memory, tasks and CPU time; sink.sampled() when the answers are in.
  void poll() override;
  bool busy() const override { return poll_pending_ > 0; }

  void on_connected() override;
  void on_disconnected() override;

 private:
  UnitProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx, SystemdBus& bus,
            std::string unit);
  using Reply = std::function<void(sd_bus_message*)>;
  /// `reply`, run only while this probe lives and the connection it was sent on is open.
  SystemdBus::Handler guarded(Reply reply);
  /// LoadUnit: the unit's own object path (an alias's path would never carry its signals).
  void load();
  void watch(const std::string& path);
  /// GetAll of the Unit and the type's interface; changed() when a value differs.
  void read_all();
  void on_properties_changed(sd_bus_message* m);
  /// An a{sv} of properties; true when a value the rules wait on changed.
  bool apply_all(sd_bus_message* m);
  /// One property, the message at its variant.
  bool apply(std::string_view name, sd_bus_message* m);
  bool set_number(const char* attribute, double& last, double value);
  bool set_string(const char* attribute, std::optional<std::string>& last, std::string_view value);
  void poll_done();
  void say_once(const std::string& message);

  ProbeContext& ctx_;
  SystemdBus& bus_;
  std::string unit_;
  std::string type_interface_;  // org.freedesktop.systemd1.Service for a .service
  bool has_cgroup_ = false;     // its type has memory, tasks and CPU figures
  std::string path_;            // empty until LoadUnit answered
  bool loading_ = false;        // a LoadUnit is in flight
  BusSlot match_;
  // Handlers hold a weak_ptr to this: replies to a dead probe, or of a connection that has
  // gone, find it expired.
  std::shared_ptr<char> token_ = std::make_shared<char>();
  bool said_ = false;

  double active_state_ = kUnknown, restarts_ = kUnknown, main_pid_ = kUnknown;
  std::optional<std::string> sub_state_, result_, load_state_;  // empty: never read

  int poll_pending_ = 0;
  double memory_ = kUnknown, tasks_ = kUnknown;
  std::uint64_t cpu_ns_ = UINT64_MAX, prev_cpu_ns_ = UINT64_MAX;
  double prev_cpu_time_ = 0;
};

}  // namespace amata::probes
