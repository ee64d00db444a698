// Rule evaluation: the interpreter, the JIT (fast and optimising tiers) and g++ -O2 code
// generated from the same IR, for 10 to 10,000 rules; JIT compile time; RSS; what reading
// every rule's state costs. Figures and the reproduce command: docs/benchmarks.md, "Rule
// evaluation".
#include "bench/eval_bench.h"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

#include "compiler/interp/interpreter.h"
#include "compiler/ir/explain.h"
#include "compiler/jit/jit.h"

using EdgeFn = void (*)(void*, int, int);
extern "C" {
void handwritten_discover_10(const double*, double*, double, EdgeFn, void*);
void handwritten_discover_100(const double*, double*, double, EdgeFn, void*);
void handwritten_discover_1000(const double*, double*, double, EdgeFn, void*);
void handwritten_discover_10000(const double*, double*, double, EdgeFn, void*);
}

namespace amata::bench {
namespace {

std::shared_ptr<jit::Jit> the_jit() {
  static auto jit = jit::Jit::create();
  return *jit;
}

// Samples: every rule's inputs present; values around the thresholds so some rules hold.
std::vector<double> samples_for(const ir::Program& p) {
  std::vector<double> x(static_cast<std::size_t>(p.tables.number_slot_count));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = i % 4 == 3 ? 1.0 : static_cast<double>((i * 37) % 100);
  return x;
}

void eval_policy(benchmark::State& state, const ir::CompiledPolicy& policy) {
  const ir::Program& p = policy.program();
  const auto x = samples_for(p);
  const std::vector<std::string> strings;
  auto ps = policy.make_state();
  std::vector<ir::Edge> edges;
  double now = 0;
  for ([[maybe_unused]] auto _ : state) {
    edges.clear();
    policy.discover(now, ir::Samples{x, strings, {}}, ps, edges);
    now += 1;
    benchmark::DoNotOptimize(edges.data());
  }
  state.counters["ns_per_rule"] = benchmark::Counter(
      static_cast<double>(p.rules.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_Interp(benchmark::State& state) {
  auto program = make_bench_program(static_cast<int>(state.range(0)));
  auto policy = interp::interpret(program);
  eval_policy(state, **policy);
}

void BM_Jit(benchmark::State& state) {
  auto program = make_bench_program(static_cast<int>(state.range(0)));
  auto policy = the_jit()->compile(program);
  eval_policy(state, **policy);
}

void BM_JitOptimised(benchmark::State& state) {
  auto program = make_bench_program(static_cast<int>(state.range(0)));
  auto policy = the_jit()->compile(program, jit::JitOptions{jit::Tier::kOptimised, false});
  eval_policy(state, **policy);
}

void record_edge(void* ctx, int rule, int raise) {
  static_cast<std::vector<ir::Edge>*>(ctx)->push_back(ir::Edge{rule, raise != 0});
}

void BM_Gpp(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto program = make_bench_program(n);
  auto fn = n == 10     ? handwritten_discover_10
            : n == 100  ? handwritten_discover_100
            : n == 1000 ? handwritten_discover_1000
                        : handwritten_discover_10000;
  const auto x = samples_for(*program);
  // Same initial state as the compiled policies (NaN since-times).
  auto interp = interp::interpret(program);
  auto ps = (*interp)->make_state();
  std::vector<ir::Edge> edges;
  edges.reserve(program->rules.size());
  double now = 0;
  for ([[maybe_unused]] auto _ : state) {
    edges.clear();
    fn(x.data(), ps.words.data(), now, record_edge, &edges);
    now += 1;
    benchmark::DoNotOptimize(edges.data());
  }
  state.counters["ns_per_rule"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}

double rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1e6;
}

void compile_bench(benchmark::State& state, jit::Tier tier) {
  auto program = make_bench_program(static_cast<int>(state.range(0)));
  const double before = rss_mb();
  std::shared_ptr<const ir::CompiledPolicy> kept;
  for ([[maybe_unused]] auto _ : state) {
    auto policy = the_jit()->compile(program, jit::JitOptions{tier, false});
    benchmark::DoNotOptimize(policy.ok());
    kept = std::move(policy).value();  // the previous one is removed here, as on a reload
  }
  state.counters["rss_mb"] = rss_mb();
  state.counters["rss_delta_mb"] = rss_mb() - before;
}

void BM_JitCompile(benchmark::State& state) {
  compile_bench(state, jit::Tier::kFast);
}
void BM_JitCompileOptimised(benchmark::State& state) {
  compile_bench(state, jit::Tier::kOptimised);
}

// What the console's `rules` reads (every rule's condition tree, explain_rules) against what
// /metrics reads once a second on the loop (the temporal state alone, temporal_states), on
// the JIT-compiled policy amatad runs, after one discover() so `for` rules are pending.
template <typename Read>
void read_rule_states(benchmark::State& state, Read read) {
  auto program = make_bench_program(static_cast<int>(state.range(0)));
  auto policy = the_jit()->compile(program);
  const auto x = samples_for(*program);
  const std::vector<std::string> strings;
  const ir::Samples samples{x, strings, {}};
  auto ps = (*policy)->make_state();
  std::vector<ir::Edge> edges;
  (*policy)->discover(0, samples, ps, edges);
  for ([[maybe_unused]] auto _ : state) {
    auto states = read(**policy, 1.0, samples, ps);
    benchmark::DoNotOptimize(states.ok());
  }
  state.counters["ns_per_rule"] = benchmark::Counter(
      static_cast<double>(program->rules.size()),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_ExplainRules(benchmark::State& state) {
  read_rule_states(state, ir::explain_rules);
}
void BM_TemporalStates(benchmark::State& state) {
  read_rule_states(state, ir::temporal_states);
}

BENCHMARK(BM_Interp)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_Jit)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_JitOptimised)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_Gpp)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000);
BENCHMARK(BM_ExplainRules)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TemporalStates)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JitCompile)->Arg(10)->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JitCompileOptimised)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace amata::bench

// `--emit-llvm=N` prints the JIT's module for the N-rule program instead of benchmarking, to
// read the default tier's machine code with llc -O0 -fast-isel (docs/benchmarks.md).
int main(int argc, char** argv) {
  constexpr std::string_view kEmit = "--emit-llvm=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with(kEmit)) continue;
    auto text = amata::jit::emit_llvm(
        *amata::bench::make_bench_program(std::stoi(std::string(arg.substr(kEmit.size())))));
    if (!text.ok()) {
      std::fprintf(stderr, "%s\n", text.error().message.c_str());
      return 1;
    }
    std::fputs(text->c_str(), stdout);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
