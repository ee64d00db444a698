// A remote node's clustered services (docs/operations.md, "Remote nodes holding clustered
// services"). The ring places them: they are held back from boot, started when the ring
// member serving this node says they may run here, stopped when it says they may not —
// and killed at once when the lease runs out, because the ring then counts this node lost
// and may start them elsewhere. What runs is reported back through the link.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/event_loop.h"
#include "catalog/object_spec.h"
#include "engine/supervisor/supervisor.h"

namespace amata::daemon {

class RemoteServices {
 public:
  /// What runs (or is starting), what was given up, what the policy declares clustered, and
  /// the number of the last placement that changed what may run here.
  using Report = std::function<void(std::set<std::string> running, std::set<std::string> gave_up,
                                    std::set<std::string> eligible, std::uint64_t placed)>;
  using Log = std::function<void(bool warning, std::string_view message)>;

  RemoteServices(base::EventLoop& loop, supervisor::Supervisor& supervisor, Report report, Log log);
  ~RemoteServices();
  RemoteServices(const RemoteServices&) = delete;
  RemoteServices& operator=(const RemoteServices&) = delete;

  /// The policy's clustered services (at boot or a reload): those not placed here are held
  /// back, so the supervisor's start_all() leaves them to the ring.
  void configure(const std::vector<catalog::ObjectSpec>& objects);
  /// Gives them back to the daemon as ordinary services (the cluster declaration is gone).
  void release();
  /// The member's placement number `n`: exactly these may run here.
  void place(const std::string& member, const std::set<std::string>& run, std::uint64_t n);
  /// The lease now ends at `valid_until` (it only ever moves later).
  void lease(base::Clock::time_point valid_until);
  /// The supervisor gave up on `service` here.
  void gave_up(const std::string& service);
  bool places(const std::string& name) const { return objects_.count(name) != 0; }
  /// Why the watchdog must not be fed: a clustered service runs (or its process is still
  /// there) and the lease has run out. Nothing when it may be fed.
  std::optional<std::string> watchdog_hold_reason() const;
  /// status → remote → services (docs/console.md).
  nlohmann::json status_json(base::Clock::time_point now) const;

 private:
  void start(const std::string& name);
  void stop(const std::string& name, const std::string& why, bool kill);
  /// Kills every clustered service: the lease has run out.
  void on_lease_end();
  void report();
  bool runs(const std::string& name) const;
  bool has_process(const std::string& name) const;
  int object_of(const std::string& name) const;

  base::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  Report report_;
  Log log_;
  std::map<std::string, int> objects_;  // the clustered services, by name
  std::set<std::string> placed_;        // what the last placement let run here
  std::uint64_t applied_ = 0;           // the number of the last placement that changed it
  std::set<std::string> gave_up_;
  std::set<std::string> withdrawn_;  // of gave_up_, those a placement since has not had
  std::optional<base::Clock::time_point> lease_until_;
  base::EventLoop::TimerId lease_timer_ = 0;
  bool reported_ = false;  // a report went out (then every change goes out)
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amata::daemon
