// Link state through rtnetlink, for real: a veth pair inside a network namespace this test
// creates (and always deletes), with the probe's loop running in a thread that entered it.
#include "probes/interface_probe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

constexpr int kLinkDown = 0, kLinkUp = 1;
constexpr int kOperDown = 2, kOperLowerLayerDown = 3, kOperUp = 6;  // catalog ordinals

int sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

/// A network namespace for one test, deleted when the test ends, however it ends.
class Netns {
 public:
  Netns() : name_("amata-t-" + std::to_string(getpid())) {
    sh("ip netns del " + name_);  // a leftover of a crashed earlier run with this pid
    ok_ = sh("ip netns add " + name_) == 0;
  }
  ~Netns() {
    if (ok_) sh("ip netns del " + name_);
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  int ip(const std::string& args) const { return sh("ip -n " + name_ + " " + args); }

 private:
  std::string name_;
  bool ok_ = false;
};

/// Runs a loop with one interface probe inside the namespace, until stopped.
class ProbeThread {
 public:
  ProbeThread(const std::string& netns, const std::string& ifname) {
    thread_ = std::thread([this, netns, ifname] { run(netns, ifname); });
  }
  ~ProbeThread() {
    stop_ = true;
    thread_.join();
  }
  TestSink sink;
  std::atomic<bool> ready{false}, failed{false};
  std::atomic<bool> poll_requested{false};

 private:
  void run(const std::string& netns, const std::string& ifname) {
    int fd = open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    // setns affects only this thread: the netlink socket is created in the namespace.
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      failed = true;
      return;
    }
    close(fd);
    auto loop = base::EventLoop::create();
    ProbeOptions options;
    options.use_proc_connector = false;
    auto set = ProbeSet::create(**loop, sink, options);
    catalog::ObjectSpec spec;
    spec.name = "veth";
    spec.kind = catalog::Kind::kInterface;
    spec.ifname = ifname;
    if (!set || !(*set)->add(0, spec)) {
      failed = true;
      return;
    }
    ready = true;
    while (!stop_) {
      if (!(*loop)->run_once(20ms)) break;
      if (poll_requested.exchange(false)) (*set)->poll_all();
    }
    (*set).reset();
  }

  std::thread thread_;
  std::atomic<bool> stop_{false};
};

template <typename Pred>
bool wait_for(Pred done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(InterfaceProbe, CarrierAndOperstateEventsOnVethInNetns) {
  Netns ns;
  if (!ns.ok()) GTEST_SKIP() << "cannot create a network namespace (needs root and iproute2)";
  ASSERT_EQ(ns.ip("link add amv0 type veth peer name amv1"), 0);
  ProbeThread probe(ns.name(), "amv0");
  ASSERT_TRUE(wait_for([&] { return probe.ready || probe.failed; }));
  ASSERT_FALSE(probe.failed);
  // The initial dump: both ends are down.
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "operstate") == kOperDown; }));
  EXPECT_EQ(probe.sink.number(0, "carrier"), kLinkDown);
  EXPECT_EQ(probe.sink.number(0, "mtu"), 1500);

  int changes = probe.sink.changes(0);
  ASSERT_EQ(ns.ip("link set amv0 up"), 0);
  ASSERT_EQ(ns.ip("link set amv1 up"), 0);
  // No polling happens in this thread: only events can bring this.
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "operstate") == kOperUp; }));
  EXPECT_EQ(probe.sink.number(0, "carrier"), kLinkUp);
  EXPECT_GT(probe.sink.changes(0), changes);

  // The peer goes down: carrier lost, the lower layer is down.
  ASSERT_EQ(ns.ip("link set amv1 down"), 0);
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "carrier") == kLinkDown; }));
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "operstate") == kOperLowerLayerDown; }));

  ASSERT_EQ(ns.ip("link set amv0 mtu 1400"), 0);
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "mtu") == 1400; }));

  // Counters: this process's /sys shows the host's links, so they come from rtnetlink.
  probe.poll_requested = true;
  ASSERT_TRUE(wait_for([&] { return probe.sink.has(0, "rx_packets"); }));
  EXPECT_GE(probe.sink.number(0, "tx_bytes"), 0);

  // The link is deleted: not present.
  ASSERT_EQ(ns.ip("link del amv0"), 0);
  ASSERT_TRUE(wait_for([&] { return probe.sink.number(0, "operstate") == 1; }));
}

TEST(ProcConnectorFallback, RefusedInsideANewNetnsAndSaidOnce) {
  Netns ns;
  if (!ns.ok()) GTEST_SKIP() << "cannot create a network namespace (needs root and iproute2)";
  std::vector<std::pair<int, std::string>> notices;
  bool ok = false;
  std::thread t([&] {
    int fd = open(("/var/run/netns/" + ns.name()).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) return;
    close(fd);
    auto loop = base::EventLoop::create();
    TestSink sink;
    auto set = ProbeSet::create(**loop, sink, {});
    catalog::ObjectSpec spec;
    spec.name = "p";
    spec.kind = catalog::Kind::kProcess;
    spec.match = "^never-running-anywhere$";
    ok = (*set)->add(0, spec).ok() && (*set)->add(1, spec).ok();
    (*set)->poll_all();  // polling still works
    ok = ok && sink.number(0, "alive") == 0;
    notices = sink.notices();
  });
  t.join();
  ASSERT_TRUE(ok);
  // The kernel refuses the proc connector outside the initial network namespace: the probes
  // fall back to polling and say so once, not once per object.
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].first, 0);
  EXPECT_NE(notices[0].second.find("proc connector unavailable"), std::string::npos)
      << notices[0].second;
}

TEST(InterfaceProbe, LoopbackCountersAndRates) {
  auto loop = base::EventLoop::create().value();
  TestSink sink;
  auto set = ProbeSet::create(*loop, sink, {}).value();
  catalog::ObjectSpec spec;
  spec.name = "lo";
  spec.kind = catalog::Kind::kInterface;
  spec.ifname = "lo";
  ASSERT_TRUE(set->add(0, spec));
  set->poll_all();
  ASSERT_TRUE(loop->run_once(200ms));
  set->poll_all();
  EXPECT_TRUE(sink.has(0, "rx_bytes"));
  EXPECT_GE(sink.number(0, "rx_rate"), 0);
  EXPECT_GE(sink.number(0, "drop_rate"), 0);
  // lo reports operstate "unknown" (0) and carrier up.
  EXPECT_EQ(sink.number(0, "carrier"), kLinkUp);
  spec.ifname = "bad/name";
  EXPECT_FALSE(set->add(1, spec));
}

TEST(InterfaceProbe, PolledStateWithoutRtnetlink) {
  auto loop = base::EventLoop::create().value();
  TestSink sink;
  ProbeOptions options;
  options.use_rtnetlink = false;
  auto set = ProbeSet::create(*loop, sink, options).value();
  catalog::ObjectSpec spec;
  spec.name = "lo";
  spec.kind = catalog::Kind::kInterface;
  spec.ifname = "lo";
  ASSERT_TRUE(set->add(0, spec));
  spec.ifname = "nonexistent0";
  ASSERT_TRUE(set->add(1, spec));
  set->poll_all();
  EXPECT_EQ(sink.number(0, "carrier"), kLinkUp);
  EXPECT_EQ(sink.number(0, "mtu"), 65536);
  EXPECT_EQ(sink.number(1, "operstate"), 1);  // notpresent
  EXPECT_EQ(sink.number(1, "carrier"), kLinkDown);
  EXPECT_FALSE(sink.has(1, "rx_bytes"));
}

}  // namespace
}  // namespace amata::probes
