// A ring member's side of the remote nodes (docs/operations.md, "Remote nodes"): every ring
// member follows them in the cluster's history (cluster::RemoteRegistry) and shows them as
// `peer`s; one with `remote_port` also serves them — it listens for their TLS links
// (remote::RemoteListener), publishes their attachment, their events and their loss on the
// bus, and acknowledges each event to its node once the bus has delivered it back (so an
// event the node saw acknowledged is in every member's history).
//
// ClusterGlue owns it and feeds it every entry of the history; it reaches the ring only
// through RingAccess.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "catalog/object_spec.h"
#include "engine/cluster/cluster_manager.h"
#include "engine/cluster/remote_registry.h"
#include "engine/remote/remote_listener.h"

namespace amata::daemon {

class RemoteRing {
 public:
  struct RingAccess {
    std::function<Status(nlohmann::json)> publish;         // an event on the bus
    std::function<Status(nlohmann::json)> publish_status;  // a status on the bus (not history)
    std::function<std::string()> local_name;               // this ring member's node name
    /// Why this member may not serve remote nodes now (not joined, no quorum), if it may not.
    std::function<std::optional<std::string>()> cannot_serve;
    std::function<bool(const std::string&)> is_ring_member;  // a name of the ring's nodes
    std::function<void(bool warning, std::string_view message)> log;
    /// A served node's report of its clustered services (ClusterManager::remote_report).
    std::function<void(const std::string& node, const std::string& epoch,
                       const cluster::RemoteReport& report)>
        report;
    /// This member no longer holds the node's link (ClusterManager::remote_detached).
    std::function<void(const std::string& node, const std::string& epoch,
                       base::Clock::time_point last_heartbeat)>
        detached;
  };

  /// Listens when `spec` has a remote_port (an error: the port or the TLS files).
  static Result<std::unique_ptr<RemoteRing>> create(base::EventLoop& loop,
                                                    const catalog::ClusterSpec& spec,
                                                    RingAccess ring);
  ~RemoteRing();
  RemoteRing(const RemoteRing&) = delete;
  RemoteRing& operator=(const RemoteRing&) = delete;

  /// A reload: a new listener when its settings changed (the links move to other members
  /// and come back), the new timeout for orphans.
  Status reconfigure(const catalog::ClusterSpec& spec);

  /// Every entry of the cluster's history, in order.
  void on_bus(const cluster::BusMessage& entry);
  /// A ring member's status (ClusterManager::publish_status): the heartbeats of the remote
  /// nodes it serves, which the other members show.
  void on_status(const std::string& from, const nlohmann::json& body);
  /// After a membership or quorum change: a member that may no longer serve (it lost quorum,
  /// or Corosync) closes its links, so its remote nodes attach to one that may.
  void check_serving();
  /// Tells served node `node` which clustered services it may run, for `lease` from its
  /// heartbeat `at`, as placement number `n` (ClusterCallbacks::on_place).
  void place(const std::string& node, const std::set<std::string>& run,
             std::chrono::milliseconds lease, std::optional<std::uint64_t> at, std::uint64_t n);
  /// The `at` of the last heartbeat of served node `node` (ClusterCallbacks::heartbeat_at).
  std::optional<std::uint64_t> heartbeat_at(const std::string& node) const;
  /// The remote nodes as peers (node id 0), `quorate` being the local partition's.
  std::vector<cluster::PeerView> peers(bool quorate) const;
  /// status → cluster → remote_nodes (docs/console.md).
  nlohmann::json status_json(base::Clock::time_point now, double now_unix) const;

 private:
  RemoteRing(base::EventLoop& loop, RingAccess ring, std::chrono::milliseconds timeout);
  Status listen(const catalog::ClusterSpec& spec);
  void on_hello(const remote::HelloRequest& hello);
  void on_event(remote::LinkId link, const std::string& node, remote::RemoteEvent event);
  void on_gone(remote::LinkId link, const std::string& node, const std::string& why,
               base::Clock::time_point last_heartbeat);
  void on_report(remote::LinkId link, const std::string& node, remote::ServiceReport report);
  /// Forgets the link this member held to `node` (closed, refused or replaced), and tells
  /// the placement so, with the last heartbeat read on it (unknown: now, which is later).
  void forget_link(const std::string& node,
                   std::optional<base::Clock::time_point> last_heartbeat = std::nullopt);
  /// A notice about `node` on the bus ("attached" or "lost").
  Status notify(const std::string& node, const std::string& epoch, const std::string& state,
                const std::string& message);

  /// Sets the timer for the next orphan whose grace runs out (RemoteRegistry::next_expiry).
  void arm_orphan_timer();
  /// For members that just joined: what this member serves, in one message.
  void announce_served();
  /// Every remote timeout: the heartbeats of the nodes this member serves, for the others.
  void publish_health();
  void arm_health_timer();

  struct Served {
    remote::LinkId link = 0;
    std::string epoch;
    std::string address;
  };

  base::EventLoop& loop_;
  RingAccess ring_;
  cluster::RemoteRegistry registry_;
  std::unique_ptr<remote::RemoteListener> listener_;
  catalog::ClusterSpec listening_;        // the settings listener_ was made with
  std::map<std::string, Served> served_;  // the remote nodes whose link this member holds
  /// The last heartbeat report for each remote node, from the member serving it.
  struct Health {
    std::string from;
    std::string epoch;
    std::int64_t age_ms = 0;  // the heartbeat's age when reported
    std::optional<double> rtt_ms;
    base::Clock::time_point received;
  };
  std::map<std::string, Health> health_;
  base::EventLoop::TimerId orphan_timer_ = 0;
  base::EventLoop::TimerId health_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amata::daemon
