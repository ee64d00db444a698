// Where each clustered service runs: a pure, deterministic replicated state machine.
//
// Every node feeds its Ledger the same inputs in the same order — CPG configuration changes
// and the messages of the ordered bus (announcements, failover requests, fence results) — so
// every node of a partition computes the same owner for every service without a voting
// round. The ledger knows nothing of Corosync, processes or time; ClusterManager drives it.
//
// Rules (docs/operations.md, "The cluster", explains them for operators):
// - The owner is chosen among the CPG members that have not given up on the service:
//   a pinned failover target first, else the best-ranked member already running it
//   (stickiness: a running copy is never moved by a join), else the best-ranked member.
//   With `failback`, the best-ranked member's joining pins the service to it, as a failover
//   would.
//   Rank: position in the service's preference list, then unlisted nodes by node id.
// - After a configuration change that adds members, the ledger forgets what it learnt from
//   announcements and waits until every member has announced again (what it runs, what it
//   gave up on, which departed holders are still unfenced); only then may anything start.
//   Departures alone need no new round: survivors already share the same history.
// - The owner starts only when no other member announces running the service, so within a
//   partition there is at most one copy; a holder that is not the owner stops. It claims the
//   service on the bus first and starts only once its claim is delivered and accepted: the
//   claim is judged as a remote node's grant is (may_start), on the ledger as it stands at
//   delivery, so a claim overtaken by a failover, a grant or another claim is refused alike
//   on every member.
// - A holder that departs with its node (not a clean leave) must be fenced before the copy
//   starts elsewhere, when a fence command is configured; the owner fences it.
// - Only a quorate partition starts anything; on losing quorum a node stops its services
//   (QuorumLossPolicy::kStop) or keeps them as they are (kFreeze).
// - Determinism needs every member to place a service by the same settings. Announcements
//   carry a fingerprint of each service's settings; while a member places a service
//   differently (a reload not yet done everywhere), nobody starts or stops it for placement
//   reasons — two nodes that disagree on the owner could otherwise both keep a copy.
// - Remote nodes (docs/operations.md, "Remote nodes") are candidates too, for the services
//   they declare, while a member serves them. What the ledger knows of one comes whole from
//   the member serving it (apply_remote): what the node reported running, and what that
//   member let it run (`granted`, recorded here before the node is told, so the ledger never
//   learns of a copy after it exists). A remote node leaves the ledger only when it is lost
//   (apply_remote_lost): its lease has run out, so its copies are gone — or it must be
//   fenced first, as a member that vanished. After a join they are learnt again like the
//   rest, from the announcements: the first that lists a node, or the one from the member
//   serving it, which outranks what another member heard. Nothing starts until every member
//   has announced, so nothing is placed while a holder is unknown.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace amata::cluster {

using NodeId = std::uint32_t;

/// What a node does with its clustered services when its partition loses quorum.
enum class QuorumLossPolicy : std::uint8_t { kStop, kFreeze };

/// The placement settings of one clustered service.
struct ServicePlacement {
  std::string name;
  std::vector<NodeId> preferred;  // best first; unlisted nodes rank after, by node id
  bool only_preferred = false;    // true: never run on a node that is not listed
  bool fence = false;             // a departed holder must be fenced before a new copy starts
  /// true: when the best-ranked member (the first of `preferred` that may run it) joins, the
  /// service moves back to it, as a failover to it would (the copy elsewhere stops first).
  /// false (default): stickiness, a running copy is never moved by a join.
  bool failback = false;
};

/// Why a member left the CPG group (the CPG_REASON_* values that mean leaving).
enum class LeaveReason : std::uint8_t {
  kLeave,     // the process left the group cleanly
  kProcDown,  // the process died, its node is still in the membership
  kNodeDown,  // the node left the totem ring: crashed, cut off or corosync died
};

/// One CPG configuration change, as every member sees it.
struct MembershipChange {
  std::vector<NodeId> members;  // after the change
  std::vector<NodeId> joined;
  std::vector<std::pair<NodeId, LeaveReason>> left;
};

/// 32-bit FNV-1a: a short hash every node computes alike, for the names of CPG views and the
/// fingerprints of placement settings. Start from kFnv1aBasis; words go in little-endian
/// byte order, so nodes of any architecture agree.
inline constexpr std::uint32_t kFnv1aBasis = 2166136261U;
std::uint32_t fnv1a(std::uint32_t hash, std::string_view bytes);
std::uint32_t fnv1a(std::uint32_t hash, std::uint32_t word);

/// A fingerprint of the settings by which a node places each of its clustered services.
using PlacementFingerprints = std::map<std::string, std::uint32_t>;

/// The node id of remote node `name` in placement: a hash of its name with the top bit set.
/// Corosync's node ids are the small numbers of corosync.conf's nodelist, so the two never
/// meet; a member whose id has the top bit set refuses to serve remote nodes (it cannot
/// tell them apart).
NodeId remote_node_id(std::string_view name);
inline constexpr NodeId kRemoteIdBit = 0x80000000U;
inline bool is_remote_id(NodeId id) {
  return (id & kRemoteIdBit) != 0;
}

/// What the ring knows of one remote node's clustered services.
struct RemoteHolding {
  std::string name;
  NodeId via = 0;                  // the member serving it, which published this
  std::string epoch;               // the run of its amatad
  std::uint64_t seq = 0;           // its report's number (it grows over the node's run)
  std::set<std::string> eligible;  // the clustered services it declares: it may run them
  std::set<std::string> running;   // it runs or is starting them, as it last reported
  std::set<std::string> gave_up;   // it could not keep them running
  std::set<std::string> granted;   // its member let it run them
  bool operator==(const RemoteHolding&) const = default;
};

/// What a node says about itself after every membership change and every start or stop.
struct Announcement {
  std::set<std::string> running;  // clustered services it runs (or is starting)
  std::set<std::string> gave_up;  // services it failed to keep running (it is banned)
  std::set<NodeId> unfenced;      // departed holders it knows still need fencing
  /// Its fingerprint of every service it places; empty optional: it did not say.
  std::optional<PlacementFingerprints> placement;
  /// The remote nodes it knows of, for members that joined since (Ledger::apply_announcement).
  std::map<NodeId, RemoteHolding> remotes;
  /// Services it asks to start. A member starts a service only once its claim comes back
  /// accepted (Ledger::apply_announcement), so every start is ordered on the bus against
  /// every other decision: a failover or a remote node's grant delivered first wins.
  std::set<std::string> claims;
  bool operator==(const Announcement&) const = default;
};

/// The fingerprint of one service's placement settings (name, preferences, restriction,
/// fencing): equal on two nodes exactly when both place it the same way.
std::uint32_t placement_fingerprint(const ServicePlacement& service);

/// A request for a service to move: to `target`, or (empty) to the best other member.
struct FailoverRequest {
  std::string service;
  std::optional<NodeId> target;
};

/// What one node should do for one service, given the ledger and its local situation.
enum class LocalAction : std::uint8_t {
  kNone,   // nothing to change
  kStart,  // start the service here
  kStop,   // stop the service here
  kFence,  // fence the nodes in Decision::fence first, then start
  kWait,   // this node owns it but another copy still runs or the ledger is syncing
};

struct Decision {
  LocalAction action = LocalAction::kNone;
  std::optional<NodeId> owner;  // the owner the ledger computes (empty: none)
  std::vector<NodeId> fence;    // kFence: the nodes to fence, ascending
};

/// The replicated placement state of one partition, as seen by one node.
class Ledger {
 public:
  explicit Ledger(std::vector<ServicePlacement> services);

  /// Replaces the placement settings (a reload); the membership and what members announced
  /// stay. Pinned failover targets of services that are gone are dropped.
  void set_services(std::vector<ServicePlacement> services);
  /// This node's fingerprints of its services, for its announcements.
  const PlacementFingerprints& fingerprints() const { return fingerprints_; }
  /// Whether every member that announced fingerprints places `service` as this node does.
  bool agreed(const std::string& service) const;
  /// Members whose announced fingerprints differ from this node's, ascending.
  std::vector<NodeId> disagreeing() const;

  /// Applies one CPG configuration change.
  void apply_membership(const MembershipChange& change);
  /// Applies a node's announcement, delivered in agreed order (with the remote nodes it
  /// lists, as the class comment says). Each claim is accepted, and `from` counted as running
  /// the service, if `from` held it already or the ledger as it stood let it start it
  /// (may_start); the others are dropped. The sender starts what `holders` then lists it for.
  void apply_announcement(NodeId from, const Announcement& announcement);
  /// Applies a failover request, delivered in agreed order. Returns false when it cannot be
  /// honoured (unknown service, target not a member, no other candidate).
  bool apply_failover(const FailoverRequest& request);
  /// Applies "node `fenced` was fenced": it no longer blocks any start.
  void apply_fenced(NodeId fenced);
  /// Applies what the member `state.via` published of remote node `id`: the whole entry
  /// replaces the last one unless it is older — an earlier report of the same run, or the
  /// same report from another member (a link that moved on) — or names another node (their
  /// ids collide). A service newly granted is kept only if the ledger, as it stood, let the
  /// node start it (synced, agreed, the node its owner, no other holder): what its member
  /// decided may have been overtaken on the bus, by a failover or another grant. Returns
  /// whether it applied.
  bool apply_remote(NodeId id, const RemoteHolding& state);
  /// Applies "remote node `id` is lost", as it was when the sender started counting (run
  /// `epoch`, served by `via`, report `seq`): it leaves the ledger unless it has reported
  /// since. A holder of a fenced service must be fenced first. Returns whether it applied.
  bool apply_remote_lost(NodeId id, const std::string& epoch, NodeId via, std::uint64_t seq);
  /// The remote nodes known, by id.
  const std::map<NodeId, RemoteHolding>& remotes() const { return remotes_; }
  /// What this member announces of the remote nodes after a membership change: what it
  /// knew before the last join, updated by what it learnt since.
  std::map<NodeId, RemoteHolding> remotes_to_announce() const;
  /// The remote node `id` (nullptr: not known).
  const RemoteHolding* remote(NodeId id) const;

  /// True once every member has announced since the last change that added members.
  bool synced() const;
  /// The owner every synced member computes for `service` (empty: none can run it).
  std::optional<NodeId> owner(const std::string& service) const;
  /// What `self` should do for `service`. `running_here` is whether this node runs or is
  /// starting it; `quorate` whether this node's partition has quorum (and Corosync is up).
  Decision decide(const std::string& service, NodeId self, bool running_here, bool quorate,
                  QuorumLossPolicy policy) const;

  const std::vector<NodeId>& members() const { return members_; }
  /// The members announced (since the last resync) as running `service`, ascending.
  std::vector<NodeId> holders(const std::string& service) const;
  /// Departed holders not yet fenced, ascending.
  const std::set<NodeId>& unfenced() const { return unfenced_; }
  const std::vector<ServicePlacement>& services() const { return services_; }
  const ServicePlacement* find(const std::string& service) const;
  /// The pinned failover target of `service`, if any.
  std::optional<NodeId> target(const std::string& service) const;

 private:
  bool is_member(NodeId n) const;
  /// A remote node a member serves now (not orphaned by its member's departure).
  bool is_served_remote(NodeId n) const;
  bool banned(const std::string& service, NodeId n) const;
  /// Members allowed to run `service`, best first.
  std::vector<NodeId> ranked_candidates(const ServicePlacement& s) const;

  std::vector<ServicePlacement> services_;
  PlacementFingerprints fingerprints_;        // of services_
  std::vector<NodeId> members_;               // ascending, unique
  std::set<NodeId> awaiting_;                 // members not yet announced since resync
  std::map<NodeId, Announcement> announced_;  // latest announcement per member
  std::set<NodeId> unfenced_;                 // departed holders needing a fence
  std::map<std::string, NodeId> targets_;     // pinned failover targets
  std::map<NodeId, RemoteHolding> remotes_;   // the remote nodes known
  /// Of remotes_, those learnt from the member serving them (its remote_state or its own
  /// announcement), which another member's announcement never replaces.
  std::set<NodeId> vouched_;
  /// Remote nodes lost, as they were then: an announcement of that state or an older one
  /// (sent before the loss was delivered) must not bring one back.
  std::map<NodeId, RemoteHolding> lost_remotes_;
  /// Whether the ledger lets node `id` start `service` now (a member's claim, a remote node's
  /// grant).
  bool may_start(const std::string& service, NodeId id) const;
  std::map<NodeId, RemoteHolding> before_join_;  // remotes_ when the last join came
};

/// The text a fence agent reads on stdin (the fence-agents convention: one `key=value` a
/// line): the configured options, then `action=off` and the victim as `nodename=` (or as
/// `port=` when `use_port`), unless the options already set them.
std::string fence_agent_stdin(const std::vector<std::pair<std::string, std::string>>& options,
                              const std::string& victim_name, bool use_port);

}  // namespace amata::cluster
