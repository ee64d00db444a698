// Three Corosync nodes in network namespaces, each running the real amatad with a policy that
// declares a cluster and one clustered service (a TCP listener on the node's port 8080): the
// service runs on exactly one node through corosync deaths, link cuts, heals and reloads, and
// every node's cluster view (read over its console socket, as amatactl reads it) holds the
// same history in the same order at the same positions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "engine/console/client.h"
#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"

namespace amata::cluster::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

/// The test policy; `web_settings` goes inside the service block (placement lines).
std::string policy(const std::string& web_settings) {
  return R"(policy amatad_cluster
cluster demo { group "amata-demo"; on_quorum_loss stop }
peer n1 { node_id 1 }
peer n2 { node_id 2 }
peer n3 { node_id 3 }
service web {
  start "/usr/bin/python3" "-m" "http.server" "--bind" "0.0.0.0" "8080"
  stop TERM then KILL after 2s
)" + web_settings +
         R"(
}
discover lost(p: peer) when not p.member raise PeerLost(p)
event PeerLost(p: peer) notify_only
)";
}
const std::string kClustered = "  clustered\n  prefer n1 n2 n3";

class AmatadClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
    h_ = std::make_unique<ClusterHarness>(3, TotemSettings{}, AMATAD_PATH);
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    write_policy("policy.amata", kClustered);
    run_amatad(*h_, AMATAD_PATH);
    h_->start_all();
    // One copy is not enough: two nodes may form the cluster first and the third join later,
    // and a test must start from all three in one membership.
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          return one_copy({1, 2, 3}) && settled();
        },
        seconds(40)))
        << "the cluster never settled with the service on exactly one node\n"
        << h_->logs();
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);  // before any test cuts a link
  }
  void TearDown() override {
    if (!h_) return;
    // SIGTERM: each amatad stops the copy it runs before the harness removes the namespaces.
    for (int i = 1; i <= h_->nodes(); ++i) h_->stop_node(i, SIGTERM, std::chrono::seconds(10));
  }

  void write_policy(const std::string& file, const std::string& web_settings) {
    std::ofstream(h_->dir() + "/" + file) << policy(web_settings);
  }

  bool one_copy(const std::vector<int>& allowed) const {
    auto serving = h_->serving();
    return serving.size() == 1 &&
           std::find(allowed.begin(), allowed.end(), serving[0]) != allowed.end();
  }
  /// Exactly one copy on a node of `allowed`, and still so `hold` later.
  bool stays_one_copy(const std::vector<int>& allowed, seconds hold) const {
    auto until = std::chrono::steady_clock::now() + hold;
    while (std::chrono::steady_clock::now() < until) {
      if (!one_copy(allowed)) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return true;
  }
  int owner() const {
    auto s = h_->serving();
    return s.size() == 1 ? s[0] : 0;
  }
  static std::vector<int> others(int except) {
    std::vector<int> out;
    for (int i = 1; i <= 3; ++i)
      if (i != except) out.push_back(i);
    return out;
  }
  static std::string name(int i) { return "n" + std::to_string(i); }

  /// One console command to node i's amatad; its result (an empty object on any failure).
  json call(int i, const std::string& cmd, const json& args = json::object()) const {
    return amatad_call(*h_, i, cmd, args);
  }
  /// Node i's cluster view, oldest first (`amatactl events --cluster`).
  json history(int i) const {
    json r = call(i, "events", {{"cluster", true}, {"limit", 100000}});
    return r.value("events", json::array());
  }
  /// The `state` node i's status shows for its object `name`.
  std::string object_state(int i, const std::string& name) const {
    for (const auto& o : call(i, "status").value("objects", json::array()))
      if (o.value("name", "") == name) return o.value("state", "");
    return "";
  }
  /// Node i's status `cluster` object.
  json cluster_status(int i) const { return call(i, "status").value("cluster", json::object()); }
  /// Every amatad is joined, quorate and synced, and sees all three nodes as members with an
  /// amatad in the group.
  bool settled() const {
    for (int i = 1; i <= 3; ++i) {
      json c = cluster_status(i);
      if (!c.value("connected", false) || !c.value("quorate", false) || !c.value("synced", false))
        return false;
      const json peers = c.value("peers", json::array());
      if (peers.size() != 3) return false;
      for (const auto& p : peers)
        if (!p.value("member", false) || !p.value("amatad", false)) return false;
    }
    return true;
  }

  /// The same entry on two nodes: an event or action by its origin and its id there, a
  /// membership change by its position and text (the same change may happen twice).
  static std::string identity(const json& e) {
    if (e.value("type", "") == "membership") return e["position"].dump() + e.value("message", "");
    return e.value("node", "") + "#" + e.value("origin_id", json()).dump();
  }
  /// The entries both histories hold appear in the same order and at the same position on
  /// both; returns how many they share.
  static std::size_t check_same_history(const json& a, const json& b, int na, int nb) {
    std::map<std::string, std::size_t> index_in_b;
    for (std::size_t k = 0; k < b.size(); ++k) index_in_b[identity(b[k])] = k;
    std::size_t shared = 0, last = 0;
    for (const auto& e : a) {
      auto it = index_in_b.find(identity(e));
      if (it == index_in_b.end()) continue;
      if (shared > 0) {
        EXPECT_GT(it->second, last) << "n" << na << " and n" << nb << " differ at " << e.dump();
      }
      EXPECT_EQ(e["position"], b[it->second]["position"])
          << "n" << na << " and n" << nb << " place " << e.dump() << " differently";
      last = it->second;
      ++shared;
    }
    return shared;
  }
  /// Entries of `h` matching every key/value of `want`.
  static std::vector<json> find(const json& h, const json& want) {
    std::vector<json> out;
    for (const auto& e : h) {
      bool all = true;
      for (const auto& [k, v] : want.items()) {
        if (k == "data") {
          for (const auto& [dk, dv] : v.items())
            all = all && e.contains("data") && e["data"].value(dk, json()) == dv;
        } else {
          all = all && e.value(k, json()) == v;
        }
      }
      if (all) out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<ClusterHarness> h_;
};

TEST_F(AmatadClusterTest, KillingTheOwnersCorosyncMovesTheServiceToOneSurvivor) {
  int o = owner();
  ASSERT_NE(o, 0);
  // The nodes that do not run it may take it over: standby, not "unmonitored".
  EXPECT_EQ(object_state(o, "web"), "running");
  for (int i : others(o)) EXPECT_EQ(object_state(i, "web"), "standby") << "n" << i;
  h_->kill_corosync(o);
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy(others(o)); }, seconds(30)))
      << h_->logs();
  EXPECT_TRUE(stays_one_copy(others(o), seconds(3))) << h_->logs();
  const int taker = owner();
  const auto s = others(o);

  // Every survivor's cluster view holds o's departure, the taker's start of the service and
  // both survivors' PeerLost events, in one order at the same positions.
  const json left = {{"type", "membership"}};
  const json started = {{"type", "action"},
                        {"node", name(taker)},
                        {"object", "web"},
                        {"data", {{"kind", "start"}, {"outcome", "ok"}}}};
  json views[4];
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        for (int i : s) {
          views[i] = history(i);
          bool departure = false;
          for (const auto& m : find(views[i], left))
            departure = departure || m["message"].get<std::string>().find(
                                         "left " + name(o) + " (node down)") != std::string::npos;
          if (!departure || find(views[i], started).empty()) return false;
          for (int j : s)
            if (find(views[i], {{"event", "PeerLost"}, {"node", name(j)}}).empty()) return false;
        }
        return true;
      },
      seconds(10)))
      << views[s[0]].dump(1) << "\n"
      << views[s[1]].dump(1) << "\n"
      << h_->logs();
  EXPECT_GE(check_same_history(views[s[0]], views[s[1]], s[0], s[1]), 4u);

  // The status of a survivor shows the new placement and the departed node.
  json c = cluster_status(s[0]);
  EXPECT_TRUE(c.value("quorate", false)) << c.dump(1);
  ASSERT_EQ(c["services"].size(), 1u) << c.dump(1);
  EXPECT_EQ(c["services"][0]["owner"], name(taker));
  EXPECT_EQ(c["services"][0]["holders"], json::array({name(taker)}));
  for (const auto& p : c["peers"]) {
    EXPECT_EQ(p["member"].get<bool>(), p["id"].get<int>() != o) << p.dump();
    if (p["id"].get<int>() == taker) {
      EXPECT_EQ(p["runs"], json::array({"web"}));
    }
  }

  // Corosync comes back: o's amatad reconnects by itself, rejoins (a membership entry in its
  // own view, naming it as joined) and the copy stays where it went.
  h_->start_corosync(o);
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return settled(); }, seconds(30)))
      << cluster_status(o).dump(1) << h_->logs();
  // o records its own join in the real ring, not "0.0". When its amatad joined the others'
  // ring (the usual case), the others record that join at the same position; when it joined
  // while its corosync was still alone, only o has that entry, and the merge that followed
  // is recorded by each side in the ring it came from (docs/operations.md).
  const std::vector<json> mine = find(history(o), left);
  json rejoin;
  for (const auto& m : mine) {
    const json joined = m["data"].value("joined", json::array());
    if (std::find(joined.begin(), joined.end(), json(name(o))) != joined.end()) rejoin = m;
  }
  ASSERT_FALSE(rejoin.is_null()) << json(mine).dump(1);
  EXPECT_NE(rejoin["position"]["ring"], "0.0") << rejoin.dump();
  if (rejoin["data"]["members"].size() == 3 && rejoin["data"]["joined"].size() == 1) {
    EXPECT_TRUE(ClusterHarness::wait_until(
        [&] {
          return !find(history(taker), {{"type", "membership"}, {"position", rejoin["position"]}})
                      .empty();
        },
        seconds(10)))
        << rejoin.dump() << "\n"
        << history(taker).dump(1);
  }
  EXPECT_TRUE(stays_one_copy({taker}, seconds(2))) << h_->logs();
}

// Corosync's libraries wait for every answer with no timeout. A stopped corosync (SIGSTOP, a
// paused VM) must hold only amatad's corosync thread, never its loop: the node's services,
// console and rules keep working while the cluster waits for it.
TEST_F(AmatadClusterTest, AStoppedCorosyncNeverStallsTheNodesAmatad) {
  const int o = owner();
  ASSERT_NE(o, 0);
  h_->signal_corosync(o, SIGSTOP);
  // A reload (the same policy) publishes the reload event on the bus: a message for the
  // stopped corosync.
  const json reloaded = amatad_call(*h_, o, "reload", json::object(), seconds(20));
  EXPECT_TRUE(reloaded.contains("policy")) << reloaded.dump() << h_->logs();
  // The loop keeps turning: the console answers, again and again.
  for (int k = 0; k < 5; ++k) {
    const json status = amatad_call(*h_, o, "status", json::object(), seconds(3));
    ASSERT_TRUE(status.contains("objects")) << "n" << o << "'s console stopped answering\n"
                                            << h_->logs();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  // Continued, corosync finds the ring moved on without it; the node rejoins and the
  // cluster ends with one copy (the survivors took the service over meanwhile: without a
  // watchdog nothing stopped this node's copy, which is what `watchdog` is for).
  h_->signal_corosync(o, SIGCONT);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        return settled() && one_copy({1, 2, 3});
      },
      seconds(40)))
      << h_->logs();
}

// A node the cluster does not place the service on refuses to start a copy by hand: it would
// be a second one. The node that runs it may still restart it.
TEST_F(AmatadClusterTest, AClusteredServiceIsNeverStartedByHandWhereItIsNotPlaced) {
  const int o = owner();
  ASSERT_NE(o, 0);
  for (int i : others(o)) {
    auto client = console::ConsoleClient::connect(
        h_->dir() + "/amatad" + std::to_string(i) + ".sock", nullptr, seconds(2));
    ASSERT_TRUE(client) << client.error().message;
    for (const char* verb : {"start", "restart", "monitor"}) {
      auto reply = client->call(verb, {{"object", "web"}}, seconds(10));
      ASSERT_TRUE(reply) << reply.error().message;
      EXPECT_FALSE(reply->value("ok", true)) << verb << " on n" << i << ": " << reply->dump();
      EXPECT_EQ((*reply)["error"].value("code", ""), "placed_elsewhere") << reply->dump();
    }
  }
  EXPECT_TRUE(stays_one_copy({o}, seconds(3))) << h_->logs();
  const json restarted =
      amatad_call(*h_, o, "restart", {{"object", "web"}, {"wait", true}}, seconds(15));
  EXPECT_EQ(restarted.value("outcome", ""), "ok") << restarted.dump();
  EXPECT_TRUE(stays_one_copy({o}, seconds(2))) << h_->logs();
}

// Stopping amatad leaves the group; a stopped corosync never answers that, and amatad stops
// anyway, soon after the session's 2 s wait, saying so.
TEST_F(AmatadClusterTest, AmatadStopsWhileItsCorosyncIsStopped) {
  const int o = owner();
  ASSERT_NE(o, 0);
  const int n = others(o)[0];  // runs no copy: its own stop is quick
  h_->signal_corosync(n, SIGSTOP);
  EXPECT_TRUE(h_->stop_node(n, SIGTERM, seconds(10))) << "n" << n << "'s amatad hung\n"
                                                      << h_->logs();
  std::ifstream in(h_->dir() + "/n" + std::to_string(n) + "/node.log");
  const std::string log{std::istreambuf_iterator<char>(in), {}};
  EXPECT_NE(log.find("corosync did not answer the leave"), std::string::npos) << log;
  h_->signal_corosync(n, SIGCONT);
}

TEST_F(AmatadClusterTest, CutOffOwnerStopsItsCopyTheMajorityStartsOneHealKeepsOne) {
  int o = owner();
  ASSERT_NE(o, 0);
  h_->set_link(o, false);
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy(others(o)); }, seconds(30)))
      << h_->logs();
  int moved_to = owner();
  // The isolated node's own view says it lost quorum and stopped its copy for that reason.
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        json c = cluster_status(o);
        return c.contains("quorate") && !c["quorate"].get<bool>() &&
               !find(history(o), {{"type", "action"},
                                  {"node", name(o)},
                                  {"object", "web"},
                                  {"data", {{"kind", "stop"}}}})
                    .empty();
      },
      seconds(10)))
      << history(o).dump(1);
  // Without quorum nothing is placed there: no owner, and nothing runs.
  json isolated = cluster_status(o);
  ASSERT_EQ(isolated["services"].size(), 1u) << isolated.dump(1);
  EXPECT_TRUE(isolated["services"][0]["owner"].is_null()) << isolated.dump(1);
  EXPECT_EQ(isolated["services"][0]["here"], "stopped") << isolated.dump(1);
  h_->set_link(o, true);
  std::this_thread::sleep_for(seconds(5));  // the partitions merge
  EXPECT_TRUE(stays_one_copy({moved_to}, seconds(3))) << h_->logs();
  json views[4];
  for (int i = 1; i <= 3; ++i) views[i] = history(i);
  for (int i = 1; i <= 3; ++i)
    for (int j = i + 1; j <= 3; ++j) check_same_history(views[i], views[j], i, j);
  auto s = others(o);
  EXPECT_GE(check_same_history(views[s[0]], views[s[1]], s[0], s[1]), 4u);
  // After the heal all three delivered the merge: the isolated node shares history again.
  EXPECT_GE(check_same_history(views[o], views[moved_to], o, moved_to), 1u)
      << views[o].dump(1) << "\n"
      << views[moved_to].dump(1);
}

// `prefer n1 n2 n3` holds when the nodes start together, whichever amatad joins first: a
// service that runs nowhere waits a few seconds after joining for a node preferred to this
// one (ClusterConfig::formation_settle, 5 s).
TEST_F(AmatadClusterTest, NodesStartedTogetherPlaceTheServiceAsPreferred) {
  for (int i = 1; i <= 3; ++i) h_->stop_node(i, SIGTERM, seconds(10));
  ASSERT_TRUE(ClusterHarness::wait_until([&] { return h_->serving().empty(); }, seconds(10)));
  // The least preferred first, the most preferred last, a second apart.
  for (int i : {3, 2, 1}) {
    h_->start_node(i);
    if (i != 1) std::this_thread::sleep_for(seconds(1));
  }
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy({1}) && settled(); }, seconds(30)))
      << h_->logs();
  EXPECT_TRUE(stays_one_copy({1}, seconds(2))) << h_->logs();
}

// A takeover never waits for that window: a node that has just rejoined, whose better-
// preferred owner then dies, starts the service at once rather than wait for the dead node.
TEST_F(AmatadClusterTest, ARejoinedNodeTakesOverAtOnceWhenTheOwnerDiesWithinItsFirstSeconds) {
  ASSERT_EQ(owner(), 1);
  h_->stop_node(2, SIGTERM, seconds(10));
  const std::string log_path = h_->dir() + "/n2/node.log";
  const auto before = std::filesystem::file_size(log_path);  // the log is appended to
  const auto restarted = std::chrono::steady_clock::now();
  h_->start_node(2);  // its formation window: 5 s from its join
  ASSERT_TRUE(ClusterHarness::wait_until([&] { return settled(); }, seconds(20))) << h_->logs();
  h_->crash_node(1);
  const auto crashed = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy({2}); }, seconds(20))) << h_->logs();
  std::ifstream in(log_path);
  in.seekg(static_cast<std::streamoff>(before));
  const std::string log{std::istreambuf_iterator<char>(in), {}};
  EXPECT_EQ(log.find("web waits for a node preferred to this one"), std::string::npos)
      << "n2 waited for the dead n1 (crash "
      << std::chrono::duration_cast<std::chrono::milliseconds>(crashed - restarted).count()
      << " ms after n2's restart)\n"
      << log;
}

TEST_F(AmatadClusterTest, WithFailbackThePreferredNodeTakesItBackWhenItRejoins) {
  for (int i = 1; i <= 3; ++i) h_->stop_node(i, SIGTERM, seconds(10));
  ASSERT_TRUE(ClusterHarness::wait_until([&] { return h_->serving().empty(); }, seconds(10)));
  write_policy("policy.amata", kClustered + "\n  failback");
  h_->start_all();
  ASSERT_TRUE(ClusterHarness::wait_until([&] { return one_copy({1}) && settled(); }, seconds(40)))
      << h_->logs();
  // n1's amatad leaves: the service goes to n2, the next in `prefer`.
  h_->stop_node(1, SIGTERM, seconds(10));
  ASSERT_TRUE(ClusterHarness::wait_until([&] { return one_copy({2}); }, seconds(30))) << h_->logs();
  // n1 comes back: the service moves back to it, the copy on n2 stopping first.
  h_->start_node(1);
  std::size_t most = 0;
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        most = std::max(most, h_->serving().size());
        return one_copy({1}) && settled();
      },
      seconds(40)))
      << h_->logs();
  EXPECT_LE(most, 1u) << "two copies while it moved back";
  EXPECT_TRUE(stays_one_copy({1}, seconds(2))) << h_->logs();
}

TEST_F(AmatadClusterTest, ReloadsChangePlacementOnlyOnceEveryNodeAgrees) {
  int o = owner();
  ASSERT_NE(o, 0);
  // One node reloads other preferences: the others see that it places `web` differently.
  write_policy("reversed.amata", "  clustered\n  prefer n3 n2 n1");
  const std::string reversed = h_->dir() + "/reversed.amata";
  ASSERT_TRUE(call(1, "reload", {{"file", reversed}}).contains("policy"));
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] { return cluster_status(2).value("config_mismatch", json()) == json::array({"n1"}); },
      seconds(10)))
      << cluster_status(2).dump(1);
  EXPECT_TRUE(one_copy({o}));
  for (int i : {2, 3}) ASSERT_TRUE(call(i, "reload", {{"file", reversed}}).contains("policy"));
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        for (int i = 1; i <= 3; ++i)
          if (cluster_status(i).value("config_mismatch", json()) != json::array()) return false;
        return true;
      },
      seconds(10)));
  EXPECT_TRUE(stays_one_copy({o}, seconds(2))) << "a running copy moved on a reload";

  // No longer clustered: every node runs its own copy, as for any other service.
  write_policy("local.amata", "");
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(call(i, "reload", {{"file", h_->dir() + "/local.amata"}}).contains("policy"));
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return h_->serving().size() == 3; }, seconds(15)))
      << h_->logs();

  // Clustered again: the best-ranked holder keeps its copy, the others stop theirs.
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(call(i, "reload", {{"file", reversed}}).contains("policy"));
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy({3}); }, seconds(15))) << h_->logs();
  EXPECT_TRUE(stays_one_copy({3}, seconds(2))) << h_->logs();
  json c = cluster_status(1);
  ASSERT_EQ(c["services"].size(), 1u) << c.dump(1);
  EXPECT_EQ(c["services"][0]["owner"], "n3");

  // Restricted to n3 and n2: n2 may take it over, n1 never.
  write_policy("restricted.amata", "  clustered\n  prefer n3 n2\n  only_preferred");
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(call(i, "reload", {{"file", h_->dir() + "/restricted.amata"}}).contains("policy"));
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] { return object_state(1, "web") == "not-here" && object_state(2, "web") == "standby"; },
      seconds(10)))
      << call(1, "status").dump(1);
  EXPECT_TRUE(stays_one_copy({3}, seconds(1))) << h_->logs();
}

}  // namespace
}  // namespace amata::cluster::testing
