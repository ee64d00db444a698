// Events: a `raise` resolves against the declared events, and an event raised before any
// declaration is inferred from its first raise (its parameters' kinds from the arguments).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "compiler/check/context.h"

namespace amata::check {

/// Resolves a raise clause: the event id and the argument objects, or nullopt (reported).
std::optional<std::pair<int, std::vector<ObjectRef>>> raise(CheckContext& ctx,
                                                            const ast::RaiseClause& r,
                                                            const Scope& scope);

}  // namespace amata::check
