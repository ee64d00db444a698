// The declarations pass: what the policy declares (its name, the objects and their kinds,
// the constants, the events, the cluster, the channels), each name defined once.
#include <string>

#include "compiler/check/names.h"
#include "compiler/check/passes.h"

namespace amata::check {

void declarations_pass(CheckContext& ctx) {
  const ast::PolicyDecl* first_policy = nullptr;
  ctx.each_statement(ast::Statement::Kind::kPolicy, [&](const ast::Statement& st) {
    if (first_policy) {
      auto& d =
          ctx.diags.report(diag::Code::kSecondPolicyName, st.policy->range, "a second policy name");
      d.notes.push_back({first_policy->range, "the policy is named here"});
      return;
    }
    first_policy = st.policy.get();
    ctx.policy.name = st.policy->name.text;
  });
  ctx.each_statement(ast::Statement::Kind::kObject, [&](const ast::Statement& st) {
    const auto& o = *st.object;
    if (o.kind.text == "cluster") {
      // Not an object: the cluster this node belongs to (its settings: the objects pass).
      if (ctx.cluster_decl) {
        auto& d = ctx.diags.report(
            diag::Code::kSecondCluster, o.name.range,
            "a second cluster " + quote(o.name.text) + " (a node belongs to one cluster)");
        d.notes.push_back({ctx.cluster_decl->name.range, "the cluster is declared here"});
        return;
      }
      if (!define(ctx, o.name, Definition::What::kCluster, 0)) return;
      ctx.cluster_decl = &o;
      return;
    }
    if (o.kind.text == "channel") {
      // Not an object either: where `notify "NAME"` delivers. Channels are named by strings
      // in `notify`, so their names are their own and may equal an object's.
      if (o.name.text == "console" || o.name.text == "any") {
        ctx.diags.report(diag::Code::kDuplicateDefinition, o.name.range,
                         o.name.text == "console"
                             ? std::string("'console' is the built-in channel (the log and the "
                                           "console); name this channel otherwise")
                             : std::string("'any' is the hook every event runs; name this "
                                           "channel otherwise"));
        return;
      }
      for (const ast::ObjectDecl* other : ctx.channel_decls) {
        if (other->name.text != o.name.text) continue;
        auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, o.name.range,
                                   "redefinition of channel " + quote(o.name.text));
        d.notes.push_back({other->name.range, "previous definition is here"});
        return;
      }
      ctx.channel_decls.push_back(&o);
      return;
    }
    auto kind = resolve_kind(ctx, o.kind);
    if (!kind) return;
    if (!define(ctx, o.name, Definition::What::kObject,
                static_cast<int>(ctx.policy.objects.size()))) {
      return;
    }
    catalog::ObjectSpec spec;
    spec.name = o.name.text;
    spec.kind = *kind;
    ctx.policy.objects.push_back(std::move(spec));
    ctx.policy.object_ranges.push_back(o.range);
    ctx.object_decls.push_back(&o);
  });
  ctx.each_statement(ast::Statement::Kind::kLet, [&](const ast::Statement& st) {
    if (!define(ctx, st.let->name, Definition::What::kConstant,
                static_cast<int>(ctx.lets.size()))) {
      return;
    }
    ctx.lets.push_back(st.let.get());
  });
  ctx.each_statement(ast::Statement::Kind::kEvent, [&](const ast::Statement& st) {
    const auto& e = *st.event;
    auto it = ctx.event_defs.find(e.name.text);
    if (it != ctx.event_defs.end()) {
      auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, e.name.range,
                                 "redefinition of event " + quote(e.name.text));
      d.notes.push_back({it->second, "previous definition is here"});
      return;
    }
    ctx.event_defs.emplace(e.name.text, e.name.range);
    Event ev;
    ev.name = e.name.text;
    ev.declared = true;
    ev.notify_only = e.notify_only;
    ev.range = e.range;
    bool ok = true;
    ev.params = parameters(ctx, e.params, ok);
    if (!ok) return;
    ctx.policy.events.push_back(std::move(ev));
  });
}

}  // namespace amata::check
