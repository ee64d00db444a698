// One connection to the local Corosync on one EventLoop: a CPG group (membership of the amatad
// processes and an ordered message bus), the quorum service (is this partition quorate, which
// nodes are in it) and cmap (node names from corosync.conf's nodelist).
//
// Its calls into Corosync's libraries are IPC that waits for corosync's answer with no
// timeout (cpg_leave, cpg_join, the initialisations; cpg_mcast_joined once corosync's buffer
// is full): a corosync that is stopped (SIGSTOP, a paused VM) holds the calling thread until
// it runs again. So amatad never runs a connection on its own loop: CorosyncSession
// (corosync_session.h) runs it on a thread of its own. The libraries' handles are not safe
// to share between threads; every call on one connection comes from its loop's thread.
//
// The fds are watched on the loop and dispatched with CS_DISPATCH_ALL (never blocks);
// CS_ERR_TRY_AGAIN is retried on a loop timer; when Corosync goes away (dispatch error, HUP on
// an fd) the connection drops its handles, reports it through on_connection, and reconnects
// on a timer with exponential backoff. Nothing here prints, throws into the loop or forks.
//
// Messages are multicast with CPG_TYPE_AGREED: every member delivers the same messages in
// the same order, and a configuration change is delivered at the same point of that order on
// every member that survives it (virtual synchrony).
#pragma once

#include <corosync/cpg.h>
#include <corosync/quorum.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "engine/cluster/placement.h"

namespace amata::cluster {

/// A totem ring: the representative node and the ring's sequence number.
struct RingId {
  NodeId representative = 0;
  std::uint64_t seq = 0;
  bool operator==(const RingId&) const = default;
};

/// One process in the CPG group.
struct GroupMember {
  NodeId node = 0;
  std::uint32_t pid = 0;
  bool operator==(const GroupMember&) const = default;
};

/// Names a CPG view (one membership of the group) the same way on every member: a 32-bit
/// FNV-1a hash of its (node, pid) list in ascending order. CPG numbers neither views nor
/// messages; a process joining mid-ring cannot learn how many views or messages the ring had,
/// but every member knows the member list, so (ring, view, seq) is one position everywhere.
std::uint32_t view_of(std::vector<GroupMember> members);

/// A CPG configuration change of the group, delivered in order with the messages.
struct GroupChange {
  std::vector<GroupMember> members;  // after the change
  std::vector<GroupMember> joined;
  std::vector<std::pair<GroupMember, LeaveReason>> left;
  // The totem ring current when the change was delivered. CPG reports a new totem ring just
  // after the group change it causes, so this is the ring the change ended.
  RingId ring;
  std::uint32_t view = 0;  // view_of(members): the view this change starts
};

/// One message of the bus, as delivered on every member.
struct Delivery {
  GroupMember from;
  RingId ring;             // the totem ring it was delivered in
  std::uint32_t view = 0;  // the CPG view it was delivered in (view_of its members)
  std::uint64_t seq = 0;   // 1, 2, ... since the view or ring began: (ring, view, seq) is
                           // the same on every member that delivered it
  std::string payload;
};

/// The quorum service's view of the local partition.
struct QuorumView {
  bool quorate = false;
  RingId ring;
  std::vector<NodeId> nodes;  // the nodes in the partition (node level, not CPG level)
};

struct CorosyncOptions {
  std::string group = "amata";                 // the CPG group name (at most 127 bytes)
  std::chrono::milliseconds try_again{10};     // retry delay after CS_ERR_TRY_AGAIN
  std::chrono::milliseconds min_backoff{100};  // first reconnect delay
  std::chrono::milliseconds max_backoff{5000};
  std::size_t max_queued = 10000;  // messages kept while not joined; older ones are dropped
};
/// Called on the loop of the connection (CorosyncSession: on its owner's loop).
struct CorosyncCallbacks {
  std::function<void(const GroupChange&)> on_group_change;
  std::function<void(const Delivery&)> on_deliver;
  std::function<void(const QuorumView&)> on_quorum;
  /// Connected and joined (true), or lost / a connection attempt failed (false), with a
  /// human-readable reason the daemon logs. Called on every transition, not on every retry.
  std::function<void(bool connected, std::string_view why)> on_connection;
  /// What else is worth a log line (CorosyncSession: its thread's faults, dropped messages).
  std::function<void(bool warning, std::string_view message)> on_log;
};

class CorosyncConnection {
 public:
  using Options = CorosyncOptions;
  using Callbacks = CorosyncCallbacks;

  /// Starts connecting at once (on the loop); failures are retried, never fatal.
  static std::unique_ptr<CorosyncConnection> create(base::EventLoop& loop, Options options,
                                                    Callbacks callbacks);
  /// Leaves the group cleanly and closes every handle.
  ~CorosyncConnection();
  CorosyncConnection(const CorosyncConnection&) = delete;
  CorosyncConnection& operator=(const CorosyncConnection&) = delete;

  /// Queues `payload` for agreed-order multicast; it is sent as soon as the group is joined.
  /// While disconnected, messages wait (up to Options::max_queued); they are dropped when the
  /// connection is lost, since a new membership starts a new history.
  Status send(std::string payload);

  /// Joined to the group (our own join has been delivered).
  bool joined() const { return joined_; }
  bool connected() const { return cpg_ != 0; }
  /// The local node id (0 until the first connection).
  NodeId local_node() const { return local_node_; }
  /// Node names from corosync.conf's nodelist (read from cmap at each connection).
  const std::map<NodeId, std::string>& node_names() const { return names_; }
  const QuorumView& quorum() const { return quorum_; }
  /// The current totem ring (from CPG's totem configuration callback).
  const RingId& ring() const { return ring_; }
  /// Messages handed to corosync, and messages it delivered (ours included), since start.
  std::uint64_t messages_sent() const { return sent_; }
  std::uint64_t messages_delivered() const { return delivered_; }

  // Trampolines for the C callbacks; not for callers.
  void handle_deliver(NodeId node, std::uint32_t pid, const void* msg, std::size_t len);
  void handle_confchg(const cpg_address* members, std::size_t n_members, const cpg_address* left,
                      std::size_t n_left, const cpg_address* joined, std::size_t n_joined);
  void handle_totem(cpg_ring_id ring);
  void handle_quorum(bool quorate, quorum_ring_id ring, std::uint32_t n,
                     const std::uint32_t* nodes);

 private:
  CorosyncConnection(base::EventLoop& loop, Options options, Callbacks callbacks);
  void connect();
  Status try_connect();
  void try_join();
  void flush();
  /// cpg_dispatch and quorum_dispatch: both take a 64-bit handle.
  using DispatchFn = cs_error_t (*)(std::uint64_t handle, cs_dispatch_flags_t flags);
  /// Runs one library's callbacks for `events` on its fd; a connection lost inside them is
  /// finalised here, once the library has returned. `service` names it in errors ("cpg").
  void dispatch(DispatchFn dispatch_all, std::uint64_t handle, std::string_view service,
                std::uint32_t events);
  /// Drops every handle and schedules a reconnect; safe from inside a dispatch.
  void lost(std::string why);
  void close_handles();
  void schedule_reconnect();
  void report(bool connected, const std::string& why);
  /// Applies a group change and reports it (handle_confchg, or handle_totem for a deferred one).
  void apply_change(GroupChange change);

  base::EventLoop& loop_;
  Options options_;
  Callbacks callbacks_;
  cpg_handle_t cpg_ = 0;
  quorum_handle_t quorum_handle_ = 0;
  int cpg_fd_ = -1;
  int quorum_fd_ = -1;
  bool joined_ = false;
  bool dispatching_ = false;
  bool lost_pending_ = false;
  std::string lost_why_;
  NodeId local_node_ = 0;
  std::uint32_t local_pid_ = 0;
  std::map<NodeId, std::string> names_;
  QuorumView quorum_;
  RingId ring_;
  std::uint32_t view_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t delivered_ = 0;
  // The group change of our own join arrives before the initial totem configuration
  // (CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF), while the ring is still unknown: it waits
  // for that ring, and so do the messages delivered after it, so that the join is recorded
  // in the ring the other members record it in, not "0.0".
  std::vector<std::variant<GroupChange, std::pair<GroupMember, std::string>>> deferred_;
  std::deque<std::string> outbox_;
  std::chrono::milliseconds backoff_;
  base::EventLoop::TimerId retry_timer_ = 0;
  bool reported_connected_ = false;
  bool reported_failure_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards timers after death
};

/// Reads corosync.conf's nodelist (nodelist.node.N.{nodeid,name}) from cmap.
Result<std::map<NodeId, std::string>> read_node_names();

}  // namespace amata::cluster
