#include "engine/cluster/placement.h"

#include <algorithm>
#include <limits>
#include <tuple>

namespace amata::cluster {

std::uint32_t fnv1a(std::uint32_t hash, std::string_view bytes) {
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 16777619U;
  }
  return hash;
}

std::uint32_t fnv1a(std::uint32_t hash, std::uint32_t word) {
  const char bytes[] = {static_cast<char>(word & 0xffU), static_cast<char>((word >> 8) & 0xffU),
                        static_cast<char>((word >> 16) & 0xffU),
                        static_cast<char>((word >> 24) & 0xffU)};
  return fnv1a(hash, std::string_view(bytes, sizeof bytes));
}

std::uint32_t placement_fingerprint(const ServicePlacement& service) {
  // The name with its NUL, so that ("ab", …) and ("a", "b"…) differ.
  std::uint32_t hash =
      fnv1a(kFnv1aBasis, std::string_view(service.name.c_str(), service.name.size() + 1));
  hash = fnv1a(hash, (service.only_preferred ? 1U : 0U) | (service.fence ? 2U : 0U) |
                         (service.failback ? 4U : 0U));
  for (NodeId n : service.preferred) hash = fnv1a(hash, n);
  return hash;
}

NodeId remote_node_id(std::string_view name) {
  return fnv1a(kFnv1aBasis, name) | kRemoteIdBit;
}

Ledger::Ledger(std::vector<ServicePlacement> services) {
  set_services(std::move(services));
}

void Ledger::set_services(std::vector<ServicePlacement> services) {
  services_ = std::move(services);
  fingerprints_.clear();
  for (const auto& s : services_) fingerprints_[s.name] = placement_fingerprint(s);
  for (auto it = targets_.begin(); it != targets_.end();)
    it = find(it->first) ? std::next(it) : targets_.erase(it);
}

bool Ledger::agreed(const std::string& service) const {
  auto mine = fingerprints_.find(service);
  for (const auto& [node, a] : announced_) {
    if (!a.placement) continue;  // it did not say (an amatad without fingerprints)
    auto theirs = a.placement->find(service);
    if (mine == fingerprints_.end() || theirs == a.placement->end() ||
        theirs->second != mine->second)
      return false;
  }
  return true;
}

std::vector<NodeId> Ledger::disagreeing() const {
  std::vector<NodeId> out;
  for (const auto& [node, a] : announced_)
    if (a.placement && *a.placement != fingerprints_) out.push_back(node);
  return out;
}

bool Ledger::is_member(NodeId n) const {
  return std::binary_search(members_.begin(), members_.end(), n);
}

bool Ledger::is_served_remote(NodeId n) const {
  const auto it = remotes_.find(n);
  return it != remotes_.end() && is_member(it->second.via);
}

std::map<NodeId, RemoteHolding> Ledger::remotes_to_announce() const {
  std::map<NodeId, RemoteHolding> out = before_join_;
  for (const auto& [id, lost] : lost_remotes_) out.erase(id);
  for (const auto& [id, r] : remotes_) out[id] = r;
  return out;
}

const RemoteHolding* Ledger::remote(NodeId id) const {
  const auto it = remotes_.find(id);
  return it == remotes_.end() ? nullptr : &it->second;
}

const ServicePlacement* Ledger::find(const std::string& service) const {
  for (const auto& s : services_)
    if (s.name == service) return &s;
  return nullptr;
}

std::vector<NodeId> Ledger::holders(const std::string& service) const {
  std::vector<NodeId> out;
  for (const auto& [node, a] : announced_)
    if (a.running.count(service)) out.push_back(node);
  // Orphans too: a remote node whose member left may still run its copy until it is lost.
  for (const auto& [node, r] : remotes_)
    if (r.running.count(service) || r.granted.count(service)) out.push_back(node);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<NodeId> Ledger::target(const std::string& service) const {
  auto it = targets_.find(service);
  if (it == targets_.end()) return std::nullopt;
  return it->second;
}

bool Ledger::banned(const std::string& service, NodeId n) const {
  if (const auto r = remotes_.find(n); r != remotes_.end())
    return r->second.gave_up.count(service) != 0;
  auto it = announced_.find(n);
  return it != announced_.end() && it->second.gave_up.count(service) != 0;
}

std::vector<NodeId> Ledger::ranked_candidates(const ServicePlacement& s) const {
  constexpr std::size_t kUnlisted = std::numeric_limits<std::size_t>::max();
  std::vector<std::pair<std::size_t, NodeId>> ranked;
  const auto consider = [&](NodeId n) {
    if (banned(s.name, n)) return;
    auto pos = std::find(s.preferred.begin(), s.preferred.end(), n);
    std::size_t rank = pos == s.preferred.end() ? kUnlisted : pos - s.preferred.begin();
    if (rank == kUnlisted && s.only_preferred) return;
    ranked.emplace_back(rank, n);
  };
  for (NodeId m : members_) consider(m);
  // A remote node runs only what it declares, and only while a member can tell it to.
  for (const auto& [id, r] : remotes_)
    if (r.eligible.count(s.name) && is_served_remote(id)) consider(id);
  std::sort(ranked.begin(), ranked.end());
  std::vector<NodeId> out;
  out.reserve(ranked.size());
  for (const auto& r : ranked) out.push_back(r.second);
  return out;
}

void Ledger::apply_membership(const MembershipChange& change) {
  // A holder of a fenced service that vanished without leaving cleanly may still run it
  // (a cut link, a hung node): it must be fenced before anyone starts another copy. This is
  // judged on the history before the change, which every survivor shares.
  for (const auto& [node, reason] : change.left) {
    if (reason == LeaveReason::kLeave) continue;
    if (std::find(change.members.begin(), change.members.end(), node) != change.members.end())
      continue;
    auto it = announced_.find(node);
    if (it == announced_.end()) continue;
    for (const auto& s : services_)
      if (s.fence && it->second.running.count(s.name)) unfenced_.insert(node);
  }

  members_ = change.members;
  std::sort(members_.begin(), members_.end());
  members_.erase(std::unique(members_.begin(), members_.end()), members_.end());

  for (auto it = announced_.begin(); it != announced_.end();)
    it = is_member(it->first) ? std::next(it) : announced_.erase(it);
  for (auto it = awaiting_.begin(); it != awaiting_.end();)
    it = is_member(*it) ? std::next(it) : awaiting_.erase(it);
  for (auto it = targets_.begin(); it != targets_.end();)
    it = is_member(it->second) || remotes_.count(it->second) ? std::next(it) : targets_.erase(it);
  // A member is alive, so it needs no fencing (it will announce what it runs instead).
  for (NodeId m : members_) unfenced_.erase(m);

  if (!change.joined.empty()) {
    // Newcomers bring histories of their own: forget everything learnt from announcements
    // and rebuild it from a fresh round, identical on every member.
    announced_.clear();
    targets_.clear();
    // Remote nodes too: two partitions that merge each bring their own view of them.
    before_join_ = std::move(remotes_);
    remotes_.clear();
    vouched_.clear();
    lost_remotes_.clear();
    awaiting_.clear();
    awaiting_.insert(members_.begin(), members_.end());
    // Failback: the best-ranked node joining takes the service back, as an operator's
    // failover to it would (the pin is dropped once it runs there; stickiness again).
    for (const auto& s : services_) {
      if (!s.failback) continue;
      const std::vector<NodeId> ranked = ranked_candidates(s);
      if (ranked.empty()) continue;
      // Remote nodes are not known again yet: a service preferring one above the node that
      // joined is not pulled to it (every member judges by the same `prefer` list).
      const auto listed = std::find(s.preferred.begin(), s.preferred.end(), ranked.front());
      if (std::any_of(s.preferred.begin(), listed, is_remote_id)) continue;
      if (std::find(change.joined.begin(), change.joined.end(), ranked.front()) !=
          change.joined.end()) {
        targets_[s.name] = ranked.front();
      }
    }
  }
}

void Ledger::apply_announcement(NodeId from, const Announcement& announcement) {
  if (!is_member(from)) return;
  // Claims are judged before the announcement replaces the last one, and before it counts
  // towards the resync: a claim sent before a join is refused.
  Announcement applied = announcement;
  applied.claims.clear();
  const auto before = announced_.find(from);
  for (const auto& service : announcement.claims) {
    const bool held = before != announced_.end() && before->second.running.count(service);
    if (held || may_start(service, from)) applied.running.insert(service);
  }
  announced_[from] = std::move(applied);
  awaiting_.erase(from);
  // A remote node the ledger knows speaks for itself (apply_remote): another member's word
  // that it needs fencing is older than that.
  for (NodeId u : announcement.unfenced)
    if (!is_member(u) && !remotes_.count(u)) unfenced_.insert(u);
  // After a join every member relearns the remote nodes in the same order, so all end alike.
  // An announcement tells what its sender knew at the join; what came on the bus since is
  // newer and stays. The member serving a node knows best: its word replaces hearsay.
  for (const auto& [id, r] : announcement.remotes) {
    if (!is_remote_id(id) || is_member(id) || vouched_.count(id)) continue;
    if (const auto lost = lost_remotes_.find(id);
        lost != lost_remotes_.end() && lost->second.epoch == r.epoch && lost->second.via == r.via &&
        r.seq <= lost->second.seq)
      continue;  // what was lost since
    if (const auto known = remotes_.find(id);
        known != remotes_.end() && known->second.name != r.name)
      continue;
    const bool own = r.via == from;
    if (remotes_.count(id) && !own) continue;
    remotes_[id] = r;
    if (own) {
      vouched_.insert(id);
      unfenced_.erase(id);
    }
  }
  const Announcement& recorded = announced_[from];
  for (auto it = targets_.begin(); it != targets_.end();) {
    bool reached = it->second == from &&
                   (recorded.running.count(it->first) || recorded.gave_up.count(it->first));
    it = reached ? targets_.erase(it) : std::next(it);
  }
}

bool Ledger::apply_failover(const FailoverRequest& request) {
  const ServicePlacement* s = find(request.service);
  if (!s) return false;
  if (request.target) {
    NodeId t = *request.target;
    const auto remote = remotes_.find(t);
    if (remote != remotes_.end() &&
        (!is_served_remote(t) || !remote->second.eligible.count(s->name)))
      return false;
    if (!is_member(t) && remote == remotes_.end()) return false;
    if (s->only_preferred &&
        std::find(s->preferred.begin(), s->preferred.end(), t) == s->preferred.end())
      return false;
    // An explicit request is the operator's "clean up": the target may try again.
    auto a = announced_.find(t);
    if (a != announced_.end()) a->second.gave_up.erase(s->name);
    if (remote != remotes_.end()) remote->second.gave_up.erase(s->name);
    targets_[s->name] = t;
    return true;
  }
  std::optional<NodeId> current = owner(s->name);
  for (NodeId c : ranked_candidates(*s)) {
    if (current && c == *current) continue;
    targets_[s->name] = c;
    return true;
  }
  return false;
}

void Ledger::apply_fenced(NodeId fenced) {
  unfenced_.erase(fenced);
}

bool Ledger::may_start(const std::string& service, NodeId id) const {
  if (!synced() || !agreed(service) || owner(service) != id) return false;
  // What decide() asks before kStart: a departed holder is fenced first.
  if (find(service)->fence && !unfenced_.empty()) return false;
  const std::vector<NodeId> held = holders(service);
  return std::all_of(held.begin(), held.end(), [id](NodeId h) { return h == id; });
}

bool Ledger::apply_remote(NodeId id, const RemoteHolding& state) {
  if (!is_remote_id(id) || is_member(id)) return false;
  const auto it = remotes_.find(id);
  if (it != remotes_.end() && it->second.name != state.name) return false;
  const bool same_run = it != remotes_.end() && it->second.epoch == state.epoch;
  if (same_run) {
    const RemoteHolding& known = it->second;
    // The node numbers its reports over its run and sends a new one after every move, so a
    // report from the member it left, delivered late, is never newer than the next one's.
    if (state.seq < known.seq || (state.seq == known.seq && state.via != known.via)) return false;
  }
  RemoteHolding applied = state;
  for (const auto& service : state.granted) {
    const bool granted_before = same_run && it->second.granted.count(service);
    if (!granted_before && !may_start(service, id)) applied.granted.erase(service);
  }
  lost_remotes_.erase(id);
  // It speaks for itself again: what it runs is known, so a fence for its last run is moot.
  unfenced_.erase(id);
  remotes_[id] = std::move(applied);
  vouched_.insert(id);
  // A pinned target reached (or given up), as for a member's announcement.
  for (auto t = targets_.begin(); t != targets_.end();) {
    bool reached =
        t->second == id && (state.running.count(t->first) || state.gave_up.count(t->first));
    t = reached ? targets_.erase(t) : std::next(t);
  }
  return true;
}

bool Ledger::apply_remote_lost(NodeId id, const std::string& epoch, NodeId via, std::uint64_t seq) {
  const auto it = remotes_.find(id);
  if (it == remotes_.end()) {
    // A member that joined after the node was known learns of it from an announcement that
    // may come after this: remember the loss, so that stays undone.
    if (is_remote_id(id)) {
      RemoteHolding gone;
      gone.epoch = epoch;
      gone.via = via;
      gone.seq = seq;
      lost_remotes_[id] = std::move(gone);
    }
    return false;
  }
  if (it->second.epoch != epoch || it->second.via != via || it->second.seq != seq) return false;
  for (const auto& s : services_) {
    const bool held = it->second.running.count(s.name) || it->second.granted.count(s.name);
    if (s.fence && held) unfenced_.insert(id);
  }
  lost_remotes_[id] = std::move(it->second);
  remotes_.erase(it);
  vouched_.erase(id);
  for (auto t = targets_.begin(); t != targets_.end();)
    t = t->second == id ? targets_.erase(t) : std::next(t);
  return true;
}

bool Ledger::synced() const {
  return awaiting_.empty();
}

std::optional<NodeId> Ledger::owner(const std::string& service) const {
  const ServicePlacement* s = find(service);
  if (!s) return std::nullopt;
  std::vector<NodeId> candidates = ranked_candidates(*s);
  if (candidates.empty()) return std::nullopt;
  if (auto t = target(service);
      t && std::find(candidates.begin(), candidates.end(), *t) != candidates.end())
    return *t;
  std::vector<NodeId> running = holders(service);
  for (NodeId c : candidates)
    if (std::binary_search(running.begin(), running.end(), c)) return c;
  return candidates.front();
}

Decision Ledger::decide(const std::string& service, NodeId self, bool running_here, bool quorate,
                        QuorumLossPolicy policy) const {
  Decision d;
  d.owner = owner(service);
  if (!find(service)) return d;
  if (!quorate) {
    if (running_here && policy == QuorumLossPolicy::kStop) d.action = LocalAction::kStop;
    return d;
  }
  if (!synced() || !agreed(service)) {
    d.action = d.owner == self && !running_here ? LocalAction::kWait : LocalAction::kNone;
    return d;
  }
  if (d.owner != self) {
    if (running_here) d.action = LocalAction::kStop;
    return d;
  }
  if (running_here) return d;
  for (NodeId h : holders(service)) {
    if (h != self) {
      d.action = LocalAction::kWait;  // the other holder stops first: never two copies
      return d;
    }
  }
  if (find(service)->fence && !unfenced_.empty()) {
    d.action = LocalAction::kFence;
    d.fence.assign(unfenced_.begin(), unfenced_.end());
    return d;
  }
  d.action = LocalAction::kStart;
  return d;
}

std::string fence_agent_stdin(const std::vector<std::pair<std::string, std::string>>& options,
                              const std::string& victim_name, bool use_port) {
  std::string out;
  bool has_action = false, has_victim = false;
  const char* victim_key = use_port ? "port" : "nodename";
  for (const auto& [key, value] : options) {
    out += key + "=" + value + "\n";
    if (key == "action") has_action = true;
    if (key == victim_key) has_victim = true;
  }
  if (!has_action) out += "action=off\n";
  if (!has_victim) out += std::string(victim_key) + "=" + victim_name + "\n";
  return out;
}

}  // namespace amata::cluster
