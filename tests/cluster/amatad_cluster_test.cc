// Three Corosync nodes in network namespaces, each running the real amatad with a policy that
// declares a cluster and one clustered service (a TCP listener on the node's port 8080): the
// service runs on exactly one node through corosync deaths, link cuts and heals.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/cluster/cluster_harness.h"

namespace amata::cluster::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kPolicy = R"(policy amatad_cluster
cluster demo { group "amata-demo"; on_quorum_loss stop }
peer n1 { node_id 1 }
peer n2 { node_id 2 }
peer n3 { node_id 3 }
service web {
  start "/usr/bin/python3" "-m" "http.server" "--bind" "0.0.0.0" "8080"
  stop TERM then KILL after 2s
  clustered
  prefer n1 n2 n3
}
discover lost(p: peer) when not p.member raise PeerLost(p)
event PeerLost(p: peer) notify_only
)";

class AmatadClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
    h_ = std::make_unique<ClusterHarness>(3, TotemSettings{}, AMATAD_PATH);
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    std::ofstream(h_->dir() + "/policy.amata") << kPolicy;
    h_->set_node_command([](int i) {
      std::string d = "{dir}/amatad" + std::to_string(i);
      return std::vector<std::string>{
          AMATAD_PATH, "{dir}/policy.amata", "--state-dir", d,     "--socket", d + ".sock",
          "--hooks",   d + "/no-hooks",      "--log-level", "info"};
    });
    h_->start_all();
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          return one_copy({1, 2, 3});
        },
        seconds(40)))
        << "the service never ran on exactly one node\n"
        << h_->logs();
  }
  void TearDown() override {
    if (!h_) return;
    // SIGTERM: each amatad stops the copy it runs before the harness removes the namespaces.
    for (int i = 1; i <= h_->nodes(); ++i) h_->stop_node(i, SIGTERM, std::chrono::seconds(10));
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
  /// The bus messages node i's amatad delivered, in order ("from N: BODY"), from its log.
  std::vector<std::string> bus(int i) const {
    std::ifstream in(h_->dir() + "/n" + std::to_string(i) + "/node.log");
    std::vector<std::string> out;
    const std::string mark = "cluster bus #";
    for (std::string line; std::getline(in, line);) {
      auto at = line.find(mark);
      if (at == std::string::npos) continue;
      auto from = line.find(" from node ", at);
      if (from != std::string::npos) out.push_back(line.substr(from + 1));
    }
    return out;
  }
  /// Every message both nodes delivered appears in the same order on both; how many there were.
  static std::size_t same_order(const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
    std::vector<std::string> common_a, common_b;
    for (const auto& m : a)
      if (std::find(b.begin(), b.end(), m) != b.end()) common_a.push_back(m);
    for (const auto& m : b)
      if (std::find(a.begin(), a.end(), m) != a.end()) common_b.push_back(m);
    EXPECT_EQ(common_a, common_b);
    return common_a.size();
  }
  static std::vector<int> others(int except) {
    std::vector<int> out;
    for (int i = 1; i <= 3; ++i)
      if (i != except) out.push_back(i);
    return out;
  }

  std::unique_ptr<ClusterHarness> h_;
};

TEST_F(AmatadClusterTest, KillingTheOwnersCorosyncMovesTheServiceToOneSurvivor) {
  int o = owner();
  ASSERT_NE(o, 0);
  h_->kill_corosync(o);
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy(others(o)); }, seconds(30)))
      << h_->logs();
  EXPECT_TRUE(stays_one_copy(others(o), seconds(3))) << h_->logs();
  // The survivors stored PeerLost and published it: both delivered both in one order.
  auto s = others(o);
  EXPECT_GE(same_order(bus(s[0]), bus(s[1])), 2u) << h_->logs();
}

TEST_F(AmatadClusterTest, CutOffOwnerStopsItsCopyTheMajorityStartsOneHealKeepsOne) {
  int o = owner();
  ASSERT_NE(o, 0);
  h_->set_link(o, false);
  EXPECT_TRUE(ClusterHarness::wait_until([&] { return one_copy(others(o)); }, seconds(30)))
      << h_->logs();
  int moved_to = owner();
  h_->set_link(o, true);
  std::this_thread::sleep_for(seconds(5));  // the partitions merge
  EXPECT_TRUE(stays_one_copy({moved_to}, seconds(3))) << h_->logs();
  for (int i = 1; i <= 3; ++i) {
    for (int j = i + 1; j <= 3; ++j) same_order(bus(i), bus(j));
  }
  auto s = others(o);
  EXPECT_GE(same_order(bus(s[0]), bus(s[1])), 2u) << h_->logs();
}

}  // namespace
}  // namespace amata::cluster::testing
