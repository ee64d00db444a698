// libFuzzer target over `amatac test` files (compiler/lower/scenario.cc): any bytes as a test
// file, parsed against each example policy's tables; every test that parses runs on both back
// ends, which must report the same differences. After a line "#--- trace", the rest of the
// input is the file any `trace "FILE"` statement reads (nothing is read from disk).
// Invariants: no crash or sanitizer report; an error is "FILE:LINE:COL: error: ..."; the
// interpreter and the JIT agree.
#include <algorithm>
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

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

// "PATH:LINE:COL: error: " with LINE and COL numbers. PATH is the test file or a trace it names
// (`trace "/x"`: an absolute path stays one), and may hold colons itself (a trace named "a:b"),
// so LINE and COL are the last two fields before ": error: ".
bool located(const std::string& message) {
  const std::string_view text(message);
  for (std::size_t at = text.find(": error: "); at != std::string_view::npos;
       at = text.find(": error: ", at + 1)) {
    const std::string_view place = text.substr(0, at);
    const std::size_t col = place.rfind(':');
    if (col == std::string_view::npos || col == 0) continue;
    const std::size_t line = place.rfind(':', col - 1);
    if (line == std::string_view::npos) continue;
    if (line > 0 && all_digits(place.substr(line + 1, col - line - 1)) &&
        all_digits(place.substr(col + 1))) {
      return true;
    }
  }
  return false;
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
