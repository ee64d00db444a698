#include "compiler/ir/ir.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace amata::ir {

std::string_view op_name(Op op) {
  static constexpr std::string_view kNames[] = {
      "const", "slot", "str==", "str!=", "match", "not",  "neg",     "+",      "-",
      "*",     "/",    "<",     "<=",    ">",     ">=",   "==",      "!=",     "and",
      "or",    "avg",  "min",   "max",   "delta", "rate", "changed", "predict"};
  static_assert(std::size(kNames) == kOpCount);
  return kNames[static_cast<int>(op)];
}

bool is_window_op(Op op) {
  return op >= Op::kAvg && op <= Op::kPredict;
}
bool is_binary_op(Op op) {
  return op >= Op::kAdd && op <= Op::kOr;
}
static bool is_string_op(Op op) {
  return op == Op::kStrEq || op == Op::kStrNe || op == Op::kMatch;
}

std::string_view temporal_name(Temporal t) {
  static constexpr std::string_view kNames[] = {"none", "for-duration", "for-checks",
                                                "times-within"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(Temporal::kTimesWithin) + 1);
  return kNames[static_cast<std::size_t>(t)];
}

int clear_word(const Rule& rule) {
  switch (rule.temporal) {
    case Temporal::kNone:
      return 1;
    case Temporal::kForDuration:
      return 2;
    case Temporal::kForChecks:
      return 3;
    case Temporal::kTimesWithin:
      return 3 + std::max(rule.count, 0);
  }
  return 1;
}

int state_words(const Rule& rule) {
  return clear_word(rule) + (rule.clear_after > 0 ? 1 : 0);
}

int Program::add_string(std::string s) {
  for (std::size_t i = 0; i < strings.size(); ++i) {
    if (strings[i] == s) return static_cast<int>(i);
  }
  strings.push_back(std::move(s));
  return static_cast<int>(strings.size()) - 1;
}

namespace {

// Calls f(expr) for every node of the subtree rooted at `root`.
void walk(const Program& p, int root, const std::function<void(const Expr&)>& f) {
  if (root < 0 || static_cast<std::size_t>(root) >= p.exprs.size()) return;
  const Expr& e = p.exprs[static_cast<std::size_t>(root)];
  f(e);
  if (e.a >= 0 && e.a < root) walk(p, e.a, f);
  if (e.b >= 0 && e.b < root) walk(p, e.b, f);
}

void walk_body(const std::vector<Stmt>& body, const std::function<void(const Stmt&)>& f) {
  for (const Stmt& s : body) {
    f(s);
    walk_body(s.then_body, f);
    walk_body(s.else_body, f);
  }
}

}  // namespace

void finalize(Program& p) {
  int offset = 0;
  for (Rule& r : p.rules) {
    r.state_offset = offset;
    offset += state_words(r);
  }
  p.tables.state_words = offset;

  int numbers = 0, strings = 0;
  for (const SlotInfo& s : p.tables.slots) {
    (s.is_string ? strings : numbers) = std::max(s.is_string ? strings : numbers, s.index + 1);
  }
  p.tables.number_slot_count = numbers;
  p.tables.string_slot_count = strings;

  // History needs: the longest window over every use of a number slot.
  std::vector<double> horizon(static_cast<std::size_t>(numbers), 0.0);
  std::vector<bool> needed(static_cast<std::size_t>(numbers), false);
  auto need = [&](int index, double window) {
    if (index < 0 || index >= numbers) return;
    needed[static_cast<std::size_t>(index)] = true;
    horizon[static_cast<std::size_t>(index)] =
        std::max(horizon[static_cast<std::size_t>(index)], window);
  };
  for (const Expr& e : p.exprs) {
    if (is_window_op(e.op) && e.param < 0) need(e.slot, e.value);
  }
  // A parameter's attribute in a recovery body may be any object of the parameter's kind.
  for (const Recovery& rec : p.recoveries) {
    if (rec.event < 0 || static_cast<std::size_t>(rec.event) >= p.tables.events.size()) continue;
    const EventInfo& ev = p.tables.events[static_cast<std::size_t>(rec.event)];
    walk_body(rec.body, [&](const Stmt& st) {
      if (st.kind != Stmt::Kind::kWhen) return;
      walk(p, st.cond, [&](const Expr& e) {
        if (!is_window_op(e.op) || e.param < 0 || e.attr < 0) return;
        if (static_cast<std::size_t>(e.param) >= ev.params.size()) return;
        for (const SlotInfo& s : p.tables.slots) {
          if (s.is_string || s.attribute != p.strings[static_cast<std::size_t>(e.attr)]) continue;
          if (p.tables.objects[static_cast<std::size_t>(s.object)].kind !=
              ev.params[static_cast<std::size_t>(e.param)]) {
            continue;
          }
          need(s.index, e.value);
        }
      });
    });
  }
  for (SlotInfo& s : p.tables.slots) {
    if (s.is_string) continue;
    s.needs_history = needed[static_cast<std::size_t>(s.index)];
    s.history_seconds = horizon[static_cast<std::size_t>(s.index)];
  }
}

Status validate(const Program& p) {
  const PolicyTables& t = p.tables;
  const auto nexprs = static_cast<int>(p.exprs.size());
  const auto nstrings = static_cast<int>(p.strings.size());
  for (const SlotInfo& s : t.slots) {
    if (s.object < 0 || static_cast<std::size_t>(s.object) >= t.objects.size()) {
      return Error{fmt::format("slot {}.{}: bad object {}", s.object, s.attribute, s.object)};
    }
    const int limit = s.is_string ? t.string_slot_count : t.number_slot_count;
    if (s.index < 0 || s.index >= limit) {
      return Error{fmt::format("slot {}: index {} out of range", s.attribute, s.index)};
    }
  }
  for (int i = 0; i < nexprs; ++i) {
    const Expr& e = p.exprs[static_cast<std::size_t>(i)];
    auto bad = [&](std::string_view what) {
      return Error{fmt::format("expr {} ({}): {}", i, op_name(e.op), what)};
    };
    if (static_cast<int>(e.op) >= kOpCount) return bad("bad op");
    const bool unary = e.op == Op::kNot || e.op == Op::kNeg;
    if ((unary || is_binary_op(e.op)) && (e.a < 0 || e.a >= i)) return bad("bad operand a");
    if (is_binary_op(e.op) && (e.b < 0 || e.b >= i)) return bad("bad operand b");
    const bool reads_slot = e.op == Op::kSlot || is_string_op(e.op) || is_window_op(e.op);
    if (reads_slot && e.param < 0) {
      const int limit = is_string_op(e.op) ? t.string_slot_count : t.number_slot_count;
      if (e.slot < 0 || e.slot >= limit) return bad("slot out of range");
    }
    if (reads_slot && e.param >= 0 && (e.attr < 0 || e.attr >= nstrings)) {
      return bad("parameter attribute out of range");
    }
    if (is_string_op(e.op) && (e.str < 0 || e.str >= nstrings)) return bad("string out of range");
    if (is_window_op(e.op) && !(e.value >= 0 && std::isfinite(e.value))) return bad("bad window");
    if (e.op == Op::kPredict && !std::isfinite(e.horizon)) return bad("bad horizon");
  }
  if (p.rules.size() != t.rules.size()) return Error{"rule tables differ in size"};
  int offset = 0;
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    auto bad = [&](std::string_view what) {
      return Error{fmt::format("rule {}: {}", t.rules[i].name, what)};
    };
    if (r.cond < 0 || r.cond >= nexprs) return bad("bad condition");
    if ((r.temporal == Temporal::kForChecks || r.temporal == Temporal::kTimesWithin) &&
        (r.count < 1 || r.count > 1'000'000)) {
      return bad("count out of range");
    }
    if (!std::isfinite(r.seconds) || r.seconds < 0) return bad("bad duration");
    if (!std::isfinite(r.clear_after) || r.clear_after < 0) return bad("bad clear-after duration");
    if (r.check_clock >= static_cast<int>(check_clock_count(t.objects.size()))) {
      return bad("bad check clock");
    }
    if (r.state_offset != offset) return bad("state not laid out (call finalize)");
    offset += state_words(r);
    const RuleInfo& info = t.rules[i];
    if (info.event < 0 || static_cast<std::size_t>(info.event) >= t.events.size()) {
      return bad("bad event");
    }
    for (int a : info.args) {
      if (a < 0 || static_cast<std::size_t>(a) >= t.objects.size()) return bad("bad argument");
    }
  }
  if (offset != t.state_words) return Error{"state size differs from the layout"};
  for (const EventInfo& ev : t.events) {
    if (ev.recovery >= static_cast<int>(p.recoveries.size())) {
      return Error{fmt::format("event {}: bad recovery", ev.name)};
    }
  }
  Status body_status;
  for (const Recovery& rec : p.recoveries) {
    walk_body(rec.body, [&](const Stmt& st) {
      if (!body_status.ok()) return;
      if (st.kind == Stmt::Kind::kWhen && (st.cond < 0 || st.cond >= nexprs)) {
        body_status = Error{"recovery: bad condition"};
      }
      if (st.target.param < 0 && st.target.object >= static_cast<int>(t.objects.size())) {
        body_status = Error{"recovery: bad target"};
      }
      if (st.action == ActionKind::kRaise && st.kind == Stmt::Kind::kAction &&
          (st.raise_event < 0 || static_cast<std::size_t>(st.raise_event) >= t.events.size())) {
        body_status = Error{"recovery: bad raised event"};
      }
    });
  }
  return body_status;
}

namespace {

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{}", v);
}

std::string slot_name(const Program& p, const Expr& e, bool string_slot) {
  if (e.param >= 0) {
    return fmt::format("${}.{}", e.param,
                       e.attr >= 0 && e.attr < static_cast<int>(p.strings.size())
                           ? p.strings[static_cast<std::size_t>(e.attr)]
                           : "?");
  }
  for (const SlotInfo& s : p.tables.slots) {
    if (s.is_string == string_slot && s.index == e.slot &&
        static_cast<std::size_t>(s.object) < p.tables.objects.size()) {
      return p.tables.objects[static_cast<std::size_t>(s.object)].name + "." + s.attribute;
    }
  }
  return fmt::format("{}{}", string_slot ? "str" : "num", e.slot);
}

std::string text(const Text& t) {
  std::string out;
  for (const TextPiece& piece : t) {
    if (piece.is_object) {
      out += piece.object.param >= 0 ? fmt::format("{{${}", piece.object.param)
                                     : fmt::format("{{obj{}", piece.object.object);
      if (!piece.attribute.empty()) out += "." + piece.attribute;
      out += "}";
    } else {
      out += piece.literal;
    }
  }
  return "\"" + out + "\"";
}

void dump_body(const Program& p, const std::vector<Stmt>& body, int depth, std::string& out) {
  const std::string pad(static_cast<std::size_t>(depth) * 2, ' ');
  auto ref = [](const ObjectRef& r) {
    return r.param >= 0 ? fmt::format("${}", r.param) : fmt::format("obj{}", r.object);
  };
  for (const Stmt& s : body) {
    if (s.kind == Stmt::Kind::kWhen) {
      out += pad + "when " + dump_expr(p, s.cond) + " {\n";
      dump_body(p, s.then_body, depth + 1, out);
      if (!s.else_body.empty()) {
        out += pad + "} else {\n";
        dump_body(p, s.else_body, depth + 1, out);
      }
      out += pad + "}\n";
      continue;
    }
    out += pad + std::string(action_kind_name(s.action));
    if (s.target.param >= 0 || s.target.object >= 0) out += " " + ref(s.target);
    if (s.action == ActionKind::kSignal) out += fmt::format(" sig{}", s.signal);
    for (const Text& a : s.argv) out += " " + text(a);
    if (!s.channel.empty()) out += " " + s.channel + ":";
    if (!s.message.empty()) out += " " + text(s.message);
    if (s.action == ActionKind::kWait) out += " " + number(s.seconds) + "s";
    if (s.backoff_initial > 0) {
      out += fmt::format(" backoff {}s..{}s", number(s.backoff_initial), number(s.backoff_max));
    }
    if (s.limit > 0) out += fmt::format(" limit {} within {}s", s.limit, number(s.limit_window));
    if (s.action == ActionKind::kRaise && s.raise_event >= 0 &&
        static_cast<std::size_t>(s.raise_event) < p.tables.events.size()) {
      out += " " + p.tables.events[static_cast<std::size_t>(s.raise_event)].name + "(";
      for (std::size_t i = 0; i < s.raise_args.size(); ++i) {
        out += (i ? ", " : "") + ref(s.raise_args[i]);
      }
      out += ")";
    }
    out += "\n";
  }
}

}  // namespace

std::string dump_expr(const Program& p, int i) {
  if (i < 0 || static_cast<std::size_t>(i) >= p.exprs.size()) return "<bad>";
  const Expr& e = p.exprs[static_cast<std::size_t>(i)];
  switch (e.op) {
    case Op::kConst:
      return number(e.value);
    case Op::kSlot:
      return slot_name(p, e, false);
    case Op::kStrEq:
    case Op::kStrNe:
    case Op::kMatch:
      return fmt::format("({} {} \"{}\")", slot_name(p, e, true), op_name(e.op),
                         e.str >= 0 && e.str < static_cast<int>(p.strings.size())
                             ? p.strings[static_cast<std::size_t>(e.str)]
                             : "?");
    case Op::kNot:
      return "(not " + dump_expr(p, e.a) + ")";
    case Op::kNeg:
      return "(-" + dump_expr(p, e.a) + ")";
    case Op::kPredict:
      return fmt::format("predict({}, {}s, over {}s)", slot_name(p, e, false), number(e.horizon),
                         number(e.value));
    default:
      break;
  }
  if (is_window_op(e.op)) {
    return fmt::format("{}({}, {}s)", op_name(e.op), slot_name(p, e, false), number(e.value));
  }
  return fmt::format("({} {} {})", dump_expr(p, e.a), op_name(e.op), dump_expr(p, e.b));
}

std::string dump(const Program& p) {
  const PolicyTables& t = p.tables;
  std::string out = fmt::format(
      "policy {}: {} objects, {} number slots, {} string slots, {} "
      "rules, {} state words\n",
      t.name, t.objects.size(), t.number_slot_count, t.string_slot_count, t.rules.size(),
      t.state_words);
  for (const SlotInfo& s : t.slots) {
    out += fmt::format("  {} {}[{}] = {}.{}", s.is_string ? "str" : "num", s.is_string ? "s" : "n",
                       s.index, t.objects[static_cast<std::size_t>(s.object)].name, s.attribute);
    if (s.needs_history) out += fmt::format("  history {}s", number(s.history_seconds));
    out += "\n";
  }
  for (std::size_t i = 0; i < p.rules.size(); ++i) {
    const Rule& r = p.rules[i];
    const RuleInfo& info = t.rules[i];
    out += fmt::format("rule {} when {}", info.name, dump_expr(p, r.cond));
    switch (r.temporal) {
      case Temporal::kNone:
        break;
      case Temporal::kForDuration:
        out += fmt::format(" for {}s", number(r.seconds));
        break;
      case Temporal::kForChecks:
        out += fmt::format(" for {} checks", r.count);
        if (const auto n = t.objects.size(); r.check_clock >= 0 && n > 0) {
          const bool health = static_cast<std::size_t>(r.check_clock) >= n;
          const auto object = static_cast<std::size_t>(r.check_clock) % n;
          out += fmt::format(" ({} of {})", health ? "health checks" : "probe rounds",
                             t.objects[object].name);
        }
        break;
      case Temporal::kTimesWithin:
        out += fmt::format(" {} times within {}s", r.count, number(r.seconds));
        break;
    }
    if (r.clear_after > 0) out += fmt::format(" clear after {}s", number(r.clear_after));
    if (info.event >= 0 && static_cast<std::size_t>(info.event) < t.events.size()) {
      out += " raise " + t.events[static_cast<std::size_t>(info.event)].name + "(";
      for (std::size_t a = 0; a < info.args.size(); ++a) {
        out += (a ? ", " : "") + t.objects[static_cast<std::size_t>(info.args[a])].name;
      }
      out += ")";
    }
    out += fmt::format("  [state {}]\n", r.state_offset);
  }
  for (const Recovery& rec : p.recoveries) {
    out += "recover " + t.events[static_cast<std::size_t>(rec.event)].name + "(";
    for (std::size_t i = 0; i < rec.params.size(); ++i) out += (i ? ", " : "") + rec.params[i];
    out += ") {\n";
    dump_body(p, rec.body, 1, out);
    out += "}\n";
  }
  return out;
}

}  // namespace amata::ir
