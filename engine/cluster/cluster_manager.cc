#include "engine/cluster/cluster_manager.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "engine/cluster/bus_wire.h"

namespace amata::cluster {
namespace {

using nlohmann::json;

// How long to wait for the quorum service's report after CPG saw a node leave. It normally
// comes 1-5 ms later; the timeout only guards against a report that raced ahead of CPG.
constexpr std::chrono::milliseconds kQuorumReportTimeout{2000};

// How soon an announcement that could not be sent (CPG's flow control) is tried again.
constexpr std::chrono::milliseconds kAnnounceRetry{50};

// Indexed by LeaveReason: the words the console and the log use for each.
constexpr std::string_view kReasonTexts[] = {"leave", "amatad died", "node down"};
static_assert(std::size(kReasonTexts) == static_cast<std::size_t>(LeaveReason::kNodeDown) + 1,
              "one text for each LeaveReason");

std::string_view reason_text(LeaveReason reason) {
  auto index = static_cast<std::size_t>(reason);
  return index < std::size(kReasonTexts) ? kReasonTexts[index] : "unknown";
}

std::vector<NodeId> unique_nodes(const std::vector<GroupMember>& members) {
  std::vector<NodeId> out;
  out.reserve(members.size());
  for (const auto& m : members) out.push_back(m.node);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::unique_ptr<ClusterManager> ClusterManager::create(base::EventLoop& loop, ClusterConfig config,
                                                       ClusteredServices& services,
                                                       ClusterCallbacks callbacks) {
  std::unique_ptr<ClusterManager> m(
      new ClusterManager(loop, std::move(config), services, std::move(callbacks)));
  CorosyncSession::Options options = m->config_.session;
  options.group = m->config_.group;
  ClusterManager* raw = m.get();
  CorosyncSession::Callbacks cb;
  cb.on_group_change = [raw](const GroupChange& c) { raw->on_group_change(c); };
  cb.on_deliver = [raw](const Delivery& d) { raw->on_deliver(d); };
  cb.on_quorum = [raw](const QuorumView& q) { raw->on_quorum(q); };
  cb.on_connection = [raw](bool connected, std::string_view why) {
    raw->on_connection(connected, why);
  };
  cb.on_log = [raw](bool warning, std::string_view message) {
    raw->log(warning, std::string(message));
  };
  if (auto session = CorosyncSession::create(loop, std::move(options), std::move(cb)); session.ok())
    m->session_ = std::move(*session);
  else
    m->log(true, session.error().message);  // never joins: no clustered service starts here
  if (m->config_.watchdog_timeout) m->send_alive();
  return m;
}

ClusterManager::ClusterManager(base::EventLoop& loop, ClusterConfig config,
                               ClusteredServices& services, ClusterCallbacks callbacks)
    : loop_(loop),
      config_(std::move(config)),
      services_(services),
      callbacks_(std::move(callbacks)),
      placement_base_(new_placement_base()) {
  // Fencing is only asked for where there is a command to do it, or a watchdog to wait for.
  for (auto& s : config_.services)
    if (config_.fence.argv.empty() && !config_.watchdog_timeout) s.fence = false;
  ledger_ = std::make_unique<Ledger>(config_.services);
  // Adopt copies that already run here (a restarted amatad): they are announced, and the
  // placement rules decide whether they stay.
  for (const auto& s : config_.services)
    phase_[s.name] = services_.is_running(s.name) ? Phase::kRunning : Phase::kStopped;
}

ClusterManager::~ClusterManager() {
  if (settle_timer_ != 0) loop_.cancel_timer(settle_timer_);
  if (announce_retry_timer_ != 0) loop_.cancel_timer(announce_retry_timer_);
  if (alive_timer_ != 0) loop_.cancel_timer(alive_timer_);
  // The session leaves the group cleanly; pending fence callbacks see `alive_` expire and do
  // nothing.
  if (session_ && !session_->close())
    log(true, "cluster: corosync did not answer the leave within " +
                  std::to_string(CorosyncSession::kCloseTimeout.count()) +
                  " ms: its connection is abandoned");
  session_.reset();
}

void ClusterManager::log(bool warning, const std::string& message) {
  if (callbacks_.on_log) callbacks_.on_log(warning, message);
}

std::string ClusterManager::node_name(NodeId id) const {
  if (is_remote_id(id)) {
    // Known by its name even once lost: a fence agent is told whom to fence by it.
    if (const auto it = remote_names_.find(id); it != remote_names_.end()) return it->second;
  }
  if (auto it = config_.node_names.find(id); it != config_.node_names.end()) return it->second;
  if (session_) {
    const auto& names = session_->node_names();
    if (auto it = names.find(id); it != names.end()) return it->second;
  }
  return "node" + std::to_string(id);
}

bool ClusterManager::running_here(const std::string& name) const {
  auto it = phase_.find(name);
  return it != phase_.end() && it->second != Phase::kStopped;
}

void ClusterManager::resolve_preferences() {
  std::map<std::string, NodeId> by_name;
  for (const auto& [id, name] : session_->node_names()) by_name[name] = id;
  for (const auto& [id, name] : config_.node_names) by_name[name] = id;
  for (auto& s : config_.services) {
    auto it = config_.preferred_names.find(s.name);
    if (it == config_.preferred_names.end()) continue;
    s.preferred.clear();
    for (const auto& name : it->second) {
      auto id = by_name.find(name);
      if (id == by_name.end()) {
        // Not a ring node: a remote node of that name (placement.h, remote_node_id).
        log(false, "cluster: service " + s.name + ": preferred node '" + name +
                       "' is not in the nodelist: a remote node");
        s.preferred.push_back(remote_node_id(name));
        continue;
      }
      s.preferred.push_back(id->second);
    }
  }
}

void ClusterManager::on_connection(bool connected, std::string_view why) {
  log(!connected,
      std::string(connected ? "cluster: " : "cluster: corosync unavailable: ") + std::string(why));
  // A new connection starts a new history: the ledger is rebuilt from the next membership.
  if (connected) resolve_preferences();
  ledger_ = std::make_unique<Ledger>(config_.services);
  last_announced_.reset();
  claims_.clear();  // a claim belongs to the history it was sent in
  correct_ledger_ = false;
  remote_published_.clear();
  alive_marks_.clear();
  unplaced_.clear();
  fencing_.clear();
  group_ring_ = RingId{};
  quorum_stale_ = false;
  heard_from_corosync_ = true;
  if (connected) settle_until_ = base::Clock::now() + config_.formation_settle;
  left_since_join_.clear();
  update_peers();
  // Connected: our own join is being delivered and on_group_change follows at once, with the
  // membership to decide on. Lost: no quorum, act on the policy now.
  if (!connected) reconcile();
}

void ClusterManager::on_group_change(const GroupChange& change) {
  MembershipChange m;
  m.members = unique_nodes(change.members);
  m.joined = unique_nodes(change.joined);
  for (const auto& [member, reason] : change.left) {
    if (std::binary_search(m.members.begin(), m.members.end(), member.node)) continue;
    m.left.emplace_back(member.node, reason);
  }
  ledger_->apply_membership(m);
  group_ring_ = change.ring;
  for (const auto& [node, reason] : m.left) left_since_join_.insert(node);
  for (NodeId node : m.joined) left_since_join_.erase(node);
  // CPG delivers a node-level change a few ms before the quorum service reports on the new
  // ring; until then `quorate` describes the old partition, and an isolated node would still
  // believe it is quorate and start a copy. Act only once quorum has been reported again.
  bool node_left = std::any_of(m.left.begin(), m.left.end(),
                               [](const auto& l) { return l.second == LeaveReason::kNodeDown; });
  if (node_left) {
    quorum_stale_ = true;
    loop_.cancel_timer(stale_timer_);
    std::weak_ptr<bool> alive = alive_;
    stale_timer_ = loop_.add_timer_after(kQuorumReportTimeout, [alive, this] {
      if (!alive.lock() || !quorum_stale_) return;
      quorum_stale_ = false;
      log(true, "cluster: no quorum report after a membership change; using the last one");
      reconcile();
    });
  }
  std::string text = "cluster: members";
  for (NodeId n : m.members) text += " " + node_name(n);
  for (NodeId n : m.joined) text += ", joined " + node_name(n);
  for (const auto& [n, reason] : m.left)
    text += ", left " + node_name(n) + " (" + std::string(reason_text(reason)) + ")";
  text += "; ring " + std::to_string(change.ring.representative) + "." +
          std::to_string(change.ring.seq);
  log(false, text);
  record_membership(change, m);
  // Every membership change is followed by an announcement: after a join it is what the
  // ledger waits for; after a departure it refreshes the list of unfenced nodes.
  last_announced_.reset();
  update_peers();
  reconcile();
  announce();
}

void ClusterManager::record_membership(const GroupChange& change, const MembershipChange& m) {
  if (!session_ || !session_->joined()) return;  // we left: the change is not ours to record
  json members = json::array(), joined = json::array(), left = json::array();
  for (NodeId n : m.members) members.push_back(node_name(n));
  for (NodeId n : m.joined) joined.push_back(node_name(n));
  for (const auto& [n, reason] : m.left)
    left.push_back({{"node", node_name(n)}, {"reason", reason_text(reason)}});
  BusMessage entry{BusMessage::Kind::kMembership,
                   0,
                   "",
                   change.ring,
                   change.view,
                   0,
                   ++history_index_,
                   {{"members", members}, {"joined", joined}, {"left", left}}};
  if (callbacks_.on_bus) callbacks_.on_bus(entry);
}

void ClusterManager::on_quorum(const QuorumView& q) {
  quorum_stale_ = false;
  loop_.cancel_timer(stale_timer_);
  log(false, std::string("cluster: partition ") + (q.quorate ? "quorate" : "NOT quorate") +
                 " with " + std::to_string(q.nodes.size()) + " node(s), ring " +
                 std::to_string(q.ring.representative) + "." + std::to_string(q.ring.seq));
  update_peers();
  reconcile();
}

void ClusterManager::on_deliver(const Delivery& d) {
  auto decoded = decode_bus_payload(d.payload);
  if (!decoded) {
    // A malformed message (another version, a bug) must not take the daemon down.
    log(true, "cluster: ignoring malformed bus message: " + decoded.error().message);
    return;
  }
  BusPayload& message = *decoded;
  if (auto* a = std::get_if<Announcement>(&message)) {
    for (const auto& [id, r] : a->remotes) remote_names_[id] = r.name;
    const auto before = ledger_->disagreeing();
    ledger_->apply_announcement(d.from.node, *a);
    if (d.from.node == session_->local_node()) settle_claims(*a);
    if (const auto after = ledger_->disagreeing(); after != before) {
      std::string names;
      for (NodeId n : after) names += (names.empty() ? "" : ", ") + node_name(n);
      log(!after.empty(), after.empty()
                              ? "cluster: every member places the clustered services alike again"
                              : "cluster: " + names +
                                    " place(s) clustered services differently (another policy? "
                                    "reload every node with the same one); those services "
                                    "stay where they are until they agree");
    }
  } else if (auto* r = std::get_if<FailoverRequest>(&message)) {
    if (ledger_->apply_failover(*r)) {
      if (r->target == session_->local_node()) gave_up_.erase(r->service);
      // A remote node this member serves may try again too: what the member publishes of it
      // next must not ban it again (the node clears its own ban when it is placed there).
      if (const auto served = r->target ? served_remotes_.find(*r->target) : served_remotes_.end();
          served != served_remotes_.end()) {
        served->second.report.gave_up.erase(r->service);
      }
      log(false, "cluster: failover of " + r->service + " requested by " + node_name(d.from.node));
    } else {
      log(true, "cluster: failover of " + r->service + " requested by " + node_name(d.from.node) +
                    " cannot be honoured");
    }
  } else if (auto* f = std::get_if<FencedNotice>(&message)) {
    ledger_->apply_fenced(f->node);
    fencing_.erase(f->node);
    log(false, "cluster: " + node_name(f->node) + " fenced by " + node_name(d.from.node));
  } else if (auto* alive = std::get_if<AliveNotice>(&message)) {
    if (d.from.node != session_->local_node()) return;  // liveness only
    own_alive_delivered_ = base::Clock::now();
    place_remotes(alive->n);
    return;
  } else if (auto* rs = std::get_if<RemoteStateNotice>(&message)) {
    on_remote_state(d.from.node, *rs);
  } else if (auto* rl = std::get_if<RemoteLostNotice>(&message)) {
    on_remote_lost(*rl);
  } else if (auto* e = std::get_if<PublishedEvent>(&message)) {
    BusMessage entry{
        BusMessage::Kind::kEvent, d.from.node,       node_name(d.from.node), d.ring, d.view, d.seq,
        ++history_index_,         std::move(e->body)};
    if (callbacks_.on_bus) callbacks_.on_bus(entry);
    return;  // events do not change placement
  } else if (auto* st = std::get_if<PublishedStatus>(&message)) {
    if (callbacks_.on_status) callbacks_.on_status(node_name(d.from.node), st->body);
    return;  // nor does a status
  } else {
    log(true, "cluster: ignoring bus message of unknown kind '" +
                  std::get<UnknownMessage>(message).kind + "'");
  }
  reconcile();
}

void ClusterManager::reconcile() {
  if (in_reconcile_) {  // a ClusteredServices call reported back synchronously
    reconcile_again_ = true;
    return;
  }
  in_reconcile_ = true;
  do {
    reconcile_again_ = false;
    // Until the first connection attempt has succeeded or failed, nothing is known: an
    // adopted copy is neither stopped for lack of quorum nor announced.
    if (!heard_from_corosync_) break;
    bool joined = session_ && session_->joined();
    if (joined && quorum_stale_) break;  // wait for the quorum of the new ring
    if (joined && !std::binary_search(ledger_->members().begin(), ledger_->members().end(),
                                      session_->local_node()))
      break;  // joined, but our own membership change has not been applied yet
    bool quorate = joined && session_->quorum().quorate;
    NodeId self = session_ ? session_->local_node() : 0;
    for (const auto& s : config_.services) {
      Decision d =
          ledger_->decide(s.name, self, running_here(s.name), quorate, config_.on_quorum_loss);
      Phase& phase = phase_[s.name];
      switch (d.action) {
        case LocalAction::kStart:
          // Claimed on the bus (announce, below); started when the claim comes back.
          if (phase != Phase::kStopped || claims_.count(s.name) || settling(s, self)) break;
          claims_[s.name] = start_reason(s.name);
          break;
        case LocalAction::kStop: {
          if (phase != Phase::kStarting && phase != Phase::kRunning) break;
          phase = Phase::kStopping;
          const std::string why = !quorate ? std::string("no quorum")
                                           : "owner is " + (d.owner ? node_name(*d.owner) : "none");
          log(false, "cluster: stopping " + s.name + " here (" + why + ")");
          services_.stop_clustered(s.name, "cluster: " + why);
          break;
        }
        case LocalAction::kFence:
          for (NodeId v : d.fence)
            if (!fencing_.count(v)) fence(v);
          break;
        case LocalAction::kNone:
        case LocalAction::kWait:
          break;
      }
    }
    reconcile_remotes(quorate);
  } while (reconcile_again_);
  in_reconcile_ = false;
  announce();
}

bool ClusterManager::settling(const ServicePlacement& service, NodeId self) {
  const auto now = base::Clock::now();
  if (now >= settle_until_ || !ledger_->holders(service.name).empty()) return false;
  const auto& members = ledger_->members();
  bool better_missing = false;
  for (NodeId p : service.preferred) {
    if (p == self) break;
    if (!std::binary_search(members.begin(), members.end(), p) && !ledger_->remote(p) &&
        !left_since_join_.count(p))
      better_missing = true;
  }
  if (!better_missing) return false;
  if (settle_timer_ == 0) {
    std::weak_ptr<bool> alive = alive_;
    log(false, "cluster: " + service.name + " waits for a node preferred to this one to join");
    settle_timer_ = loop_.add_timer_after(
        std::chrono::duration_cast<std::chrono::milliseconds>(settle_until_ - now) +
            std::chrono::milliseconds(1),
        [alive, this] {
          if (!alive.lock()) return;
          settle_timer_ = 0;
          reconcile();
        });
  }
  return true;
}

void ClusterManager::announce() {
  if (!session_ || !session_->joined()) return;
  Announcement a;
  for (const auto& [name, phase] : phase_)
    if (phase != Phase::kStopped) a.running.insert(name);
  for (const auto& [name, reason] : claims_) a.claims.insert(name);
  a.gave_up = gave_up_;
  a.unfenced = ledger_->unfenced();
  a.placement = ledger_->fingerprints();
  if (!correct_ledger_ && last_announced_ && *last_announced_ == a) return;
  // The first announcement after a membership change also lists the remote nodes, for the
  // members that joined (placement.h); later ones need not repeat them.
  Announcement sent = a;
  if (!last_announced_) {
    sent.remotes = ledger_->remotes_to_announce();
    // What this member says of a node it serves is the truth the others take over hearsay:
    // it says nothing of one it no longer serves (the others count it lost in time).
    const NodeId self = session_->local_node();
    std::erase_if(sent.remotes, [this, self](const auto& entry) {
      const auto served = served_remotes_.find(entry.first);
      return entry.second.via == self &&
             (served == served_remotes_.end() || served->second.epoch != entry.second.epoch);
    });
  }
  if (Status st = session_->send(encode_announcement(sent)); !st.ok()) {
    log(true, "cluster: cannot announce: " + st.error().message);
    // Tried again soon: a claim waits for it, and nothing else may come to announce again.
    if (announce_retry_timer_ == 0) {
      std::weak_ptr<bool> alive = alive_;
      announce_retry_timer_ = loop_.add_timer_after(kAnnounceRetry, [alive, this] {
        if (!alive.lock()) return;
        announce_retry_timer_ = 0;
        announce();
      });
    }
    return;
  }
  last_announced_ = a;
  correct_ledger_ = false;
}

void ClusterManager::settle_claims(const Announcement& sent) {
  const NodeId self = session_->local_node();
  // A claim accepted while the quorum of a new ring is not known yet starts nothing.
  const bool quorate = !quorum_stale_ && session_->quorum().quorate;
  for (const auto& name : sent.claims) {
    // Settled: a new claim of it must go out again even if the announcement is otherwise
    // the same as the last one sent.
    if (last_announced_) last_announced_->claims.erase(name);
    const std::vector<NodeId> held = ledger_->holders(name);
    const bool accepted = std::binary_search(held.begin(), held.end(), self);
    const auto phase = phase_.find(name);
    const bool stopped = phase != phase_.end() && phase->second == Phase::kStopped;
    const auto claim = claims_.find(name);
    if (claim != claims_.end()) {
      const std::string reason = std::move(claim->second);
      claims_.erase(claim);
      if (stopped && accepted && quorate) {
        phase->second = Phase::kStarting;
        log(false, "cluster: starting " + name + " here");
        services_.start_clustered(name, reason);
        continue;
      }
      if (stopped) {
        log(false, "cluster: not starting " + name +
                       " here: " + (accepted ? "no quorum" : "the ring placed it otherwise first"));
      }
    }
    // The ledger counts a copy here that does not exist (a claim accepted without quorum,
    // or an older copy of one already refused): say so, or the owner would wait for it.
    if (stopped && accepted) correct_ledger_ = true;
  }
}

void ClusterManager::send_alive() {
  if (session_ && session_->joined()) {
    // A failed send is what the feeding notices (no delivery); nothing to do here. Noted
    // before sending: each remote node's last heartbeat, from which the leases renewed when
    // this comes back run (cluster_manager_remotes.cc).
    HeartbeatMarks marks = heartbeat_marks();
    if (Status sent = session_->send(encode_alive(++alives_sent_)); sent.ok() && !marks.empty())
      alive_marks_[alives_sent_] = std::move(marks);
  }
  std::weak_ptr<bool> alive = alive_;
  // In milliseconds: seconds(3) / 4 is zero seconds, a timer that would flood the bus. A
  // quarter of the watchdog's timeout; an eighth of the remote timeout, so that a lease
  // (three quarters of it) renewed at most that long ago outlasts the ring's re-forming
  // after a member's death (docs/operations.md, "Remote nodes holding clustered services").
  std::optional<std::chrono::milliseconds> period;
  if (config_.watchdog_timeout) period = std::chrono::milliseconds(*config_.watchdog_timeout) / 4;
  if (!served_remotes_.empty())
    period = std::min(period.value_or(config_.remote_timeout), config_.remote_timeout / 8);
  alive_timer_ = 0;
  if (!period) return;  // nothing waits for them
  alive_timer_ = loop_.add_timer_after(*period, [alive, this] {
    if (alive.lock()) send_alive();
  });
}

std::optional<std::string> ClusterManager::watchdog_hold_reason() const {
  // Starting, running or stopping (its process not gone yet): a copy a reset would end.
  bool holds = false;
  for (const auto& s : config_.services) {
    holds = holds || running_here(s.name) || services_.is_running(s.name);
  }
  if (!holds) return std::nullopt;  // nothing here a reset would protect
  if (!session_ || !session_->joined()) return "it runs clustered services and is not joined";
  if (quorum_stale_ || !session_->quorum().quorate) {
    return "it runs clustered services without quorum";
  }
  const std::chrono::milliseconds timeout =
      config_.watchdog_timeout.value_or(std::chrono::seconds(10));
  if (!own_alive_delivered_ || base::Clock::now() - *own_alive_delivered_ > timeout / 2) {
    return "corosync has not delivered its own liveness message for half the watchdog timeout";
  }
  return std::nullopt;
}

void ClusterManager::fence(NodeId victim) {
  fencing_.insert(victim);
  std::string name = node_name(victim);
  if (config_.fence.argv.empty() && config_.watchdog_timeout) {
    // No agent: the lost node fences itself. Its watchdog resets it within the timeout of its
    // last feed unless it stopped its copies first, and it fed at most a quarter timeout
    // after losing us (its corosync may see the change a little later): twice the timeout
    // covers both. Then, as after an agent's success, every member learns it in order.
    const auto wait = *config_.watchdog_timeout * 2;
    log(true, "cluster: waiting " + std::to_string(wait.count()) + " s for " + name +
                  "'s watchdog before taking over its services");
    std::weak_ptr<bool> alive = alive_;
    loop_.add_timer_after(wait, [alive, this, victim, name] {
      if (!alive.lock()) return;
      log(false, "cluster: " + name + "'s watchdog has had its time");
      if (Status st = session_->send(encode_fenced(victim)); !st.ok()) fencing_.erase(victim);
    });
    return;
  }
  log(true, "cluster: fencing " + name + " before taking over its services");
  std::weak_ptr<bool> alive = alive_;
  services_.run_fence(name, config_.fence.argv,
                      fence_agent_stdin(config_.fence.options, name, config_.fence.use_port),
                      [alive, this, victim, name](bool ok, const std::string& detail) {
                        if (!alive.lock()) return;
                        if (ok) {
                          // Stays in fencing_ until the "fenced" message comes back in order.
                          log(false,
                              "cluster: fenced " + name + (detail.empty() ? "" : ": " + detail));
                          if (Status st = session_->send(encode_fenced(victim)); !st.ok())
                            fencing_.erase(victim);
                          return;
                        }
                        log(true, "cluster: fencing " + name + " failed: " + detail + "; retrying");
                        fencing_.erase(victim);
                        loop_.add_timer_after(config_.fence.retry, [alive, this] {
                          if (alive.lock()) reconcile();
                        });
                      });
}

void ClusterManager::update_peers() {
  bool joined = session_ && session_->joined();
  const QuorumView& q = session_ ? session_->quorum() : QuorumView{};
  std::set<NodeId> ids;
  if (session_)
    for (const auto& [id, name] : session_->node_names()) ids.insert(id);
  for (const auto& [id, name] : config_.node_names) ids.insert(id);
  ids.insert(q.nodes.begin(), q.nodes.end());
  for (const auto& [id, peer] : peers_) ids.insert(id);
  auto now = base::Clock::now();
  NodeId self = session_ ? session_->local_node() : 0;
  for (NodeId id : ids) {
    bool member = joined && std::binary_search(q.nodes.begin(), q.nodes.end(), id);
    auto [it, inserted] = peers_.try_emplace(id);
    PeerView& p = it->second;
    if (inserted || p.member != member) p.since = now;
    p.node_id = id;
    p.name = node_name(id);
    p.member = member;
    p.quorate = joined && q.quorate;
    p.local = id == self;
  }
  if (callbacks_.on_peers) callbacks_.on_peers(peers());
}

std::vector<PeerView> ClusterManager::peers() const {
  std::vector<PeerView> out;
  for (const auto& [id, p] : peers_) out.push_back(p);
  return out;
}

Status ClusterManager::publish(json body) {
  if (!session_) return Error{"no corosync session"};
  return session_->send(encode_event(std::move(body)));
}

Status ClusterManager::publish_status(json body) {
  if (!session_) return Error{"no corosync session"};
  return session_->send(encode_status(std::move(body)));
}

Status ClusterManager::reconfigure(ClusterConfig config) {
  if (config.group != config_.group)
    return Error{"the CPG group changed (" + config_.group + " -> " + config.group + ")"};
  config.session = config_.session;
  config_ = std::move(config);
  for (auto& s : config_.services)
    if (config_.fence.argv.empty() && !config_.watchdog_timeout) s.fence = false;
  if (session_ && session_->connected()) resolve_preferences();
  ledger_->set_services(config_.services);
  // Services the cluster no longer places are the daemon's again, as they are; new ones
  // start as the supervisor has them (an adopted or previously local copy stays, announced).
  std::map<std::string, Phase> phases;
  for (const auto& s : config_.services) {
    auto it = phase_.find(s.name);
    phases[s.name] = it != phase_.end()             ? it->second
                     : services_.is_running(s.name) ? Phase::kRunning
                                                    : Phase::kStopped;
  }
  phase_ = std::move(phases);
  std::erase_if(gave_up_, [this](const std::string& name) { return !ledger_->find(name); });
  std::erase_if(claims_, [this](const auto& claim) { return !ledger_->find(claim.first); });
  log(false, "cluster: placement settings reloaded (" + std::to_string(config_.services.size()) +
                 " clustered service(s))");
  reconcile();  // announces the new fingerprints as well
  return {};
}

std::string ClusterManager::start_reason(const std::string& service) const {
  if (auto t = ledger_->target(service); t && session_ && *t == session_->local_node())
    return "cluster: failover to this node";
  return "cluster: placed on this node";
}

Status ClusterManager::request_failover(const std::string& service,
                                        std::optional<std::string> target) {
  if (!ledger_->find(service)) return Error{"'" + service + "' is not a clustered service"};
  if (!session_ || !session_->joined()) return Error{"not joined to the cluster"};
  FailoverRequest request{service, std::nullopt};
  if (target) {
    for (const auto& [n, p] : peers_)
      if (p.name == *target) request.target = n;
    for (const auto& [n, r] : ledger_->remotes())
      if (r.name == *target) request.target = n;
    if (!request.target) return Error{"unknown peer '" + *target + "'"};
  }
  return session_->send(encode_failover(request));
}

void ClusterManager::service_started(const std::string& name) {
  auto it = phase_.find(name);
  if (it == phase_.end() || it->second == Phase::kStopping) return;
  it->second = Phase::kRunning;
  reconcile();
}

void ClusterManager::service_stopped(const std::string& name) {
  auto it = phase_.find(name);
  if (it == phase_.end()) return;
  it->second = Phase::kStopped;
  reconcile();
}

void ClusterManager::service_gave_up(const std::string& name) {
  auto it = phase_.find(name);
  if (it == phase_.end()) return;
  it->second = Phase::kStopped;
  gave_up_.insert(name);
  log(true, "cluster: gave up on " + name + " here; another node takes it over");
  reconcile();
}

ClusterStatus ClusterManager::status() const {
  ClusterStatus s;
  s.connected = session_ && session_->joined();
  s.quorate = s.connected && session_->quorum().quorate;
  s.synced = ledger_->synced();
  s.local_node = session_ ? session_->local_node() : 0;
  s.members = ledger_->members();
  for (const auto& sp : config_.services) {
    s.owners[sp.name] = ledger_->owner(sp.name);
    s.holders[sp.name] = ledger_->holders(sp.name);
  }
  for (const auto& [name, phase] : phase_) {
    if (phase != Phase::kStopped) s.running_here.insert(name);
    s.here[name] = phase == Phase::kRunning                           ? "running"
                   : phase == Phase::kStarting || claims_.count(name) ? "starting"
                   : phase == Phase::kStopping                        ? "stopping"
                                                                      : "stopped";
  }
  s.disagreeing = ledger_->disagreeing();
  if (session_) {
    s.messages_sent = session_->messages_sent();
    s.messages_delivered = session_->messages_delivered();
  }
  // The preference lists are resolved to node ids when the session connects; before that
  // this node's id (and so whether a list names it) is not known.
  if (s.local_node != 0) {
    for (const auto& sp : config_.services) {
      if (sp.only_preferred &&
          std::find(sp.preferred.begin(), sp.preferred.end(), s.local_node) == sp.preferred.end())
        s.excluded_here.insert(sp.name);
    }
  }
  return s;
}

}  // namespace amata::cluster
