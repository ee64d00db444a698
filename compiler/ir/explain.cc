#include "compiler/ir/explain.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compiler/ir/eval.h"
#include "compiler/ir/runtime.h"

namespace amata::ir {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A number slot read as `object.attribute`, which an operator recognises; dump_expr only
// knows slot numbers.
std::string slot_text(const Program& p, const Expr& e) {
  for (const SlotInfo& s : p.tables.slots) {
    if (s.is_string || s.index != e.slot) continue;
    if (s.object < 0 || static_cast<std::size_t>(s.object) >= p.tables.objects.size()) break;
    return p.tables.objects[static_cast<std::size_t>(s.object)].name + "." + s.attribute;
  }
  return dump_expr(p, static_cast<int>(&e - p.exprs.data()));
}

// Appends node `expr` and its operands (pre-order) and returns the node's position.
int add_node(const Program& p, const RuntimeFrame& frame, int expr, double now,
             std::vector<ExprExplanation>& nodes) {
  const Expr& e = p.exprs[static_cast<std::size_t>(expr)];
  const auto pos = static_cast<int>(nodes.size());
  nodes.push_back({});
  ExprExplanation node;
  node.expr = expr;
  node.op = std::string(op_name(e.op));
  node.text = e.op == Op::kSlot ? slot_text(p, e) : dump_expr(p, expr);
  node.value = eval_expr(p, frame, expr, now);
  if (e.a >= 0 && e.op != Op::kConst) node.children.push_back(add_node(p, frame, e.a, now, nodes));
  if (e.b >= 0 && e.op != Op::kConst) node.children.push_back(add_node(p, frame, e.b, now, nodes));
  nodes[static_cast<std::size_t>(pos)] = std::move(node);
  return pos;
}

// The temporal qualifier of rule `r` as of the last discover(), given whether its condition
// holds now: read from the rule's state words, never advanced.
TemporalExplanation explain_temporal(const Rule& r, bool holds, double now,
                                     const PolicyState& state) {
  const double* w = state.words.data() + r.state_offset;
  TemporalExplanation te;
  te.kind = r.temporal;
  te.holds = holds;
  te.active = w[0] != 0;
  te.seconds = r.seconds;
  te.count = r.count;
  te.since = kNaN;
  switch (r.temporal) {
    case Temporal::kNone:
      break;
    case Temporal::kForDuration:
      if (te.holds && !std::isnan(w[1])) {
        te.since = w[1];
        te.held_s = now - w[1];
        te.left_s = std::max(0.0, r.seconds - te.held_s);
        te.pending = te.left_s > 0;
      } else if (te.holds) {
        // The condition turned true after the last discover(): the clock starts at the next.
        te.left_s = r.seconds;
        te.pending = r.seconds > 0;
      }
      break;
    case Temporal::kForChecks:
      te.checks = static_cast<int>(w[1]);
      te.pending = te.holds && te.checks < r.count;
      break;
    case Temporal::kTimesWithin:
      for (int i = 0; i < r.count; ++i) {
        if (w[3 + i] >= now - r.seconds) ++te.rises_in_window;
      }
      te.pending = te.holds && te.rises_in_window < r.count;
      break;
  }
  te.clear_after = r.clear_after;
  if (r.clear_after > 0 && te.active && !te.holds && !std::isnan(w[clear_word(r)])) {
    te.clearing_left_s = std::max(0.0, r.clear_after - (now - w[clear_word(r)]));
  }
  return te;
}

RuleExplanation explain_one(const Program& p, const RuntimeFrame& frame, int rule, double now,
                            const PolicyState& state) {
  const Rule& r = p.rules[static_cast<std::size_t>(rule)];
  RuleExplanation out;
  add_node(p, frame, r.cond, now, out.nodes);
  out.temporal = explain_temporal(r, truthy(out.nodes.front().value), now, state);
  return out;
}

Status check_inputs(const Program& p, const Samples& samples, const PolicyState& state) {
  const PolicyTables& t = p.tables;
  if (samples.numbers.size() < static_cast<std::size_t>(t.number_slot_count) ||
      samples.strings.size() < static_cast<std::size_t>(t.string_slot_count) ||
      state.words.size() != static_cast<std::size_t>(t.state_words)) {
    return Error{"samples or state do not match the policy's layout"};
  }
  return {};
}

// The frame explain evaluates in: the interpreter's, with the policy's compiled regexes.
RuntimeFrame make_frame(const CompiledPolicy& policy, const Samples& samples,
                        const PolicyState& state) {
  RuntimeFrame frame;
  frame.numbers = samples.numbers.data();
  frame.strings = samples.strings.data();
  frame.history = &state.history;
  frame.literals = &policy.program().strings;
  frame.regexes = &policy.regexes();
  return frame;
}

}  // namespace

Result<RuleExplanation> explain_rule(const CompiledPolicy& policy, int rule, double now,
                                     const Samples& samples, const PolicyState& state) {
  const Program& p = policy.program();
  if (rule < 0 || static_cast<std::size_t>(rule) >= p.rules.size()) {
    return Error{"no rule with id " + std::to_string(rule)};
  }
  if (Status ok = check_inputs(p, samples, state); !ok) return ok.error();
  return explain_one(p, make_frame(policy, samples, state), rule, now, state);
}

Result<std::vector<RuleExplanation>> explain_rules(const CompiledPolicy& policy, double now,
                                                   const Samples& samples,
                                                   const PolicyState& state) {
  const Program& p = policy.program();
  if (Status ok = check_inputs(p, samples, state); !ok) return ok.error();
  const RuntimeFrame frame = make_frame(policy, samples, state);
  std::vector<RuleExplanation> out;
  out.reserve(p.rules.size());
  for (std::size_t r = 0; r < p.rules.size(); ++r) {
    out.push_back(explain_one(p, frame, static_cast<int>(r), now, state));
  }
  return out;
}

Result<std::vector<TemporalExplanation>> temporal_states(const CompiledPolicy& policy, double now,
                                                         const Samples& samples,
                                                         const PolicyState& state) {
  const Program& p = policy.program();
  if (Status ok = check_inputs(p, samples, state); !ok) return ok.error();
  const RuntimeFrame frame = make_frame(policy, samples, state);
  std::vector<TemporalExplanation> out;
  out.reserve(p.rules.size());
  for (const Rule& r : p.rules) {
    out.push_back(explain_temporal(r, truthy(eval_expr(p, frame, r.cond, now)), now, state));
  }
  return out;
}

}  // namespace amata::ir
