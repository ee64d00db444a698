// The rule set of the evaluation benchmark: N realistic rules over N/2 number slots, built as
// IR (for the interpreter and the JIT) and emitted as C++ (for g++ -O2) from the same IR, so
// all three evaluate exactly the same rules.
#pragma once

#include <memory>
#include <string>

#include "compiler/ir/ir.h"

namespace amata::bench {

/// N rules: half `x > c`, a fifth `x > c and y < d`, a fifth `x > c for D`, a tenth `not b`.
std::shared_ptr<const ir::Program> make_bench_program(int rules);

/// A C++ function `void NAME(const double* x, double* w, double now, EdgeFn edge, void* ctx)`
/// with the same semantics as the program's discover (what a person would write by hand:
/// plain comparisons, a since-time per `for` rule, an edge callback).
std::string emit_cpp(const ir::Program& program, const std::string& name);

}  // namespace amata::bench
