// The lint pass: warnings about events raised but never recovered, constants never used and
// services nothing would ever restart.
#include <set>
#include <string>
#include <vector>

#include "compiler/check/passes.h"

namespace amata::check {
namespace {

/// What the recovery of one event brings back up: which of its parameters, and which fixed
/// objects, a `restart`, `start` or `failover` reaches (in either branch of a `when`, or
/// through an event the body raises).
struct Revives {
  std::set<int> params;
  std::set<int> objects;
  bool operator==(const Revives&) const = default;
};

bool revives(catalog::ActionKind kind) {
  using K = catalog::ActionKind;
  return kind == K::kRestart || kind == K::kStart || kind == K::kFailover;
}

void collect(const ActionList& body, const std::vector<Revives>& by_event, Revives& out) {
  auto add = [&out](const ObjectRef& ref) {
    (ref.base == ObjectRef::Base::kParameter ? out.params : out.objects).insert(ref.index);
  };
  for (const Action& a : body) {
    if (a.kind == Action::Kind::kWhen) {
      collect(a.then_body, by_event, out);
      collect(a.else_body, by_event, out);
    } else if (revives(a.action)) {
      add(a.target);
    } else if (a.action == catalog::ActionKind::kRaise &&
               static_cast<std::size_t>(a.event) < by_event.size()) {
      const Revives& raised = by_event[static_cast<std::size_t>(a.event)];
      out.objects.insert(raised.objects.begin(), raised.objects.end());
      for (int p : raised.params) {
        if (static_cast<std::size_t>(p) < a.event_args.size()) {
          add(a.event_args[static_cast<std::size_t>(p)]);
        }
      }
    }
  }
}

/// W0205: a service that no recovery would restart stays down after its first death.
void warn_never_restarted(CheckContext& ctx) {
  const CheckedPolicy& policy = ctx.policy;
  // Raises chain (their cycles are E0408): iterate until nothing more is reached.
  std::vector<Revives> by_event(policy.events.size());
  for (bool changed = true; changed;) {
    changed = false;
    for (const RecoverRule& r : policy.recover) {
      if (static_cast<std::size_t>(r.event) >= by_event.size()) continue;
      Revives next = by_event[static_cast<std::size_t>(r.event)];
      collect(r.body, by_event, next);
      if (!(next == by_event[static_cast<std::size_t>(r.event)])) {
        by_event[static_cast<std::size_t>(r.event)] = std::move(next);
        changed = true;
      }
    }
  }
  bool every_service = false;
  std::set<int> services;
  for (const DiscoverRule& d : policy.discover) {
    if (static_cast<std::size_t>(d.event) >= by_event.size()) continue;
    const Revives& r = by_event[static_cast<std::size_t>(d.event)];
    services.insert(r.objects.begin(), r.objects.end());
    for (int p : r.params) {
      if (static_cast<std::size_t>(p) >= d.args.size()) continue;
      const ObjectRef& arg = d.args[static_cast<std::size_t>(p)];
      if (arg.base == ObjectRef::Base::kObject) {
        services.insert(arg.index);
      } else if (arg.kind == catalog::Kind::kService) {
        every_service = true;  // a rule over every service
      }
    }
  }
  if (every_service) return;
  for (std::size_t i = 0; i < policy.objects.size(); ++i) {
    const catalog::ObjectSpec& o = policy.objects[i];
    if (o.kind != catalog::Kind::kService || services.count(static_cast<int>(i))) continue;
    ctx.diags.report(diag::Code::kNeverRestarted, policy.object_ranges[i],
                     "service " + quote(o.name) +
                         " is never restarted: no recover rule restarts, starts or fails it "
                         "over, so its first death is its last");
  }
}

}  // namespace

void lint_pass(CheckContext& ctx) {
  // After syntax errors, rules and uses are missing from the tree: "never raised",
  // "never recovered" and "never used" would mostly be echoes of those errors.
  if (ctx.errors_before_check > 0) return;
  for (std::size_t i = 0; i < ctx.policy.events.size(); ++i) {
    const Event& ev = ctx.policy.events[i];
    const bool raised = ctx.raised.count(static_cast<int>(i)) > 0;
    if (raised && !ev.notify_only && !ctx.recovered.count(static_cast<int>(i))) {
      // A recover rule for a misspelt name is the usual cause: suggest it.
      std::vector<std::string_view> handled(ctx.orphan_recovers.begin(), ctx.orphan_recovers.end());
      std::string msg = "event " + quote(ev.name) + " is raised but never recovered";
      const std::string best = diag::closest_match(ev.name, handled);
      if (!best.empty()) {
        msg += "; did you mean to raise " + quote(best) + ", which has a recover rule?";
      } else {
        msg += " (add 'recover " + ev.name + "(...) { ... }', or declare it 'notify_only')";
      }
      ctx.diags.report(diag::Code::kNeverRecovered, ev.range, msg);
    }
  }
  for (const ast::LetDecl* let : ctx.lets) {
    if (!ctx.used_constants.count(let->name.text)) {
      ctx.diags.report(diag::Code::kUnusedConstant, let->name.range,
                       "constant " + quote(let->name.text) + " is never used");
    }
  }
  // With errors in the rules, some of them are missing from the checked policy.
  if (!ctx.diags.has_errors()) warn_never_restarted(ctx);
}

}  // namespace amata::check
