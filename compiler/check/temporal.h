// Time in rules: durations and counts known before the policy runs, the window functions
// (avg, min, max, rate, delta, changed, predict) and `x within D` over an attribute's
// history, and a discover rule's temporal qualifier (`for D`, `for N checks`,
// `N times within D`).
#pragma once

#include <optional>
#include <string_view>

#include "compiler/check/context.h"
#include "compiler/check/ranges.h"

namespace amata::check {

/// A duration known at check time, in seconds (literal or constant), within `range`
/// (ranges.h), or nullopt (reported: E0303 not a duration or not above zero, E0310 out of
/// its range).
std::optional<double> duration_value(CheckContext& ctx, const ast::Expr& e, std::string_view what,
                                     const DurationRange& range);
/// A whole count known at check time, from 1 to `max` (E0304 otherwise).
std::optional<int> count_value(CheckContext& ctx, const ast::Expr& e, std::string_view what,
                               int max);
/// E0310 unless `seconds` is within `range`: "`what` must be from 10ms to 24h, but this is 48h".
bool require_range(CheckContext& ctx, double seconds, const DurationRange& range,
                   ast::SourceRange at, std::string_view what);
/// A call of a window function.
std::optional<TypedExpr> window_function(CheckContext& ctx, const ast::Expr& e, const Scope& scope);
/// `x within D`: the increase of a numeric attribute over a window.
std::optional<TypedExpr> within(CheckContext& ctx, const ast::Expr& e, const Scope& scope);
/// A discover rule's temporal qualifier; clears `ok` on an error.
Temporal temporal_clause(CheckContext& ctx, const ast::Temporal& t, bool& ok);

}  // namespace amata::check
