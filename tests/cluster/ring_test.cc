// The ring at the size one Corosync ring is meant for (docs/operations.md, "Growing past one
// Corosync ring"): 16 nodes in network namespaces, each a real corosync and a real amatad,
// with two clustered services placed at opposite ends of the ring. Every node sees every
// peer; a crashed owner's service runs on exactly one survivor; a partition of 5 of the 16
// stops the minority's copies while the majority keeps exactly one of each. Throughout, no
// service ever runs on two nodes. (The figures for 3 to 32 nodes: docs/benchmarks.md.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"

namespace amata::cluster::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kNodes = 16;
constexpr int kWeb = 8080;  // prefers n1, n2, …
constexpr int kDb = 8081;   // prefers n16, n15, …

std::string service(const std::string& name, int port, const std::string& prefer) {
  return "service " + name + " {\n  start \"/usr/bin/python3\" \"-S\" \"-m\" \"http.server\" " +
         "\"--bind\" \"0.0.0.0\" \"" + std::to_string(port) +
         "\"\n  stop TERM then KILL after 2s\n  clustered\n  prefer " + prefer + "\n}\n";
}

std::string reversed_node_list() {
  std::string out;
  for (int i = kNodes; i >= 1; --i) out += (out.empty() ? "n" : " n") + std::to_string(i);
  return out;
}

std::vector<int> range(int first, int last) {
  std::vector<int> out;
  for (int i = first; i <= last; ++i) out.push_back(i);
  return out;
}

class RingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
    // Sixteen nodes share this machine's two cores, which a real ring never does: token
    // 1000 (not the documented 300) tolerates the scheduling delays that brings, and
    // corosync runs without realtime priority, so that sixteen realtime main loops cannot
    // starve the threads that carry their packets. What is tested is behaviour; the failover
    // times with the documented settings are docs/benchmarks.md's.
    h_ = std::make_unique<ClusterHarness>(
        kNodes, TotemSettings{1000, 0, std::make_pair(200, 1000), /*realtime=*/false}, AMATAD_PATH);
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    std::ofstream(h_->dir() + "/policy.amata")
        << "policy ring\n"
        << ring_declarations(kNodes) << service("web", kWeb, node_list(1, kNodes))
        << service("db", kDb, reversed_node_list());
    run_amatad(*h_, AMATAD_PATH);
    // The ring first, then the amatads: sixteen policy compilations at once would compete
    // with the ring's formation.
    for (int i = 1; i <= kNodes; ++i) h_->start_corosync(i);
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          for (int i = 1; i <= kNodes; ++i)
            if (h_->quorum_members_seen(i) != kNodes) return false;
          return true;
        },
        seconds(120)))
        << "the ring of " << kNodes << " never formed\n"
        << h_->logs();
    for (int i = 1; i <= kNodes; ++i) h_->start_node(i);
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] { return amatads_settled(*h_, range(1, kNodes)) && one_of_each(range(1, kNodes)); },
        seconds(120)))
        << "the ring never settled with one copy of each service\n"
        << h_->logs();
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);  // before a fault (knet's MTU probe)
  }
  void TearDown() override {
    if (!h_) return;
    h_->heal();
    for (int i = 1; i <= kNodes; ++i) {
      if (!crashed_[i]) h_->stop_node(i, SIGTERM, seconds(10));
    }
  }

  // Exactly one copy of each service, on a node of `allowed`.
  bool one_of_each(const std::vector<int>& allowed) const {
    for (int port : {kWeb, kDb}) {
      auto s = h_->serving(port);
      if (s.size() != 1 || std::find(allowed.begin(), allowed.end(), s[0]) == allowed.end())
        return false;
    }
    return true;
  }
  // Every node of `which` knows it has no quorum and runs no clustered service.
  bool without_quorum_and_idle(const std::vector<int>& which) const {
    for (int i : which) {
      const json c = amatad_call(*h_, i, "status").value("cluster", json::object());
      if (c.empty() || c.value("quorate", true)) return false;
      for (const auto& s : c.value("services", json::array()))
        if (s.value("here", "") != "stopped") return false;
    }
    return true;
  }
  // Polls until `done` (true) or `limit` (false); fails the test the moment a service runs
  // on two nodes.
  bool watch(const std::function<bool()>& done, seconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      for (int port : {kWeb, kDb}) {
        const auto s = h_->serving(port);
        EXPECT_LE(s.size(), 1U) << "two copies of the service on port " << port;
        if (s.size() > 1) return false;
      }
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  std::unique_ptr<ClusterHarness> h_;
  std::array<bool, kNodes + 1> crashed_{};
};

TEST_F(RingTest, EveryNodeSeesEveryPeerAndACrashedOwnersServiceRunsOnOneSurvivor) {
  // Settled means each of the 16 lists all 16 peers as members with an amatad.
  const auto web = h_->serving(kWeb), db = h_->serving(kDb);
  ASSERT_EQ(web, std::vector<int>{1}) << "web is not on its first preference";
  ASSERT_EQ(db, std::vector<int>{kNodes}) << "db is not on its first preference";

  h_->crash_node(1);
  crashed_[1] = true;
  EXPECT_TRUE(watch([&] { return one_of_each(range(2, kNodes)); }, seconds(20)))
      << "web did not move to one survivor\n"
      << h_->logs();
  EXPECT_EQ(h_->serving(kWeb), std::vector<int>{2}) << "not the next preference";
  EXPECT_EQ(h_->serving(kDb), std::vector<int>{kNodes}) << "db moved, though its node lives";
  // The survivors agree the ring is the other 15.
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return amatads_settled(*h_, range(2, kNodes)); },
                                         seconds(30)))
      << h_->logs();
}

TEST_F(RingTest, APartitionOfFiveStopsTheMinoritysCopiesAndTheMajorityKeepsOneOfEach) {
  // web runs on n1, inside the five; db on n16, in the majority.
  const std::vector<int> minority = range(1, 5), majority = range(6, kNodes);
  h_->partition(minority);
  EXPECT_TRUE(watch(
      [&] {
        return one_of_each(majority) && amatads_settled(*h_, majority) &&
               without_quorum_and_idle(minority);
      },
      seconds(40)))
      << "the majority did not end with one copy of each\n"
      << h_->logs();
  EXPECT_EQ(h_->serving(kWeb), std::vector<int>{6}) << "not the majority's first preference";
  EXPECT_EQ(h_->serving(kDb), std::vector<int>{kNodes});
  EXPECT_FALSE(watch([] { return false; }, seconds(3)));  // and it stays so

  h_->heal();
  EXPECT_TRUE(
      watch([&] { return amatads_settled(*h_, range(1, kNodes)) && one_of_each(range(1, kNodes)); },
            seconds(60)))
      << "the ring did not heal to one copy of each\n"
      << h_->logs();
}

}  // namespace
}  // namespace amata::cluster::testing
