// The cluster layer of amatad: membership and quorum from Corosync, the ordered event bus,
// and failover of clustered services. The daemon creates one ClusterManager when (and only
// when) its policy declares a cluster, implements ClusteredServices for it, and maps the
// PeerView callback onto the `peer` objects of the policy.
//
// The manager never forks, prints or blocks: it drives the daemon through ClusteredServices
// and reports through the callbacks in ClusterCallbacks, all on the daemon's EventLoop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "engine/cluster/bus_wire.h"
#include "engine/cluster/corosync_session.h"
#include "engine/cluster/placement.h"

namespace amata::cluster {

/// The part of the daemon the cluster layer drives. Calls come from the loop; outcomes are
/// reported back through ClusterManager::service_started / service_stopped /
/// service_gave_up, later or from inside the call.
class ClusteredServices {
 public:
  virtual ~ClusteredServices() = default;
  /// Starts the clustered service `name` on this node; `reason` says why, in words.
  virtual void start_clustered(const std::string& name, const std::string& reason) = 0;
  /// Stops it on this node (the daemon's usual stop: signal, then KILL after a timeout).
  virtual void stop_clustered(const std::string& name, const std::string& reason) = 0;
  /// Whether this node runs it now (read when (re)connecting, to adopt running copies).
  virtual bool is_running(const std::string& name) const = 0;
  /// Runs a fence agent against node `victim`: `argv` (never a shell) with `stdin_text` on
  /// its stdin; calls `done` from the loop with whether it exited 0, and a detail for the log.
  virtual void run_fence(const std::string& victim, const std::vector<std::string>& argv,
                         const std::string& stdin_text,
                         std::function<void(bool ok, std::string detail)> done) = 0;
};

/// How to fence a node (the fence-agents convention: options on stdin, one key=value a line).
struct FenceConfig {
  std::vector<std::string> argv;                             // empty: no fencing
  std::vector<std::pair<std::string, std::string>> options;  // e.g. {"ip","10.0.0.9"}
  bool use_port = false;                  // name the victim as port= instead of nodename=
  std::chrono::milliseconds retry{1000};  // after a failed fence
};

/// The cluster declaration of a policy, resolved.
struct ClusterConfig {
  std::string group = "amata";  // CPG group name
  std::vector<ServicePlacement> services;
  /// Names of preferred nodes may be given instead of ids: resolved against the node names
  /// (corosync.conf's nodelist, or `node_names` below) when the session connects.
  std::map<std::string, std::vector<std::string>> preferred_names;
  std::map<NodeId, std::string> node_names;  // override / complete cmap's names
  QuorumLossPolicy on_quorum_loss = QuorumLossPolicy::kStop;
  FenceConfig fence;
  /// `watchdog_timeout` when the nodes self-fence with a watchdog (docs/operations.md,
  /// "Self-fencing with a watchdog"): without a fence agent, a departed holder counts as
  /// fenced once twice this has passed, and this node multicasts the liveness messages its
  /// own watchdog feeding waits for.
  std::optional<std::chrono::seconds> watchdog_timeout;
  /// After joining, how long a service that runs nowhere waits for a node its `prefer` list
  /// ranks above this one that is not a member yet: nodes started together then place it
  /// as `prefer` says, not on whichever amatad joined first.
  std::chrono::milliseconds formation_settle{5000};
  /// How long a remote node's heartbeat may stop before the ring counts it lost (its
  /// `remote_timeout`): its lease is three quarters of it (docs/operations.md, "Remote nodes
  /// holding clustered services").
  std::chrono::milliseconds remote_timeout{2000};
  CorosyncSession::Options session;  // `group` is taken from above
};

/// What a remote node reports of its clustered services over its link (remote_wire.h).
struct RemoteReport {
  std::uint64_t seq = 0;
  std::set<std::string> eligible;
  std::set<std::string> running;
  std::set<std::string> gave_up;
  std::uint64_t placed = 0;  // the last placement (ClusterCallbacks::on_place's n) it applied
};

/// One node of the cluster as the policy's `peer` objects see it (catalog: member, quorate,
/// node_id, name, since).
struct PeerView {
  NodeId node_id = 0;
  std::string name;
  bool member = false;            // in the local partition's membership (Corosync quorum view)
  bool quorate = false;           // the local partition has quorum
  bool local = false;             // this node itself
  base::Clock::time_point since;  // when `member` last changed (or first seen)
};

/// One entry of the cluster's history, identical (and identically placed) on every member
/// that delivered it: an event or action outcome a node published on the ordered bus, or a
/// change of the group's membership (delivered at the same point of the order everywhere).
// NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json() is noexcept, its throw unreachable
struct BusMessage {
  enum class Kind : std::uint8_t { kEvent, kMembership };
  Kind kind = Kind::kEvent;
  NodeId from = 0;        // the publisher (kMembership: 0)
  std::string from_name;  // its node name (ClusterManager::node_name)
  RingId ring;
  std::uint32_t view = 0;   // the CPG view (view_of its members)
  std::uint64_t seq = 0;    // position within the view (kMembership: 0, the view's start)
  std::uint64_t index = 0;  // position in this node's history since start (1, 2, ...)
  /// kEvent: what the publisher passed to publish(). kMembership: {"members": [names],
  /// "joined": [names], "left": [{"node": name, "reason": "leave"|"amatad died"|"node down"}]}.
  nlohmann::json body;
};

/// A snapshot for status displays.
struct ClusterStatus {
  bool connected = false;
  bool quorate = false;
  bool synced = false;
  NodeId local_node = 0;
  std::vector<NodeId> members;                          // CPG members (nodes running amatad)
  std::map<std::string, std::optional<NodeId>> owners;  // computed owner of each service
  std::map<std::string, std::vector<NodeId>> holders;   // members announcing it running
  std::set<std::string> running_here;                   // started or starting here
  /// Per service, what this node is doing with it: running, starting, stopping, stopped.
  std::map<std::string, std::string> here;
  /// The services this node may never run: `only_preferred` with a list that leaves it out.
  std::set<std::string> excluded_here;
  /// Members that place some service differently (another policy: a reload not done
  /// everywhere). While they do, those services are not moved.
  std::vector<NodeId> disagreeing;
  /// Bus messages this node sent, and those delivered to it, since amatad started.
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
};

struct ClusterCallbacks {
  std::function<void(const std::vector<PeerView>&)> on_peers;  // after every change
  std::function<void(const BusMessage&)> on_bus;  // every published event, in agreed order
  /// A member's status (publish_status), in agreed order; not history. `from` its name.
  std::function<void(const std::string& from, const nlohmann::json& body)> on_status;
  /// Things worth a log line: connection lost/regained, placement decisions, fences.
  std::function<void(bool warning, std::string_view message)> on_log;
  /// Tell remote node `remote`, whose link this member holds, to run exactly `run` of its
  /// clustered services, for `lease` from its heartbeat `at` (remote_wire.h, "place").
  /// Called once the ledger holds that decision, and again whenever this member's own bus
  /// message comes back while it is quorate: only then is the lease renewed, from the
  /// heartbeat the node had sent when this member sent that message.
  std::function<void(const std::string& remote, const std::set<std::string>& run,
                     std::chrono::milliseconds lease, std::optional<std::uint64_t> at,
                     std::uint64_t n)>
      on_place;
  /// The `at` of the last heartbeat from remote node `remote` on the link this member holds.
  std::function<std::optional<std::uint64_t>(const std::string& remote)> heartbeat_at;
};

class ClusterManager {
 public:
  /// Connects (asynchronously) and starts following the cluster. `services` must outlive the
  /// manager.
  static std::unique_ptr<ClusterManager> create(base::EventLoop& loop, ClusterConfig config,
                                                ClusteredServices& services,
                                                ClusterCallbacks callbacks);
  ~ClusterManager();

  /// Multicasts an event or action outcome on the bus; every member (this one included)
  /// delivers it through on_bus in the same order.
  Status publish(nlohmann::json body);
  /// Multicasts what this node says of its state now: every member (this one included) gets
  /// it through on_status, not as history (bus_wire.h, "status").
  Status publish_status(nlohmann::json body);
  /// A reload: new placement settings, preferences, fencing and quorum-loss policy for the
  /// same CPG group (an error, changing nothing, if `config.group` differs: the caller
  /// makes a new manager then). Services no longer listed are forgotten, not stopped;
  /// new ones are adopted if they run here. Every member re-announces and re-decides.
  Status reconfigure(ClusterConfig config);
  const std::string& group() const { return config_.group; }

  /// `failover s` (no target) or `failover s to p`: a request on the bus, applied by every
  /// member in order. Errors: unknown service or peer name, or not joined.
  Status request_failover(const std::string& service, std::optional<std::string> target);

  /// Outcomes of the ClusteredServices calls.
  void service_started(const std::string& name);
  void service_stopped(const std::string& name);
  /// The daemon could not keep it running here (restart limits): another node takes it.
  void service_gave_up(const std::string& name);

  /// Remote node `name`, run `epoch`, reported over a link this member holds.
  void remote_report(const std::string& name, const std::string& epoch, const RemoteReport& report);
  /// This member no longer holds that link. Unless the node reports through another member
  /// first, the ring counts it lost `remote_timeout` after the heartbeat this member last
  /// received from it, when its lease has surely run out.
  void remote_detached(const std::string& name, const std::string& epoch,
                       base::Clock::time_point last_heartbeat);

  ClusterStatus status() const;
  std::vector<PeerView> peers() const;
  /// Why this node must not feed its watchdog now, or nothing when it may: it runs no
  /// clustered service, or it is joined, its partition quorate, and corosync delivered its
  /// own liveness message within half the watchdog timeout (so a hung or stopped corosync,
  /// which leaves the last quorum report standing, does not keep it fed).
  std::optional<std::string> watchdog_hold_reason() const;
  /// The name of a node (cmap, config, or "node<id>").
  std::string node_name(NodeId id) const;

 private:
  ClusterManager(base::EventLoop& loop, ClusterConfig config, ClusteredServices& services,
                 ClusterCallbacks callbacks);
  enum class Phase : std::uint8_t { kStopped, kStarting, kRunning, kStopping };

  void on_connection(bool connected, std::string_view why);
  void on_group_change(const GroupChange& change);
  void on_deliver(const Delivery& d);
  void on_quorum(const QuorumView& q);
  void record_membership(const GroupChange& change, const MembershipChange& m);
  void resolve_preferences();
  void announce();
  /// Starts what this node's own announcement `sent` claimed and the ledger accepted; drops
  /// the claims it refused (placement.h: a claim overtaken on the bus).
  void settle_claims(const Announcement& sent);
  /// Compares every service's decision with what runs here, and acts.
  void reconcile();
  /// Why this node starts `service`, for the action record.
  std::string start_reason(const std::string& service) const;
  void fence(NodeId victim);
  /// Multicasts "alive" and schedules the next, every quarter of the watchdog timeout.
  void send_alive();
  void update_peers();
  void log(bool warning, const std::string& message);
  bool running_here(const std::string& name) const;
  /// Whether `service`, which node `self` (this one, or a remote node it serves) would start
  /// now, waits for a better-preferred node to join (or a remote node to attach)
  /// (ClusterConfig::formation_settle); schedules a reconcile for the window's end. A node seen
  /// leaving since this one joined is not waited for: it had its chance.
  bool settling(const ServicePlacement& service, NodeId self);
  /// reconcile() for the remote nodes this member serves: what each may run, published
  /// before the node is told.
  void reconcile_remotes(bool quorate);
  void on_remote_state(NodeId from, const RemoteStateNotice& notice);
  void on_remote_lost(const RemoteLostNotice& lost);
  /// Counts remote node `id`, as it is now in the ledger, lost at `when`, unless by then it
  /// has changed, or a member serves it again.
  void lose_remote_at(NodeId id, base::Clock::time_point when);
  /// Renews the leases of the remote nodes this member serves: its "alive" number `n` came
  /// back, and they run from the heartbeats noted when it was sent.
  void place_remotes(std::uint64_t n);
  /// Each served remote node's last heartbeat (its `at`), by id.
  using HeartbeatMarks = std::map<NodeId, std::uint64_t>;
  HeartbeatMarks heartbeat_marks() const;
  /// Whether this member may tell remote nodes what to run now (joined, quorate, synced).
  bool may_place() const;
  std::chrono::milliseconds lease() const { return config_.remote_timeout * 3 / 4; }

  base::EventLoop& loop_;
  ClusterConfig config_;
  ClusteredServices& services_;
  ClusterCallbacks callbacks_;
  std::unique_ptr<CorosyncSession> session_;
  std::unique_ptr<Ledger> ledger_;
  std::map<std::string, Phase> phase_;
  /// Services this node claimed and has not had its claim back for (kStopped meanwhile),
  /// with why it starts them.
  std::map<std::string, std::string> claims_;
  base::EventLoop::TimerId announce_retry_timer_ = 0;  // an announcement that did not go out
  bool correct_ledger_ = false;  // announce even if unchanged: the ledger counts a copy too many
  std::set<std::string> gave_up_;
  std::set<NodeId> fencing_;  // fences in flight
  std::optional<Announcement> last_announced_;
  RingId group_ring_;                 // the totem ring of the last CPG change
  bool heard_from_corosync_ = false;  // a connection attempt has succeeded or failed
  bool quorum_stale_ = false;         // a node left; the quorum service has not reported since
  base::EventLoop::TimerId stale_timer_ = 0;
  base::Clock::time_point settle_until_{};  // the formation window after joining
  std::set<NodeId> left_since_join_;        // members that left since then (and are gone)
  base::EventLoop::TimerId settle_timer_ = 0;
  bool in_reconcile_ = false;
  bool reconcile_again_ = false;
  std::uint64_t history_index_ = 0;
  std::map<NodeId, PeerView> peers_;
  base::EventLoop::TimerId alive_timer_ = 0;
  std::optional<base::Clock::time_point> own_alive_delivered_;  // the last of our "alive"s
  /// The remote nodes whose link this member holds, by id: their run and last report.
  struct ServedRemote {
    std::string name;
    std::string epoch;
    RemoteReport report;
    /// The placements told to it that its reports have not said it applied (numbered, each
    /// run set once, with the number of its last sending): what they let run may still run.
    std::vector<std::pair<std::uint64_t, std::set<std::string>>> unacked;
  };
  /// Tells served remote node `id` what it may run (ClusterCallbacks::on_place), numbered.
  void place_remote(NodeId id, ServedRemote& link, const std::set<std::string>& run,
                    std::optional<std::uint64_t> at);
  /// What `link` may be running: what it reported, and what placements not yet applied
  /// there let it run.
  static std::set<std::string> maybe_running(const ServedRemote& link);
  static std::uint64_t new_placement_base();
  /// Placement numbers: this run's random high half, a count per remote node in the low one,
  /// so a report about another run's or an earlier link's placement never passes for one of
  /// this member's later ones.
  std::uint64_t placement_base_ = 0;
  std::map<NodeId, std::uint64_t> placements_sent_;
  std::map<NodeId, ServedRemote> served_remotes_;
  /// A remote_state this member sent and has not had back: what it said, whether it was
  /// decided (the ledger had the node as this member's then), and the node's heartbeat then.
  struct Published {
    RemoteHolding state;
    bool decided = false;
    std::optional<std::uint64_t> at;
  };
  std::map<NodeId, Published> remote_published_;
  /// Decisions delivered while this member could not place (the quorum service had not yet
  /// reported on a new ring): the heartbeat noted when each was sent, to place on the report.
  std::map<NodeId, std::optional<std::uint64_t>> unplaced_;
  std::uint64_t alives_sent_ = 0;
  std::map<std::uint64_t, HeartbeatMarks> alive_marks_;  // by "alive" number, until it is back
  std::map<NodeId, std::string> remote_names_;           // every remote node heard of
  /// The remote nodes (id, epoch, serving member, report) a loss is timed for.
  std::set<std::tuple<NodeId, std::string, NodeId, std::uint64_t>> loss_timers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace amata::cluster
