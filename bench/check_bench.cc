// `amatac check` speed: parse + every checker pass on generated policies of 100 to 10,000
// rules (docs/benchmarks.md, "amatac check"). `check_bench --write-policy FILE [RULES]` writes
// the 10,000-rule policy so the same input can be timed through the amatac binary.
#include "bench/check_bench.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "compiler/frontend/frontend.h"

namespace amata::bench {

std::string generate_policy(int rules) {
  constexpr int kServices = 1000, kInterfaces = 100, kFilesystems = 50, kEvents = 100;
  std::string p =
      "policy generated\n\nlet cpu_high = 85%\nlet grace = 30s\n\nnode self { every 1s }\n";
  for (int i = 0; i < kServices; ++i) {
    const std::string n = std::to_string(i);
    p += "service s" + n + " {\n  start \"/usr/bin/app\" \"--instance\" \"" + n +
         "\"\n  stop TERM then KILL after 5s\n  health tcp \"127.0.0.1:" +
         std::to_string(10000 + i) + "\" every 1s timeout 300ms\n" +
         (i > 0 ? "  depends s" + std::to_string(i / 2) + "\n" : "") + "}\n";
  }
  for (int i = 0; i < kInterfaces; ++i) p += "interface i" + std::to_string(i) + " {}\n";
  for (int i = 0; i < kFilesystems; ++i) {
    p += "filesystem f" + std::to_string(i) + " { path \"/srv/" + std::to_string(i) + "\" }\n";
  }
  for (int e = 0; e < kEvents; ++e) p += "event E" + std::to_string(e) + "(s: service)\n";
  for (int r = 0; r < rules; ++r) {
    const std::string s = "s" + std::to_string(r % kServices);
    const std::string ev = "E" + std::to_string(r % kEvents);
    const std::string i = "i" + std::to_string(r % kInterfaces);
    const std::string f = "f" + std::to_string(r % kFilesystems);
    std::string cond;
    switch (r % 5) {
      case 0:
        cond = "avg(" + s + ".cpu, 1min) > cpu_high and " + s + ".rss > 1GiB for grace";
        break;
      case 1:
        cond = "not " + s + ".alive or " + s + ".health.failed for 3 checks";
        break;
      case 2:
        cond = "rate(" + i + ".rx_errors) > 10/s and " + i + ".carrier == up";
        break;
      case 3:
        cond = "predict(" + f + ".used, 6h) > 100% and " + s + ".fds > 1000";
        break;
      default:
        cond = "changed(" + i + ".carrier) 3 times within 1min";
        break;
    }
    p += "discover r" + std::to_string(r) + " when " + cond + " raise " + ev + "(" + s + ")\n";
  }
  for (int e = 0; e < kEvents; ++e) {
    p += "recover E" + std::to_string(e) +
         "(s) {\n  restart s backoff 100ms .. 30s limit 5 within 10min\n"
         "  when s.restarts within 5min > 3 { unmonitor s; notify \"console\" \"flapping\" }\n}\n";
  }
  return p;
}

namespace {

void BM_CheckPolicy(::benchmark::State& state) {
  const std::string text = generate_policy(static_cast<int>(state.range(0)));
  for ([[maybe_unused]] auto _ : state) {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto policy = frontend::compile_text("generated.amata", text, sources, diags);
    if (!policy || diags.warning_count() != 0) {
      state.SkipWithError("the generated policy does not check clean");
      return;
    }
    ::benchmark::DoNotOptimize(policy);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["rules"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_CheckPolicy)->Arg(100)->Arg(1000)->Arg(10000)->Unit(::benchmark::kMillisecond);

}  // namespace
}  // namespace amata::bench

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--write-policy") == 0) {
    const int rules = argc >= 4 ? std::atoi(argv[3]) : 10000;
    std::ofstream(argv[2]) << amata::bench::generate_policy(rules);
    return 0;
  }
  ::benchmark::Initialize(&argc, argv);
  ::benchmark::RunSpecifiedBenchmarks();
  return 0;
}
