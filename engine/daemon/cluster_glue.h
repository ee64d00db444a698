// amatad's side of the cluster layer: it lets a ClusterManager drive the daemon's Supervisor
// (start, stop, is_running of the `clustered` services), runs fence agents, turns the
// manager's peer views into the `peer` objects' attributes, and forwards `failover` actions,
// restart limits and stored events to the manager.
//
// The daemon creates one only when its policy declares a `cluster`; otherwise Corosync is
// never touched. Everything runs on the daemon's EventLoop and never throws into it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/job.h"
#include "base/result.h"
#include "catalog/object_spec.h"
#include "compiler/ir/compiled_policy.h"
#include "engine/cluster/cluster_manager.h"
#include "engine/daemon/remote_ring.h"
#include "engine/discovery/metric_store.h"
#include "engine/store/event_store.h"
#include "engine/supervisor/supervisor.h"

namespace amata::daemon {

/// The cluster layer attached to one amatad.
class ClusterGlue final : public cluster::ClusteredServices {
 public:
  struct Callbacks {
    /// After every membership or quorum change, and every second (for `since`).
    std::function<void(const std::vector<cluster::PeerView>&)> on_peers;
    /// Every entry of the cluster's history (bus messages and membership changes), in the
    /// order all members deliver them.
    std::function<void(const cluster::BusMessage&)> on_bus;
    /// What the cluster made this node do — start, stop, fence — once it is done (event_id
    /// 0, `detail` says why and how it went), for the event store and the bus.
    std::function<void(const store::ActionRecord&)> on_action;
    /// A line for amatad's log.
    std::function<void(bool warning, std::string_view message)> on_log;
  };

  /// The cluster configuration of a policy: its `cluster` declaration and the placement of
  /// every `clustered` service (`prefer` by node name, resolved when the session connects).
  static cluster::ClusterConfig config_of(const catalog::ClusterSpec& spec,
                                          const std::vector<catalog::ObjectSpec>& objects);

  /// Takes the clustered services of `objects` away from boot (unmonitored unless a copy
  /// is already running here, e.g. adopted) and joins the cluster. Call after the
  /// supervisor is configured and before its start_all(); `loop` must watch signals already.
  static Result<std::unique_ptr<ClusterGlue>> create(
      base::EventLoop& loop, const catalog::ClusterSpec& spec,
      const std::vector<catalog::ObjectSpec>& objects, supervisor::Supervisor& supervisor,
      Callbacks callbacks);
  ~ClusterGlue() override;
  ClusterGlue(const ClusterGlue&) = delete;
  ClusterGlue& operator=(const ClusterGlue&) = delete;

  /// Whether the cluster (not amatad's boot or restart logic) places `service`.
  bool places(const std::string& service) const { return services_.clustered.count(service) != 0; }
  /// `failover service [to peer]`: `peer_node` is the peer's node name (nullopt: any).
  Status failover(const std::string& service, std::optional<std::string> peer_node);
  /// A reload with a cluster declaration for the same CPG group: new placement settings.
  /// Services that became clustered are held back unless they run here; services no longer
  /// clustered are monitored again, so start_all() starts them as ordinary services.
  /// Fails (changing nothing) when the group differs: the caller makes a new glue then.
  Status reconfigure(const catalog::ClusterSpec& spec,
                     const std::vector<catalog::ObjectSpec>& objects);
  /// Gives the clustered services back to the daemon (the cluster declaration is gone, or
  /// the group changes): monitored again, so start_all() starts them as ordinary services.
  void release();
  const std::string& group() const { return manager_->group(); }
  /// The name of node `id` (cmap, the policy's peers, or "node<id>").
  std::string node_name(cluster::NodeId id) const { return manager_->node_name(id); }
  /// The ring's nodes and the remote nodes.
  std::vector<cluster::PeerView> peers() const;
  /// The ring's nodes alone (status → cluster → peers).
  std::vector<cluster::PeerView> ring_peers() const { return manager_->peers(); }
  /// status → cluster → remote_nodes (remote_ring.h).
  nlohmann::json remote_nodes_json(base::Clock::time_point now, double now_unix) const;
  /// The supervisor gave up on a clustered service here: another node takes it over.
  void gave_up(const std::string& service);
  /// A stored event, for every member's view of the cluster.
  Status publish(nlohmann::json event);
  cluster::ClusterStatus status() const { return manager_->status(); }
  /// Whether a process of some clustered service lives here (started, running or stopping).
  bool runs_clustered() const;
  /// Why the node's watchdog must not be fed now (nothing: it may be).
  std::optional<std::string> watchdog_hold_reason() const {
    return manager_->watchdog_hold_reason();
  }

  /// Writes `peers` into `metrics` as the attributes of the policy's `peer` objects
  /// (member, quorate, node_id, name, since), matched by node_id or else by name.
  static void write_peers(const std::vector<cluster::PeerView>& peers,
                          const ir::PolicyTables& tables, discovery::MetricStore& metrics);

  // cluster::ClusteredServices
  void start_clustered(const std::string& name, const std::string& reason) override;
  void stop_clustered(const std::string& name, const std::string& reason) override;
  bool is_running(const std::string& name) const override;
  void run_fence(const std::string& victim, const std::vector<std::string>& argv,
                 const std::string& stdin_text,
                 std::function<void(bool ok, std::string detail)> done) override;

 private:
  /// The cluster speaks service names, amatad objects: the policy's services by name, and
  /// the ones the cluster places.
  struct Services {
    std::map<std::string, int> objects;
    std::set<std::string> clustered;
  };

  ClusterGlue(base::EventLoop& loop, supervisor::Supervisor& supervisor, Callbacks callbacks,
              Services services);
  void tick_peers();
  RemoteRing::RingAccess ring_access();
  /// Holds back (unmonitors) the clustered services the cluster does not run here, so the
  /// supervisor's start_all() leaves them to the cluster.
  void hold_back();
  /// The object of service `name` (-1: not a service of the policy).
  int object_of(const std::string& name) const;
  /// Reports a finished cluster action through on_action.
  void report(const std::string& kind, const std::string& object, bool ok,
              const std::string& detail, base::Clock::time_point started, double requested_unix);
  /// The services of `objects` by name and which of them are clustered (all supervised).
  static Result<Services> services_of(const std::vector<catalog::ObjectSpec>& objects,
                                      const supervisor::Supervisor& supervisor);

  base::EventLoop& loop_;
  supervisor::Supervisor& supervisor_;
  Callbacks callbacks_;
  Services services_;
  base::EventLoop::TimerId peer_timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::map<pid_t, std::unique_ptr<base::Job>> fences_;  // fence agents while they run
  std::unique_ptr<RemoteRing> remote_;                  // after manager_ is made
  std::unique_ptr<cluster::ClusterManager> manager_;    // last: destroyed first
};

}  // namespace amata::daemon
