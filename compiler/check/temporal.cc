#include "compiler/check/temporal.h"

#include <cmath>
#include <string>
#include <vector>

#include "compiler/check/types.h"

namespace amata::check {

using catalog::Dimension;
using catalog::Type;
using catalog::ValueKind;
using Op = TypedExpr::Op;

bool require_range(CheckContext& ctx, double seconds, const DurationRange& range,
                   ast::SourceRange at, std::string_view what) {
  if (seconds >= range.min && seconds <= range.max) return true;
  ctx.diags.report(diag::Code::kOutOfRange, at,
                   std::string(what) + " must be " + describe(range) + ", but this is " +
                       format_duration(seconds));
  return false;
}

std::optional<double> duration_value(CheckContext& ctx, const ast::Expr& e, std::string_view what,
                                     const DurationRange& range) {
  Scope scope;
  scope.constants_only = true;
  scope.allow_windows = false;
  auto v = check_expr(ctx, e, scope);
  if (!v) return std::nullopt;
  if (v->op != Op::kNumber || v->type.dimension != Dimension::kDuration) {
    std::string msg = std::string(what) + " must be a duration such as 30s or 5min";
    if (v->op == Op::kNumber && v->type.dimension == Dimension::kCount) {
      msg += "; add a unit";
    } else {
      msg += ", but this is " + type_str(*v);
    }
    ctx.diags.report(diag::Code::kExpectedDuration, e.range, msg);
    return std::nullopt;
  }
  if (v->number <= 0) {
    ctx.diags.report(diag::Code::kExpectedDuration, e.range,
                     std::string(what) + " must be longer than zero");
    return std::nullopt;
  }
  if (!require_range(ctx, v->number, range, e.range, what)) return std::nullopt;
  return v->number;
}

/// A positive whole count known at check time.
std::optional<int> count_value(CheckContext& ctx, const ast::Expr& e, std::string_view what,
                               int max) {
  Scope scope;
  scope.constants_only = true;
  scope.allow_windows = false;
  auto v = check_expr(ctx, e, scope);
  if (!v) return std::nullopt;
  if (v->op != Op::kNumber || v->type.dimension != Dimension::kCount || v->number < 1 ||
      v->number != std::floor(v->number) || v->number > max) {
    ctx.diags.report(diag::Code::kExpectedCount, e.range,
                     std::string(what) + " must be a whole number from 1 to " +
                         std::to_string(max) + ", but this is " +
                         (v->op == Op::kNumber && v->type.dimension == Dimension::kCount
                              ? format_number(v->number)
                              : type_str(*v)));
    return std::nullopt;
  }
  return static_cast<int>(v->number);
}

std::optional<TypedExpr> window_function(CheckContext& ctx, const ast::Expr& e,
                                         const Scope& scope) {
  struct Fn {
    std::string_view name;
    Op op;
    int min_args, max_args;
  };
  static constexpr Fn kFns[] = {
      {"avg", Op::kAvg, 2, 2},         {"min", Op::kMin, 2, 2},     {"max", Op::kMax, 2, 2},
      {"rate", Op::kRate, 1, 2},       {"delta", Op::kDelta, 1, 2}, {"changed", Op::kChanged, 1, 1},
      {"predict", Op::kPredict, 2, 2},
  };
  const Fn* fn = nullptr;
  for (const auto& f : kFns) {
    if (f.name == e.text) fn = &f;
  }
  const ast::SourceRange name_range{e.range.file, e.range.begin,
                                    e.range.begin + static_cast<std::uint32_t>(e.text.size())};
  if (!fn) {
    std::vector<std::string_view> names;
    for (const auto& f : kFns) names.push_back(f.name);
    auto& d = ctx.diags.report(diag::Code::kUnknownFunction, name_range,
                               with_suggestion("unknown function " + quote(e.text), e.text, names));
    const std::string best = diag::closest_match(e.text, names);
    if (!best.empty()) d.fixits.push_back({name_range, best});
    return std::nullopt;
  }
  if (!scope.allow_windows) {
    ctx.diags.report(diag::Code::kNotConstant, e.range,
                     "the value of a constant must be known before the policy runs (no "
                     "attributes or window functions)");
    return std::nullopt;
  }
  const int n = static_cast<int>(e.args.size());
  if (n < fn->min_args || n > fn->max_args) {
    const std::string usage = fn->min_args == fn->max_args ? std::to_string(fn->min_args)
                                                           : std::to_string(fn->min_args) + " or " +
                                                                 std::to_string(fn->max_args);
    ctx.diags.report(diag::Code::kWrongArguments, e.range,
                     quote(e.text) + " takes " + usage + " argument" +
                         (fn->max_args > 1 ? "s" : "") + ", not " + std::to_string(n));
    return std::nullopt;
  }
  auto x = check_expr(ctx, *e.args[0], scope);
  if (!x) return std::nullopt;
  if (x->op != Op::kAttr) {
    ctx.diags.report(diag::Code::kWrongArguments, e.args[0]->range,
                     quote(e.text) + " works on the history of an attribute, as in " +
                         quote(e.text + "(s.cpu" + (fn->min_args > 1 ? ", 5min)" : ")")));
    return std::nullopt;
  }
  TypedExpr out;
  out.op = fn->op;
  out.range = e.range;
  if (fn->op == Op::kChanged) {
    // The history of a slot holds numbers (bools and enums as their ordinals); a string
    // attribute has none, and the lowering refused it after the checker had accepted it.
    if (x->type.kind == ValueKind::kString) {
      ctx.diags.report(diag::Code::kWrongArguments, e.args[0]->range,
                       "'changed' follows a number, a bool or an enum, but this is a string "
                       "(compare it with a value instead, as in 'p.state == \"Z\"')");
      return std::nullopt;
    }
    out.type = Type::boolean();
  } else {
    if (x->type.kind != ValueKind::kNumber) {
      ctx.diags.report(diag::Code::kWrongArguments, e.args[0]->range,
                       quote(e.text) + " needs a number, but this is " + type_str(*x));
      return std::nullopt;
    }
    out.type = x->type;
    if (fn->op == Op::kRate) {
      if (x->type.dimension == Dimension::kBytes) {
        out.type = Type::number(Dimension::kBytesPerSecond);
      } else if (x->type.dimension == Dimension::kCount) {
        out.type = Type::number(Dimension::kPerSecond);
      } else {
        ctx.diags.report(diag::Code::kWrongArguments, e.args[0]->range,
                         "'rate' needs a count or bytes, but this is " + type_str(*x) +
                             " (use delta for the change)");
        return std::nullopt;
      }
    }
  }
  if (n == 2) {
    auto d = duration_value(ctx, *e.args[1],
                            fn->op == Op::kPredict ? "the forecast horizon" : "the window",
                            kHistoryWindow);
    if (!d) return std::nullopt;
    out.duration = *d;
  }
  if (fn->op == Op::kRate && n == 2) {
    // `rate(x, D)` is the increase over the window per second, `delta(x, D) / D`: written
    // that way so every backend already knows how to run it.
    TypedExpr increase;
    increase.op = Op::kDelta;
    increase.type = x->type;
    increase.duration = out.duration;
    increase.range = e.range;
    increase.operands.push_back(std::move(*x));
    TypedExpr seconds;
    seconds.op = Op::kNumber;
    seconds.type = Type::number(Dimension::kDuration);
    seconds.number = out.duration;
    seconds.range = e.args[1]->range;
    out.op = Op::kDiv;
    out.duration = 0;
    out.operands.push_back(std::move(increase));
    out.operands.push_back(std::move(seconds));
    return out;
  }
  out.operands.push_back(std::move(*x));
  return out;
}

std::optional<TypedExpr> within(CheckContext& ctx, const ast::Expr& e, const Scope& scope) {
  if (!scope.allow_windows) {
    ctx.diags.report(diag::Code::kNotConstant, e.range,
                     "the value of a constant must be known before the policy runs (no "
                     "attributes or window functions)");
    return std::nullopt;
  }
  auto x = check_expr(ctx, *e.args[0], scope);
  if (!x) return std::nullopt;
  if (x->op != Op::kAttr || x->type.kind != ValueKind::kNumber) {
    ctx.diags.report(diag::Code::kWrongArguments, e.args[0]->range,
                     "'within' counts the increase of a numeric attribute, as in "
                     "'s.restarts within 5min'");
    return std::nullopt;
  }
  auto d = duration_value(ctx, *e.args[1], "the window after 'within'", kHistoryWindow);
  if (!d) return std::nullopt;
  TypedExpr out;
  out.op = Op::kDelta;
  out.type = x->type;
  out.duration = *d;
  out.range = e.range;
  out.operands.push_back(std::move(*x));
  return out;
}

Temporal temporal_clause(CheckContext& ctx, const ast::Temporal& t, bool& ok) {
  Temporal out;
  out.kind = static_cast<Temporal::Kind>(t.kind);
  if (t.kind == ast::Temporal::Kind::kForDuration) {
    // `for 3` is almost certainly `for 3 checks` with the word missing.
    auto d = duration_value(ctx, *t.value, "the time after 'for'", kRuleWindow);
    if (!d) ok = false;
    out.duration = d.value_or(0);
  } else if (t.kind == ast::Temporal::Kind::kForChecks) {
    auto n = count_value(ctx, *t.value, "the number of checks", kMaxChecks);
    if (!n) ok = false;
    out.count = n.value_or(0);
  } else if (t.kind == ast::Temporal::Kind::kTimesWithin) {
    auto n = count_value(ctx, *t.value, "the number of times", kMaxTimes);
    auto d = duration_value(ctx, *t.window, "the window after 'within'", kRuleWindow);
    if (!n || !d) ok = false;
    out.count = n.value_or(0);
    out.duration = d.value_or(0);
  }
  return out;
}

}  // namespace amata::check
