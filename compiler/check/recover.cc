// The recover pass: each recover rule handles a raised event once, with parameters that
// match it, and every action names an object that can take it.
#include <set>
#include <string>
#include <vector>

#include "catalog/actions.h"
#include "compiler/check/channels.h"
#include "compiler/check/checker.h"
#include "compiler/check/cluster.h"
#include "compiler/check/escalation.h"
#include "compiler/check/events.h"
#include "compiler/check/names.h"
#include "compiler/check/passes.h"
#include "compiler/check/signals.h"
#include "compiler/check/temporal.h"
#include "compiler/check/types.h"
#include "compiler/check/values.h"

namespace amata::check {
namespace {

using catalog::Kind;

/// Whether the object an action names is of one of `kinds`; E0403 if not.
bool require_kind(CheckContext& ctx, const ast::Action& a, const ObjectRef& ref,
                  std::initializer_list<Kind> kinds, std::string_view verb) {
  for (Kind k : kinds) {
    if (ref.kind == k) return true;
  }
  std::string allowed;
  for (Kind k : kinds) {
    if (!allowed.empty()) allowed += " or ";
    allowed += catalog::kind_name(k);
  }
  ctx.diags.report(diag::Code::kActionNotForKind, a.target.range,
                   "cannot " + std::string(verb) + " " + quote(a.target.text) + ": it is " +
                       a_kind(ref.kind) + ", and only a " + allowed + " can be " +
                       std::string(verb == "stop" ? "stopp" : verb) + "ed");
  return false;
}

/// One word of `run`: a literal, or OBJ.name or OBJ.ATTRIBUTE, filled in when it runs.
std::optional<RunArg> run_arg(CheckContext& ctx, const ast::RunArg& arg, const Scope& scope) {
  RunArg r;
  if (!arg.is_ref) {
    r.kind = RunArg::Kind::kLiteral;
    r.text = arg.text;
    return r;
  }
  ObjectRef ref;
  if (!target(ctx, arg.path[0], scope, ref)) return std::nullopt;
  std::string field;
  for (std::size_t i = 1; i < arg.path.size(); ++i) {
    if (i > 1) field += '.';
    field += arg.path[i].text;
  }
  r.object = ref;
  if (field == "name") {
    r.kind = RunArg::Kind::kObjectName;
  } else if (const catalog::Attribute* at = catalog::find_attribute(ref.kind, field)) {
    r.kind = RunArg::Kind::kAttribute;
    r.attr = AttrRef{ref, field, at->type};
  } else {
    std::vector<std::string_view> names{"name"};
    for (const auto& x : catalog::attributes(ref.kind)) names.push_back(x.name);
    ctx.diags.report(
        diag::Code::kUnknownAttribute, arg.range,
        with_suggestion(std::string(catalog::kind_name(ref.kind)) + " " + quote(arg.path[0].text) +
                            " has no attribute " + quote(field),
                        field, names));
    return std::nullopt;
  }
  return r;
}

/// One statement of a recover body (a `when` checks the bodies it holds).
std::optional<Action> action(CheckContext& ctx, const ast::Action& a, const Scope& scope);

std::optional<ActionList> actions(CheckContext& ctx, const ast::ActionList& in,
                                  const Scope& scope) {
  ActionList out;
  bool ok = true;
  for (const auto& a : in) {
    auto checked = action(ctx, a, scope);
    if (!checked) {
      ok = false;
      continue;
    }
    out.push_back(std::move(*checked));
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Action> action(CheckContext& ctx, const ast::Action& a, const Scope& scope) {
  using K = catalog::ActionKind;
  Action out;
  out.range = a.range;
  if (a.kind == ast::Action::Kind::kWhen) {
    out.kind = Action::Kind::kWhen;
    auto c = condition(ctx, a.condition.get(), scope);
    std::optional<ActionList> then_body, else_body;
    if (a.then_body) then_body = actions(ctx, *a.then_body, scope);
    if (a.else_body) else_body = actions(ctx, *a.else_body, scope);
    if (!c || (a.then_body && !then_body) || (a.else_body && !else_body)) return std::nullopt;
    out.condition = std::move(*c);
    if (then_body) out.then_body = std::move(*then_body);
    if (else_body) out.else_body = std::move(*else_body);
    return out;
  }
  out.action = a.action;
  switch (a.action) {
    case K::kRestart:
    case K::kStart:
    case K::kStop: {
      if (!target(ctx, a.target, scope, out.target)) return std::nullopt;
      const std::string_view verb = catalog::action_kind_name(a.action);
      // A unit is systemd's to start and stop: amatad asks its manager (never forks or kills).
      if (!require_kind(ctx, a, out.target, {Kind::kService, Kind::kUnit}, verb)) {
        return std::nullopt;
      }
      bool ok = true;
      if (a.action == K::kRestart && !a.backoff_min && !a.backoff_none) {
        out.backoff = kDefaultBackoff;
        out.default_backoff = true;
      }
      if (a.action == K::kRestart && !a.limit_count && !a.limit_none) {
        out.limit = kDefaultLimit;
        out.default_limit = true;
      }
      if (a.backoff_min) {
        auto lo = duration_value(ctx, *a.backoff_min, "the shortest backoff", kBackoff);
        auto hi = duration_value(ctx, *a.backoff_max, "the longest backoff", kBackoff);
        if (lo && hi && *lo > *hi) {
          ctx.diags.report(
              diag::Code::kBackoffInverted,
              {a.backoff_min->range.file, a.backoff_min->range.begin, a.backoff_max->range.end},
              "the backoff's shortest delay is longer than its longest");
          ok = false;
        } else if (!lo || !hi) {
          ok = false;
        } else {
          out.backoff = Action::Backoff{*lo, *hi};
        }
      }
      if (a.limit_count) {
        auto n = count_value(ctx, *a.limit_count, "the restart limit", kMaxRestarts);
        auto w =
            duration_value(ctx, *a.limit_window, "the window of the restart limit", kRuleWindow);
        if (!n || !w) {
          ok = false;
        } else {
          out.limit = Action::Limit{*n, *w};
        }
      }
      if (!ok) return std::nullopt;
      return out;
    }
    case K::kMonitor:
    case K::kUnmonitor:
      if (!target(ctx, a.target, scope, out.target)) return std::nullopt;
      return out;
    case K::kReload:
      if (!target(ctx, a.target, scope, out.target)) return std::nullopt;
      if (!require_kind(ctx, a, out.target, {Kind::kUnit}, "reload")) return std::nullopt;
      return out;
    case K::kSignal: {
      if (!target(ctx, a.target, scope, out.target)) return std::nullopt;
      if (!require_kind(ctx, a, out.target, {Kind::kService, Kind::kProcess}, "signal")) {
        return std::nullopt;
      }
      auto sig = signal_number(a.signal.text);
      if (!sig) {
        ctx.diags.report(diag::Code::kUnknownSignal, a.signal.range,
                         with_suggestion("unknown signal " + quote(a.signal.text), a.signal.text,
                                         signal_names()));
        return std::nullopt;
      }
      out.signal = *sig;
      return out;
    }
    case K::kRun: {
      bool ok = true;
      for (const auto& arg : a.argv) {
        if (auto r = run_arg(ctx, arg, scope)) {
          out.argv.push_back(std::move(*r));
        } else {
          ok = false;
        }
      }
      if (!ok) return std::nullopt;
      if (out.argv.front().kind != RunArg::Kind::kLiteral || out.argv.front().text.empty() ||
          out.argv.front().text[0] != '/') {
        ctx.diags.report(diag::Code::kInvalidSettingValue, a.argv.front().range,
                         "the program to run must be an absolute path (run never uses a shell "
                         "or $PATH)");
        return std::nullopt;
      }
      if (auto why = path_problem(out.argv.front().text)) {
        ctx.diags.report(diag::Code::kInvalidSettingValue, a.argv.front().range,
                         "the program to run: " + *why);
        return std::nullopt;
      }
      return out;
    }
    case K::kNotify:
      out.channel = a.channel;
      out.message = a.message;
      if (out.channel.empty()) {
        ctx.diags.report(diag::Code::kInvalidSettingValue, a.range,
                         "the notification channel must not be empty");
        return std::nullopt;
      }
      if (!check_notify_channel(ctx, a)) return std::nullopt;
      return out;
    case K::kWait: {
      auto d = duration_value(ctx, *a.duration, "the time to wait", kWait);
      if (!d) return std::nullopt;
      out.duration = *d;
      return out;
    }
    case K::kRaise: {
      auto r = raise(ctx, a.raise, scope);
      if (!r) return std::nullopt;
      out.event = r->first;
      out.event_args = std::move(r->second);
      return out;
    }
    case K::kFailover: {
      if (!target(ctx, a.target, scope, out.target)) return std::nullopt;
      if (!require_kind(ctx, a, out.target, {Kind::kService}, "fail over")) return std::nullopt;
      if (!check_failover(ctx, a, scope, out)) return std::nullopt;
      return out;
    }
  }
  return std::nullopt;
}

void recover_rule(CheckContext& ctx, const ast::RecoverRule& r) {
  const int id = ctx.policy.find_event(r.event.text);
  const Event& ev = ctx.policy.events[id];
  if (auto it = ctx.recovered.find(id); it != ctx.recovered.end()) {
    auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, r.event.range,
                               "a second recover rule for event " + quote(r.event.text));
    d.notes.push_back({it->second, "the first one is here"});
    return;
  }
  ctx.recovered.emplace(id, r.event.range);
  RecoverRule out;
  out.event = id;
  out.event_name = ev.name;
  out.range = r.range;
  if (r.params.size() != ev.params.size()) {
    auto& d =
        ctx.diags.report(diag::Code::kRecoverParameters, r.event.range,
                         "event " + quote(ev.name) + " has " + std::to_string(ev.params.size()) +
                             " parameter" + (ev.params.size() == 1 ? "" : "s") +
                             ", but the recover rule names " + std::to_string(r.params.size()));
    d.notes.push_back(
        {ev.range, ev.declared ? "the event is declared here" : "the event is first raised here"});
    return;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    if (!seen.insert(r.params[i].text).second) {
      ctx.diags.report(diag::Code::kDuplicateDefinition, r.params[i].range,
                       "duplicate parameter " + quote(r.params[i].text));
      return;
    }
    out.params.push_back({r.params[i].text, ev.params[i].kind, r.params[i].range});
  }
  Scope scope;
  scope.params = &out.params;
  auto body = actions(ctx, r.body, scope);
  if (!body) return;
  out.body = std::move(*body);
  ctx.policy.recover.push_back(std::move(out));
}

}  // namespace

void recover_pass(CheckContext& ctx) {
  std::vector<const ast::RecoverRule*> pending;
  ctx.each_statement(ast::Statement::Kind::kRecover,
                     [&](const ast::Statement& st) { pending.push_back(st.recover.get()); });
  // A recover rule may handle an event that only a later recover rule raises: retry those.
  std::vector<const ast::RecoverRule*> unknown;
  for (int round = 0; round < 2; ++round) {
    unknown.clear();
    for (const ast::RecoverRule* r : pending) {
      if (ctx.policy.find_event(r->event.text) < 0) {
        unknown.push_back(r);
        continue;
      }
      recover_rule(ctx, *r);
    }
    if (unknown.size() == pending.size()) break;
    pending = unknown;
  }
  check_escalations(ctx);
  for (const ast::RecoverRule* r : unknown) {
    ctx.orphan_recovers.push_back(r->event.text);
    std::vector<std::string_view> names;
    for (const auto& e : ctx.policy.events) names.push_back(e.name);
    auto& d = ctx.diags.report(
        diag::Code::kNeverRaised, r->event.range,
        with_suggestion("recover rule for event " + quote(r->event.text) + ", which no rule raises",
                        r->event.text, names));
    const std::string best = diag::closest_match(r->event.text, names);
    if (!best.empty()) d.fixits.push_back({r->event.range, best});
  }
}

}  // namespace amata::check
