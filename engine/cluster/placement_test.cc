#include "engine/cluster/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <variant>

#include "engine/cluster/corosync_connection.h"

namespace amata::cluster {
namespace {

// A simulated cluster: each node holds a Ledger and acts on its decisions the way
// ClusterManager does (claim a start and start when the claim comes back accepted, stop
// synchronously, announce after every change). Partitions deliver their messages to all
// their members in one order, as CPG's agreed order does.
struct FencedMsg {
  NodeId victim;
};
struct FailoverMsg {
  FailoverRequest request;
};
struct AnnounceMsg {
  Announcement a;
};
using Payload = std::variant<AnnounceMsg, FailoverMsg, FencedMsg>;
struct Msg {
  NodeId from;
  Payload payload;
};

struct SimNode {
  NodeId id;
  Ledger ledger;
  std::set<std::string> running;
  std::set<std::string> gave_up;
  std::set<std::string> claims;  // asked for on the bus, not delivered back yet
  std::vector<NodeId> view;      // its current CPG membership
  bool alive = true;
  std::set<NodeId> fencing;  // fences whose result is not delivered yet
};

class Sim {
 public:
  Sim(int n, const std::vector<ServicePlacement>& services, QuorumLossPolicy policy)
      : total_(n), policy_(policy) {
    for (int i = 1; i <= n; ++i)
      nodes_.emplace(i, SimNode{NodeId(i), Ledger(services), {}, {}, {}, {}});
  }

  /// Splits the live nodes into `groups` (nodes absent from every group are dead).
  void partition(const std::vector<std::vector<NodeId>>& groups) {
    std::set<NodeId> placed;
    for (const auto& g : groups) placed.insert(g.begin(), g.end());
    for (auto& [id, node] : nodes_) {
      node.claims.clear();  // lost with the messages still queued
      if (!placed.count(id)) {
        node.alive = false;  // a dead node's services die with it
        node.running.clear();
        node.claims.clear();
        node.view.clear();
      }
    }
    groups_ = groups;
    queues_.assign(groups.size(), {});
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::vector<NodeId> members = groups[g];
      std::sort(members.begin(), members.end());
      for (NodeId id : members) {
        SimNode& node = nodes_.at(id);
        if (!node.alive) {  // a restarted node comes back empty
          node = SimNode{id, Ledger(node.ledger.services()), {}, {}, {}, {}};
        }
        MembershipChange c;
        c.members = members;
        for (NodeId m : members)
          if (std::find(node.view.begin(), node.view.end(), m) == node.view.end())
            c.joined.push_back(m);
        for (NodeId m : node.view)
          if (std::find(members.begin(), members.end(), m) == members.end())
            c.left.emplace_back(m, LeaveReason::kNodeDown);
        if (c.joined.empty() && c.left.empty()) continue;
        node.view = members;
        node.ledger.apply_membership(c);
        announce(node, g);
      }
    }
    settle();
  }

  /// A reload on node `id`: new placement settings, then an announcement (as the manager).
  void reconfigure(NodeId id, std::vector<ServicePlacement> services) {
    SimNode& node = nodes_.at(id);
    node.ledger.set_services(std::move(services));
    if (!node.alive) return;
    announce(node, group_of(id));
    settle();
  }

  void gave_up(NodeId id, const std::string& service) {
    SimNode& node = nodes_.at(id);
    node.running.erase(service);
    node.gave_up.insert(service);
    announce(node, group_of(id));
    settle();
  }

  void failover(NodeId from, FailoverRequest r) {
    queues_[group_of(from)].push_back(Msg{from, FailoverMsg{std::move(r)}});
    settle();
  }

  bool quorate(std::size_t g) const { return groups_[g].size() * 2 > std::size_t(total_); }

  /// Nodes running `service`, ascending.
  std::vector<NodeId> copies(const std::string& service) const {
    std::vector<NodeId> out;
    for (const auto& [id, node] : nodes_)
      if (node.alive && node.running.count(service)) out.push_back(id);
    return out;
  }
  std::vector<NodeId> copies_in(std::size_t g, const std::string& service) const {
    std::vector<NodeId> out;
    for (NodeId id : copies(service))
      if (group_of(id) == g) out.push_back(id);
    return out;
  }
  const SimNode& node(NodeId id) const { return nodes_.at(id); }
  std::vector<NodeId> fenced;  // every fence run, in order

 private:
  std::size_t group_of(NodeId id) const {
    for (std::size_t g = 0; g < groups_.size(); ++g)
      if (std::find(groups_[g].begin(), groups_[g].end(), id) != groups_[g].end()) return g;
    ADD_FAILURE() << "node " << id << " is in no group";
    return 0;
  }

  void announce(SimNode& node, std::size_t g) {
    Announcement a{node.running,
                   node.gave_up,
                   {node.ledger.unfenced().begin(), node.ledger.unfenced().end()},
                   node.ledger.fingerprints()};
    a.claims = node.claims;
    queues_[g].push_back(Msg{node.id, AnnounceMsg{a}});
  }

  // Delivers every queued message to every member of its partition, then lets every node act,
  // until nothing changes. Checks after each delivery that a quorate partition never has two
  // copies of a service.
  void settle() {
    for (int round = 0; round < 1000; ++round) {
      bool progress = false;
      for (std::size_t g = 0; g < groups_.size(); ++g) {
        while (!queues_[g].empty()) {
          Msg m = queues_[g].front();
          queues_[g].pop_front();
          progress = true;
          for (NodeId id : groups_[g]) deliver(nodes_.at(id), m);
          for (NodeId id : groups_[g]) act(nodes_.at(id), g);
          check_single_copy(g);
        }
        for (NodeId id : groups_[g]) act(nodes_.at(id), g);
        if (!queues_[g].empty()) progress = true;
      }
      if (!progress) return;
    }
    ADD_FAILURE() << "the simulation did not settle";
  }

  void deliver(SimNode& node, const Msg& m) {
    if (auto* a = std::get_if<AnnounceMsg>(&m.payload)) {
      node.ledger.apply_announcement(m.from, a->a);
      if (m.from != node.id) return;
      bool started = false;
      for (const auto& service : a->a.claims) {
        if (!node.claims.erase(service)) continue;
        const auto held = node.ledger.holders(service);
        if (!std::binary_search(held.begin(), held.end(), node.id)) continue;
        started = node.running.insert(service).second || started;
      }
      if (started) announce(node, group_of(node.id));
    } else if (auto* f = std::get_if<FailoverMsg>(&m.payload)) {
      if (node.ledger.apply_failover(f->request) && f->request.target == node.id)
        node.gave_up.erase(f->request.service);
    } else if (auto* d = std::get_if<FencedMsg>(&m.payload)) {
      node.ledger.apply_fenced(d->victim);
      node.fencing.erase(d->victim);
    }
  }

  void act(SimNode& node, std::size_t g) {
    bool changed = false;
    for (const auto& s : node.ledger.services()) {
      Decision d =
          node.ledger.decide(s.name, node.id, node.running.count(s.name) != 0, quorate(g), policy_);
      switch (d.action) {
        case LocalAction::kStart:
          changed = node.claims.insert(s.name).second || changed;
          break;
        case LocalAction::kStop:
          node.running.erase(s.name);
          changed = true;
          break;
        case LocalAction::kFence:
          for (NodeId v : d.fence) {
            if (!node.fencing.insert(v).second) continue;
            fenced.push_back(v);
            queues_[g].push_back(Msg{node.id, FencedMsg{v}});
          }
          return;  // the start comes once the fence results are delivered
        case LocalAction::kNone:
        case LocalAction::kWait:
          break;
      }
    }
    if (changed) announce(node, g);
  }

  // With kFreeze a heal merges two copies by design; they are resolved once it settles.
  void check_single_copy(std::size_t g) {
    if (!quorate(g) || policy_ == QuorumLossPolicy::kFreeze) return;
    for (const auto& s : nodes_.begin()->second.ledger.services())
      EXPECT_LE(copies_in(g, s.name).size(), 1u) << "two copies of " << s.name;
  }

  int total_;
  QuorumLossPolicy policy_;
  std::map<NodeId, SimNode> nodes_;
  std::vector<std::vector<NodeId>> groups_;
  std::vector<std::deque<Msg>> queues_;
};

std::vector<ServicePlacement> one_service(std::vector<NodeId> preferred = {1, 2, 3},
                                          bool fence = false) {
  return {ServicePlacement{"web", std::move(preferred), false, fence}};
}

TEST(Ledger, StartsOnThePreferredNodeOnly) {
  Sim sim(3, one_service({2, 1, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
  for (NodeId n : {1, 2, 3}) EXPECT_EQ(sim.node(n).ledger.owner("web"), 2u);
}

TEST(Ledger, UnlistedNodesRankByNodeId) {
  Sim sim(3, one_service({}), QuorumLossPolicy::kStop);
  sim.partition({{3, 2, 1}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
}

TEST(Ledger, OnlyPreferredNodesMayRunIt) {
  Sim sim(3, {ServicePlacement{"web", {3}, true, false}}, QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
  sim.partition({{1, 2}});
  EXPECT_TRUE(sim.copies("web").empty());
}

TEST(Ledger, OwnerDeathMovesItToTheNextPreferred) {
  Sim sim(3, one_service({1, 2, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.partition({{2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
}

TEST(Ledger, ARejoiningPreferredNodeDoesNotTakeItBack) {
  Sim sim(3, one_service({1, 2, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.partition({{2, 3}});
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
  for (NodeId n : {1, 2, 3}) EXPECT_TRUE(sim.node(n).ledger.synced());
}

TEST(Ledger, WithFailbackARejoiningPreferredNodeTakesItBackOneCopyAtATime) {
  // The simulation holds every step to one copy: the stand-in stops before node 1 starts.
  Sim sim(3, {ServicePlacement{"web", {1, 2, 3}, false, false, true}}, QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  ASSERT_EQ(sim.copies("web"), std::vector<NodeId>{1});
  sim.partition({{2, 3}});
  ASSERT_EQ(sim.copies("web"), std::vector<NodeId>{2});
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
  for (NodeId n : {1, 2, 3}) EXPECT_EQ(sim.node(n).ledger.owner("web"), 1u);
  // A node below the one running it joining changes nothing.
  sim.partition({{1, 2}});
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
}

TEST(Ledger, FailbackYieldsToAnOperatorsFailover) {
  // A pinned target wins over the preference, failback or not.
  Sim sim(3, {ServicePlacement{"web", {1, 2, 3}, false, false, true}}, QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.failover(2, FailoverRequest{"web", NodeId{3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
}

TEST(Ledger, IsolatedOwnerStopsAndMajorityStartsOne) {
  Sim sim(3, one_service({3, 1, 2}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  ASSERT_EQ(sim.copies("web"), std::vector<NodeId>{3});
  sim.partition({{1, 2}, {3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
  sim.partition({{1, 2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
}

TEST(Ledger, FreezeKeepsTheIsolatedCopyAndHealResolvesTheDuplicate) {
  Sim sim(3, one_service({3, 1, 2}), QuorumLossPolicy::kFreeze);
  sim.partition({{1, 2, 3}});
  sim.partition({{1, 2}, {3}});
  EXPECT_EQ(sim.copies("web"), (std::vector<NodeId>{1, 3}));
  sim.partition({{1, 2, 3}});
  // Both copies are announced; the preferred holder (3) keeps it, the other stops.
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
}

TEST(Ledger, NoPartitionWithoutQuorumStartsAnything) {
  Sim sim(3, one_service(), QuorumLossPolicy::kStop);
  sim.partition({{1}, {2}, {3}});
  EXPECT_TRUE(sim.copies("web").empty());
  sim.partition({{1}, {2, 3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
}

TEST(Ledger, GaveUpMovesItAndAllGivingUpStopsIt) {
  Sim sim(3, one_service({1, 2, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.gave_up(1, "web");
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
  sim.gave_up(2, "web");
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
  sim.gave_up(3, "web");
  EXPECT_TRUE(sim.copies("web").empty());
  // Bans survive a resync: they are announced again by the nodes that gave up.
  sim.partition({{1, 2}, {3}});
  sim.partition({{1, 2, 3}});
  EXPECT_TRUE(sim.copies("web").empty());
  // An explicit failover to a node lifts its ban.
  sim.failover(1, FailoverRequest{"web", NodeId{2}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
}

TEST(Ledger, FailoverToBestOtherAndToANamedPeer) {
  Sim sim(3, one_service({1, 2, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.failover(3, FailoverRequest{"web", std::nullopt});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{2});
  // Once the target runs it, the pin is gone and stickiness keeps it there.
  for (NodeId n : {1, 2, 3}) EXPECT_FALSE(sim.node(n).ledger.target("web"));
  sim.failover(1, FailoverRequest{"web", NodeId{3}});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
}

TEST(Ledger, FailoverRequestsThatCannotBeHonouredAreRefused) {
  Ledger l(one_service({1, 2}));
  l.apply_membership({{1}, {1}, {}});
  l.apply_announcement(1, {{"web"}, {}, {}});
  EXPECT_FALSE(l.apply_failover({"nope", std::nullopt}));
  EXPECT_FALSE(l.apply_failover({"web", NodeId{2}}));     // not a member
  EXPECT_FALSE(l.apply_failover({"web", std::nullopt}));  // no other member
  EXPECT_EQ(l.owner("web"), 1u);
}

TEST(Ledger, DepartedHolderIsFencedByTheNewOwnerBeforeItStarts) {
  Sim sim(3, one_service({3, 1, 2}, /*fence=*/true), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.partition({{1, 2}, {3}});
  EXPECT_EQ(sim.fenced, std::vector<NodeId>{3});
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});
  for (NodeId n : {1, 2}) EXPECT_TRUE(sim.node(n).ledger.unfenced().empty());
}

TEST(Ledger, ANodeThatDidNotHoldItIsNotFenced) {
  Sim sim(3, one_service({3, 1, 2}, /*fence=*/true), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  sim.partition({{3, 1}, {2}});
  EXPECT_TRUE(sim.fenced.empty());
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
}

TEST(Ledger, CleanLeaveNeedsNoFence) {
  Ledger l(one_service({1, 2}, true));
  l.apply_membership({{1, 2}, {1, 2}, {}});
  l.apply_announcement(1, {{"web"}, {}, {}});
  l.apply_announcement(2, {{}, {}, {}});
  l.apply_membership({{2}, {}, {{1, LeaveReason::kLeave}}});
  EXPECT_TRUE(l.unfenced().empty());
  EXPECT_EQ(l.decide("web", 2, false, true, QuorumLossPolicy::kStop).action, LocalAction::kStart);
}

TEST(Ledger, NothingStartsUntilEveryMemberHasAnnounced) {
  Ledger l(one_service({1, 2, 3}));
  l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  l.apply_announcement(1, {});
  l.apply_announcement(2, {});
  EXPECT_FALSE(l.synced());
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kWait);
  l.apply_announcement(3, {});
  EXPECT_TRUE(l.synced());
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kStart);
}

TEST(Ledger, OwnerWaitsForTheOtherHolderToStop) {
  Ledger l(one_service({1, 2}));
  l.apply_membership({{1, 2}, {1, 2}, {}});
  l.apply_announcement(1, {});
  l.apply_announcement(2, {{"web"}, {}, {}});
  ASSERT_TRUE(l.apply_failover({"web", NodeId{1}}));
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kWait);
  EXPECT_EQ(l.decide("web", 2, true, true, QuorumLossPolicy::kStop).action, LocalAction::kStop);
  l.apply_announcement(2, {});
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kStart);
}

Announcement claiming(std::set<std::string> services) {
  Announcement a;
  a.claims = std::move(services);
  return a;
}

// Member 1 owns web and claims it; before its claim is delivered, an operator's failover to 3
// is. Every ledger refuses 1's claim and accepts 3's. (A member that started web when it
// decided, as amatad did before claims, would have run it beside 3's copy until 3's
// announcement came.)
TEST(Ledger, AClaimOvertakenOnTheBusIsRefusedOnEveryMember) {
  constexpr auto kStop = QuorumLossPolicy::kStop;
  Ledger l(one_service({1, 2, 3}));
  l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  for (NodeId n : {1, 2, 3}) l.apply_announcement(n, {});
  ASSERT_EQ(l.decide("web", 1, false, true, kStop).action, LocalAction::kStart);
  ASSERT_TRUE(l.apply_failover({"web", NodeId{3}}));
  l.apply_announcement(1, claiming({"web"}));
  EXPECT_TRUE(l.holders("web").empty());
  EXPECT_EQ(l.decide("web", 1, false, true, kStop).action, LocalAction::kNone);
  ASSERT_EQ(l.decide("web", 3, false, true, kStop).action, LocalAction::kStart);
  l.apply_announcement(3, claiming({"web"}));
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{3});
  EXPECT_EQ(l.owner("web"), 3U);
  // A second claim, while 3 holds it, is refused as well.
  l.apply_announcement(2, claiming({"web"}));
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{3});
}

TEST(Ledger, AClaimIsKeptByItsHolderAndRefusedAcrossAJoin) {
  constexpr auto kStop = QuorumLossPolicy::kStop;
  Ledger l(one_service({1, 2}));
  l.apply_membership({{1, 2}, {1, 2}, {}});
  l.apply_announcement(1, {});
  l.apply_announcement(2, {});
  l.apply_announcement(1, claiming({"web"}));
  ASSERT_EQ(l.holders("web"), std::vector<NodeId>{1});
  // The same claim again (1 announced again before its first came back), after a failover
  // to 2: 1 holds it already, so it keeps it, and 2 waits for it to stop.
  ASSERT_TRUE(l.apply_failover({"web", NodeId{2}}));
  l.apply_announcement(1, claiming({"web"}));
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{1});
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kWait);
  EXPECT_EQ(l.decide("web", 1, true, true, kStop).action, LocalAction::kStop);
  l.apply_announcement(1, {});
  EXPECT_TRUE(l.holders("web").empty());
  // A claim sent before a join is delivered after it: nothing starts until all announced.
  l.apply_membership({{1, 2, 3}, {3}, {}});
  l.apply_announcement(2, claiming({"web"}));
  EXPECT_TRUE(l.holders("web").empty());
}

// A fenced service waits for its departed holder's fence: a claim delivered before the fence
// result is refused, as a grant would be.
TEST(Ledger, AClaimBeforeTheFenceIsRefused) {
  Ledger l(one_service({1, 2, 3}, /*fence=*/true));
  l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  l.apply_announcement(1, {{"web"}, {}, {}});
  l.apply_announcement(2, {});
  l.apply_announcement(3, {});
  l.apply_membership({{2, 3}, {}, {{1, LeaveReason::kNodeDown}}});
  l.apply_announcement(2, claiming({"web"}));
  EXPECT_TRUE(l.holders("web").empty());
  l.apply_fenced(1);
  l.apply_announcement(2, claiming({"web"}));
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{2});
}

TEST(Ledger, LosingQuorumStopsOrFreezes) {
  Ledger l(one_service({1}));
  l.apply_membership({{1}, {1}, {}});
  l.apply_announcement(1, {{"web"}, {}, {}});
  EXPECT_EQ(l.decide("web", 1, true, false, QuorumLossPolicy::kStop).action, LocalAction::kStop);
  EXPECT_EQ(l.decide("web", 1, true, false, QuorumLossPolicy::kFreeze).action, LocalAction::kNone);
  EXPECT_EQ(l.decide("web", 1, false, false, QuorumLossPolicy::kStop).action, LocalAction::kNone);
}

TEST(Ledger, AnnouncementsFromNonMembersAreIgnored) {
  Ledger l(one_service({1, 2}));
  l.apply_membership({{1}, {1}, {}});
  l.apply_announcement(2, {{"web"}, {}, {}});
  l.apply_announcement(1, {});
  EXPECT_TRUE(l.holders("web").empty());
  EXPECT_EQ(l.owner("web"), 1u);
}

// Remote nodes (placement.h): candidates for what they declare while a member serves them.
const NodeId kC1 = remote_node_id("c1");
const NodeId kC2 = remote_node_id("c2");
constexpr auto kStop = QuorumLossPolicy::kStop;

RemoteHolding remote_state(std::string name, NodeId via, std::uint64_t seq,
                           std::set<std::string> running = {}, std::set<std::string> granted = {},
                           std::set<std::string> eligible = {"web"}) {
  return RemoteHolding{
      std::move(name),   via, "e1", seq, std::move(eligible), std::move(running), {},
      std::move(granted)};
}

// As a member publishes a node it serves: first what the node reported, then, decided on
// that, what it may run.
bool learn(Ledger& l, NodeId id, const RemoteHolding& state) {
  RemoteHolding reported = state;
  reported.granted.clear();
  return l.apply_remote(id, reported) && l.apply_remote(id, state);
}

Ledger two_members(std::vector<NodeId> preferred, bool fence = false) {
  Ledger l(one_service(std::move(preferred), fence));
  l.apply_membership({{1, 2}, {1, 2}, {}});
  l.apply_announcement(1, {});
  l.apply_announcement(2, {});
  return l;
}

TEST(RemotePlacement, RemoteIdsHaveTheTopBitAndDifferByName) {
  EXPECT_TRUE(is_remote_id(kC1));
  EXPECT_NE(kC1, kC2);
  EXPECT_FALSE(is_remote_id(3));
}

TEST(RemotePlacement, ARemoteNodeIsACandidateForWhatItDeclaresOnly) {
  Ledger l = two_members({kC1, 1, 2});
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 1)));
  EXPECT_EQ(l.owner("web"), kC1);
  EXPECT_EQ(l.decide("web", kC1, false, true, kStop).action, LocalAction::kStart);
  EXPECT_EQ(l.decide("web", 1, false, true, kStop).action, LocalAction::kNone);
  // It declares another service: web is not its to run.
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 2, {}, {}, {"db"})));
  EXPECT_EQ(l.owner("web"), 1u);
}

TEST(RemotePlacement, WhatItsMemberGrantedHoldsTheServiceBeforeTheNodeReportsIt) {
  Ledger l = two_members({kC1, 1, 2});
  ASSERT_TRUE(learn(l, kC1, remote_state("c1", 1, 1, {}, {"web"})));
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{kC1});
  ASSERT_TRUE(l.apply_failover({"web", NodeId{2}}));
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kWait);
  EXPECT_EQ(l.decide("web", kC1, true, true, kStop).action, LocalAction::kStop);
  // Its member took the grant back, but the node still reports it running: still a holder.
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 1, {"web"}, {})));
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kWait);
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 2)));
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kStart);
}

// A member decided to start web on c1, but before its word was delivered a failover moved web
// to member 2, which started it: the grant, re-checked on delivery, is dropped on every member.
TEST(RemotePlacement, AGrantOvertakenOnTheBusIsDropped) {
  Ledger l = two_members({kC1, 1, 2});
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 1)));
  ASSERT_TRUE(l.apply_failover({"web", NodeId{2}}));
  l.apply_announcement(2, {{"web"}, {}, {}});
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 1, {}, {"web"})));
  EXPECT_TRUE(l.remote(kC1)->granted.empty());
  EXPECT_EQ(l.holders("web"), std::vector<NodeId>{2});
  // Unknown until now: nothing was decided for it, so nothing it is granted stands.
  ASSERT_TRUE(l.apply_remote(kC2, remote_state("c2", 1, 1, {}, {"web"})));
  EXPECT_TRUE(l.remote(kC2)->granted.empty());
}

TEST(RemotePlacement, AnOrphanHoldsItsServiceUntilItIsLostOrServedAgain) {
  Ledger l(one_service({kC1, 1, 2, 3}));
  l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  for (NodeId n : {1, 2, 3}) l.apply_announcement(n, {});
  ASSERT_TRUE(learn(l, kC1, remote_state("c1", 1, 1, {"web"}, {"web"})));
  l.apply_membership({{2, 3}, {}, {{1, LeaveReason::kNodeDown}}});
  // Not a candidate while no member serves it, but its copy may still run.
  EXPECT_EQ(l.owner("web"), 2u);
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kWait);
  // It attached to member 3 and says so: the owner again, nothing moved.
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 3, 2, {"web"}, {"web"})));
  EXPECT_EQ(l.owner("web"), kC1);
  EXPECT_EQ(l.remote(kC1)->granted, std::set<std::string>{"web"});
  // The loss its old member's departure would have caused, delivered late, changes nothing.
  EXPECT_FALSE(l.apply_remote_lost(kC1, "e1", 1, 1));
  EXPECT_EQ(l.owner("web"), kC1);
  // Nor does one counted from an earlier report through member 3.
  EXPECT_FALSE(l.apply_remote_lost(kC1, "e1", 3, 1));
  EXPECT_TRUE(l.apply_remote_lost(kC1, "e1", 3, 2));
  EXPECT_EQ(l.remote(kC1), nullptr);
  EXPECT_EQ(l.decide("web", 2, false, true, kStop).action, LocalAction::kStart);
}

TEST(RemotePlacement, ALostHolderOfAFencedServiceIsFencedFirstUnlessItReportsAgain) {
  Ledger l = two_members({kC1, 1, 2}, /*fence=*/true);
  ASSERT_TRUE(learn(l, kC1, remote_state("c1", 1, 1, {"web"}, {"web"})));
  ASSERT_TRUE(l.apply_remote_lost(kC1, "e1", 1, 1));
  const Decision d = l.decide("web", 1, false, true, kStop);
  EXPECT_EQ(d.action, LocalAction::kFence);
  EXPECT_EQ(d.fence, std::vector<NodeId>{kC1});
  l.apply_fenced(kC1);
  EXPECT_EQ(l.decide("web", 1, false, true, kStop).action, LocalAction::kStart);

  // Lost again; but it reports through a member, so what it runs is known: no fence.
  ASSERT_TRUE(learn(l, kC1, remote_state("c1", 2, 2, {"web"}, {"web"})));
  ASSERT_TRUE(l.apply_remote_lost(kC1, "e1", 2, 2));
  EXPECT_EQ(l.unfenced(), std::set<NodeId>{kC1});
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 2, 3)));
  EXPECT_TRUE(l.unfenced().empty());
}

TEST(RemotePlacement, OlderReportsReportsFromALinkLeftBehindAndOtherNamesAreIgnored) {
  Ledger l = two_members({kC1, 1, 2});
  ASSERT_TRUE(learn(l, kC1, remote_state("c1", 1, 5, {"web"}, {"web"})));
  EXPECT_FALSE(l.apply_remote(kC1, remote_state("c1", 1, 4)));
  EXPECT_FALSE(l.apply_remote(kC1, remote_state("c1", 2, 5)));
  EXPECT_EQ(l.remote(kC1)->running, std::set<std::string>{"web"});
  // The same report with a new grant from the same member: applied.
  EXPECT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 5, {"web"}, {})));
  // A new run of its amatad starts its numbering again.
  RemoteHolding restarted = remote_state("c1", 2, 1);
  restarted.epoch = "e2";
  EXPECT_TRUE(l.apply_remote(kC1, restarted));
  EXPECT_EQ(l.remote(kC1)->via, 2u);
  // A member's own node id never stands for a remote node, nor one node's id for another's.
  EXPECT_FALSE(l.apply_remote(2, remote_state("c1", 1, 9)));
  EXPECT_FALSE(l.apply_remote(kC1, remote_state("c9", 2, 9)));
}

TEST(RemotePlacement, AfterAJoinEveryMemberLearnsTheRemoteNodesAgainAndAlike) {
  Ledger member = two_members({kC1, 1, 2, 3});
  ASSERT_TRUE(learn(member, kC1, remote_state("c1", 1, 1, {"web"}, {"web"})));
  ASSERT_TRUE(member.apply_remote(kC2, remote_state("c2", 2, 1)));

  member.apply_membership({{1, 2, 3}, {3}, {}});
  // Until every member has announced, no holder is known, and nothing may start.
  EXPECT_TRUE(member.remotes().empty());
  EXPECT_EQ(member.owner("web"), 1U);
  EXPECT_EQ(member.decide("web", 1, false, true, kStop).action, LocalAction::kWait);
  Announcement from1;
  from1.remotes = member.remotes_to_announce();  // what member 1 says after the join
  EXPECT_EQ(from1.remotes.size(), 2U);

  Ledger joiner(one_service({kC1, 1, 2, 3}));
  joiner.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  // c2 was lost after the join, before member 1's announcement was delivered.
  for (Ledger* l : {&member, &joiner}) EXPECT_FALSE(l->apply_remote_lost(kC2, "e1", 2, 1));
  for (Ledger* l : {&member, &joiner}) {
    l->apply_announcement(1, from1);
    l->apply_announcement(2, {});
    l->apply_announcement(3, {});
  }
  EXPECT_EQ(joiner.remotes(), member.remotes());
  EXPECT_EQ(joiner.remotes().size(), 1U);
  EXPECT_EQ(joiner.owner("web"), kC1);
  EXPECT_EQ(member.decide("web", kC1, true, true, kStop).action, LocalAction::kNone);
}

// Two partitions merge, each with its own view of c1. Whichever member announces first, the
// member serving c1 has the last word, on every member alike.
TEST(RemotePlacement, WhenPartitionsMergeTheMemberServingARemoteNodeOutranksHearsay) {
  // Hearsay from member 1 (its partition's old view: c1 on member 2, running web) and the
  // word of member 3, which serves c1 now and runs nothing there.
  Announcement from1, from3;
  from1.remotes[kC1] = remote_state("c1", 2, 4, {"web"}, {"web"});
  from3.remotes[kC1] = remote_state("c1", 3, 6);
  for (bool hearsay_first : {true, false}) {
    Ledger l(one_service({kC1, 1, 2, 3}));
    l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
    if (hearsay_first) l.apply_announcement(1, from1);
    l.apply_announcement(3, from3);
    if (!hearsay_first) l.apply_announcement(1, from1);
    l.apply_announcement(2, {});
    ASSERT_NE(l.remote(kC1), nullptr);
    EXPECT_EQ(l.remote(kC1)->via, 3U) << hearsay_first;
    EXPECT_TRUE(l.holders("web").empty()) << hearsay_first;
  }
  // A loss of c1 as member 2 served it, delivered after the merge, puts down that view only.
  Ledger l(one_service({kC1, 1, 2, 3}));
  l.apply_membership({{1, 2, 3}, {1, 2, 3}, {}});
  EXPECT_FALSE(l.apply_remote_lost(kC1, "e1", 2, 4));
  l.apply_announcement(1, from1);
  EXPECT_EQ(l.remote(kC1), nullptr);
  l.apply_announcement(3, from3);
  ASSERT_NE(l.remote(kC1), nullptr);
  EXPECT_EQ(l.remote(kC1)->via, 3U);
}

TEST(RemotePlacement, AFailoverMayNameARemoteNodeItDeclaresTheServiceOn) {
  Ledger l = two_members({1, 2});
  ASSERT_TRUE(l.apply_remote(kC1, remote_state("c1", 1, 1)));
  ASSERT_TRUE(l.apply_remote(kC2, remote_state("c2", 1, 1, {}, {}, {"db"})));
  EXPECT_FALSE(l.apply_failover({"web", kC2}));
  ASSERT_TRUE(l.apply_failover({"web", kC1}));
  EXPECT_EQ(l.owner("web"), kC1);
  EXPECT_EQ(l.decide("web", kC1, false, true, kStop).action, LocalAction::kStart);
}

// Failback: a member joining does not pull a service that prefers a remote node above it.
TEST(RemotePlacement, AJoinDoesNotFailBackPastARemoteNodePreferredAboveTheJoiner) {
  const std::vector<ServicePlacement> web = {
      ServicePlacement{"web", {kC1, 2, 1}, false, false, true}};
  Ledger l(web);
  l.apply_membership({{1}, {1}, {}});
  l.apply_membership({{1, 2}, {2}, {}});
  EXPECT_FALSE(l.target("web"));
  Ledger plain({ServicePlacement{"web", {2, 1}, false, false, true}});
  plain.apply_membership({{1}, {1}, {}});
  plain.apply_membership({{1, 2}, {2}, {}});
  EXPECT_EQ(plain.target("web"), 2U);
}

// Random kills, restarts, partitions and heals of a five-node cluster. After every change has
// settled: every quorate partition runs exactly one copy (stop policy: nowhere else), and all
// members of a partition agree on the owner.
TEST(Ledger, RandomMembershipSequencesKeepExactlyOneCopy) {
  std::vector<ServicePlacement> services = {
      {"a", {1, 2, 3, 4, 5}, false, false},
      {"b", {5, 4}, false, true},
      {"c", {}, false, false},
  };
  for (unsigned seed = 1; seed <= 150; ++seed) {
    std::mt19937 rng(seed);
    Sim sim(5, services, QuorumLossPolicy::kStop);
    sim.partition({{1, 2, 3, 4, 5}});
    for (int step = 0; step < 25; ++step) {
      // Each node is dead (group 0) or in one of up to three partitions.
      std::vector<std::vector<NodeId>> groups(3);
      for (NodeId n = 1; n <= 5; ++n) {
        int g = std::uniform_int_distribution<int>(0, step % 4 == 3 ? 1 : 3)(rng);
        if (g > 0) groups[g - 1].push_back(n);
      }
      std::erase_if(groups, [](const auto& g) { return g.empty(); });
      sim.partition(groups);
      for (std::size_t g = 0; g < groups.size(); ++g) {
        for (const auto& s : services) {
          auto copies = sim.copies_in(g, s.name);
          if (sim.quorate(g))
            ASSERT_EQ(copies.size(), 1u) << "seed " << seed << " step " << step << " " << s.name;
          else
            ASSERT_TRUE(copies.empty()) << "seed " << seed << " step " << step;
          auto owner = sim.node(groups[g][0]).ledger.owner(s.name);
          for (NodeId n : groups[g]) ASSERT_EQ(sim.node(n).ledger.owner(s.name), owner);
        }
      }
    }
  }
}

TEST(Fnv1a, MatchesTheReferenceValuesAndReadsWordsLittleEndian) {
  EXPECT_EQ(fnv1a(kFnv1aBasis, std::string_view("")), 0x811c9dc5U);
  EXPECT_EQ(fnv1a(kFnv1aBasis, std::string_view("a")), 0xe40c292cU);
  EXPECT_EQ(fnv1a(kFnv1aBasis, std::string_view("foobar")), 0xbf9cf968U);
  EXPECT_EQ(fnv1a(kFnv1aBasis, 0x64636261U), fnv1a(kFnv1aBasis, std::string_view("abcd")));
}

TEST(ViewOf, NamesAMemberListWhateverItsOrder) {
  const std::vector<GroupMember> a = {{1, 100}, {2, 200}, {3, 300}};
  const std::vector<GroupMember> b = {{3, 300}, {1, 100}, {2, 200}};
  EXPECT_EQ(view_of(a), view_of(b));
  EXPECT_NE(view_of(a), view_of({{1, 100}, {2, 200}}));            // a member left
  EXPECT_NE(view_of(a), view_of({{1, 100}, {2, 200}, {3, 301}}));  // its amatad restarted
}

TEST(Ledger, FingerprintsDifferWhenPlacementDiffers) {
  ServicePlacement web{"web", {1, 2, 3}, false, false};
  auto base = placement_fingerprint(web);
  EXPECT_EQ(placement_fingerprint(web), base);
  for (const ServicePlacement& other : {ServicePlacement{"web", {3, 2, 1}, false, false},
                                        ServicePlacement{"web", {1, 2}, false, false},
                                        ServicePlacement{"web", {1, 2, 3}, true, false},
                                        ServicePlacement{"web", {1, 2, 3}, false, true},
                                        ServicePlacement{"web", {1, 2, 3}, false, false, true},
                                        ServicePlacement{"web2", {1, 2, 3}, false, false}}) {
    EXPECT_NE(placement_fingerprint(other), base) << other.name;
  }
}

TEST(Ledger, AServiceMembersPlaceDifferentlyIsLeftAlone) {
  // Node 2 reloaded with other preferences, node 3 not yet: when the owner dies nobody may
  // start a copy, since 2 and 3 would disagree on who owns it.
  Sim sim(3, one_service({1, 2, 3}), QuorumLossPolicy::kStop);
  sim.partition({{1, 2, 3}});
  ASSERT_EQ(sim.copies("web"), std::vector<NodeId>{1});
  sim.reconfigure(2, one_service({3, 2, 1}));
  EXPECT_EQ(sim.node(3).ledger.disagreeing(), std::vector<NodeId>{2});
  EXPECT_FALSE(sim.node(3).ledger.agreed("web"));
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{1});  // a running copy stays
  sim.partition({{2, 3}});
  EXPECT_TRUE(sim.copies("web").empty());
  // Node 3 reloads the same policy: they agree again, and the new first choice starts it.
  sim.reconfigure(3, one_service({3, 2, 1}));
  EXPECT_TRUE(sim.node(2).ledger.disagreeing().empty());
  EXPECT_EQ(sim.copies("web"), std::vector<NodeId>{3});
}

TEST(Ledger, AnAnnouncementWithoutFingerprintsDoesNotBlock) {
  Ledger l(one_service({1, 2}));
  l.apply_membership({{1, 2}, {1, 2}, {}});
  l.apply_announcement(1, {{}, {}, {}, l.fingerprints()});
  l.apply_announcement(2, {});  // said nothing about its settings
  EXPECT_TRUE(l.agreed("web"));
  EXPECT_TRUE(l.disagreeing().empty());
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kStart);
  l.apply_announcement(2, {{}, {}, {}, PlacementFingerprints{}});  // places nothing
  EXPECT_FALSE(l.agreed("web"));
  EXPECT_EQ(l.decide("web", 1, false, true, QuorumLossPolicy::kStop).action, LocalAction::kWait);
}

TEST(Ledger, RandomReloadsNeverMakeTwoCopies) {
  const std::vector<std::vector<ServicePlacement>> configs = {
      {{"a", {1, 2, 3, 4, 5}, false, false}, {"b", {5, 4}, false, false}},
      {{"a", {5, 4, 3, 2, 1}, false, false}, {"b", {4, 5}, true, false}},
      {{"a", {2, 1}, true, false}},  // b is no longer clustered here
  };
  for (unsigned seed = 1; seed <= 100; ++seed) {
    std::mt19937 rng(seed);
    Sim sim(5, configs[0], QuorumLossPolicy::kStop);
    sim.partition({{1, 2, 3, 4, 5}});
    std::vector<std::size_t> config_of(6, 0);
    for (int step = 0; step < 20; ++step) {
      if (step % 3 == 0) {
        std::vector<std::vector<NodeId>> groups(2);
        for (NodeId n = 1; n <= 5; ++n) {
          int g = std::uniform_int_distribution<int>(0, 2)(rng);
          if (g > 0) groups[g - 1].push_back(n);
        }
        std::erase_if(groups, [](const auto& g) { return g.empty(); });
        sim.partition(groups);  // settle() checks at most one copy per quorate partition
      }
      auto n = static_cast<NodeId>(std::uniform_int_distribution<int>(1, 5)(rng));
      config_of[n] = std::uniform_int_distribution<std::size_t>(0, configs.size() - 1)(rng);
      sim.reconfigure(n, configs[config_of[n]]);
    }
    // Once every node runs the same policy, placement resumes: one copy of each service.
    const std::size_t final_config = seed % configs.size();
    sim.partition({{1, 2, 3, 4, 5}});
    for (NodeId n = 1; n <= 5; ++n) sim.reconfigure(n, configs[final_config]);
    for (const auto& s : configs[final_config])
      ASSERT_EQ(sim.copies(s.name).size(), 1u) << "seed " << seed << " " << s.name;
  }
}

TEST(FenceAgentStdin, AddsActionAndVictim) {
  EXPECT_EQ(fence_agent_stdin({{"ip", "10.0.0.9"}, {"username", "admin"}}, "n3", false),
            "ip=10.0.0.9\nusername=admin\naction=off\nnodename=n3\n");
  EXPECT_EQ(fence_agent_stdin({{"action", "reboot"}}, "n3", true), "action=reboot\nport=n3\n");
  EXPECT_EQ(fence_agent_stdin({{"port", "7"}}, "n3", true), "port=7\naction=off\n");
}

}  // namespace
}  // namespace amata::cluster
