// Names: what a name in the policy stands for. Definitions of objects, constants and the
// cluster; kinds; the parameters of rules and events; object names in actions; and the
// names and dotted paths of expressions (a constant, an object's attribute, an enum member).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "compiler/check/context.h"

namespace amata::check {

/// Records `name` as defined; reports a redefinition (E0201) and returns false.
bool define(CheckContext& ctx, const ast::Name& name, Definition::What what, int index);
/// The catalog kind `kind` names, or nullopt after reporting it (E0200).
std::optional<catalog::Kind> resolve_kind(CheckContext& ctx, const ast::Name& kind);
/// The parameters of a rule or an event with their kinds; clears `ok` on an error.
std::vector<Parameter> parameters(CheckContext& ctx, const std::vector<ast::Param>& params,
                                  bool& ok);
/// Resolves a name that stands for an object: a parameter in scope or a declared object.
std::optional<ObjectRef> object_ref(const CheckContext& ctx, std::string_view name,
                                    const Scope& scope);
/// An object name that does not resolve: report with suggestions (E0202).
void unknown_object(CheckContext& ctx, const ast::Name& name, const Scope& scope,
                    std::string_view what);
/// Resolves the object an action names into `out`; false after reporting it.
bool target(CheckContext& ctx, const ast::Name& name, const Scope& scope, ObjectRef& out);
/// A name or dotted path in an expression: a constant's value, an attribute read, or an enum
/// member (resolved later against the other side of its comparison).
std::optional<TypedExpr> path_expr(CheckContext& ctx, const ast::Expr& e, const Scope& scope);

}  // namespace amata::check
