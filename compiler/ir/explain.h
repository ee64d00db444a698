// Why a rule is or is not firing: the current value of every sub-expression of its
// condition and the state of its temporal qualifier, computed with the interpreter's own
// eval_expr so that an explanation cannot disagree with discover().
#pragma once

#include <limits>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/ir/ir.h"

namespace amata::ir {

/// One node of a rule's condition with its value now (NaN: missing).
struct ExprExplanation {
  int expr = -1;              // index into Program::exprs
  std::string op;             // op_name(), e.g. ">", "and", "avg"
  std::string text;           // dump_expr() of this node
  double value = 0;           // booleans 0/1, enums their ordinal, NaN missing
  std::vector<int> children;  // positions in RuleExplanation::nodes
};

/// The temporal qualifier of a rule as of the last discover() (the state words).
struct TemporalExplanation {
  Temporal kind = Temporal::kNone;
  bool holds = false;       // the condition is true now
  bool active = false;      // the rule is active (its event raised and not cleared)
  double since = 0;         // kForDuration: when the condition started holding (NaN: not)
  double held_s = 0;        // kForDuration: now - since (0 when not holding)
  double left_s = 0;        // kForDuration: seconds still to hold (0: elapsed or not holding)
  double seconds = 0;       // kForDuration/kTimesWithin: the duration or window
  int count = 0;            // kForChecks/kTimesWithin: checks or rises needed
  int checks = 0;           // kForChecks: consecutive checks counted so far
  int rises_in_window = 0;  // kTimesWithin: rises within [now - seconds, now]
  bool pending = false;     // holds, but the qualifier has not been met yet
  double clear_after = 0;   // `clear after`: seconds (0: the rule clears at once)
  /// `clear after`: the rule is active but its qualifier is false; it clears in this many
  /// seconds unless the qualifier is met again (NaN: not clearing).
  double clearing_left_s = std::numeric_limits<double>::quiet_NaN();
};

/// A rule's condition tree (nodes[0] is the root) and its temporal status.
struct RuleExplanation {
  std::vector<ExprExplanation> nodes;
  TemporalExplanation temporal;
};

/// Explains rule `rule` at time `now` against `samples` and `state` (read, not advanced).
/// Errors: a rule id out of range, samples or state of the wrong size.
Result<RuleExplanation> explain_rule(const CompiledPolicy& policy, int rule, double now,
                                     const Samples& samples, const PolicyState& state);
/// Explains every rule, in rule order.
Result<std::vector<RuleExplanation>> explain_rules(const CompiledPolicy& policy, double now,
                                                   const Samples& samples,
                                                   const PolicyState& state);
/// Every rule's temporal status alone, in rule order: one evaluation of each condition and
/// its state words, no sub-expressions and no text. What /metrics reads once a second, at a
/// fraction of explain_rules()'s cost (bench/eval_bench.cc, BM_TemporalStates).
Result<std::vector<TemporalExplanation>> temporal_states(const CompiledPolicy& policy, double now,
                                                         const Samples& samples,
                                                         const PolicyState& state);

}  // namespace amata::ir
