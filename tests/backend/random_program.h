// Random well-typed IR programs and traces for the differential tests of the two back ends,
// and the shrinker that turns a mismatch into the smallest reproducing case.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "compiler/ir/compiled_policy.h"
#include "compiler/ir/ir.h"

namespace amata::testing {

/// One step of a trace: the time and the values that change.
struct TraceStep {
  double t = 0;
  std::map<int, double> numbers;
  std::map<int, std::string> strings;
  std::map<int, double> check_times;
};

struct RandomCase {
  std::shared_ptr<ir::Program> program;
  std::vector<TraceStep> trace;
  bool with_check_times = false;
};

/// A program of `rules` random rules over a few objects, and a trace of `steps` steps.
RandomCase random_case(std::uint64_t seed, int rules, int steps);

/// The edges of every step, flattened to "step:rule:raise|clear".
std::vector<std::string> run_trace(const ir::CompiledPolicy& policy,
                                   const std::vector<TraceStep>& trace, bool with_check_times);

/// Keeps only rule `rule` of `program` (its expressions stay where they are).
std::shared_ptr<ir::Program> single_rule(const ir::Program& program, int rule);

/// A readable reproduction: the program listing and the trace.
std::string describe(const ir::Program& program, const std::vector<TraceStep>& trace,
                     bool with_check_times);

}  // namespace amata::testing

namespace amata::testing {

/// A case that shows a difference, being shrunk.
struct Repro {
  std::shared_ptr<ir::Program> program;
  std::vector<TraceStep> trace;
  bool with_check_times = false;
};

/// Shrinks `repro` while `differs` keeps holding: drops trace steps and assignments, replaces
/// the condition by a sub-expression, nodes by constants, the qualifier by none.
Repro shrink(Repro repro, const std::function<bool(const Repro&)>& differs);

}  // namespace amata::testing
