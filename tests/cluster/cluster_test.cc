// Three Corosync nodes in network namespaces, each with a cluster_node running the clustered
// demo service: the service must run on exactly one node of the quorate partition through
// corosync deaths, link cuts and heals, and every node must hold the same ordered history.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "tests/cluster/cluster_harness.h"

namespace amata::cluster::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class ClusterTest : public ::testing::Test {
 protected:
  virtual std::vector<std::string> node_args() const { return {"--prefer", "n1,n2,n3"}; }
  void SetUp() override {
    h_ = std::make_unique<ClusterHarness>(3, TotemSettings{}, CLUSTER_NODE_PATH, node_args());
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    h_->start_all();
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          return h_->settled({1, 2, 3}) && one_copy({1, 2, 3});
        },
        seconds(30)))
        << "the cluster never settled with one copy\n"
        << h_->logs();
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);  // before any test cuts a link
  }

  /// Exactly one copy runs, on a node of `allowed`: by probing every node's address from its
  /// own namespace, and by the state files of all nodes.
  bool one_copy(const std::vector<int>& allowed) const {
    auto serving = h_->serving();
    if (serving.size() != 1) return false;
    if (std::find(allowed.begin(), allowed.end(), serving[0]) == allowed.end()) return false;
    for (int i = 1; i <= h_->nodes(); ++i)
      if (h_->state(i).value("running", false) != (i == serving[0])) return false;
    return true;
  }
  int owner() const {
    auto s = h_->serving();
    return s.size() == 1 ? s[0] : 0;
  }

  std::unique_ptr<ClusterHarness> h_;
};

/// The best-ranked of `nodes` under the tests' preference list n1, n2, n3.
int best(const std::vector<int>& nodes) {
  return *std::min_element(nodes.begin(), nodes.end());
}

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::vector<int> others(int n, int except) {
  std::vector<int> out;
  for (int i = 1; i <= n; ++i)
    if (i != except) out.push_back(i);
  return out;
}

TEST(ClusterHarnessTest, CleansUpItsNamespaces) {
  std::string ns;
  {
    ClusterHarness h(2, TotemSettings{}, CLUSTER_NODE_PATH);
    if (!h.usable()) GTEST_SKIP() << h.why();
    ns = h.netns(1);
    EXPECT_EQ(access(("/run/netns/" + ns).c_str(), F_OK), 0);
  }
  EXPECT_NE(access(("/run/netns/" + ns).c_str(), F_OK), 0);
}

// docs/operations.md shows one corosync.conf; the harness runs exactly that text (only the
// addresses and the key file's path differ, and logging and state_dir are added), and
// `corosync -t` accepts it on every node.
TEST(ClusterHarnessTest, RunsTheDocumentedCorosyncConf) {
  const std::string documented = ClusterHarness::documented_corosync_conf();
  ASSERT_FALSE(documented.empty()) << "no <!-- corosync.conf: --> block in docs/operations.md";
  EXPECT_NE(documented.find("\n  keyfile: /etc/corosync/authkey\n"), std::string::npos);
  EXPECT_NE(documented.find("\n  crypto_cipher: aes256\n"), std::string::npos);
  ClusterHarness h(3, TotemSettings{}, CLUSTER_NODE_PATH);
  if (!h.usable()) GTEST_SKIP() << h.why();
  for (int i = 1; i <= 3; ++i) {
    std::ifstream in(h.corosync_conf_path(i));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string conf = ss.str();
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"ring0_addr: 10.250.0.", "ring0_addr: 10.0.0."},
          {"keyfile: " + h.dir() + "/authkey", "keyfile: /etc/corosync/authkey"}})
      for (auto at = conf.find(from); at != std::string::npos; at = conf.find(from, at))
        conf.replace(at, from.size(), to);
    ASSERT_EQ(conf.substr(0, documented.size()), documented) << "node " << i;
    // What follows is only where this instance logs and keeps its state.
    EXPECT_EQ(conf.find("totem", documented.size()), std::string::npos) << conf;
    EXPECT_EQ(conf.find("nodelist", documented.size()), std::string::npos) << conf;
    const std::string check =
        "ip netns exec " + h.netns(i) + " corosync -t -c " + h.corosync_conf_path(i) + " 2>&1";
    EXPECT_EQ(std::system(check.c_str()), 0) << check;
  }
}

// Which node runs it first depends on the order in which the nodes joined (a running copy is
// never moved to a better node that joins later); that all nodes agree does not.
TEST_F(ClusterTest, AllNodesAgreeOnTheOwnerAndSeeEveryPeer) {
  int o = owner();
  ASSERT_NE(o, 0);
  for (int i = 1; i <= 3; ++i) {
    auto s = h_->state(i);
    EXPECT_EQ(s["owner"], o) << "node " << i;
    ASSERT_EQ(s["peers"].size(), 3u);
    for (const auto& p : s["peers"]) {
      EXPECT_TRUE(p["member"].get<bool>());
      EXPECT_TRUE(p["quorate"].get<bool>());
      EXPECT_EQ(p["name"], "n" + std::to_string(p["node_id"].get<int>()));
    }
  }
}

TEST_F(ClusterTest, KillingTheOwnersCorosyncMovesTheServiceToOneSurvivor) {
  int o = owner();
  ASSERT_NE(o, 0);
  h_->kill_corosync(o);
  auto survivors = others(3, o);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] { return h_->settled(survivors) && one_copy(survivors); }, seconds(15)))
      << h_->logs();
  int moved_to = owner();
  EXPECT_EQ(moved_to, best(survivors)) << "not the preferred survivor";
  // The survivors' peer view: the dead node is no longer a member; they are quorate.
  for (int i : survivors) {
    json st = h_->state(i);
    for (const auto& p : st["peers"]) {
      EXPECT_EQ(p["member"].get<bool>(), p["node_id"] != o) << "n" << i << ": " << p;
      EXPECT_TRUE(p["quorate"].get<bool>());
    }
  }
  // The node without corosync says so, and keeps trying.
  json lonely = h_->state(o);
  EXPECT_FALSE(lonely.value("connected", true));
  EXPECT_NE(lonely["log"].dump().find("corosync unavailable"), std::string::npos);
  // corosync comes back: the node reconnects and rejoins; the service stays where it is.
  h_->start_corosync(o);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        return h_->settled({1, 2, 3}) && one_copy({moved_to});
      },
      seconds(20)))
      << h_->logs();
  std::string log = h_->state(o)["log"].dump();
  EXPECT_NE(log.find("joined CPG group", log.rfind("corosync unavailable")), std::string::npos)
      << "no rejoin logged after the loss";
}

// A node cut off alone is, for a few ms, the only member of its CPG group while the quorum
// service still calls its old partition quorate: it must not start a copy in that window.
TEST_F(ClusterTest, IsolatedNonOwnerNeverStartsACopy) {
  int o = owner();
  ASSERT_NE(o, 0);
  int x = o == 3 ? 2 : 3;
  double cut_at = wall_seconds();
  h_->set_link(x, false);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] { return h_->settled(others(3, x)) && !h_->state(x).value("quorate", true); },
      seconds(15)))
      << h_->logs();
  std::this_thread::sleep_for(seconds(1));
  EXPECT_TRUE(one_copy({o}));
  json isolated = h_->state(x);
  ASSERT_TRUE(isolated.contains("log"));
  for (const auto& line : isolated["log"]) {
    std::string text = line.get<std::string>();
    if (std::strtod(text.c_str(), nullptr) < cut_at) continue;
    EXPECT_EQ(text.find("spawned"), std::string::npos) << text;
  }
}

TEST_F(ClusterTest, FailoverRequestsOnTheBusMoveTheService) {
  int o = owner();
  ASSERT_NE(o, 0);
  int next = best(others(3, o));
  h_->signal_node(next, SIGUSR1);  // `failover demo`: to the best other node
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy({next}); }, seconds(10)))
      << h_->logs();
  h_->signal_node(o, SIGUSR2);  // `failover demo to n3` (next is never n3)
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy({3}); }, seconds(10))) << h_->logs();
}

// With a fence command, the node that takes over fences the departed holder first, with the
// fence-agents convention on the agent's stdin. The "agent" here appends its stdin to a file.
class FencedClusterTest : public ClusterTest {
 protected:
  std::vector<std::string> node_args() const override {
    return {"--prefer", "n1,n2,n3", "--fence", "tee -a {dir}/fence.log"};
  }
};

TEST_F(FencedClusterTest, SurvivorFencesTheCutOffOwnerBeforeStartingIt) {
  int o = owner();
  ASSERT_NE(o, 0);
  int next = best(others(3, o));
  h_->set_link(o, false);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] { return h_->settled(others(3, o)) && one_copy({next}); }, seconds(15)))
      << h_->logs();
  std::ifstream in(h_->dir() + "/fence.log");
  std::stringstream fence_input;
  fence_input << in.rdbuf();
  EXPECT_EQ(fence_input.str(), "action=off\nnodename=n" + std::to_string(o) + "\n");
  json taker = h_->state(next);
  std::size_t fenced_at = std::string::npos, started_at = std::string::npos, k = 0;
  for (const auto& line : taker["log"]) {
    std::string text = line.get<std::string>();
    if (text.find("fenced n" + std::to_string(o)) != std::string::npos &&
        fenced_at == std::string::npos)
      fenced_at = k;
    if (text.find("spawned") != std::string::npos) started_at = k;
    ++k;
  }
  EXPECT_LT(fenced_at, started_at) << "started before fencing\n" << h_->logs();
}

// With `freeze`, a cut-off owner keeps its copy while the majority starts another; on heal
// both are announced and the better-ranked holder keeps it, the other stops.
class FreezeClusterTest : public ClusterTest {
 protected:
  std::vector<std::string> node_args() const override {
    return {"--prefer", "n1,n2,n3", "--policy", "freeze"};
  }
};

TEST_F(FreezeClusterTest, HealResolvesTheDuplicateInFavourOfThePreferredHolder) {
  int o = owner();
  ASSERT_NE(o, 0);
  int next = best(others(3, o));
  std::vector<int> both = {std::min(o, next), std::max(o, next)};
  h_->set_link(o, false);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        return h_->settled(others(3, o)) && h_->serving() == both &&
               !h_->state(o).value("quorate", true);
      },
      seconds(15)))
      << h_->logs();
  h_->set_link(o, true);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        return h_->settled({1, 2, 3}) && one_copy({best(both)});
      },
      seconds(20)))
      << h_->logs();
}

// The histories of two nodes: the entries both delivered appear in the same order and at the
// same (ring, view, seq) position on both. An event is known by its body (each is numbered);
// a membership change by its position and body, since the same change may happen twice.
// Returns how many entries they share.
std::size_t check_same_order(const json& a, const json& b, int na, int nb) {
  auto position = [](const json& e) {
    return e["ring"].get<std::string>() + "/" + std::to_string(e["view"].get<std::uint32_t>()) +
           "/" + std::to_string(e["seq"].get<std::uint64_t>());
  };
  auto key = [&](const json& e) {
    return e["kind"] == "membership" ? position(e) + e["body"].dump() : e["body"].dump();
  };
  std::map<std::string, std::size_t> index_in_b;
  for (std::size_t k = 0; k < b.size(); ++k) index_in_b[key(b[k])] = k;
  std::size_t shared = 0, last = 0;
  for (const auto& e : a) {
    auto it = index_in_b.find(key(e));
    if (it == index_in_b.end()) continue;
    if (shared > 0) {
      EXPECT_GT(it->second, last) << "n" << na << " and n" << nb << " differ at " << e.dump();
    }
    EXPECT_EQ(position(e), position(b[it->second]))
        << "n" << na << " and n" << nb << " place " << e["body"].dump() << " differently";
    last = it->second;
    ++shared;
  }
  return shared;
}

TEST_F(ClusterTest, IsolatedOwnerStopsMajorityTakesOverAndHealKeepsOneCopy) {
  int o = owner();
  ASSERT_NE(o, 0);
  auto majority = others(3, o);
  h_->set_link(o, false);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        auto iso = h_->state(o);
        return h_->settled(majority) && one_copy(majority) && !iso.value("quorate", true) &&
               !iso.value("running", true);
      },
      seconds(15)))
      << h_->logs();
  int moved_to = owner();

  h_->set_link(o, true);
  EXPECT_TRUE(ClusterHarness::wait_until(
      [&] {
        return h_->settled({1, 2, 3}) && one_copy({moved_to});
      },
      seconds(20)))
      << h_->logs();
  // Let a few more numbered events pass through the healed ring, then compare histories.
  std::this_thread::sleep_for(seconds(2));
  json history[4];
  for (int i = 1; i <= 3; ++i) history[i] = h_->state(i)["history"];
  for (int a = 1; a <= 3; ++a)
    for (int b = a + 1; b <= 3; ++b)
      EXPECT_GE(check_same_order(history[a], history[b], a, b), 8u)
          << "n" << a << " and n" << b << " share too few events";
  EXPECT_TRUE(one_copy({moved_to})) << h_->logs();
}

}  // namespace
}  // namespace amata::cluster::testing
