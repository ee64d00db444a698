#include "probes/pressure.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "probes/node_probe.h"
#include "probes/probe.h"
#include "probes/procfs.h"
#include "probes/test_loop.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

const std::string kModern = "tests/fixtures/proc/modern";

std::string fixture(const std::string& path) {
  auto text = read_small_file(path, 1 << 20);
  EXPECT_TRUE(text.ok()) << path;
  return text.ok() ? *text : std::string();
}

TEST(Pressure, ParsesSomeAndFull) {
  auto p = parse_pressure(
      "some avg10=41.48 avg60=29.70 avg300=25.48 total=3975011328\n"
      "full avg10=0.00 avg60=0.01 avg300=0.16 total=27054563\n");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->some.avg10, 41.48);
  EXPECT_DOUBLE_EQ(p->some.avg300, 25.48);
  EXPECT_EQ(p->some.total_us, 3975011328u);
  ASSERT_TRUE(p->full);
  EXPECT_DOUBLE_EQ(p->full->avg60, 0.01);
  EXPECT_EQ(p->full->total_us, 27054563u);
}

TEST(Pressure, CpuBefore513HasNoFullLine) {
  auto p = parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->full);
}

TEST(Pressure, MalformedIsRejectedNotGuessed) {
  EXPECT_FALSE(parse_pressure(""));
  EXPECT_FALSE(parse_pressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"));
  EXPECT_FALSE(parse_pressure("some avg10=0.00 avg60=0.00 total=0\n"));
  EXPECT_FALSE(parse_pressure("some avg10=101.00 avg60=0.00 avg300=0.00 total=0\n"));
  EXPECT_FALSE(parse_pressure("some avg10=x avg60=0.00 avg300=0.00 total=0\n"));
  // A bad full line is left out; the some line still counts.
  auto p = parse_pressure("some avg10=1.00 avg60=0.00 avg300=0.00 total=5\nfull avg10=\n");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->full);
}

TEST(Vmstat, FindsTheOomKillCounter) {
  const std::string text = fixture(kModern + "/vmstat");
  EXPECT_EQ(find_vmstat_counter(text, "oom_kill"), 0u);
  EXPECT_TRUE(find_vmstat_counter(text, "nr_free_pages"));
  EXPECT_FALSE(find_vmstat_counter(text, "oom_kil"));  // whole names only
  EXPECT_EQ(find_vmstat_counter("nr_x 1\noom_kill 7\n", "oom_kill"), 7u);
  EXPECT_FALSE(find_vmstat_counter("oom_kill -1\n", "oom_kill"));
}

struct Harness {
  std::unique_ptr<base::EventLoop> loop = base::EventLoop::create().value();
  TestSink sink;
};

TEST(NodeProbePressure, FixtureGivesPsiAndOomKills) {
  Harness h;
  ProbeOptions options;
  options.proc_root = kModern;
  auto set = ProbeSet::create(*h.loop, h.sink, options);
  ASSERT_TRUE(set);
  catalog::ObjectSpec spec;
  spec.name = "self";
  spec.kind = catalog::Kind::kNode;
  ASSERT_TRUE((*set)->add(0, spec));
  (*set)->poll_all();
  auto cpu = parse_pressure(fixture(kModern + "/pressure/cpu"));
  auto io = parse_pressure(fixture(kModern + "/pressure/io"));
  ASSERT_TRUE(cpu && io && io->full);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "psi.cpu.some10"), cpu->some.avg10);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "psi.io.full300"), io->full->avg300);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "psi.io.some_total"),
                   static_cast<double>(io->some.total_us) / 1e6);
  EXPECT_TRUE(h.sink.has(0, "psi.memory.full60"));
  EXPECT_EQ(h.sink.number(0, "oom_kills"), 0);
}

TEST(NodeProbePressure, OldKernelLeavesThemUnknown) {
  Harness h;
  ProbeOptions options;
  options.proc_root = "tests/fixtures/proc/old";
  auto set = ProbeSet::create(*h.loop, h.sink, options);
  ASSERT_TRUE(set);
  catalog::ObjectSpec spec;
  spec.kind = catalog::Kind::kNode;
  ASSERT_TRUE((*set)->add(0, spec));
  (*set)->poll_all();
  EXPECT_FALSE(h.sink.has(0, "psi.memory.some10"));
  EXPECT_FALSE(h.sink.has(0, "oom_kills"));
}

TEST(NodeProbePressure, LiveKernelHasPsiAndTheOomCount) {
  if (!read_small_file("/proc/pressure/memory").ok()) GTEST_SKIP() << "kernel without PSI";
  Harness h;
  auto set = ProbeSet::create(*h.loop, h.sink, {});
  ASSERT_TRUE(set);
  catalog::ObjectSpec spec;
  spec.kind = catalog::Kind::kNode;
  ASSERT_TRUE((*set)->add(0, spec));
  (*set)->poll_all();
  for (const char* a : {"psi.cpu.some10", "psi.memory.some60", "psi.io.full300",
                        "psi.memory.some_total", "oom_kills"}) {
    EXPECT_TRUE(h.sink.has(0, a)) << a;
  }
  EXPECT_GE(h.sink.number(0, "psi.cpu.some_total"), 0);
  if (geteuid() == 0) {
    auto* node = dynamic_cast<NodeProbe*>((*set)->find(0));
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->psi_triggers(), 2) << "root on Linux 5.2+ arms memory and io triggers";
  }
}

// A trigger is the kernel's, so the test makes a real stall: more busy processes than
// cores stall each other on the CPU, and a trigger on /proc/pressure/cpu must fire.
TEST(PsiTrigger, FiresOnARealStall) {
  if (!read_small_file("/proc/pressure/cpu").ok()) GTEST_SKIP() << "kernel without PSI";
  auto loop = base::EventLoop::create();
  ASSERT_TRUE(loop);
  int fired = 0;
  auto trigger = PsiTrigger::open(**loop, "/proc/pressure/cpu", 50'000, 500'000,
                                  [&](std::uint32_t) { ++fired; });
  ASSERT_TRUE(trigger) << trigger.error().message;
  std::vector<pid_t> spinners;
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  for (long i = 0; i < cores * 2 + 1; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      alarm(30);                      // never outlive a failed test
      for (;;) __asm__ volatile("");  // spin: a loop the compiler must keep
    }
    spinners.push_back(pid);
  }
  const bool seen = run_loop_until(**loop, [&] { return fired > 0; });
  for (pid_t pid : spinners) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  EXPECT_TRUE(seen) << "no PSI event within 10 s of " << spinners.size() << " busy processes";
}

TEST(PsiTrigger, AMalformedPathIsAnError) {
  auto loop = base::EventLoop::create();
  ASSERT_TRUE(loop);
  EXPECT_FALSE(PsiTrigger::open(**loop, "/proc/pressure/none", 1, 1, [](std::uint32_t) {}));
}

}  // namespace
}  // namespace amata::probes
