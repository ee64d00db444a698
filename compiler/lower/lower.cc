#include "compiler/lower/lower.h"

#include <fmt/format.h>

#include <map>
#include <utility>

#include "catalog/actions.h"

namespace amata::lower {
namespace {

using check::TypedExpr;
using ir::Op;
using TOp = TypedExpr::Op;

struct LowerError {
  std::string message;
};

class Lowering {
 public:
  Lowering(const check::CheckedPolicy& c, const SourceText& text)
      : c_(c), text_(text), p_(std::make_shared<ir::Program>()) {}

  Result<std::shared_ptr<const ir::Program>> run() {
    p_->tables.name = c_.name;
    p_->tables.cluster = c_.cluster;
    p_->tables.channels = c_.channels;
    p_->tables.objects = c_.objects;
    for (const check::Event& e : c_.events) {
      ir::EventInfo info{e.name, {}, -1};
      for (const auto& param : e.params) info.params.push_back(param.kind);
      p_->tables.events.push_back(std::move(info));
    }
    for (const check::DiscoverRule& rule : c_.discover) {
      if (auto s = expand(rule); !s.ok()) return s.error();
    }
    for (const check::RecoverRule& rec : c_.recover) {
      if (auto s = recover(rec); !s.ok()) return s.error();
    }
    ir::finalize(*p_);
    if (auto s = ir::validate(*p_); !s.ok()) {
      return Error{"internal error: lowering produced a bad program: " + s.error().message};
    }
    return std::shared_ptr<const ir::Program>(p_);
  }

 private:
  // --- Slots -------------------------------------------------------------------------------

  const ir::SlotInfo& slot(int object, const std::string& attribute, catalog::Type type) {
    // The catalog is the source of truth for an attribute's type (perfdata has none there).
    const auto kind = c_.objects[static_cast<std::size_t>(object)].kind;
    if (const catalog::Attribute* a = catalog::find_attribute(kind, attribute)) type = a->type;
    auto key = std::make_pair(object, attribute);
    if (auto it = slots_.find(key); it != slots_.end()) {
      return p_->tables.slots[it->second];
    }
    ir::SlotInfo s;
    s.object = object;
    s.attribute = attribute;
    s.type = type;
    s.is_string = type.kind == catalog::ValueKind::kString;
    s.index = s.is_string ? p_->tables.string_slot_count++ : p_->tables.number_slot_count++;
    slots_[key] = p_->tables.slots.size();
    p_->tables.slots.push_back(s);
    return p_->tables.slots.back();
  }

  // Every object of `kind` gets a slot for `attribute`: a recovery body may run for any.
  void slots_for_kind(catalog::Kind kind, const std::string& attribute, const catalog::Type& type) {
    for (std::size_t o = 0; o < c_.objects.size(); ++o) {
      if (c_.objects[o].kind == kind) slot(static_cast<int>(o), attribute, type);
    }
  }

  // --- Expressions -------------------------------------------------------------------------

  // How event parameters are bound while lowering an expression: to objects (discover rules,
  // expanded) or left as parameters (recovery bodies).
  struct Binding {
    const std::vector<int>* objects = nullptr;  // discover: param index -> object id
    bool recovery = false;
  };

  // An attribute read, resolved: a fixed slot, or a parameter's attribute.
  struct Read {
    int slot = -1;
    int param = -1;
    int attr = -1;
    bool is_string = false;
  };

  Read read(const check::AttrRef& a, const Binding& bind) {
    Read r;
    r.is_string = a.type.kind == catalog::ValueKind::kString;
    if (a.object.base == check::ObjectRef::Base::kParameter && bind.recovery) {
      slots_for_kind(a.object.kind, a.attribute, a.type);
      r.param = a.object.index;
      r.attr = p_->add_string(a.attribute);
      return r;
    }
    const int object = resolve(a.object, bind);
    r.slot = slot(object, a.attribute, a.type).index;
    if (first_object_ < 0) first_object_ = object;
    if (object == first_object_ && a.attribute.starts_with("health.")) reads_health_ = true;
    return r;
  }

  int resolve(const check::ObjectRef& ref, const Binding& bind) {
    if (ref.base == check::ObjectRef::Base::kObject) return ref.index;
    return (*bind.objects)[static_cast<std::size_t>(ref.index)];
  }

  int emit(ir::Expr e, const Read& r) {
    e.slot = r.slot;
    e.param = r.param;
    e.attr = r.attr;
    return p_->add(e);
  }

  /// The IR operator of a typed arithmetic, ordering or logical operator: the same operation
  /// on the same two operands.
  static Op same_op(TOp op) {
    static constexpr std::pair<TOp, Op> kSame[] = {
        {TOp::kAdd, Op::kAdd}, {TOp::kSub, Op::kSub}, {TOp::kMul, Op::kMul}, {TOp::kDiv, Op::kDiv},
        {TOp::kLt, Op::kLt},   {TOp::kLe, Op::kLe},   {TOp::kGt, Op::kGt},   {TOp::kGe, Op::kGe},
        {TOp::kAnd, Op::kAnd}, {TOp::kOr, Op::kOr}};
    for (const auto& [from, to] : kSame) {
      if (from == op) return to;
    }
    throw LowerError{"not an arithmetic, ordering or logical operator"};
  }

  int expr(const TypedExpr& e, const Binding& bind) {
    auto operand = [&](std::size_t i) {
      if (i >= e.operands.size()) throw LowerError{"malformed expression (missing operand)"};
      return expr(e.operands[i], bind);
    };
    auto binary = [&](Op op) {
      return p_->add(ir::Expr{.op = op, .a = operand(0), .b = operand(1)});
    };
    switch (e.op) {
      case TOp::kNumber:
        return p_->add(ir::Expr{.op = Op::kConst, .value = e.number});
      case TOp::kBool:
        return p_->add(ir::Expr{.op = Op::kConst, .value = e.boolean ? 1.0 : 0.0});
      case TOp::kEnum:
        return p_->add(ir::Expr{.op = Op::kConst, .value = static_cast<double>(e.enum_ordinal)});
      case TOp::kString:
        throw LowerError{"a string can only be compared with an attribute"};
      case TOp::kAttr: {
        const Read r = read(e.attr, bind);
        if (r.is_string) throw LowerError{"a string attribute can only be compared or matched"};
        return emit(ir::Expr{.op = Op::kSlot}, r);
      }
      case TOp::kNeg:
        return p_->add(ir::Expr{.op = Op::kNeg, .a = operand(0)});
      case TOp::kNot:
        return p_->add(ir::Expr{.op = Op::kNot, .a = operand(0)});
      case TOp::kAdd:
      case TOp::kSub:
      case TOp::kMul:
      case TOp::kDiv:
      case TOp::kLt:
      case TOp::kLe:
      case TOp::kGt:
      case TOp::kGe:
      case TOp::kAnd:
      case TOp::kOr:
        return binary(same_op(e.op));
      case TOp::kEq:
      case TOp::kNe: {
        if (e.operands.size() == 2 && e.operands[0].type.kind == catalog::ValueKind::kString) {
          return string_compare(e, bind);
        }
        return binary(e.op == TOp::kEq ? Op::kEq : Op::kNe);
      }
      case TOp::kMatch:
      case TOp::kNotMatch: {
        if (e.operands.empty() || e.operands[0].op != TOp::kAttr) {
          throw LowerError{"only an attribute can be matched against a pattern"};
        }
        const Read r = read(e.operands[0].attr, bind);
        int m = emit(ir::Expr{.op = Op::kMatch, .str = p_->add_string(e.string)}, r);
        if (e.op == TOp::kNotMatch) m = p_->add(ir::Expr{.op = Op::kNot, .a = m});
        return m;
      }
      case TOp::kAvg:
        return window(e, Op::kAvg, e.duration, 0, bind);
      case TOp::kMin:
        return window(e, Op::kMin, e.duration, 0, bind);
      case TOp::kMax:
        return window(e, Op::kMax, e.duration, 0, bind);
      case TOp::kRate:
        return window(e, Op::kRate, 0, 0, bind);
      case TOp::kDelta:
        return window(e, Op::kDelta, e.duration, 0, bind);
      case TOp::kChanged:
        return window(e, Op::kChanged, 0, 0, bind);
      // The fit looks back as far as it forecasts ahead.
      case TOp::kPredict:
        return window(e, Op::kPredict, e.duration, e.duration, bind);
    }
    throw LowerError{"unknown expression"};
  }

  int window(const TypedExpr& e, Op op, double seconds, double horizon, const Binding& bind) {
    if (e.operands.empty() || e.operands[0].op != TOp::kAttr) {
      throw LowerError{
          fmt::format("{}() over an expression is not supported yet; apply it to an "
                      "attribute",
                      ir::op_name(op))};
    }
    const Read r = read(e.operands[0].attr, bind);
    if (r.is_string) {
      throw LowerError{
          fmt::format("{}() over a string attribute is not supported", ir::op_name(op))};
    }
    return emit(ir::Expr{.op = op, .value = seconds, .horizon = horizon}, r);
  }

  int string_compare(const TypedExpr& e, const Binding& bind) {
    const TypedExpr& l = e.operands[0];
    const TypedExpr& r = e.operands[1];
    const bool eq = e.op == TOp::kEq;
    if (l.op == TOp::kString && r.op == TOp::kString) {
      return p_->add(ir::Expr{.op = Op::kConst, .value = (l.string == r.string) == eq ? 1.0 : 0.0});
    }
    const TypedExpr* attr = l.op == TOp::kAttr ? &l : &r;
    const TypedExpr* lit = l.op == TOp::kAttr ? &r : &l;
    if (attr->op != TOp::kAttr || lit->op != TOp::kString) {
      throw LowerError{"comparing two string attributes is not supported yet"};
    }
    const Read rd = read(attr->attr, bind);
    return emit(ir::Expr{.op = eq ? Op::kStrEq : Op::kStrNe, .str = p_->add_string(lit->string)},
                rd);
  }

  // --- Discovery rules -----------------------------------------------------------------------

  Status expand(const check::DiscoverRule& rule) {
    // Every combination of objects of the parameters' kinds, in declaration order.
    std::vector<std::vector<int>> candidates;
    for (const auto& param : rule.params) {
      std::vector<int> of_kind;
      for (std::size_t o = 0; o < c_.objects.size(); ++o) {
        if (c_.objects[o].kind == param.kind) of_kind.push_back(static_cast<int>(o));
      }
      candidates.push_back(std::move(of_kind));
    }
    std::vector<int> binding(rule.params.size(), 0);
    std::vector<std::size_t> pos(rule.params.size(), 0);
    for (const auto& c : candidates) {
      if (c.empty()) return {};  // no object of that kind: the rule applies to nothing
    }
    while (true) {
      for (std::size_t i = 0; i < binding.size(); ++i) binding[i] = candidates[i][pos[i]];
      if (auto s = instantiate(rule, binding); !s.ok()) return s;
      std::size_t i = binding.size();
      while (i > 0) {
        --i;
        if (++pos[i] < candidates[i].size()) break;
        pos[i] = 0;
        if (i == 0) return {};
      }
      if (binding.empty()) return {};
    }
  }

  Status instantiate(const check::DiscoverRule& rule, const std::vector<int>& binding) {
    std::string name = rule.name;
    if (!binding.empty()) {
      name += "[";
      for (std::size_t i = 0; i < binding.size(); ++i) {
        name += (i ? "," : "") + c_.objects[static_cast<std::size_t>(binding[i])].name;
      }
      name += "]";
    }
    Binding bind{&binding, false};
    first_object_ = -1;
    reads_health_ = false;
    ir::Rule r;
    try {
      r.cond = expr(rule.condition, bind);
    } catch (const LowerError& e) {
      return Error{fmt::format("rule {}: {}", rule.name, e.message)};
    }
    switch (rule.temporal.kind) {
      case check::Temporal::Kind::kNone:
        r.temporal = ir::Temporal::kNone;
        break;
      case check::Temporal::Kind::kForDuration:
        r.temporal = ir::Temporal::kForDuration;
        break;
      case check::Temporal::Kind::kForChecks:
        r.temporal = ir::Temporal::kForChecks;
        break;
      case check::Temporal::Kind::kTimesWithin:
        r.temporal = ir::Temporal::kTimesWithin;
        break;
    }
    r.seconds = rule.temporal.duration;
    r.count = rule.temporal.count;
    r.clear_after = rule.temporal.clear_after;
    // `for N checks` counts the probe rounds of the first object the condition reads, or
    // its health check results when the condition reads them: a probe round between two
    // checks would otherwise count the same result twice, or be counted before it.
    if (first_object_ >= 0) {
      r.check_clock = reads_health_ ? ir::health_clock(p_->tables.objects.size(), first_object_)
                                    : ir::probe_clock(first_object_);
    }
    ir::RuleInfo info;
    info.name = std::move(name);
    info.source_rule = rule.name;
    info.event = rule.event;
    for (const auto& a : rule.args) info.args.push_back(resolve(a, bind));
    if (text_) info.text = text_(rule.condition.range);
    p_->rules.push_back(r);
    p_->tables.rules.push_back(std::move(info));
    return {};
  }

  // --- Recovery bodies -----------------------------------------------------------------------

  static ir::ObjectRef ref(const check::ObjectRef& r) {
    if (r.base == check::ObjectRef::Base::kParameter) return ir::ObjectRef{r.index, -1};
    return ir::ObjectRef{-1, r.index};
  }

  std::vector<ir::Stmt> body(const check::ActionList& actions) {
    std::vector<ir::Stmt> out;
    Binding bind{nullptr, true};
    for (const check::Action& a : actions) {
      ir::Stmt s;
      using K = catalog::ActionKind;
      if (a.kind == check::Action::Kind::kWhen) {
        s.kind = ir::Stmt::Kind::kWhen;
        s.cond = expr(a.condition, bind);
        s.then_body = body(a.then_body);
        s.else_body = body(a.else_body);
        out.push_back(std::move(s));
        continue;
      }
      s.kind = ir::Stmt::Kind::kAction;
      s.action = a.action;
      const bool targeted = a.action == K::kRestart || a.action == K::kStart ||
                            a.action == K::kStop || a.action == K::kMonitor ||
                            a.action == K::kUnmonitor || a.action == K::kSignal ||
                            a.action == K::kReload;
      if (targeted) s.target = ref(a.target);
      if (a.action == K::kFailover && a.peer) s.target = ref(*a.peer);
      if (a.action == K::kFailover) s.failover_service = ref(a.target);
      s.signal = a.signal;
      for (const check::RunArg& arg : a.argv) {
        ir::TextPiece piece;
        switch (arg.kind) {
          case check::RunArg::Kind::kLiteral:
            piece.literal = arg.text;
            break;
          case check::RunArg::Kind::kObjectName:
            piece.is_object = true;
            piece.object = ref(arg.object);
            break;
          case check::RunArg::Kind::kAttribute:
            piece.is_object = true;
            piece.object = ref(arg.attr.object);
            piece.attribute = arg.attr.attribute;
            if (arg.attr.object.base == check::ObjectRef::Base::kParameter) {
              slots_for_kind(arg.attr.object.kind, arg.attr.attribute, arg.attr.type);
            } else {
              slot(arg.attr.object.index, arg.attr.attribute, arg.attr.type);
            }
            break;
        }
        s.argv.push_back(ir::Text{piece});
      }
      s.channel = a.channel;
      if (!a.message.empty()) s.message = ir::Text{ir::TextPiece{a.message}};
      s.seconds = a.duration;
      if (a.backoff) {
        s.backoff_initial = a.backoff->min;
        s.backoff_max = a.backoff->max;
      }
      if (a.limit) {
        s.limit = a.limit->count;
        s.limit_window = a.limit->window;
      }
      if (a.action == K::kRaise) {
        s.raise_event = a.event;
        for (const auto& arg : a.event_args) s.raise_args.push_back(ref(arg));
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  Status recover(const check::RecoverRule& rec) {
    ir::Recovery r;
    r.event = rec.event;
    for (const auto& param : rec.params) r.params.push_back(param.name);
    try {
      r.body = body(rec.body);
    } catch (const LowerError& e) {
      return Error{fmt::format("recover {}: {}", rec.event_name, e.message)};
    }
    if (rec.event < 0 || static_cast<std::size_t>(rec.event) >= p_->tables.events.size()) {
      return Error{fmt::format("recover {}: unknown event", rec.event_name)};
    }
    p_->tables.events[static_cast<std::size_t>(rec.event)].recovery =
        static_cast<int>(p_->recoveries.size());
    p_->recoveries.push_back(std::move(r));
    return {};
  }

  const check::CheckedPolicy& c_;
  const SourceText& text_;
  std::shared_ptr<ir::Program> p_;
  std::map<std::pair<int, std::string>, std::size_t> slots_;
  int first_object_ = -1;
  bool reads_health_ = false;  // the condition reads first_object_'s health.* results
};

}  // namespace

Result<std::shared_ptr<const ir::Program>> lower(const check::CheckedPolicy& policy,
                                                 const SourceText& source_text) {
  return Lowering(policy, source_text).run();
}

}  // namespace amata::lower
