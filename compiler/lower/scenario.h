// Offline policy tests (`amatac test POLICY TESTFILE`), in the spirit of `promtool test rules`
// and `crm_simulate`: each test names an input trace (inline `at` lines or a JSON-lines file)
// and the events and actions expected at given times. The format is documented in the
// "Offline policy tests" section of docs/language.md.
#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/lower/replay.h"

namespace amata::lower {

/// One expected record: at time t, the canonical text of an edge or action.
struct Expectation {
  double t = 0;
  std::string text;
  int line = 0;
};

/// One `test ... end` block.
struct Scenario {
  std::string name;
  int line = 0;
  std::vector<ReplayStep> steps;
  std::vector<Expectation> expected;
};

/// The text of the trace file at `path` (a `trace "FILE"` statement, FILE resolved against
/// the test file's folder).
using TraceReader = std::function<Result<std::string>(const std::string& path)>;

/// Reads the file at `path`: the TraceReader of `amatac test`.
Result<std::string> read_trace_file(const std::string& path);

/// Parses a test file against a policy's tables. Errors are "FILE:LINE:COL: error: ...".
Result<std::vector<Scenario>> parse_scenarios(const ir::PolicyTables& tables,
                                              const std::string& text, const std::string& file,
                                              const TraceReader& read_trace = read_trace_file);

/// Runs one scenario; returns the readable differences ("" when it passes).
std::string run_scenario(std::shared_ptr<const ir::CompiledPolicy> policy,
                         const Scenario& scenario);

}  // namespace amata::lower
