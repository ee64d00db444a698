// The reference semantics of the IR: expression evaluation and recovery bodies. The
// interpreter's discover() and every back end's recover() use these functions; the JIT
// reproduces eval_expr in native code and the differential tests hold the two together.
#pragma once

#include <span>
#include <vector>

#include "compiler/ir/ir.h"
#include "compiler/ir/runtime.h"

namespace amata::ir {

/// The value of expression `expr` at time `now`. `args` binds event parameters (recovery
/// bodies only; empty in discovery rules).
double eval_expr(const Program& program, const RuntimeFrame& frame, int expr, double now,
                 std::span<const int> args = {});

/// Advances rule `rule`'s temporal state with its condition value and returns whether the
/// rule is now active (before comparing with the previous active flag).
bool step_rule(const Program& program, const RuntimeFrame& frame, std::size_t rule, double cond,
               double now, double* words);

/// Walks the recovery body bound to `event`, sending each action to `sink`.
void run_recovery(const Program& program, const RuntimeFrame& frame, const EventInstance& event,
                  double now, ActionSink& sink);

/// A fresh state block: nothing active, no since-times, no rises.
std::vector<double> initial_state_words(const Program& program);

}  // namespace amata::ir
