#include "compiler/check/events.h"

#include <string>

#include "compiler/check/names.h"

namespace amata::check {

/// Resolves a raise clause against the events, inferring the event on its first raise.
std::optional<std::pair<int, std::vector<ObjectRef>>> raise(CheckContext& ctx,
                                                            const ast::RaiseClause& r,
                                                            const Scope& scope) {
  std::vector<ObjectRef> args;
  bool ok = true;
  for (const auto& a : r.args) {
    auto ref = object_ref(ctx, a.text, scope);
    if (!ref) {
      unknown_object(ctx, a, scope, "object");
      ok = false;
      continue;
    }
    args.push_back(*ref);
  }
  if (!ok) return std::nullopt;
  int id = ctx.policy.find_event(r.event.text);
  if (id < 0) {
    Event ev;
    ev.name = r.event.text;
    ev.range = r.range;
    for (std::size_t i = 0; i < args.size(); ++i) {
      ev.params.push_back({r.args[i].text, args[i].kind, r.args[i].range});
    }
    ctx.policy.events.push_back(std::move(ev));
    id = static_cast<int>(ctx.policy.events.size() - 1);
  } else {
    const Event& ev = ctx.policy.events[id];
    const char* where =
        ev.declared ? "the event is declared here" : "the event is first raised here";
    if (ev.params.size() != args.size()) {
      auto& d = ctx.diags.report(diag::Code::kEventArgumentCount, r.range,
                                 "event " + quote(ev.name) + " takes " +
                                     std::to_string(ev.params.size()) + " argument" +
                                     (ev.params.size() == 1 ? "" : "s") + ", but " +
                                     std::to_string(args.size()) + " are given");
      d.notes.push_back({ev.range, where});
      return std::nullopt;
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i].kind != ev.params[i].kind) {
        auto& d = ctx.diags.report(
            diag::Code::kEventArgumentKind, r.args[i].range,
            "argument " + std::to_string(i + 1) + " of event " + quote(ev.name) + " must be a " +
                std::string(catalog::kind_name(ev.params[i].kind)) + ", but " +
                quote(r.args[i].text) + " is a " + std::string(catalog::kind_name(args[i].kind)));
        d.notes.push_back({ev.range, where});
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
  }
  ctx.raised.insert(id);
  return std::make_pair(id, std::move(args));
}

}  // namespace amata::check
