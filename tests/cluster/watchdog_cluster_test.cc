// Self-fencing with a watchdog (docs/operations.md): three Corosync nodes in network
// namespaces, each the real amatad with `watchdog` pointing at a FIFO this test reads in the
// role of the device. The stand-in behaves as a driver does: armed by the first byte, fed by
// every byte, disarmed by 'V'; when an armed one goes unfed for the timeout, the test resets
// the node (ClusterHarness::crash_node: every process in its namespace SIGKILLed, corosync
// first), as the hardware would. Throughout, the clustered service never runs twice.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/cluster/watchdog_stand_in.h"

namespace amata::cluster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kTimeoutSeconds = 3;

// The service: python's http.server, or (stubborn) a listener that ignores SIGTERM, so that
// amatad cannot stop it for 8 s.
const char* const kServer =
    R"(  start "/usr/bin/python3" "-m" "http.server" "--bind" "0.0.0.0" "8080"
  stop TERM then KILL after 2s)";
const char* const kStubbornServer =
    R"policy(  start "/usr/bin/python3" "-c" "import signal, socket; signal.signal(signal.SIGTERM, signal.SIG_IGN); s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8080)); s.listen(64); [s.accept()[0].close() for _ in iter(int, 1)]"
  stop TERM then KILL after 8s)policy";

std::string policy(const std::string& device, const std::string& server) {
  return R"(policy watchdog_cluster
cluster demo {
  group "amata-demo"
  on_quorum_loss stop
  watchdog ")" +
         device + R"("
  watchdog_timeout )" +
         std::to_string(kTimeoutSeconds) + R"(s
}
peer n1 { node_id 1 }
peer n2 { node_id 2 }
peer n3 { node_id 3 }
service web {
)" + server +
         R"(
  clustered
  prefer n1 n2 n3
}
)";
}

class WatchdogClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
    h_ = std::make_unique<ClusterHarness>(3, TotemSettings{}, AMATAD_PATH);
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    devices_ = std::make_unique<WatchdogStandIn>(h_->dir(), 3, seconds(kTimeoutSeconds));
    for (int i = 1; i <= 3; ++i) {
      std::ofstream(h_->dir() + "/policy" + std::to_string(i) + ".amata")
          << policy(devices_->path(i), stubborn_ ? kStubbornServer : kServer);
    }
    run_amatad(*h_, AMATAD_PATH, "policy{i}.amata");
    h_->start_all();
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          return h_->serving().size() == 1 && amatads_settled(*h_, {1, 2, 3});
        },
        seconds(40)))
        << "the cluster never settled with the service on one node\n"
        << h_->logs();
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);
    for (int i = 1; i <= 3; ++i) ASSERT_GT(devices_->feeds(i), 0) << "n" << i << " never fed";
    // A settled node sends its liveness message every quarter timeout, and next to nothing
    // else: 4 in one timeout. (A period that rounded to zero once sent thousands, a flood
    // that starved a loaded machine.)
    std::array<std::uint64_t, 4> before{};
    for (int i = 1; i <= 3; ++i) before[i] = messages_sent(i);
    std::this_thread::sleep_for(seconds(kTimeoutSeconds));
    for (int i = 1; i <= 3; ++i) {
      const std::uint64_t sent = messages_sent(i) - before[i];
      EXPECT_GE(sent, 2U) << "n" << i;
      EXPECT_LE(sent, 12U) << "n" << i << " floods the bus";
    }
  }
  void TearDown() override {
    if (!h_) return;
    for (int i = 1; i <= 3; ++i) {
      if (!crashed_[i]) h_->stop_node(i, SIGTERM, seconds(10));
    }
    devices_.reset();
  }

  // The bus messages node i has sent (status → cluster → messages).
  std::uint64_t messages_sent(int i) const {
    const auto c = amatad_call(*h_, i, "status").value("cluster", nlohmann::json::object());
    return c.value("messages", nlohmann::json::object()).value("sent", std::uint64_t{0});
  }

  int owner() const {
    auto s = h_->serving();
    return s.size() == 1 ? s[0] : 0;
  }

  // Watches for `limit`: resets a node whose device expired, and fails the test the moment
  // two nodes serve. Returns once `done` holds (true) or the limit passes (false).
  bool watch(const std::function<bool()>& done, seconds limit) {
    const auto until = Clock::now() + limit;
    while (Clock::now() < until) {
      for (int i = 1; i <= 3; ++i) {
        if (devices_->expired(i) && !crashed_[i]) {
          h_->crash_node(i);
          crashed_[i] = true;
        }
      }
      auto serving = h_->serving();
      EXPECT_LE(serving.size(), 1U) << "two copies of the service";
      if (serving.size() > 1) return false;
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  // Watches until node o has been reset and its service runs on exactly one other node.
  bool reset_and_moved(int o) {
    return watch([&] { return crashed_[o] && serves_on_one_of(others(o)); }, seconds(40));
  }
  static std::vector<int> others(int except) {
    std::vector<int> out;
    for (int i = 1; i <= 3; ++i)
      if (i != except) out.push_back(i);
    return out;
  }
  bool serves_on_one_of(const std::vector<int>& nodes) const {
    auto s = h_->serving();
    return s.size() == 1 && std::find(nodes.begin(), nodes.end(), s[0]) != nodes.end();
  }

  // Node i's amatad log so far.
  std::string log_of(int i) const {
    std::ifstream in(h_->dir() + "/n" + std::to_string(i) + "/node.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  bool stubborn_ = false;
  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<WatchdogStandIn> devices_;
  std::array<bool, 4> crashed_{};
};

class StubbornServiceTest : public WatchdogClusterTest {
 protected:
  void SetUp() override {
    stubborn_ = true;
    WatchdogClusterTest::SetUp();
  }
};

TEST_F(WatchdogClusterTest, AStoppedAmatadIsResetByItsWatchdogAndItsServiceRunsOnceElsewhere) {
  const int o = owner();
  ASSERT_NE(o, 0);
  // SIGSTOP: corosync still answers for the node, so nobody else notices; only the
  // watchdog, which the stopped loop no longer feeds, ends it.
  h_->signal_node(o, SIGSTOP);
  const bool moved = reset_and_moved(o);
  EXPECT_TRUE(crashed_[o]) << "n" << o << "'s watchdog never expired";
  EXPECT_TRUE(moved) << "the service did not move to one survivor\n" << h_->logs();
  for (int i : others(o)) EXPECT_FALSE(devices_->expired(i)) << "n" << i << " was reset";
}

TEST_F(WatchdogClusterTest, AStoppedCorosyncIsResetByItsWatchdogAndItsServiceRunsOnceElsewhere) {
  const int o = owner();
  ASSERT_NE(o, 0);
  // The others see the node go at once; its amatad hears nothing (a stopped corosync leaves
  // its last quorum report standing), so the feeding must not trust that report: its own
  // liveness messages stop coming back. (The loop itself goes on: only amatad's corosync
  // thread waits for the stopped corosync.)
  h_->signal_corosync(o, SIGSTOP);
  const bool moved = reset_and_moved(o);
  EXPECT_TRUE(crashed_[o]) << "n" << o << "'s watchdog never expired";
  EXPECT_TRUE(moved) << "the service did not move to one survivor\n" << h_->logs();
}

TEST_F(WatchdogClusterTest, ACutOffOwnerStopsItsCopyKeepsFeedingAndTheMajorityWaitsForIt) {
  const int o = owner();
  ASSERT_NE(o, 0);
  h_->set_link(o, false);
  // Without quorum it stops its copy, and with nothing left to protect it keeps feeding: no
  // reset. The majority starts a copy once the wait for the watchdog is over.
  EXPECT_TRUE(watch([&] { return serves_on_one_of(others(o)); }, seconds(40)))
      << "the majority never took the service over\n"
      << h_->logs();
  EXPECT_FALSE(crashed_[o]) << "n" << o << " was reset though it had stopped its copy";
  const int fed = devices_->feeds(o);
  watch([] { return false; }, seconds(2));
  EXPECT_GT(devices_->feeds(o), fed) << "the cut-off node stopped feeding";
  h_->set_link(o, true);
  EXPECT_FALSE(watch([] { return false; }, seconds(8)));  // one copy throughout the heal
  EXPECT_TRUE(serves_on_one_of({1, 2, 3}));
}

// The case self-fencing is for: cut off, the owner cannot stop its copy (SIGTERM ignored, KILL
// only after 8 s). It stops feeding for want of quorum and is reset, while the majority waits
// twice the timeout before starting the copy it would otherwise have started at once.
TEST_F(StubbornServiceTest, ACutOffOwnerThatCannotStopItsCopyIsResetBeforeTheMajorityStartsOne) {
  const int o = owner();
  ASSERT_NE(o, 0);
  h_->set_link(o, false);
  const bool moved = reset_and_moved(o);
  EXPECT_TRUE(crashed_[o]) << "n" << o << "'s watchdog never expired";
  EXPECT_TRUE(moved) << "the service did not move to one survivor\n" << h_->logs();
  // The survivor that took it over waited for the watchdog first.
  const int taker = h_->serving().empty() ? 0 : h_->serving()[0];
  ASSERT_NE(taker, 0);
  EXPECT_NE(log_of(taker).find("'s watchdog before taking over"), std::string::npos)
      << log_of(taker);
  EXPECT_NE(log_of(o).find("watchdog: not fed, it runs clustered services without quorum"),
            std::string::npos)
      << log_of(o);
}

}  // namespace
}  // namespace amata::cluster::testing
