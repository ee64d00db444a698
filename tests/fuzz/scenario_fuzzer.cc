// libFuzzer target over `amatac test` files (compiler/lower/scenario.cc): any bytes as a test
// file, parsed against each example policy's tables; every test that parses runs on both back
// ends, which must report the same differences. After a line "#--- trace", the rest of the
// input is the file any `trace "FILE"` statement reads (nothing is read from disk).
// Invariants: no crash or sanitizer report; an error is "FILE:LINE:COL: error: ..."; the
// interpreter and the JIT agree.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compiler/lower/scenario.h"
#include "tests/fuzz/example_policies.h"

namespace {

constexpr std::string_view kTestFile = "/fuzz/input.test";
constexpr std::string_view kTraceMarker = "#--- trace\n";

// "PATH:LINE:COL: error: " with PATH under /fuzz/ and LINE, COL numbers.
bool located(const std::string& message) {
  if (!message.starts_with("/fuzz/")) return false;
  std::size_t at = message.find(':');
  for (int field = 0; field < 2; ++field) {
    std::size_t digits = at + 1;
    while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits])))
      ++digits;
    if (at == std::string::npos || digits == at + 1 || digits >= message.size() ||
        message[digits] != ':') {
      return false;
    }
    at = digits;
  }
  return std::string_view(message).substr(at).starts_with(": error: ");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amata;
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::string tests = input;
  std::string trace;
  if (auto at = input.find(kTraceMarker); at != std::string::npos) {
    tests = input.substr(0, at);
    trace = input.substr(at + kTraceMarker.size());
  }
  const lower::TraceReader read_trace = [&](const std::string&) -> Result<std::string> {
    return trace;
  };
  for (const auto& policy : fuzz::example_policies()) {
    auto scenarios =
        lower::parse_scenarios(policy.program->tables, tests, std::string(kTestFile), read_trace);
    if (!scenarios) {
      if (!located(scenarios.error().message)) {
        fuzz::fail("test file error without a location: " + scenarios.error().message);
      }
      continue;
    }
    for (const auto& scenario : *scenarios) {
      const std::string interp = lower::run_scenario(policy.interp, scenario);
      const std::string jit = lower::run_scenario(policy.jit, scenario);
      if (interp != jit) {
        fuzz::fail(policy.name + ": test '" + scenario.name + "': the back ends disagree\n" +
                   "interp:\n" + interp + "jit:\n" + jit);
      }
    }
  }
  return 0;
}
