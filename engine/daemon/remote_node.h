// A remote node's side (docs/operations.md, "Remote nodes"): when the policy's cluster
// declaration says `attach`, amatad joins no Corosync; it attaches to one ring member over
// TLS (remote::RemoteAttacher, the members ranked for this node) and streams every event
// and action it records there. Its clustered services are the ring's to place
// (RemoteServices).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "catalog/object_spec.h"
#include "engine/daemon/remote_services.h"
#include "engine/remote/remote_attacher.h"
#include "engine/supervisor/supervisor.h"

namespace amata::daemon {

class RemoteNode {
 public:
  using Log = std::function<void(bool warning, std::string_view message)>;
  /// Reads this node's name from its certificate and starts attaching.
  static Result<std::unique_ptr<RemoteNode>> create(base::EventLoop& loop,
                                                    const catalog::ClusterSpec& spec,
                                                    const std::vector<catalog::ObjectSpec>& objects,
                                                    supervisor::Supervisor& supervisor,
                                                    const Log& log);
  /// Leaves: the clustered services become ordinary ones (the cluster declaration is gone).
  void release() { services_->release(); }
  /// A reload with the same settings: the clustered services may have changed.
  void reconfigure(const std::vector<catalog::ObjectSpec>& objects) {
    services_->configure(objects);
  }
  /// The supervisor gave up on `service` here.
  void gave_up(const std::string& service) { services_->gave_up(service); }
  /// Why the node's watchdog must not be fed now (nothing: it may be).
  std::optional<std::string> watchdog_hold_reason() const {
    return services_->watchdog_hold_reason();
  }
  /// Whether the ring places `service` (it is clustered).
  bool places(const std::string& service) const { return services_->places(service); }
  /// Whether a reload's declaration attaches the same way (then the link is kept).
  bool same_settings(const catalog::ClusterSpec& spec) const;
  const std::string& cluster() const { return spec_.name; }

  /// A record of the event store (an event or an action), for the ring's history.
  void publish(nlohmann::json record) { attacher_->publish(std::move(record)); }
  /// status → remote (docs/console.md).
  nlohmann::json status_json(base::Clock::time_point now, double now_unix) const;

 private:
  RemoteNode(catalog::ClusterSpec spec, std::string name)
      : spec_(std::move(spec)), name_(std::move(name)) {}
  catalog::ClusterSpec spec_;
  std::string name_;
  std::unique_ptr<RemoteServices> services_;
  std::unique_ptr<remote::RemoteAttacher> attacher_;  // last: its callbacks reach services_
};

}  // namespace amata::daemon
