#include "compiler/ir/eval.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace amata::ir {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The slot index an expression reads: fixed, or the attribute of a bound event parameter.
int resolve_slot(const Program& p, const Expr& e, std::span<const int> args, bool string_slot) {
  if (e.param < 0) return e.slot;
  if (static_cast<std::size_t>(e.param) >= args.size()) return -1;
  const SlotInfo* s = p.tables.find_slot(args[static_cast<std::size_t>(e.param)],
                                         p.strings[static_cast<std::size_t>(e.attr)]);
  if (s == nullptr || s->is_string != string_slot) return -1;
  return s->index;
}

double compare(Op op, double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  switch (op) {
    case Op::kLt:
      return a < b ? 1 : 0;
    case Op::kLe:
      return a <= b ? 1 : 0;
    case Op::kGt:
      return a > b ? 1 : 0;
    case Op::kGe:
      return a >= b ? 1 : 0;
    case Op::kEq:
      return a == b ? 1 : 0;
    default:
      return a != b ? 1 : 0;
  }
}

}  // namespace

double eval_expr(const Program& p, const RuntimeFrame& f, int i, double now,
                 std::span<const int> args) {
  const Expr& e = p.exprs[static_cast<std::size_t>(i)];
  switch (e.op) {
    case Op::kConst:
      return e.value;
    case Op::kSlot: {
      const int slot = resolve_slot(p, e, args, false);
      return slot < 0 ? kNaN : f.numbers[slot];
    }
    case Op::kStrEq:
    case Op::kStrNe:
    case Op::kMatch: {
      const int slot = resolve_slot(p, e, args, true);
      if (slot < 0) return kNaN;
      if (e.op == Op::kMatch) return amata_rt_match(&f, slot, e.str);
      const double eq = amata_rt_str_eq(&f, slot, e.str);
      return e.op == Op::kStrEq ? eq : 1 - eq;
    }
    case Op::kNot: {
      const double a = eval_expr(p, f, e.a, now, args);
      return std::isnan(a) ? kNaN : (a == 0 ? 1 : 0);
    }
    case Op::kNeg:
      return -eval_expr(p, f, e.a, now, args);
    case Op::kAnd:
    case Op::kOr: {
      const double a = eval_expr(p, f, e.a, now, args);
      const double b = eval_expr(p, f, e.b, now, args);
      if (e.op == Op::kAnd) {
        if (a == 0 || b == 0) return 0;
        return std::isnan(a) || std::isnan(b) ? kNaN : 1;
      }
      if (truthy(a) || truthy(b)) return 1;
      return std::isnan(a) || std::isnan(b) ? kNaN : 0;
    }
    case Op::kAdd:
    case Op::kSub:
    case Op::kMul:
    case Op::kDiv: {
      const double a = eval_expr(p, f, e.a, now, args);
      const double b = eval_expr(p, f, e.b, now, args);
      switch (e.op) {
        case Op::kAdd:
          return a + b;
        case Op::kSub:
          return a - b;
        case Op::kMul:
          return a * b;
        default:
          return a / b;
      }
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kEq:
    case Op::kNe:
      return compare(e.op, eval_expr(p, f, e.a, now, args), eval_expr(p, f, e.b, now, args));
    case Op::kAvg:
    case Op::kMin:
    case Op::kMax:
    case Op::kDelta:
    case Op::kRate:
    case Op::kChanged:
    case Op::kPredict: {
      const int slot = resolve_slot(p, e, args, false);
      return amata_rt_window(&f, static_cast<std::int32_t>(e.op), slot, e.value, e.horizon, now);
    }
  }
  return kNaN;
}

bool step_rule(const Program& p, const RuntimeFrame& f, std::size_t rule, double cond, double now,
               double* words) {
  const Rule& r = p.rules[rule];
  double check_time = now;
  if (r.temporal == Temporal::kForChecks && f.check_times != nullptr && r.check_clock >= 0) {
    check_time = f.check_times[r.check_clock];
  }
  double* w = words + r.state_offset;
  const double active = amata_rt_temporal(w, static_cast<std::int32_t>(r.temporal), r.seconds,
                                          r.count, cond, now, check_time);
  if (r.clear_after <= 0) return active != 0;
  return amata_rt_clear_after(w + clear_word(r), active, w[0], truthy(cond) ? 1 : 0, r.clear_after,
                              now) != 0;
}

std::vector<double> initial_state_words(const Program& p) {
  std::vector<double> words(static_cast<std::size_t>(p.tables.state_words), 0.0);
  for (const Rule& r : p.rules) {
    double* w = words.data() + r.state_offset;
    switch (r.temporal) {
      case Temporal::kNone:
        break;
      case Temporal::kForDuration:
        w[1] = kNaN;
        break;
      case Temporal::kForChecks:
        w[2] = -std::numeric_limits<double>::infinity();
        break;
      case Temporal::kTimesWithin:
        for (int i = 0; i < r.count; ++i) w[3 + i] = -std::numeric_limits<double>::infinity();
        break;
    }
    if (r.clear_after > 0) w[clear_word(r)] = kNaN;
  }
  return words;
}

namespace {

int resolve_object(const ObjectRef& ref, std::span<const int> args) {
  if (ref.param < 0) return ref.object;
  if (static_cast<std::size_t>(ref.param) >= args.size()) return -1;
  return args[static_cast<std::size_t>(ref.param)];
}

std::string render(const Program& p, const RuntimeFrame& f, const Text& text,
                   std::span<const int> args) {
  std::string out;
  for (const TextPiece& piece : text) {
    if (!piece.is_object) {
      out += piece.literal;
      continue;
    }
    const int object = resolve_object(piece.object, args);
    if (object < 0 || static_cast<std::size_t>(object) >= p.tables.objects.size()) continue;
    if (piece.attribute.empty() || piece.attribute == "name") {
      out += p.tables.objects[static_cast<std::size_t>(object)].name;
      continue;
    }
    const SlotInfo* s = p.tables.find_slot(object, piece.attribute);
    if (s == nullptr) continue;
    if (s->is_string) {
      out += f.strings[s->index];
    } else {
      out += fmt::format("{}", f.numbers[s->index]);
    }
  }
  return out;
}

void run_body(const Program& p, const RuntimeFrame& f, const std::vector<Stmt>& body,
              std::span<const int> args, double now, ActionSink& sink) {
  for (const Stmt& s : body) {
    if (s.kind == Stmt::Kind::kWhen) {
      const bool holds = truthy(eval_expr(p, f, s.cond, now, args));
      run_body(p, f, holds ? s.then_body : s.else_body, args, now, sink);
      continue;
    }
    ActionRequest a;
    a.kind = s.action;
    a.object = resolve_object(s.target, args);
    if (a.object < 0 && !args.empty() &&
        (s.action == ActionKind::kRun || s.action == ActionKind::kNotify)) {
      a.object = args[0];
    }
    a.signal = s.signal;
    for (const Text& t : s.argv) a.argv.push_back(render(p, f, t, args));
    a.channel = s.channel;
    a.message = render(p, f, s.message, args);
    a.seconds = s.seconds;
    a.backoff_initial = s.backoff_initial;
    a.backoff_max = s.backoff_max;
    a.limit = s.limit;
    a.limit_window = s.limit_window;
    if (s.action == ActionKind::kFailover) {
      a.failover_service = resolve_object(s.failover_service, args);
    }
    if (s.action == ActionKind::kRaise) {
      a.raised.event = s.raise_event;
      for (const ObjectRef& r : s.raise_args) a.raised.args.push_back(resolve_object(r, args));
    }
    sink.request(a);
  }
}

}  // namespace

void run_recovery(const Program& p, const RuntimeFrame& f, const EventInstance& event, double now,
                  ActionSink& sink) {
  if (event.event < 0 || static_cast<std::size_t>(event.event) >= p.tables.events.size()) return;
  const int rec = p.tables.events[static_cast<std::size_t>(event.event)].recovery;
  if (rec < 0) return;
  for (int a : event.args) {
    if (a < 0 || static_cast<std::size_t>(a) >= p.tables.objects.size()) return;
  }
  run_body(p, f, p.recoveries[static_cast<std::size_t>(rec)].body, event.args, now, sink);
}

}  // namespace amata::ir
