#include "engine/cluster/corosync_connection.h"

#include <corosync/cmap.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace amata::cluster {
namespace {

std::string cs_error(std::string_view what, cs_error_t rc) {
  return std::string(what) + ": " + cs_strerror(rc) + " (" + std::to_string(int(rc)) + ")";
}

LeaveReason leave_reason(std::uint32_t reason) {
  switch (reason) {
    case CPG_REASON_LEAVE:
      return LeaveReason::kLeave;
    case CPG_REASON_PROCDOWN:
      return LeaveReason::kProcDown;
    default:  // CPG_REASON_NODEDOWN, and anything newer: assume the worst
      return LeaveReason::kNodeDown;
  }
}

std::vector<GroupMember> to_members(const cpg_address* a, std::size_t n) {
  std::vector<GroupMember> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(GroupMember{a[i].nodeid, a[i].pid});
  return out;
}

CorosyncConnection* session_of_cpg(cpg_handle_t handle) {
  void* context = nullptr;
  if (cpg_context_get(handle, &context) != CS_OK) return nullptr;
  return static_cast<CorosyncConnection*>(context);
}

void deliver_trampoline(cpg_handle_t handle, const cpg_name*, std::uint32_t nodeid,
                        std::uint32_t pid, void* msg, std::size_t len) {
  if (auto* s = session_of_cpg(handle)) s->handle_deliver(nodeid, pid, msg, len);
}

void confchg_trampoline(cpg_handle_t handle, const cpg_name*, const cpg_address* members,
                        std::size_t n_members, const cpg_address* left, std::size_t n_left,
                        const cpg_address* joined, std::size_t n_joined) {
  if (auto* s = session_of_cpg(handle))
    s->handle_confchg(members, n_members, left, n_left, joined, n_joined);
}

void totem_trampoline(cpg_handle_t handle, cpg_ring_id ring, std::uint32_t, const std::uint32_t*) {
  if (auto* s = session_of_cpg(handle)) s->handle_totem(ring);
}

void quorum_trampoline(quorum_handle_t handle, std::uint32_t quorate, quorum_ring_id ring,
                       std::uint32_t n, const std::uint32_t* nodes) {
  const void* context = nullptr;
  if (quorum_context_get(handle, &context) != CS_OK || !context) return;
  auto* s = static_cast<CorosyncConnection*>(const_cast<void*>(context));
  s->handle_quorum(quorate != 0, ring, n, nodes);
}

}  // namespace

std::uint32_t view_of(std::vector<GroupMember> members) {
  std::sort(members.begin(), members.end(), [](const GroupMember& a, const GroupMember& b) {
    return a.node != b.node ? a.node < b.node : a.pid < b.pid;
  });
  std::uint32_t hash = kFnv1aBasis;
  for (const auto& m : members) hash = fnv1a(fnv1a(hash, m.node), m.pid);
  return hash;
}

Result<std::map<NodeId, std::string>> read_node_names() {
  cmap_handle_t h = 0;
  cs_error_t rc = cmap_initialize(&h);
  if (rc != CS_OK) return Error{cs_error("cmap_initialize", rc)};
  std::map<NodeId, std::string> names;
  for (int i = 0;; ++i) {
    std::string prefix = "nodelist.node." + std::to_string(i) + ".";
    std::uint32_t id = 0;
    if (cmap_get_uint32(h, (prefix + "nodeid").c_str(), &id) != CS_OK) break;
    for (const char* key : {"name", "ring0_addr"}) {
      char* value = nullptr;
      if (cmap_get_string(h, (prefix + key).c_str(), &value) == CS_OK && value) {
        names[id] = value;
        std::free(value);
        break;
      }
    }
  }
  cmap_finalize(h);
  return names;
}

std::unique_ptr<CorosyncConnection> CorosyncConnection::create(base::EventLoop& loop,
                                                               Options options,
                                                               Callbacks callbacks) {
  std::unique_ptr<CorosyncConnection> s(
      new CorosyncConnection(loop, std::move(options), std::move(callbacks)));
  std::weak_ptr<bool> alive = s->alive_;
  CorosyncConnection* raw = s.get();
  s->retry_timer_ = loop.add_timer_after(std::chrono::milliseconds(0), [alive, raw] {
    if (alive.lock()) raw->connect();
  });
  return s;
}

CorosyncConnection::CorosyncConnection(base::EventLoop& loop, Options options, Callbacks callbacks)
    : loop_(loop),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      backoff_(options_.min_backoff) {}

CorosyncConnection::~CorosyncConnection() {
  loop_.cancel_timer(retry_timer_);
  if (cpg_ && joined_) {
    cpg_name name{};
    name.length = std::min<std::size_t>(options_.group.size(), CPG_MAX_NAME_LENGTH - 1);
    std::memcpy(name.value, options_.group.data(), name.length);
    cpg_leave(cpg_, &name);  // best effort: peers see a clean leave, not a process death
  }
  close_handles();
}

void CorosyncConnection::connect() {
  retry_timer_ = 0;
  Status st = try_connect();
  if (!st.ok()) {
    close_handles();
    report(false, st.error().message);
    schedule_reconnect();
  }
}

Status CorosyncConnection::try_connect() {
  if (options_.group.empty() || options_.group.size() >= CPG_MAX_NAME_LENGTH)
    return Error{"invalid CPG group name '" + options_.group + "'"};
  cpg_model_v1_data_t model{};
  model.model = CPG_MODEL_V1;
  model.cpg_deliver_fn = deliver_trampoline;
  model.cpg_confchg_fn = confchg_trampoline;
  model.cpg_totem_confchg_fn = totem_trampoline;
  model.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF;
  cs_error_t rc =
      cpg_model_initialize(&cpg_, CPG_MODEL_V1, reinterpret_cast<cpg_model_data_t*>(&model), this);
  if (rc != CS_OK) {
    cpg_ = 0;
    return Error{cs_error("cpg_model_initialize (is corosync running?)", rc)};
  }
  unsigned int node = 0;
  if ((rc = cpg_local_get(cpg_, &node)) != CS_OK) return Error{cs_error("cpg_local_get", rc)};
  local_node_ = node;
  local_pid_ = static_cast<std::uint32_t>(getpid());

  quorum_model_v1_data_t qmodel{};
  qmodel.model = QUORUM_MODEL_V1;
  qmodel.quorum_notify_fn = quorum_trampoline;
  std::uint32_t quorum_type = 0;
  rc = quorum_model_initialize(&quorum_handle_, QUORUM_MODEL_V1,
                               reinterpret_cast<quorum_model_data_t*>(&qmodel), &quorum_type, this);
  if (rc != CS_OK) {
    quorum_handle_ = 0;
    return Error{cs_error("quorum_model_initialize", rc)};
  }
  if ((rc = quorum_trackstart(quorum_handle_, CS_TRACK_CURRENT | CS_TRACK_CHANGES)) != CS_OK)
    return Error{cs_error("quorum_trackstart", rc)};

  // Names are a convenience: without cmap the caller's names (or node ids) serve.
  if (auto names = read_node_names(); names.ok()) names_ = std::move(*names);

  if ((rc = cpg_fd_get(cpg_, &cpg_fd_)) != CS_OK) return Error{cs_error("cpg_fd_get", rc)};
  if ((rc = quorum_fd_get(quorum_handle_, &quorum_fd_)) != CS_OK)
    return Error{cs_error("quorum_fd_get", rc)};
  if (Status st = loop_.watch(
          cpg_fd_, EPOLLIN, [this](std::uint32_t ev) { dispatch(cpg_dispatch, cpg_, "cpg", ev); });
      !st.ok()) {
    cpg_fd_ = -1;
    return st;
  }
  if (Status st = loop_.watch(
          quorum_fd_, EPOLLIN,
          [this](std::uint32_t ev) { dispatch(quorum_dispatch, quorum_handle_, "quorum", ev); });
      !st.ok()) {
    quorum_fd_ = -1;
    return st;
  }
  try_join();
  return {};
}

void CorosyncConnection::try_join() {
  retry_timer_ = 0;
  if (!cpg_) return;
  cpg_name name{};
  name.length = options_.group.size();
  std::memcpy(name.value, options_.group.data(), name.length);
  cs_error_t rc = cpg_join(cpg_, &name);
  if (rc == CS_OK) return;  // joined_ is set when our own join is delivered
  if (rc == CS_ERR_TRY_AGAIN) {
    std::weak_ptr<bool> alive = alive_;
    retry_timer_ = loop_.add_timer_after(options_.try_again, [alive, this] {
      if (alive.lock()) try_join();
    });
    return;
  }
  lost(cs_error("cpg_join", rc));
}

Status CorosyncConnection::send(std::string payload) {
  if (payload.empty()) return Error{"empty message"};
  outbox_.push_back(std::move(payload));
  while (outbox_.size() > options_.max_queued) outbox_.pop_front();
  if (joined_) flush();
  return {};
}

void CorosyncConnection::flush() {
  while (joined_ && !outbox_.empty()) {
    iovec iov{outbox_.front().data(), outbox_.front().size()};
    cs_error_t rc = cpg_mcast_joined(cpg_, CPG_TYPE_AGREED, &iov, 1);
    if (rc == CS_OK) {
      outbox_.pop_front();
      ++sent_;
      continue;
    }
    if (rc == CS_ERR_TRY_AGAIN) {
      // Corosync's send queue is full (or a membership change is in progress): retry soon
      // from the loop rather than spin here. At most one retry timer is pending.
      if (retry_timer_ == 0) {
        std::weak_ptr<bool> alive = alive_;
        retry_timer_ = loop_.add_timer_after(options_.try_again, [alive, this] {
          if (!alive.lock()) return;
          retry_timer_ = 0;
          flush();
        });
      }
      return;
    }
    lost(cs_error("cpg_mcast_joined", rc));
    return;
  }
}

void CorosyncConnection::dispatch(DispatchFn dispatch_all, std::uint64_t handle,
                                  std::string_view service, std::uint32_t events) {
  dispatching_ = true;
  cs_error_t rc = dispatch_all(handle, CS_DISPATCH_ALL);
  dispatching_ = false;
  if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN)
    lost(cs_error(std::string(service) + "_dispatch (corosync gone?)", rc));
  else if (events & (EPOLLHUP | EPOLLERR))
    lost(std::string(service) + " connection closed by corosync");
  if (lost_pending_) {
    lost_pending_ = false;
    lost(lost_why_);
  }
}

void CorosyncConnection::handle_deliver(NodeId node, std::uint32_t pid, const void* msg,
                                        std::size_t len) {
  if (!deferred_.empty()) {
    deferred_.emplace_back(
        std::pair{GroupMember{node, pid}, std::string(static_cast<const char*>(msg), len)});
    return;
  }
  ++seq_;
  ++delivered_;
  if (!callbacks_.on_deliver) return;
  Delivery d{GroupMember{node, pid}, ring_, view_, seq_,
             std::string(static_cast<const char*>(msg), len)};
  callbacks_.on_deliver(d);
}

void CorosyncConnection::handle_confchg(const cpg_address* members, std::size_t n_members,
                                        const cpg_address* left, std::size_t n_left,
                                        const cpg_address* joined, std::size_t n_joined) {
  GroupChange change;
  change.members = to_members(members, n_members);
  change.joined = to_members(joined, n_joined);
  for (std::size_t i = 0; i < n_left; ++i)
    change.left.emplace_back(GroupMember{left[i].nodeid, left[i].pid},
                             leave_reason(left[i].reason));
  change.ring = ring_;
  change.view = view_of(change.members);
  if (ring_ == RingId{} || !deferred_.empty()) {
    // Not told the ring yet (a fresh connection): wait for the initial totem configuration,
    // which CPG sends right after our join.
    deferred_.emplace_back(std::move(change));
    return;
  }
  apply_change(std::move(change));
}

void CorosyncConnection::apply_change(GroupChange change) {
  // Every member delivers this change at the same point of the message order: numbering
  // restarts here, so a process that joins mid-ring counts as the others do.
  view_ = change.view;
  seq_ = 0;
  const GroupMember self{local_node_, local_pid_};
  bool in_group =
      std::find(change.members.begin(), change.members.end(), self) != change.members.end();
  bool newly_joined = in_group && !joined_;
  joined_ = in_group;
  if (newly_joined) {
    backoff_ = options_.min_backoff;
    report(true,
           "joined CPG group '" + options_.group + "' as node " + std::to_string(local_node_));
  }
  if (callbacks_.on_group_change) callbacks_.on_group_change(change);
  if (joined_) flush();
}

void CorosyncConnection::handle_totem(cpg_ring_id ring) {
  ring_ = RingId{ring.nodeid, ring.seq};
  seq_ = 0;
  auto deferred = std::exchange(deferred_, {});
  for (auto& item : deferred) {
    if (auto* change = std::get_if<GroupChange>(&item)) {
      change->ring = ring_;
      apply_change(std::move(*change));
    } else {
      auto& [from, payload] = std::get<std::pair<GroupMember, std::string>>(item);
      handle_deliver(from.node, from.pid, payload.data(), payload.size());
    }
  }
}

void CorosyncConnection::handle_quorum(bool quorate, quorum_ring_id ring, std::uint32_t n,
                                       const std::uint32_t* nodes) {
  quorum_.quorate = quorate;
  quorum_.ring = RingId{ring.nodeid, ring.seq};
  quorum_.nodes.assign(nodes, nodes + n);
  std::sort(quorum_.nodes.begin(), quorum_.nodes.end());
  if (callbacks_.on_quorum) callbacks_.on_quorum(quorum_);
}

void CorosyncConnection::lost(std::string why) {
  if (dispatching_) {  // libcpg is inside its dispatch: finalise once it has returned
    if (!lost_pending_) lost_why_ = std::move(why);
    lost_pending_ = true;
    return;
  }
  if (!cpg_ && !quorum_handle_) return;  // already lost
  close_handles();
  std::size_t dropped = outbox_.size();
  outbox_.clear();
  if (dropped) why += "; dropped " + std::to_string(dropped) + " unsent message(s)";
  report(false, why);
  schedule_reconnect();
}

void CorosyncConnection::close_handles() {
  if (retry_timer_) {
    loop_.cancel_timer(retry_timer_);
    retry_timer_ = 0;
  }
  if (cpg_fd_ >= 0) loop_.unwatch(cpg_fd_);
  if (quorum_fd_ >= 0) loop_.unwatch(quorum_fd_);
  cpg_fd_ = quorum_fd_ = -1;
  if (cpg_) cpg_finalize(cpg_);
  if (quorum_handle_) quorum_finalize(quorum_handle_);
  cpg_ = 0;
  quorum_handle_ = 0;
  joined_ = false;
  quorum_ = QuorumView{};
  ring_ = RingId{};
  view_ = 0;
  seq_ = 0;
  deferred_.clear();
}

void CorosyncConnection::schedule_reconnect() {
  std::weak_ptr<bool> alive = alive_;
  retry_timer_ = loop_.add_timer_after(backoff_, [alive, this] {
    if (alive.lock()) connect();
  });
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

void CorosyncConnection::report(bool connected, const std::string& why) {
  if (connected) {
    if (reported_connected_) return;
    reported_connected_ = true;
    reported_failure_ = false;
  } else {
    if (!reported_connected_ && reported_failure_) return;  // still down: say it once
    reported_connected_ = false;
    reported_failure_ = true;
  }
  if (callbacks_.on_connection) callbacks_.on_connection(connected, why);
}

}  // namespace amata::cluster
