// Constants: every `let` folded into a literal in base units, following references to other
// constants (in any order; a cycle is an error).
#pragma once

#include <optional>

#include "compiler/check/context.h"

namespace amata::check {

/// Folds `let` number `index` (once; later calls return the same value), nullopt if invalid.
const std::optional<TypedExpr>& fold_constant(CheckContext& ctx, int index);
/// A number, bool, string or resolved enum member: what a constant may hold.
bool is_literal(const TypedExpr& e);

}  // namespace amata::check
