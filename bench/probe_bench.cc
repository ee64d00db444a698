// The cost of one probe cycle: N real sleeping processes (children of the benchmark, killed
// after), each measured by its own process probe (/proc/PID/stat, io, children, fd/), plus
// the node (with pressure stalls and the OOM count), interface and filesystem probes, and the
// hardware probes on recorded sysfs trees. Also counts heap allocations per cycle: the steady
// state must allocate nothing.
//
// Reproduce: cmake --preset bench -B build/bench && cmake --build build/bench --target
//            probe_bench && build/bench/bench/probe_bench   (from the source tree)
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "probes/allocation_counter.h"
#include "probes/pressure.h"
#include "probes/probe.h"
#include "probes/procfs.h"

namespace amata::probes {
namespace {

/// A sink that keeps nothing, so the figure is the probes' cost alone.
class NullSink : public MeasurementSink {
 public:
  void set_number(int, std::string_view, double value) override { benchmark::DoNotOptimize(value); }
  void set_string(int, std::string_view, std::string_view value) override {
    benchmark::DoNotOptimize(value.data());
  }
  void changed(int) override {}
};

catalog::ObjectSpec make_spec(std::string name, catalog::Kind kind) {
  catalog::ObjectSpec spec;
  spec.name = std::move(name);
  spec.kind = kind;
  return spec;
}

/// N forked children that sleep until killed; they die with the benchmark if it dies.
class SleepingChildren {
 public:
  explicit SleepingChildren(int n) {
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) pause();
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~SleepingChildren() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  std::vector<pid_t> pids_;
};

void BM_ProcessProbeCycle(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  SleepingChildren children(n);
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop, sink, options).value();
  for (int i = 0; i < n; ++i) {
    catalog::ObjectSpec spec;
    spec.name = "svc" + std::to_string(i);
    spec.kind = catalog::Kind::kService;
    if (!set->add(i, spec) || !set->follow(i, children.pids()[i])) {
      state.SkipWithError("could not set up the probes");
      return;
    }
  }
  set->poll_all();  // warm: buffers sized, previous samples taken
  std::uint64_t allocs_before = allocation_count();
  for ([[maybe_unused]] auto _ : state) set->poll_all();
  std::uint64_t allocs = allocation_count() - allocs_before;
  state.counters["processes"] = n;
  state.counters["per_process"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs_per_cycle"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_ProcessProbeCycle)->Arg(1)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_NodeInterfaceFilesystemCycle(benchmark::State& state) {
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  auto set = ProbeSet::create(*loop, sink, {}).value();
  catalog::ObjectSpec node = make_spec("self", catalog::Kind::kNode);
  catalog::ObjectSpec lo = make_spec("lo", catalog::Kind::kInterface);
  lo.ifname = "lo";
  catalog::ObjectSpec root = make_spec("root", catalog::Kind::kFilesystem);
  root.path = "/";
  if (!set->add(0, node) || !set->add(1, lo) || !set->add(2, root)) {
    state.SkipWithError("could not set up the probes");
    return;
  }
  (void)loop->run_once(std::chrono::milliseconds(50));  // the rtnetlink dump
  set->poll_all();
  std::uint64_t allocs_before = allocation_count();
  for ([[maybe_unused]] auto _ : state) set->poll_all();
  state.counters["allocs_per_cycle"] = static_cast<double>(allocation_count() - allocs_before) /
                                       static_cast<double>(state.iterations());
}
BENCHMARK(BM_NodeInterfaceFilesystemCycle)->Unit(benchmark::kMicrosecond);

/// What the node probe added for pressure and OOM kills: /proc/pressure/{cpu,memory,io} and
/// /proc/vmstat re-read and parsed, the part of BM_NodeInterfaceFilesystemCycle that is new.
void BM_PressureAndOomReads(benchmark::State& state) {
  std::vector<ProcFile> files;
  for (const char* path :
       {"/proc/pressure/cpu", "/proc/pressure/memory", "/proc/pressure/io", "/proc/vmstat"}) {
    auto f = ProcFile::open(path);
    if (!f) {
      state.SkipWithError("no PSI on this kernel");
      return;
    }
    files.push_back(std::move(*f));
  }
  std::uint64_t allocs_before = allocation_count();
  for ([[maybe_unused]] auto _ : state) {
    for (std::size_t i = 0; i < 3; ++i) {
      auto text = files[i].read();
      if (text) benchmark::DoNotOptimize(parse_pressure(*text));
    }
    auto vmstat = files[3].read();
    if (vmstat) benchmark::DoNotOptimize(find_vmstat_counter(*vmstat, "oom_kill"));
  }
  state.counters["allocs_per_cycle"] = static_cast<double>(allocation_count() - allocs_before) /
                                       static_cast<double>(state.iterations());
}
BENCHMARK(BM_PressureAndOomReads)->Unit(benchmark::kMicrosecond);

/// The hardware probes on the recorded sysfs trees (run from the source tree): a coretemp
/// input and a thermal zone (arg 0), an EDAC controller and one DIMM (1), an MD raid5 with
/// its members (2). Their values are re-read with pread from files kept open.
void BM_HardwareProbeCycle(benchmark::State& state) {
  static constexpr const char* kRoots[] = {"tests/fixtures/sys/x86", "tests/fixtures/sys/edac-skx",
                                           "tests/fixtures/sys/md"};
  const int which = static_cast<int>(state.range(0));
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.sys_root = kRoots[which];
  auto set = ProbeSet::create(*loop, sink, options).value();
  std::vector<catalog::ObjectSpec> specs;
  if (which == 0) {
    specs.push_back(make_spec("cpu", catalog::Kind::kSensor));
    specs.back().chip = "coretemp";
    specs.back().input = "Package id 0";
    specs.push_back(make_spec("zone", catalog::Kind::kSensor));
    specs.back().zone = "acpitz";
  } else if (which == 1) {
    specs.push_back(make_spec("mc0", catalog::Kind::kEcc));
    specs.back().controller = "mc0";
    specs.push_back(make_spec("dimm", catalog::Kind::kEcc));
    specs.back().controller = "mc0";
    specs.back().dimm = "dimm0";
  } else {
    specs.push_back(make_spec("md5", catalog::Kind::kRaid));
    specs.back().array = "md5";
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (!set->add(static_cast<int>(i), specs[i])) {
      state.SkipWithError("could not set up the probes: run from the source tree");
      return;
    }
  }
  set->poll_all();
  std::uint64_t allocs_before = allocation_count();
  for ([[maybe_unused]] auto _ : state) set->poll_all();
  state.counters["allocs_per_cycle"] = static_cast<double>(allocation_count() - allocs_before) /
                                       static_cast<double>(state.iterations());
}
BENCHMARK(BM_HardwareProbeCycle)->DenseRange(0, 2)->Unit(benchmark::kMicrosecond);

/// Finding a process by regex scans /proc: the cost when it is missing, with N extra
/// processes on the machine.
void BM_MatchScanMissing(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  SleepingChildren children(n);
  auto loop = base::EventLoop::create().value();
  NullSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop, sink, options).value();
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.match = "^no-such-program-anywhere";
  if (!set->add(0, spec)) {
    state.SkipWithError("could not set up the probe");
    return;
  }
  for ([[maybe_unused]] auto _ : state) set->poll_all();
  state.counters["extra_processes"] = n;
}
BENCHMARK(BM_MatchScanMissing)->Arg(0)->Arg(1000)->Unit(benchmark::kMicrosecond);

/// Counts changed() notifications, so the death-latency benchmark can wait for one.
class CountingSink : public NullSink {
 public:
  void changed(int) override { ++changes; }
  int changes = 0;
};

/// From kill(SIGKILL) to the probe's changed(): how fast a death reaches the engine. Arg 0:
/// pidfd only; arg 1: pidfd and the proc connector (whichever reports first).
void BM_DeathLatency(benchmark::State& state) {
  bool connector = state.range(0) != 0;
  auto loop = base::EventLoop::create().value();
  CountingSink sink;
  ProbeOptions options;
  options.use_proc_connector = connector;
  auto set = ProbeSet::create(*loop, sink, options).value();
  std::string pidfile = "/tmp/amata-bench-" + std::to_string(getpid()) + ".pid";
  catalog::ObjectSpec spec = make_spec("p", catalog::Kind::kProcess);
  spec.pidfile = pidfile;
  if (!set->add(0, spec)) {
    state.SkipWithError("could not set up the probe");
    return;
  }
  for ([[maybe_unused]] auto _ : state) {
    // A small process (sleep), as a real service would be, not a copy of this benchmark:
    // the kernel tears down the address space before it reports the exit.
    pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sleep", "sleep", "1000", static_cast<char*>(nullptr));
      _exit(127);
    }
    char comm[64] = "";
    std::string comm_path = "/proc/" + std::to_string(pid) + "/comm";
    while (std::string_view(comm).substr(0, 5) != "sleep") {
      FILE* c = std::fopen(comm_path.c_str(), "r");
      if (c == nullptr || std::fgets(comm, sizeof comm, c) == nullptr) comm[0] = '\0';
      if (c != nullptr) std::fclose(c);
    }
    FILE* f = std::fopen(pidfile.c_str(), "w");
    std::fprintf(f, "%d\n", pid);
    std::fclose(f);
    set->poll_all();  // adopts the pid: opens its pidfd
    int before = sink.changes;
    auto start = std::chrono::steady_clock::now();
    kill(pid, SIGKILL);
    while (sink.changes == before) {
      if (!loop->run_once(std::chrono::seconds(5))) break;
    }
    auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    waitpid(pid, nullptr, 0);
    loop->run_once(std::chrono::milliseconds(0)).ok();  // the other source's late event
  }
  unlink(pidfile.c_str());
}
BENCHMARK(BM_DeathLatency)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace amata::probes

BENCHMARK_MAIN();
