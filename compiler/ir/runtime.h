// Runtime helpers shared by the interpreter and the JIT: window functions, predict, string
// comparison and regex matching, and the temporal step of a rule. The JIT calls these same
// functions (extern "C", registered as absolute symbols), so both back ends share one
// semantics for everything that is not plain arithmetic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/regex.h"
#include "compiler/ir/ir.h"
#include "compiler/ir/metric_history.h"

namespace amata::ir {

/// What a running evaluation reads besides the state words; the JIT gets a pointer to it.
struct RuntimeFrame {
  const double* numbers = nullptr;
  const std::string* strings = nullptr;
  const double* check_times = nullptr;  // nullptr: every call at a new time is a check
  const MetricHistory* history = nullptr;
  const std::vector<std::string>* literals = nullptr;  // Program::strings
  const std::vector<base::Regex>* regexes = nullptr;   // compiled, indexed like literals
};

/// Compiles every regex a program matches with (indexed like Program::strings; entries that
/// are not regexes match nothing). A bad pattern is an error naming it: the checker
/// validated every pattern with the same base::Regex, so it means a program built by hand.
Result<std::vector<base::Regex>> compile_regexes(const Program& program);

/// Truth of a condition value: a number other than 0 (NaN, missing, is false).
inline bool truthy(double v) {
  return v == v && v != 0;
}

}  // namespace amata::ir

extern "C" {
/// A window function (Op as int) over a number slot's history at time `now`.
double amata_rt_window(const amata::ir::RuntimeFrame* frame, std::int32_t op, std::int32_t slot,
                       double window, double horizon, double now);
/// String slot `slot` compared with literal `str`: 1 equal, 0 different.
double amata_rt_str_eq(const amata::ir::RuntimeFrame* frame, std::int32_t slot, std::int32_t str);
/// String slot `slot` searched with regex `str`: 1 found, 0 not.
double amata_rt_match(const amata::ir::RuntimeFrame* frame, std::int32_t slot, std::int32_t str);
/// Advances a kForChecks or kTimesWithin rule's state with the condition value `cond` and
/// returns the new active flag (0/1). `words` is the rule's state block.
double amata_rt_temporal(double* words, std::int32_t temporal, double seconds, std::int32_t count,
                         double cond, double now, double check_time);
/// `clear after`: the rule's active flag given the qualifier's output `active` and the
/// condition's truth `holds` (0/1), the flag before this evaluation `was` and the rule's
/// clear word `word`. A firing rule stays active until the condition has been false for
/// `seconds` in a row (if it turns true meanwhile, the event stays up: no new rise).
double amata_rt_clear_after(double* word, double active, double was, double holds, double seconds,
                            double now);
}
