// Types and units: the type of every expression. Literals are normalised to their catalog
// base unit; comparisons and arithmetic must agree in dimension; conditions are booleans;
// expressions of literals are folded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/check/context.h"

namespace amata::check {

/// Checks an expression and gives it its type; nullopt after reporting what is wrong.
std::optional<TypedExpr> check_expr(CheckContext& ctx, const ast::Expr& e, const Scope& scope);
/// Checks a condition: an expression that must be a boolean.
std::optional<TypedExpr> condition(CheckContext& ctx, const ast::Expr* e, const Scope& scope);
/// A number literal with its unit suffix, in base units; E0204 for an unknown unit.
std::optional<TypedExpr> number_literal(CheckContext& ctx, double value, const std::string& unit,
                                        ast::SourceRange range);
/// False after reporting (E0302) that `e` is not a boolean; `context` names its place.
bool require_bool(CheckContext& ctx, const TypedExpr& e, std::string_view context);
/// Whether `pattern` compiles as a regular expression in RE2 syntax (base::Regex, what
/// amatad matches with); false after reporting RE2's own message at `range` (E0305).
bool check_regex(CheckContext& ctx, const std::string& pattern, ast::SourceRange range);
/// "percent", "bytes", "bool", "link state", ...: the type as diagnostics name it.
std::string type_str(const TypedExpr& e);

}  // namespace amata::check
