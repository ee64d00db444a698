// ClusterManager's side of the remote nodes that hold clustered services (docs/operations.md,
// "Remote nodes holding clustered services"): a member decides for the remote nodes it
// serves as it decides for itself, publishes what it decided before telling the node, renews
// their leases while its own messages come back, and counts a node lost once its lease has
// surely run out.
//
// Safety rests on three orders of events:
// - a grant is in every member's ledger (remote_state delivered, and re-checked there) before
//   the node is told (place);
// - a lease runs from a heartbeat the node sent before this member sent the message whose
//   return renews it, so it ends no later than the member's own membership allows;
// - a node is counted lost a whole remote_timeout after the ledger's entry for it stopped
//   being renewed (its member's link gone, or its member gone), and only if that entry is
//   unchanged since.
#include <sys/random.h>

#include <algorithm>
#include <utility>

#include "engine/cluster/cluster_manager.h"

namespace amata::cluster {

std::uint64_t ClusterManager::new_placement_base() {
  std::uint32_t random = 0;
  if (::getrandom(&random, sizeof random, 0) != sizeof random)
    random = static_cast<std::uint32_t>(base::Clock::now().time_since_epoch().count());
  return (std::uint64_t{random} | 1U) << 32;  // never 0: 0 is "no placement"
}

std::set<std::string> ClusterManager::maybe_running(const ServedRemote& link) {
  std::set<std::string> running = link.report.running;
  for (const auto& [n, run] : link.unacked) running.insert(run.begin(), run.end());
  return running;
}

void ClusterManager::place_remote(NodeId id, ServedRemote& link, const std::set<std::string>& run,
                                  std::optional<std::uint64_t> at) {
  const std::uint64_t n = placement_base_ + ++placements_sent_[id];
  if (!link.unacked.empty() && link.unacked.back().second == run)
    link.unacked.back().first = n;
  else
    link.unacked.emplace_back(n, run);
  callbacks_.on_place(link.name, run, lease(), at, n);
}

bool ClusterManager::may_place() const {
  return session_ && session_->joined() && !quorum_stale_ && session_->quorum().quorate &&
         ledger_->synced();
}

ClusterManager::HeartbeatMarks ClusterManager::heartbeat_marks() const {
  HeartbeatMarks marks;
  if (!callbacks_.heartbeat_at) return marks;
  for (const auto& [id, link] : served_remotes_) {
    if (const auto at = callbacks_.heartbeat_at(link.name)) marks[id] = *at;
  }
  return marks;
}

void ClusterManager::reconcile_remotes(bool quorate) {
  if (!session_ || !session_->joined()) return;
  const NodeId self = session_->local_node();
  // A remote node no member serves — its member left, or it is this one's and its link is
  // gone — is counted lost once its lease has surely run out, unless it attaches again.
  const auto& members = ledger_->members();
  const auto now = base::Clock::now();
  for (const auto& [id, r] : ledger_->remotes()) {
    const auto served = served_remotes_.find(id);
    const bool orphan = !std::binary_search(members.begin(), members.end(), r.via);
    const bool dropped =
        r.via == self && (served == served_remotes_.end() || served->second.epoch != r.epoch);
    if (orphan || dropped) lose_remote_at(id, now + config_.remote_timeout);
  }
  // After a join, what a node may run waits for the ledger to know every holder again.
  if (!ledger_->synced()) return;
  if (may_place() && callbacks_.on_place) {
    for (const auto& [id, at] : std::exchange(unplaced_, {})) {
      const auto link = served_remotes_.find(id);
      const RemoteHolding* known = ledger_->remote(id);
      if (link == served_remotes_.end() || !known || known->via != self ||
          known->epoch != link->second.epoch)
        continue;
      place_remote(id, link->second, known->granted, at);
    }
  }
  for (const auto& [id, link] : served_remotes_) {
    const RemoteHolding* known = ledger_->remote(id);
    const bool ours = known && known->via == self && known->epoch == link.epoch;
    // What it runs, as far as this member knows: what it reported, and what a placement it
    // has not yet said it applied let it run (a service taken back may run until then).
    RemoteHolding want{link.name,
                       self,
                       link.epoch,
                       link.report.seq,
                       link.report.eligible,
                       maybe_running(link),
                       link.report.gave_up,
                       {}};
    if (known && known->epoch == link.epoch) want.granted = known->granted;
    // Decide only once the ledger has it as ours: until then its copies are not counted.
    if (ours) {
      for (const auto& s : config_.services) {
        if (!want.eligible.count(s.name)) continue;
        const bool there = known->running.count(s.name) || known->granted.count(s.name);
        Decision d = ledger_->decide(s.name, id, there, quorate, config_.on_quorum_loss);
        if ((d.action == LocalAction::kStart && !settling(s, id)) ||
            (d.action == LocalAction::kNone && want.running.count(s.name))) {
          // Started, or kept: a copy it runs (adopted by a new run of its amatad) stays.
          want.granted.insert(s.name);
        } else if (d.action == LocalAction::kStop) {
          want.granted.erase(s.name);
        } else if (d.action == LocalAction::kFence) {
          for (NodeId v : d.fence)
            if (!fencing_.count(v)) fence(v);
        }
      }
    }
    std::erase_if(want.granted, [&want](const std::string& s) { return !want.eligible.count(s); });
    // A node that declares, runs and gave up on nothing is nothing to placement.
    if (!known && want.eligible.empty() && want.running.empty() && want.gave_up.empty()) continue;
    if (known && *known == want) continue;
    if (auto p = remote_published_.find(id);
        p != remote_published_.end() && p->second.state == want)
      continue;
    // Noted before sending, as for "alive": the lease of this grant runs from then.
    std::optional<std::uint64_t> at;
    if (callbacks_.heartbeat_at) at = callbacks_.heartbeat_at(link.name);
    if (Status st = session_->send(encode_remote_state(want)); !st.ok()) {
      log(true, "cluster: cannot publish remote node " + link.name + ": " + st.error().message);
      continue;
    }
    remote_published_[id] = Published{std::move(want), ours, at};
  }
}

void ClusterManager::on_remote_state(NodeId from, const RemoteStateNotice& notice) {
  // A member speaks only for the links it holds.
  if (notice.state.via != from || is_remote_id(from)) {
    log(true, "cluster: ignoring remote node " + notice.state.name + " published by " +
                  node_name(from) + " for " + node_name(notice.state.via));
    return;
  }
  const bool mine = session_ && from == session_->local_node();
  std::optional<Published> sent;
  if (mine) {
    if (auto p = remote_published_.find(notice.node); p != remote_published_.end()) {
      if (p->second.state == notice.state) sent = std::move(p->second);
      remote_published_.erase(p);  // delivered: the next decision may go out
    }
  }
  remote_names_[notice.node] = notice.state.name;
  const RemoteHolding* before = ledger_->remote(notice.node);
  const bool was_known = before != nullptr;
  const std::set<std::string> granted_before =
      was_known ? before->granted : std::set<std::string>{};
  if (!ledger_->apply_remote(notice.node, notice.state)) return;
  const RemoteHolding& now = *ledger_->remote(notice.node);
  if (!was_known) log(false, "cluster: remote node " + now.name + " served by " + node_name(from));
  for (const auto& s : now.granted)
    if (!granted_before.count(s))
      log(false, "cluster: " + s + " placed on remote node " + now.name);
  for (const auto& s : notice.state.granted) {
    if (!now.granted.count(s))
      log(false, "cluster: " + s + " not placed on remote node " + now.name +
                     ": overtaken on the bus (a failover, or another node's copy)");
  }
  // Told only now that every member counts what it may run, and only what the ledger kept.
  // A publication made before this member had the node as its own decided nothing: telling
  // it would stop what it runs for nothing (the next one decides).
  if (!sent || !sent->decided || !callbacks_.on_place) return;
  const auto served = served_remotes_.find(notice.node);
  if (served == served_remotes_.end() || served->second.epoch != now.epoch) return;
  // Delivered on a new ring whose quorum is not yet reported: placed on the report, so the
  // node need not wait for this member's next "alive" (its lease may be short by then).
  if (!may_place()) {
    unplaced_[notice.node] = sent->at;
    return;
  }
  place_remote(notice.node, served->second, now.granted, sent->at);
}

void ClusterManager::on_remote_lost(const RemoteLostNotice& lost) {
  const NodeId id = remote_node_id(lost.name);
  remote_names_[id] = lost.name;
  if (!ledger_->apply_remote_lost(id, lost.epoch, lost.via, lost.seq)) return;
  left_since_join_.insert(id);  // it had its chance: nothing waits for it to attach
  log(true, "cluster: remote node " + lost.name + " is lost (its lease has run out)");
}

void ClusterManager::place_remotes(std::uint64_t n) {
  const auto marks = alive_marks_.find(n);
  if (marks == alive_marks_.end()) return;  // sent while it served none, or before a reconnect
  const HeartbeatMarks at = std::move(marks->second);
  alive_marks_.erase(alive_marks_.begin(), std::next(marks));
  if (!callbacks_.on_place || !may_place()) return;
  const NodeId self = session_->local_node();
  for (auto& [id, link] : served_remotes_) {
    const RemoteHolding* known = ledger_->remote(id);
    const auto mark = at.find(id);
    // A node with no heartbeat noted then (a link newer than the message) waits for the next.
    if (!known || known->via != self || known->epoch != link.epoch || mark == at.end()) continue;
    place_remote(id, link, known->granted, mark->second);
  }
}

void ClusterManager::remote_report(const std::string& name, const std::string& epoch,
                                   const RemoteReport& report) {
  const NodeId id = remote_node_id(name);
  if (session_ && is_remote_id(session_->local_node())) return;  // placement.h, remote_node_id
  if (const RemoteHolding* known = ledger_->remote(id); known && known->name != name) {
    log(true, "cluster: remote nodes " + name + " and " + known->name +
                  " have the same id in placement: rename one; " + name + " is not placed");
    return;
  }
  ServedRemote& link = served_remotes_[id];
  if (link.epoch != epoch) link = ServedRemote{name, epoch, {}, {}};  // a new link, or run
  link.report = report;
  // Placements it applied (of this member's run: placement_base_) may run no more than it says.
  if ((report.placed >> 32) == (placement_base_ >> 32)) {
    std::erase_if(link.unacked, [&report](const auto& p) { return p.first <= report.placed; });
  }
  remote_names_[id] = name;
  if (!alive_timer_) send_alive();  // the leases are renewed as this member's messages return
  reconcile();
}

void ClusterManager::remote_detached(const std::string& name, const std::string& epoch,
                                     base::Clock::time_point last_heartbeat) {
  const NodeId id = remote_node_id(name);
  const auto it = served_remotes_.find(id);
  if (it == served_remotes_.end() || it->second.epoch != epoch) return;
  served_remotes_.erase(it);
  remote_published_.erase(id);
  unplaced_.erase(id);
  lose_remote_at(id, last_heartbeat + config_.remote_timeout);
}

void ClusterManager::lose_remote_at(NodeId id, base::Clock::time_point when) {
  const RemoteHolding* r = ledger_->remote(id);
  if (!r) return;
  const auto key = std::make_tuple(id, r->epoch, r->via, r->seq);
  if (!loss_timers_.insert(key).second) return;  // counting already, from earlier
  std::weak_ptr<bool> alive = alive_;
  loop_.add_timer(when, [alive, this, key] {
    if (!alive.lock()) return;
    loss_timers_.erase(key);
    const auto& [id, epoch, via, seq] = key;
    if (!session_ || !session_->joined()) return;
    const RemoteHolding* now = ledger_->remote(id);
    // Changed since (served again, another run, a newer report) or already lost: that
    // state, if it too goes unserved, is counted from when it was seen.
    if (!now || now->epoch != epoch || now->via != via || now->seq != seq) return;
    const auto& members = ledger_->members();
    const bool orphan = !std::binary_search(members.begin(), members.end(), via);
    const auto served = served_remotes_.find(id);
    const bool dropped = via == session_->local_node() &&
                         (served == served_remotes_.end() || served->second.epoch != epoch);
    if (!orphan && !dropped) return;  // its member serves it again
    if (Status sent = session_->send(encode_remote_lost({now->name, epoch, via, seq})); !sent) {
      log(true, "cluster: cannot say remote node " + now->name +
                    " is lost: " + sent.error().message + "; trying again");
      lose_remote_at(id, base::Clock::now() + config_.remote_timeout / 4);
    }
  });
}

}  // namespace amata::cluster
