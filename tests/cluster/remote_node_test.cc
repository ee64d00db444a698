// Remote nodes (docs/operations.md, "Remote nodes"): three ring members in network
// namespaces, each a real corosync and a real amatad that serves remote nodes, and two
// remote nodes on the same network, each a real amatad that joins no Corosync but attaches
// to a ring member over TLS (certificates made for the test) and supervises a service of its
// own. The ring sees each remote node as a peer whose `member` follows its heartbeat, and
// its events in the cluster's history; the death of the ring member that serves a remote
// node moves it to another with nothing lost and nothing restarted. The remote nodes also
// hold a clustered service, `db`, which the ring places on them only (docs/operations.md,
// "Remote nodes holding clustered services"): it runs on one at a time, and moves when that
// one dies or is cut off.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "engine/console/client.h"
#include "engine/remote/test_pki.h"
#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/cluster/watchdog_stand_in.h"

namespace amata::cluster::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kRing = 3;
// The lease is 3/4 of it, renewed every 1/8: 1350 ms, at most 225 ms old when the ring
// re-forms (~0.66 s at token 300) after a member dies, so a move restarts nothing.
constexpr int kRemoteTimeoutMs = 1800;
constexpr int kWatchdogSeconds = 2;

/// The remote nodes: hosts n4.. of the harness are the remote nodes c4..; two in the suite,
/// AMATA_REMOTE_NODES=50 for the run of fifty (docs/operations.md, "Remote nodes").
int remote_count() {
  const char* env = std::getenv("AMATA_REMOTE_NODES");
  const int n = env != nullptr ? std::atoi(env) : 2;
  return n >= 2 && n <= 200 ? n : 2;
}
const int kHosts = kRing + remote_count();

std::string remote_name(int i) {
  return "c" + std::to_string(i);
}

class RemoteNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<ClusterHarness>(kHosts, TotemSettings{}, AMATAD_PATH,
                                          std::vector<std::string>{}, kRing);
    if (!h_->usable()) GTEST_SKIP() << h_->why();
    remote::TestPki pki(h_->dir() + "/pki");
    if (watchdog_) {
      devices_ = std::make_unique<WatchdogStandIn>(h_->dir(), kHosts, seconds(kWatchdogSeconds));
    }
    for (int i = 1; i <= kHosts; ++i) {
      const auto files = pki.issue(i <= kRing ? "n" + std::to_string(i) : remote_name(i));
      std::ofstream(h_->dir() + "/policy" + std::to_string(i) + ".amata")
          << (i <= kRing ? ring_policy(files, watchdog(i) + fence())
                         : remote_policy(i, files, watchdog(i)));
    }
    run_amatad(*h_, AMATAD_PATH, "policy{i}.amata");
    h_->start_all();
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          return amatads_settled(*h_, {1, 2, 3}) && all_attached({1, 2, 3});
        },
        seconds(40 + kHosts)))
        << "the ring never settled with every remote node attached\n"
        << h_->logs();
  }
  void TearDown() override {
    if (!h_) return;
    for (int i = 1; i <= kHosts; ++i) {
      if (!crashed_.count(i)) h_->stop_node(i, SIGTERM, seconds(10));
    }
  }

  static std::string tls(const remote::TlsFiles& f) {
    return "tls_cert \"" + f.cert + "\"; tls_key \"" + f.key + "\"; tls_ca \"" + f.ca + "\"";
  }
  /// Node i's watchdog settings (none without watchdog_).
  std::string watchdog(int i) const {
    if (!devices_) return "";
    return "watchdog \"" + devices_->path(i) + "\"; watchdog_timeout " +
           std::to_string(kWatchdogSeconds) + "s; ";
  }
  /// The ring's fence agent (none without fence_): it appends what amatad writes on its stdin
  /// to fence_log().
  std::string fence() const {
    if (!fence_) return "";
    return "fence \"/bin/sh\" \"-c\" \"cat >> " + fence_log() + "\"; ";
  }
  std::string fence_log() const { return h_->dir() + "/fence.log"; }
  static std::string ring_policy(const remote::TlsFiles& files, const std::string& settings) {
    return "policy ring\n" +
           ring_declarations(kRing, "on_quorum_loss stop; remote_port 7420; remote_timeout " +
                                        std::to_string(kRemoteTimeoutMs) + "ms; " + settings +
                                        tls(files)) +
           remote_peers() +
           "service db { start \"/bin/sleep\" \"100000\"; clustered; prefer c4 c5; "
           "only_preferred }\n" +
           "discover gone(p: peer) when p.node_id == 0 and not p.member raise RemoteGone(p)\n"
           "recover RemoteGone(p) { notify \"console\" \"a remote node is gone\" }\n";
  }
  static std::string remote_peers() {
    std::string out;
    for (int r = kRing + 1; r <= kHosts; ++r) out += "peer " + remote_name(r) + " { }\n";
    return out;
  }
  /// While this file exists, remote node i's db exits at once (it cannot be kept up there).
  std::string broken_flag(int i) const { return h_->dir() + "/db-broken-" + remote_name(i); }
  std::string remote_policy(int i, const remote::TlsFiles& files,
                            const std::string& watchdog) const {
    std::string attach;
    for (int member = 1; member <= kRing; ++member)
      attach += " \"n" + std::to_string(member) + "@" + h_->address(member) + "\"";
    return "policy compute\ncluster demo { attach" + attach + "; " + watchdog + tls(files) +
           " }\n" +
           "service work { start \"/bin/sleep\" \"100000\" }\n"
           // db ignores SIGTERM and takes a second to stop: a node that starts it while
           // another still runs it is seen doing so.
           "service db { start \"/bin/sh\" \"-c\" \"test -e " +
           broken_flag(i) +
           " && exit 3; trap '' TERM; exec /bin/sleep 100000\"; "
           "stop TERM then KILL after 1s; clustered }\n"
           "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
           "recover ServiceDown(s) { restart s backoff none limit 3 within 1min }\n";
  }

  /// Ring member i's view of the remote nodes, by name.
  std::map<std::string, json> remote_nodes(int i) const {
    std::map<std::string, json> out;
    const json c = amatad_call(*h_, i, "status").value("cluster", json::object());
    for (const auto& r : c.value("remote_nodes", json::array())) out[r.value("name", "")] = r;
    return out;
  }
  /// Every ring member of `ring` sees c4 and c5 as members, attached via the same member.
  bool all_attached(const std::vector<int>& ring) const {
    std::map<std::string, std::string> via;
    for (int i : ring) {
      const auto nodes = remote_nodes(i);
      for (int r = kRing + 1; r <= kHosts; ++r) {
        const auto it = nodes.find(remote_name(r));
        if (it == nodes.end() || !it->second.value("member", false)) return false;
        const std::string v = it->second.value("via", "");
        if (via.count(remote_name(r)) && via[remote_name(r)] != v) return false;
        via[remote_name(r)] = v;
      }
    }
    return true;
  }
  /// The ring member (1..3) that serves remote node r, as ring member `viewer` sees it.
  int via(int viewer, int r) const {
    const std::string v = remote_nodes(viewer)[remote_name(r)].value("via", "");
    return v.size() == 2 && v[0] == 'n' ? v[1] - '0' : 0;
  }
  /// Kills remote node i's service and waits until amatad has restarted it.
  void kill_service(int i) const {
    pid_t p = 0;
    ASSERT_TRUE(ClusterHarness::wait_until([&] { return (p = service_pid(i)) > 1; }, seconds(10)))
        << "no pid for the service on n" << i;  // and never kill(0) or kill(-1)
    ASSERT_EQ(kill(p, SIGKILL), 0);
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] { return service_pid(i) > 1 && service_pid(i) != p; }, seconds(10)));
  }
  pid_t service_pid(int i, const std::string& name = "work") const {
    for (const auto& o : amatad_call(*h_, i, "status").value("objects", json::array())) {
      if (o.value("name", "") == name) return o.value("pid", 0);
    }
    return 0;
  }
  /// The sequence numbers of each remote node's events in ring member i's history, sorted
  /// and without repeats.
  std::map<std::string, std::vector<std::uint64_t>> history(int i) const {
    std::map<std::string, std::vector<std::uint64_t>> out;
    const json events = amatad_call(*h_, i, "events", {{"cluster", true}, {"limit", 10000}})
                            .value("events", json::array());
    for (const auto& e : events) {
      const json about = e.value("remote", json::object());
      if (about.contains("seq")) {
        out[about.value("node", "")].push_back(about.value("seq", std::uint64_t{0}));
      }
    }
    for (auto& [node, seqs] : out) {
      std::sort(seqs.begin(), seqs.end());
      seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
    }
    return out;
  }
  std::vector<std::uint64_t> history_seqs(int i, const std::string& name) const {
    return history(i)[name];
  }
  /// What remote node r has handed its ring (status → remote → published).
  std::uint64_t published(int r) const {
    return amatad_call(*h_, r, "status")
        .value("remote", json::object())
        .value("published", std::uint64_t{0});
  }

  /// The remote nodes (of those not crashed) whose amatad runs `db` now. Each is asked twice,
  /// the others in between, and counts only if the same process ran both times: so any two
  /// that count ran at the same moment, and a move while the nodes are asked in turn (fifty
  /// take a while) is not taken for two copies.
  std::vector<int> db_copies() const {
    std::map<int, pid_t> first;
    for (int r = kRing + 1; r <= kHosts; ++r)
      if (!crashed_.count(r)) first[r] = service_pid(r, "db");
    std::vector<int> out;
    for (const auto& [r, pid] : first)
      if (pid > 1 && service_pid(r, "db") == pid) out.push_back(r);
    return out;
  }
  /// Samples every 50 ms until `done` or `timeout`, failing if two remote nodes ever run db.
  bool watch_db(const std::function<bool()>& done, Clock::duration timeout) const {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      const auto copies = db_copies();
      EXPECT_LE(copies.size(), 1U) << "db runs on " << json(copies).dump() << "\n" << h_->logs();
      if (copies.size() > 1) return false;
      if (done()) return true;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return false;
  }
  /// Samples for `how_long` that db never runs on two remote nodes at once.
  bool never_two_copies(Clock::duration how_long) const {
    bool two = false;
    watch_db([&] { return two = db_copies().size() > 1; }, how_long);
    return !two;
  }
  /// Ring member i's computed owner of db (its node name, "" for none).
  std::string db_owner(int i) const {
    const json c = amatad_call(*h_, i, "status").value("cluster", json::object());
    for (const auto& s : c.value("services", json::array())) {
      if (s.value("name", "") == "db" && s.value("owner", json()).is_string())
        return s["owner"].get<std::string>();
    }
    return "";
  }

  bool watchdog_ = false;  // every node feeds a stand-in watchdog (RemoteWatchdogTest)
  bool fence_ = false;     // the ring has a fence agent (RemoteFenceTest)
  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<WatchdogStandIn> devices_;  // after h_: its FIFOs live in h_'s directory
  std::set<int> crashed_;
};

class RemoteWatchdogTest : public RemoteNodeTest {
 protected:
  RemoteWatchdogTest() { watchdog_ = true; }
};

class RemoteFenceTest : public RemoteNodeTest {
 protected:
  RemoteFenceTest() { fence_ = true; }
  std::string fenced() const {
    std::ifstream in(fence_log());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

// With a fence agent, a remote node lost while it held db is fenced, by its name, before db
// starts elsewhere: once, and never while db still runs on it.
TEST_F(RemoteFenceTest, ALostRemoteHolderIsFencedByNameBeforeItsServiceStartsElsewhere) {
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  EXPECT_EQ(fenced(), "");
  h_->set_link(4, false);
  bool fenced_first = true;
  ASSERT_TRUE(watch_db(
      [&] {
        const bool on_c5 = db_copies() == std::vector<int>{5};
        if (on_c5 && fenced().empty()) fenced_first = false;
        return on_c5;
      },
      seconds(15)))
      << h_->logs();
  EXPECT_TRUE(fenced_first) << "db ran on c5 before c4 was fenced";
  EXPECT_TRUE(never_two_copies(seconds(2)));
  EXPECT_EQ(fenced(), "action=off\nnodename=c4\n");
}

// A remote node whose amatad hangs cannot kill its clustered service when its lease runs out;
// its watchdog resets it instead, before the ring (which waits twice the watchdog's timeout
// after counting it lost) starts the service elsewhere.
TEST_F(RemoteWatchdogTest, AHungRemoteNodeIsResetByItsWatchdogBeforeTheServiceMoves) {
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(20)))
      << h_->logs();
  const pid_t on_c4 = service_pid(4, "db");
  ASSERT_GT(on_c4, 1);
  ASSERT_GT(devices_->feeds(4), 0) << "c4 never fed its watchdog";
  h_->signal_node(4, SIGSTOP);  // amatad hangs; its service runs on
  bool moved = false;
  const auto until = Clock::now() + seconds(30);
  while (Clock::now() < until && !moved) {
    if (devices_->expired(4) && !crashed_.count(4)) {
      h_->crash_node(4);  // the hardware's reset
      crashed_.insert(4);
    }
    const bool on_4 = !crashed_.count(4) && kill(on_c4, 0) == 0;
    moved = service_pid(5, "db") > 1;
    ASSERT_FALSE(on_4 && moved) << "db runs on c4 and c5\n" << h_->logs();
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(moved) << h_->logs();
  EXPECT_TRUE(crashed_.count(4)) << "c4's watchdog never expired";
  for (int i = 1; i <= kRing; ++i) EXPECT_FALSE(devices_->expired(i)) << "n" << i << " was reset";
}

TEST_F(RemoteNodeTest, AClusteredServiceRunsOnTheRemoteNodeItPrefersAndMovesOnceWhenItDies) {
  // Placed on c4, the first of `prefer`; never on a ring member (`only_preferred`).
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  for (int i = 1; i <= kRing; ++i) {
    EXPECT_LE(service_pid(i, "db"), 0) << "n" << i;
    ASSERT_TRUE(ClusterHarness::wait_until([&] { return db_owner(i) == "c4"; }, seconds(10)))
        << "n" << i << " says db's owner is '" << db_owner(i) << "'";
  }
  // c4 dies with its services: once its lease has surely run out, db starts on c5, once.
  h_->crash_node(4);
  crashed_.insert(4);
  const auto t0 = Clock::now();
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{5}; }, seconds(15)))
      << h_->logs();
  const auto moved_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  std::cout << "db ran again on c5 " << moved_ms << " ms after c4 died\n";
  EXPECT_LT(moved_ms, 10'000);
  const pid_t on_c5 = service_pid(5, "db");
  for (int i = 1; i <= kRing; ++i) {
    EXPECT_TRUE(ClusterHarness::wait_until([&] { return db_owner(i) == "c5"; }, seconds(10)))
        << "n" << i << " says db's owner is '" << db_owner(i) << "'";
  }
  // Started once: the same process a while later.
  std::this_thread::sleep_for(seconds(2));
  EXPECT_EQ(service_pid(5, "db"), on_c5);
}

// An operator moves db from c4 to c5 and back (amatactl failover, on any ring member): c4's
// copy stops before c5 starts one, as the ring counts it on c4 until c4 reports it gone. A
// remote node may not ask: its clustered services are the ring's to place.
TEST_F(RemoteNodeTest, AnOperatorsFailoverMovesTheServiceBetweenRemoteNodesOneCopyAtATime) {
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  const pid_t on_c4 = service_pid(4, "db");
  const json moved = amatad_call(*h_, 2, "failover", {{"object", "db"}, {"to", "c5"}});
  ASSERT_TRUE(moved.value("accepted", false)) << moved.dump() << "\n" << h_->logs();
  // Who asked is in n2's history.
  const json asked = amatad_call(*h_, 2, "events", {{"event", "Control"}}).value("events", json());
  ASSERT_EQ(asked.size(), 1U) << asked.dump();
  EXPECT_EQ(asked[0].value("message", ""),
            "failover db to c5 asked by uid " + std::to_string(getuid()));
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{5}; }, seconds(15)))
      << h_->logs();
  EXPECT_NE(kill(on_c4, 0), 0) << "c4's copy of db still runs";
  for (int i = 1; i <= kRing; ++i) {
    EXPECT_TRUE(ClusterHarness::wait_until([&] { return db_owner(i) == "c5"; }, seconds(10)))
        << "n" << i << " says db's owner is '" << db_owner(i) << "'";
  }
  // No target: the best other node, c4 again.
  const json back = amatad_call(*h_, 3, "failover", {{"object", "db"}});
  ASSERT_TRUE(back.value("accepted", false)) << back.dump();
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();

  auto client = console::ConsoleClient::connect(h_->dir() + "/amatad5.sock", nullptr, seconds(2));
  ASSERT_TRUE(client.ok());
  const auto refused = client->call("failover", {{"object", "db"}, {"to", "c5"}}, seconds(5));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ((*refused)["error"]["code"], "not_clustered") << refused->dump();
  EXPECT_TRUE(never_two_copies(seconds(2)));
  EXPECT_EQ(db_copies(), std::vector<int>{4});
}

// c4 cannot keep db up (its restart limit): it gives up, and the ring moves db to c5. c4 is
// banned from db, as a member would be, until an operator's failover to c4, which c4 then
// tries again.
TEST_F(RemoteNodeTest, ARemoteNodeThatGaveUpIsTriedAgainWhenAnOperatorMovesTheServiceThere) {
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  std::ofstream(broken_flag(4)) << "db cannot run on c4\n";
  const pid_t on_c4 = service_pid(4, "db");
  ASSERT_GT(on_c4, 1);
  ASSERT_EQ(kill(on_c4, SIGKILL), 0);
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{5}; }, seconds(15)))
      << h_->logs();
  // Banned: a failover to "the best other node" finds none (only c4 and c5 may run it).
  ASSERT_TRUE(amatad_call(*h_, 1, "failover", {{"object", "db"}}).value("accepted", false));
  EXPECT_TRUE(never_two_copies(seconds(2)));
  EXPECT_EQ(db_copies(), std::vector<int>{5});

  std::filesystem::remove(broken_flag(4));
  ASSERT_TRUE(
      amatad_call(*h_, 1, "failover", {{"object", "db"}, {"to", "c4"}}).value("accepted", false));
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  EXPECT_TRUE(never_two_copies(seconds(2)));
  EXPECT_EQ(db_copies(), std::vector<int>{4});
}

TEST_F(RemoteNodeTest, ARemoteNodeCutOffLetsItsServiceGoBeforeAnotherStartsIt) {
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{4}; }, seconds(15)))
      << h_->logs();
  // c4 is cut off: its lease runs out and it kills db; only then does c5 start it.
  h_->set_link(4, false);
  const auto cut = Clock::now();
  ASSERT_TRUE(watch_db([&] { return db_copies() == std::vector<int>{5}; }, seconds(15)))
      << h_->logs();
  std::cout << "db ran on c5 "
            << std::chrono::duration_cast<milliseconds>(Clock::now() - cut).count()
            << " ms after c4 was cut off\n";
  // Healed: c4 attaches again; db stays on c5 (sticky), and never runs twice meanwhile.
  h_->set_link(4, true);
  ASSERT_TRUE(watch_db(
      [&] {
        return !amatad_call(*h_, 4, "status")
                    .value("remote", json::object())
                    .value("attached_to", json())
                    .is_null();
      },
      seconds(15)))
      << h_->logs();
  EXPECT_TRUE(never_two_copies(seconds(3)));
  EXPECT_EQ(db_copies(), std::vector<int>{5});
}

TEST_F(RemoteNodeTest, RemoteNodesStreamTheirEventsAndAreMembersWhileTheirHeartbeatLasts) {
  // Spread by rendezvous hashing, attached on the member their order ranks first.
  const json on_c4 = amatad_call(*h_, 4, "status").value("remote", json::object());
  EXPECT_EQ(on_c4.value("node", ""), "c4");
  EXPECT_EQ(on_c4.value("attached_to", ""), "n" + std::to_string(via(1, 4)));
  const auto nodes = remote_nodes(via(1, 4));
  EXPECT_TRUE(nodes.at("c4").value("here", false));
  EXPECT_TRUE(nodes.at("c4").contains("heartbeat_age_ms")) << nodes.at("c4").dump();
  // The other members show its heartbeat too, as its member reports it each timeout (2 s):
  // never older than a few seconds while it lasts.
  for (int i = 1; i <= kRing; ++i) {
    if (i == via(1, 4)) continue;
    json seen;
    EXPECT_TRUE(ClusterHarness::wait_until(
        [&] {
          seen = remote_nodes(i)["c4"];
          return !seen.value("here", true) && seen.contains("heartbeat_age_ms") &&
                 seen["heartbeat_age_ms"].get<std::int64_t>() < 5000 && seen.contains("rtt_ms");
        },
        seconds(10)))
        << "n" << i << ": " << seen.dump();
  }

  // c4's service dies and is restarted there: the ring's history has the events, from c4.
  kill_service(4);
  for (int i = 1; i <= kRing; ++i) {
    ASSERT_TRUE(
        ClusterHarness::wait_until([&] { return history_seqs(i, "c4").size() >= 2; }, seconds(10)))
        << "n" << i << " never had c4's events\n"
        << h_->logs();
  }
  const json events = amatad_call(*h_, 1, "events", {{"cluster", true}, {"limit", 1000}})
                          .value("events", json::array());
  bool raised = false;
  for (const auto& e : events) {
    raised = raised || (e.value("node", "") == "c4" && e.value("event", "") == "ServiceDown");
  }
  EXPECT_TRUE(raised) << events.dump(1);

  // c4's amatad dies: within its 2 s timeout (and the sweep), every ring member counts it
  // gone, and its policy's rule about the peer fires; c5 is untouched.
  h_->crash_node(4);
  crashed_.insert(4);
  const auto t0 = Clock::now();
  ASSERT_TRUE(ClusterHarness::wait_until(
      [&] {
        for (int i = 1; i <= kRing; ++i) {
          if (remote_nodes(i)["c4"].value("member", true)) return false;
        }
        return true;
      },
      seconds(10)));
  EXPECT_LT(Clock::now() - t0, seconds(5));
  for (int i = 1; i <= kRing; ++i) EXPECT_TRUE(remote_nodes(i)["c5"].value("member", false));
  ASSERT_TRUE(ClusterHarness::wait_until(
      [&] {
        for (const auto& e :
             amatad_call(*h_, 1, "events", {{"limit", 200}}).value("events", json::array())) {
          if (e.value("event", "") == "RemoteGone") return true;
        }
        return false;
      },
      seconds(10)))
      << "the ring's rule about the peer c4 never fired";
}

TEST_F(RemoteNodeTest, TheDeathOfTheServingMemberMovesItsRemoteNodesWithNothingLostOrRestarted) {
  const int serving = via(1, 4);
  ASSERT_GE(serving, 1);
  // Events on c4 just before its member dies: each one must reach the survivors.
  const pid_t work = service_pid(4);
  for (int k = 0; k < 3; ++k) kill_service(4);
  // Every remote node the member serves, and its service's process now.
  std::map<int, pid_t> moving;
  for (int r = kRing + 1; r <= kHosts; ++r) {
    if (via(1, r) != serving) continue;
    pid_t pid = 0;
    ASSERT_TRUE(
        ClusterHarness::wait_until([&] { return (pid = service_pid(r)) > 1; }, seconds(10)));
    moving[r] = pid;
  }
  ASSERT_TRUE(moving.count(4));
  EXPECT_NE(moving[4], work);
  // db, wherever it was placed: it moves with its node, not to another.
  ASSERT_TRUE(watch_db([&] { return db_copies().size() == 1; }, seconds(15)));
  const int db_node = db_copies().front();
  const pid_t db_pid = service_pid(db_node, "db");
  h_->crash_node(serving);
  crashed_.insert(serving);
  std::vector<int> survivors;
  for (int i = 1; i <= kRing; ++i) {
    if (i != serving) survivors.push_back(i);
  }
  // Throughout the move, none of them stops being a member on any survivor; each ends up
  // attached to a survivor that both survivors agree on.
  const auto until = Clock::now() + seconds(15);
  bool moved = false;
  while (Clock::now() < until && !moved) {
    std::map<std::string, json> views[2] = {remote_nodes(survivors[0]), remote_nodes(survivors[1])};
    moved = true;
    for (const auto& [r, pid] : moving) {
      for (const auto& view : views) {
        const auto it = view.find(remote_name(r));
        ASSERT_TRUE(it != view.end() && it->second.value("member", false))
            << remote_name(r) << " counted gone while it moved\n"
            << h_->logs();
      }
      const std::string to = views[0].at(remote_name(r)).value("via", "");
      moved = moved && to != "n" + std::to_string(serving) &&
              views[1].at(remote_name(r)).value("via", "") == to;
    }
    if (!moved) std::this_thread::sleep_for(milliseconds(100));
  }
  ASSERT_TRUE(moved) << "not every remote node of n" << serving << " re-attached\n" << h_->logs();
  EXPECT_TRUE(never_two_copies(seconds(2)));
  EXPECT_EQ(db_copies(), std::vector<int>{db_node});
  EXPECT_EQ(service_pid(db_node, "db"), db_pid) << "the move restarted db";
  for (const auto& [r, pid] : moving) {
    EXPECT_EQ(service_pid(r), pid) << "the move restarted something on " << remote_name(r);
    EXPECT_EQ(
        amatad_call(*h_, r, "status").value("remote", json::object()).value("attached_to", ""),
        remote_nodes(survivors[0])[remote_name(r)].value("via", ""));
  }
  // Every remote node's events, all of them, in both survivors' histories: 1..N, no gap.
  ASSERT_TRUE(ClusterHarness::wait_until(
      [&] {
        const auto a = history(survivors[0]);
        const auto b = history(survivors[1]);
        for (int r = kRing + 1; r <= kHosts; ++r) {
          const std::uint64_t n = published(r);
          const auto it = a.find(remote_name(r));
          const std::vector<std::uint64_t> seqs =
              it == a.end() ? std::vector<std::uint64_t>{} : it->second;
          if (seqs.size() != n || (n > 0 && seqs.back() != n)) return false;
          const auto other = b.find(remote_name(r));
          if (n > 0 && (other == b.end() || other->second != seqs)) return false;
        }
        return published(4) >= 6;
      },
      seconds(20)))
      << "survivors' histories of c4: " << json(history_seqs(survivors[0], "c4")).dump() << " "
      << json(history_seqs(survivors[1], "c4")).dump();
}

TEST_F(RemoteNodeTest, AMemberWithoutQuorumLetsGoOfItsRemoteNodes) {
  // Two of the three ring members crash: the last one has no quorum, so it may not carry
  // remote nodes' events to a history the majority will never see. It closes their links and
  // refuses them, and the remote nodes say why.
  for (int i = 1; i <= kRing; ++i) {
    if (i == 3) continue;
    h_->crash_node(i);
    crashed_.insert(i);
  }
  for (int r = kRing + 1; r <= kHosts; ++r) {
    ASSERT_TRUE(ClusterHarness::wait_until(
        [&] {
          const json s = amatad_call(*h_, r, "status").value("remote", json::object());
          return s.value("attached_to", json()).is_null() &&
                 s.value("last_error", "").find("no quorum") != std::string::npos;
        },
        seconds(15)))
        << remote_name(r) << ": "
        << amatad_call(*h_, r, "status").value("remote", json::object()).dump() << "\n"
        << h_->logs();
  }
  EXPECT_TRUE(remote_nodes(3).count("c4") == 0 || !remote_nodes(3)["c4"].value("here", true));
}

}  // namespace
}  // namespace amata::cluster::testing
