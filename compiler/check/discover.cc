// The discover pass: each discover rule's parameters, condition, temporal qualifier and the
// event it raises (inferring events raised before any declaration).
#include <map>
#include <string>

#include "compiler/check/events.h"
#include "compiler/check/names.h"
#include "compiler/check/passes.h"
#include "compiler/check/temporal.h"
#include "compiler/check/types.h"

namespace amata::check {

void discover_pass(CheckContext& ctx) {
  std::map<std::string, ast::SourceRange> rule_names;
  ctx.each_statement(ast::Statement::Kind::kDiscover, [&](const ast::Statement& st) {
    const ast::DiscoverRule& r = *st.discover;
    auto [it, inserted] = rule_names.emplace(r.name.text, r.name.range);
    if (!inserted) {
      auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, r.name.range,
                                 "redefinition of rule " + quote(r.name.text));
      d.notes.push_back({it->second, "previous definition is here"});
      return;
    }
    bool ok = true;
    DiscoverRule out;
    out.name = r.name.text;
    out.range = r.range;
    out.params = parameters(ctx, r.params, ok);
    if (!ok) return;
    for (const auto& p : out.params) {
      bool any = false;
      for (const auto& o : ctx.policy.objects) any = any || o.kind == p.kind;
      if (!any) {
        ctx.diags.report(diag::Code::kNoObjectsOfKind, p.range,
                         "rule " + quote(out.name) + " applies to every " +
                             std::string(catalog::kind_name(p.kind)) +
                             ", but none is declared; it never fires");
      }
    }
    Scope scope;
    scope.params = &out.params;
    auto c = condition(ctx, r.condition.get(), scope);
    if (!c) ok = false;
    out.temporal = temporal_clause(ctx, r.temporal, ok);
    if (r.clear_after) {
      auto d = duration_value(ctx, *r.clear_after, "the time after 'clear after'", kRuleWindow);
      if (!d) ok = false;
      out.temporal.clear_after = d.value_or(0);
    }
    auto raised = raise(ctx, r.raise, scope);
    if (!raised) ok = false;
    if (!ok) return;
    out.condition = std::move(*c);
    out.event = raised->first;
    out.args = std::move(raised->second);
    ctx.policy.discover.push_back(std::move(out));
  });
}

}  // namespace amata::check
