// libFuzzer target over `amatac eval` traces (compiler/lower/replay.cc): any bytes as a
// JSON-lines trace, replayed as amatac eval does through each example policy on both back
// ends, up to the first line that does not parse or replay.
// Invariants: no crash or sanitizer report; an error is "FILE:LINE:COL: error: ..."; the
// interpreter and the JIT produce the same records.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/lower/replay.h"
#include "tests/fuzz/example_policies.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amata;
  const std::string file = "/fuzz/input.jsonl";
  const std::string input(reinterpret_cast<const char*>(data), size);
  for (const auto& policy : fuzz::example_policies()) {
    lower::Replayer interp(policy.interp);
    lower::Replayer jit(policy.jit);
    std::istringstream lines(input);
    std::string line;
    int n = 0;
    std::vector<lower::ReplayRecord> a, b;
    while (std::getline(lines, line)) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto step = lower::parse_trace_line(policy.program->tables, line, file, n);
      if (!step) {
        const std::string& message = step.error().message;
        const std::string prefix = file + ":" + std::to_string(n) + ":";
        if (!message.starts_with(prefix) || message.find(": error: ") == std::string::npos) {
          fuzz::fail("trace error without a location: " + message);
        }
        break;
      }
      a.clear();
      b.clear();
      Status sa = interp.step(*step, a);
      Status sb = jit.step(*step, b);
      if (sa.ok() != sb.ok()) fuzz::fail(policy.name + ": one back end refused a step");
      if (!sa.ok()) break;
      if (a.size() != b.size()) fuzz::fail(policy.name + ": the back ends disagree on a step");
      for (std::size_t i = 0; i < a.size(); ++i) {
        const std::string ja = interp.json(a[i]);
        const std::string jb = jit.json(b[i]);
        if (ja != jb || interp.text(a[i]) != jit.text(b[i])) {
          fuzz::fail(policy.name + ": line " + std::to_string(n) + ": interp " + ja + " jit " + jb);
        }
      }
    }
  }
  return 0;
}
