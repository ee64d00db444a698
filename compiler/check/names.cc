#include "compiler/check/names.h"

#include <set>
#include <string>

#include "compiler/check/constants.h"

namespace amata::check {
namespace {

using catalog::Dimension;
using catalog::Kind;
using catalog::Type;
using Op = TypedExpr::Op;

std::vector<std::string_view> name_candidates(const CheckContext& ctx, const Scope& scope) {
  std::vector<std::string_view> out;
  for (const auto& [name, def] : ctx.names) {
    if (!scope.constants_only || def.what == Definition::What::kConstant) out.push_back(name);
  }
  if (scope.params) {
    for (const auto& p : *scope.params) out.push_back(p.name);
  }
  return out;
}

}  // namespace

bool define(CheckContext& ctx, const ast::Name& name, Definition::What what, int index) {
  auto [it, inserted] = ctx.names.emplace(name.text, Definition{what, index, name.range});
  if (!inserted) {
    auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, name.range,
                               "redefinition of " + quote(name.text));
    d.notes.push_back({it->second.range, "previous definition is here"});
    return false;
  }
  return true;
}

std::optional<Kind> resolve_kind(CheckContext& ctx, const ast::Name& kind) {
  if (auto k = catalog::kind_from_name(kind.text)) return k;
  std::vector<std::string_view> kinds;
  for (Kind k : catalog::all_kinds()) kinds.push_back(catalog::kind_name(k));
  std::string msg = "unknown kind " + quote(kind.text);
  const std::string best = diag::closest_match(kind.text, kinds);
  // A misspelt statement keyword parses as an object declaration; suggest those too.
  const std::string keyword = diag::closest_match(
      kind.text, {"discover", "recover", "event", "include", "policy", "cluster", "channel"});
  auto& d = ctx.diags.report(diag::Code::kUnknownKind, kind.range, "");
  if (!best.empty()) {
    msg += "; did you mean " + quote(best) + "?";
    d.fixits.push_back({kind.range, best});
  } else if (!keyword.empty()) {
    msg += "; did you mean " + quote(keyword) + "?";
  } else {
    msg += " (kinds are node, service, process, interface, filesystem, host, check, peer)";
  }
  d.message = msg;
  return std::nullopt;
}

std::vector<Parameter> parameters(CheckContext& ctx, const std::vector<ast::Param>& params,
                                  bool& ok) {
  std::vector<Parameter> out;
  std::set<std::string> seen;
  for (const auto& p : params) {
    auto kind = resolve_kind(ctx, p.kind);
    if (!kind) ok = false;
    if (!seen.insert(p.name.text).second) {
      ctx.diags.report(diag::Code::kDuplicateDefinition, p.name.range,
                       "duplicate parameter " + quote(p.name.text));
      ok = false;
    }
    out.push_back({p.name.text, kind.value_or(Kind::kNode), p.name.range});
  }
  return out;
}

/// Resolves a name that stands for an object: a parameter in scope or a declared object.
std::optional<ObjectRef> object_ref(const CheckContext& ctx, std::string_view name,
                                    const Scope& scope) {
  if (scope.params) {
    for (std::size_t i = 0; i < scope.params->size(); ++i) {
      if ((*scope.params)[i].name == name) {
        return ObjectRef{ObjectRef::Base::kParameter, static_cast<int>(i), (*scope.params)[i].kind};
      }
    }
  }
  auto it = ctx.names.find(std::string(name));
  if (it != ctx.names.end() && it->second.what == Definition::What::kObject) {
    return ObjectRef{ObjectRef::Base::kObject, it->second.index,
                     ctx.policy.objects[it->second.index].kind};
  }
  return std::nullopt;
}

/// An object name that does not resolve: report with suggestions.
void unknown_object(CheckContext& ctx, const ast::Name& name, const Scope& scope,
                    std::string_view what) {
  std::vector<std::string_view> candidates;
  if (scope.params) {
    for (const auto& p : *scope.params) candidates.push_back(p.name);
  }
  for (const auto& o : ctx.policy.objects) candidates.push_back(o.name);
  auto& d =
      ctx.diags.report(diag::Code::kUnknownName, name.range,
                       with_suggestion("unknown " + std::string(what) + " " + quote(name.text),
                                       name.text, candidates));
  const std::string best = diag::closest_match(name.text, candidates);
  if (!best.empty()) d.fixits.push_back({name.range, best});
}

bool target(CheckContext& ctx, const ast::Name& name, const Scope& scope, ObjectRef& out) {
  auto ref = object_ref(ctx, name.text, scope);
  if (!ref) {
    unknown_object(ctx, name, scope, "object");
    return false;
  }
  out = *ref;
  return true;
}

std::optional<TypedExpr> path_expr(CheckContext& ctx, const ast::Expr& e, const Scope& scope) {
  const ast::Name& head = e.path.front();
  if (e.path.size() == 1) {
    if (auto it = ctx.names.find(head.text);
        it != ctx.names.end() && it->second.what == Definition::What::kConstant) {
      ctx.used_constants.insert(head.text);
      const auto& value = fold_constant(ctx, it->second.index);
      if (!value) return std::nullopt;
      TypedExpr copy = *value;
      copy.range = e.range;
      return copy;
    }
    if (!scope.constants_only && object_ref(ctx, head.text, scope)) {
      ctx.diags.report(diag::Code::kObjectNotValue, e.range,
                       quote(head.text) +
                           " is an object, not a value; read one of its "
                           "attributes, as in " +
                           quote(head.text + ".alive"));
      return std::nullopt;
    }
    for (catalog::EnumType t : catalog::all_enum_types()) {
      if (catalog::enum_ordinal(t, head.text)) {
        TypedExpr m;
        m.op = Op::kEnum;
        m.type = Type::enumeration(t);
        m.enum_ordinal = -1;  // resolved against the other side of a comparison
        m.string = head.text;
        m.range = e.range;
        return m;
      }
    }
    std::vector<std::string_view> candidates = name_candidates(ctx, scope);
    for (catalog::EnumType t : catalog::all_enum_types()) {
      for (auto m : catalog::enum_members(t)) candidates.push_back(m);
    }
    auto& d = ctx.diags.report(
        diag::Code::kUnknownName, e.range,
        with_suggestion("unknown name " + quote(head.text), head.text, candidates));
    const std::string best = diag::closest_match(head.text, candidates);
    if (!best.empty()) d.fixits.push_back({e.range, best});
    return std::nullopt;
  }
  if (scope.constants_only) {
    ctx.diags.report(diag::Code::kNotConstant, e.range,
                     "the value of a constant must be known before the policy runs (no "
                     "attributes or window functions)");
    return std::nullopt;
  }
  auto obj = object_ref(ctx, head.text, scope);
  if (!obj) {
    unknown_object(ctx, head, scope, "object");
    return std::nullopt;
  }
  std::string attr;
  for (std::size_t i = 1; i < e.path.size(); ++i) {
    if (i > 1) attr += '.';
    attr += e.path[i].text;
  }
  const ast::SourceRange attr_range{e.range.file, e.path[1].range.begin, e.range.end};
  TypedExpr out;
  out.op = Op::kAttr;
  out.range = e.range;
  out.attr.object = *obj;
  out.attr.attribute = attr;
  if (const catalog::Attribute* a = catalog::find_attribute(obj->kind, attr)) {
    out.type = a->type;
  } else if (catalog::has_perfdata_attributes(obj->kind) &&
             attr.rfind(catalog::kPerfdataPrefix, 0) == 0 &&
             attr.size() > catalog::kPerfdataPrefix.size()) {
    // Perfdata values arrive with their own UOM; the policy compares them as plain numbers.
    out.type = Type::number(Dimension::kCount);
  } else {
    std::vector<std::string_view> names;
    for (const auto& a : catalog::attributes(obj->kind)) names.push_back(a.name);
    auto& d =
        ctx.diags.report(diag::Code::kUnknownAttribute, attr_range,
                         with_suggestion(std::string(catalog::kind_name(obj->kind)) + " " +
                                             quote(head.text) + " has no attribute " + quote(attr),
                                         attr, names));
    const std::string best = diag::closest_match(attr, names);
    if (!best.empty()) d.fixits.push_back({attr_range, best});
    return std::nullopt;
  }
  return out;
}

}  // namespace amata::check
