// The steady state allocates nothing and opens nothing: after a warm-up cycle, polling the
// node, a process, lo and "/" makes no heap allocation (malloc is interposed and counted)
// and opens no new file descriptor.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "probes/allocation_counter.h"
#include "probes/ecc_probe.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/raid_probe.h"
#include "probes/sensor_probe.h"

namespace amata::probes {
namespace {

class NullSink : public MeasurementSink {
 public:
  void set_number(int, std::string_view, double) override {}
  void set_string(int, std::string_view, std::string_view) override {}
  void changed(int) override {}
  void sampled(int) override { ++samples; }
  int samples = 0;
};

int count_open_fds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

TEST(SteadyState, PollingAllocatesAndOpensNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "allocation counting is off under ASan";
  pid_t child = fork();
  if (child == 0) {
    for (;;) pause();
  }
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop, sink, options).value();
  using catalog::Kind;
  catalog::ObjectSpec node, svc, lo, root;
  node.name = "self";
  node.kind = Kind::kNode;
  svc.name = "svc";
  svc.kind = Kind::kService;
  lo.name = "lo";
  lo.kind = Kind::kInterface;
  lo.ifname = "lo";
  root.name = "root";
  root.kind = Kind::kFilesystem;
  root.path = "/";
  ASSERT_TRUE(set->add(0, node));
  ASSERT_TRUE(set->add(1, svc));
  ASSERT_TRUE(set->add(2, lo));
  ASSERT_TRUE(set->add(3, root));
  ASSERT_TRUE(set->follow(1, child));
  ASSERT_TRUE(loop->run_once(std::chrono::milliseconds(50)));  // the rtnetlink dump
  set->poll_all();
  set->poll_all();

  int fds = count_open_fds();
  std::uint64_t before = allocation_count();
  for (int i = 0; i < 20; ++i) set->poll_all();
  std::uint64_t allocations = allocation_count() - before;
  int fds_after = count_open_fds();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(allocations, 0u);
  // The counter does count: a heap string moves it.
  std::uint64_t probe_before = allocation_count();
  auto* heap = new std::string(200, 'x');
  EXPECT_GT(allocation_count(), probe_before);
  delete heap;
  EXPECT_EQ(fds_after, fds);
}

TEST(SteadyState, PeriodicPollingOnTheLoopAllocatesNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "allocation counting is off under ASan";
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop, sink, options).value();
  catalog::ObjectSpec node, lo;
  node.name = "self";
  node.kind = catalog::Kind::kNode;
  node.every = 0.02;
  lo.name = "lo";
  lo.kind = catalog::Kind::kInterface;
  lo.ifname = "lo";
  lo.every = 0.03;
  ASSERT_TRUE(set->add(0, node));
  ASSERT_TRUE(set->add(1, lo));
  set->start();
  auto run_for = [&](std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (!loop->run_once(std::chrono::milliseconds(10))) return false;
    }
    return true;
  };
  ASSERT_TRUE(run_for(std::chrono::milliseconds(100)));  // warm-up, rtnetlink dump
  int samples = sink.samples;
  std::uint64_t before = allocation_count();
  bool ran = run_for(std::chrono::milliseconds(400));
  std::uint64_t allocations = allocation_count() - before;
  ASSERT_TRUE(ran);
  EXPECT_GT(sink.samples - samples, 10);  // the timerfd kept both probes going
  EXPECT_EQ(allocations, 0u);
}

// The sysfs probes on the recorded trees: after resolution a poll is preads into buffers
// that already exist (and, for an MD array, a listing of md/ into a stack buffer).
TEST(SteadyState, SysfsProbesAllocateAndLeakNothing) {
  if (!kCountsAllocations) GTEST_SKIP() << "allocation counting is off under ASan";
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.sys_root = "tests/fixtures/sys/x86";
  ProbeContext x86{*loop, sink, options};
  options.sys_root = "tests/fixtures/sys/edac-rank";
  ProbeContext edac{*loop, sink, options};
  options.sys_root = "tests/fixtures/sys/md";
  ProbeContext md{*loop, sink, options};
  catalog::ObjectSpec package, power, zone, dimm, array;
  package.chip = "coretemp@coretemp.0";
  package.input = "Package id 0";
  power.chip = "power_meter";
  power.input = "power1";
  zone.zone = "acpitz";
  dimm.controller = "mc0";
  dimm.dimm = "DIMM_B2";
  array.array = "md6";
  std::vector<std::unique_ptr<Probe>> probes;
  probes.push_back(SensorProbe::create(0, package, x86).value());
  probes.push_back(SensorProbe::create(1, power, x86).value());
  probes.push_back(SensorProbe::create(2, zone, x86).value());
  probes.push_back(EccProbe::create(3, dimm, edac).value());
  probes.push_back(RaidProbe::create(4, array, md).value());
  for (auto& p : probes) p->poll();  // the label strings are written once, here

  int fds = count_open_fds();
  std::uint64_t before = allocation_count();
  for (int i = 0; i < 20; ++i) {
    for (auto& p : probes) p->poll();
  }
  std::uint64_t allocations = allocation_count() - before;
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(count_open_fds(), fds);
  EXPECT_EQ(sink.samples, 5 * 21);
}

}  // namespace
}  // namespace amata::probes
