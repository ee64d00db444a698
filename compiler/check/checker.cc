#include "compiler/check/checker.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>

#include "catalog/actions.h"
#include "compiler/diag/diagnostic.h"

namespace amata::check {

int CheckedPolicy::find_object(std::string_view name) const {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int CheckedPolicy::find_event(std::string_view name) const {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

struct SignalName {
  std::string_view name;
  int number;
};
const SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"WINCH", SIGWINCH}, {"PWR", SIGPWR},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

}  // namespace

std::optional<int> signal_number(std::string_view name) {
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (s.name == name) return s.number;
  }
  return std::nullopt;
}

namespace {

using catalog::Dimension;
using catalog::Kind;
using catalog::Type;
using catalog::ValueKind;
using Op = TypedExpr::Op;

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

/// "2.5", "0", "1e+06": numbers as a person writes them.
std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// "a service", "an interface".
std::string a_kind(Kind k) {
  const std::string_view name = catalog::kind_name(k);
  return (std::string_view("aeiou").find(name[0]) != std::string_view::npos ? "an " : "a ") +
         std::string(name);
}

std::string with_suggestion(std::string message, std::string_view word,
                            const std::vector<std::string_view>& candidates) {
  const std::string best = diag::closest_match(word, candidates);
  if (!best.empty()) message += "; did you mean " + quote(best) + "?";
  return message;
}

bool is_literal(const TypedExpr& e) {
  return e.op == Op::kNumber || e.op == Op::kBool || e.op == Op::kString ||
         (e.op == Op::kEnum && e.enum_ordinal >= 0);
}

/// Where a name was first defined, for "previous definition" notes.
struct Definition {
  enum class What { kObject, kConstant, kEvent, kRule, kCluster } what;
  int index;
  ast::SourceRange range;
};

/// What an expression may refer to.
struct Scope {
  const std::vector<Parameter>* params = nullptr;  // rule or recover parameters
  bool constants_only = false;                     // inside `let`
  bool allow_windows = true;                       // avg/min/max/rate/delta/changed/predict
};

class Checker {
 public:
  Checker(const ast::Program& program, const source::SourceManager& sources,
          diag::DiagnosticEngine& diags)
      : program_(program), sources_(sources), diags_(diags) {}

  std::optional<CheckedPolicy> run(const PassObserver& observer) {
    const std::size_t errors_before = diags_.error_count();
    errors_before_check_ = errors_before;
    struct Pass {
      std::string_view name;
      void (Checker::*fn)();
    };
    const Pass passes[] = {
        {"declarations", &Checker::declarations}, {"constants", &Checker::constants},
        {"objects", &Checker::objects},           {"discover", &Checker::discover_rules},
        {"recover", &Checker::recover_rules},     {"lint", &Checker::lint}};
    for (const auto& pass : passes) {
      (this->*pass.fn)();
      if (observer) observer(pass.name, policy_);
    }
    if (diags_.error_count() > errors_before) return std::nullopt;
    return std::move(policy_);
  }

 private:
  template <typename F>
  void each_statement(ast::Statement::Kind kind, F&& f) {
    for (const auto& file : program_.files) {
      for (const auto& st : file.statements) {
        if (st.kind == kind) f(st);
      }
    }
  }

  // --- declarations ------------------------------------------------------------------------

  bool define(const ast::Name& name, Definition::What what, int index) {
    auto [it, inserted] = names_.emplace(name.text, Definition{what, index, name.range});
    if (!inserted) {
      auto& d = diags_.report(diag::Code::kDuplicateDefinition, name.range,
                              "redefinition of " + quote(name.text));
      d.notes.push_back({it->second.range, "previous definition is here"});
      return false;
    }
    return true;
  }

  std::optional<Kind> resolve_kind(const ast::Name& kind) {
    if (auto k = catalog::kind_from_name(kind.text)) return k;
    std::vector<std::string_view> kinds;
    for (Kind k : catalog::all_kinds()) kinds.push_back(catalog::kind_name(k));
    std::string msg = "unknown kind " + quote(kind.text);
    const std::string best = diag::closest_match(kind.text, kinds);
    // A misspelt statement keyword parses as an object declaration; suggest those too.
    const std::string keyword = diag::closest_match(
        kind.text, {"discover", "recover", "event", "include", "policy", "cluster"});
    auto& d = diags_.report(diag::Code::kUnknownKind, kind.range, "");
    if (!best.empty()) {
      msg += "; did you mean " + quote(best) + "?";
      d.fixits.push_back({kind.range, best});
    } else if (!keyword.empty()) {
      msg += "; did you mean " + quote(keyword) + "?";
    } else {
      msg += " (kinds are node, service, process, interface, filesystem, host, check, peer)";
    }
    d.message = msg;
    return std::nullopt;
  }

  void declarations() {
    const ast::PolicyDecl* first_policy = nullptr;
    each_statement(ast::Statement::Kind::kPolicy, [&](const ast::Statement& st) {
      if (first_policy) {
        auto& d =
            diags_.report(diag::Code::kSecondPolicyName, st.policy->range, "a second policy name");
        d.notes.push_back({first_policy->range, "the policy is named here"});
        return;
      }
      first_policy = st.policy.get();
      policy_.name = st.policy->name.text;
    });
    each_statement(ast::Statement::Kind::kObject, [&](const ast::Statement& st) {
      const auto& o = *st.object;
      if (o.kind.text == "cluster") {
        // Not an object: the cluster this node belongs to (its settings: the objects pass).
        if (cluster_decl_) {
          auto& d = diags_.report(
              diag::Code::kSecondCluster, o.name.range,
              "a second cluster " + quote(o.name.text) + " (a node belongs to one cluster)");
          d.notes.push_back({cluster_decl_->name.range, "the cluster is declared here"});
          return;
        }
        if (!define(o.name, Definition::What::kCluster, 0)) return;
        cluster_decl_ = &o;
        return;
      }
      auto kind = resolve_kind(o.kind);
      if (!kind) return;
      if (!define(o.name, Definition::What::kObject, static_cast<int>(policy_.objects.size()))) {
        return;
      }
      catalog::ObjectSpec spec;
      spec.name = o.name.text;
      spec.kind = *kind;
      policy_.objects.push_back(std::move(spec));
      policy_.object_ranges.push_back(o.range);
      object_decls_.push_back(&o);
    });
    each_statement(ast::Statement::Kind::kLet, [&](const ast::Statement& st) {
      if (!define(st.let->name, Definition::What::kConstant, static_cast<int>(lets_.size()))) {
        return;
      }
      lets_.push_back(st.let.get());
    });
    each_statement(ast::Statement::Kind::kEvent, [&](const ast::Statement& st) {
      const auto& e = *st.event;
      auto it = event_defs_.find(e.name.text);
      if (it != event_defs_.end()) {
        auto& d = diags_.report(diag::Code::kDuplicateDefinition, e.name.range,
                                "redefinition of event " + quote(e.name.text));
        d.notes.push_back({it->second, "previous definition is here"});
        return;
      }
      event_defs_.emplace(e.name.text, e.name.range);
      Event ev;
      ev.name = e.name.text;
      ev.declared = true;
      ev.notify_only = e.notify_only;
      ev.range = e.range;
      bool ok = true;
      std::set<std::string> seen;
      for (const auto& p : e.params) {
        auto kind = resolve_kind(p.kind);
        if (!kind) ok = false;
        if (!seen.insert(p.name.text).second) {
          diags_.report(diag::Code::kDuplicateDefinition, p.name.range,
                        "duplicate parameter " + quote(p.name.text));
          ok = false;
        }
        ev.params.push_back({p.name.text, kind.value_or(Kind::kNode), p.name.range});
      }
      if (!ok) return;
      policy_.events.push_back(std::move(ev));
    });
  }

  // --- constants ---------------------------------------------------------------------------

  void constants() {
    constant_values_.assign(lets_.size(), std::nullopt);
    constant_state_.assign(lets_.size(), 0);
    for (std::size_t i = 0; i < lets_.size(); ++i) fold_constant(static_cast<int>(i));
  }

  /// Folds `let` number `index`, following references to other constants (cycles are errors).
  const std::optional<TypedExpr>& fold_constant(int index) {
    if (constant_state_[index] == 2) return constant_values_[index];
    const ast::LetDecl& let = *lets_[index];
    if (constant_state_[index] == 1) {
      diags_.report(diag::Code::kNotConstant, let.name.range,
                    "constant " + quote(let.name.text) + " is defined in terms of itself");
      constant_state_[index] = 2;
      return constant_values_[index];
    }
    if (!let.value) {  // incomplete: its syntax error was reported
      constant_state_[index] = 2;
      used_constants_.insert(let.name.text);
      return constant_values_[index];
    }
    constant_state_[index] = 1;
    Scope scope;
    scope.constants_only = true;
    scope.allow_windows = false;
    std::optional<TypedExpr> value = check_expr(*let.value, scope);
    if (value && !is_literal(*value)) {
      if (value->op == Op::kEnum) {
        // A bare enum member: a constant may hold one, resolved where it is compared.
      } else {
        diags_.report(diag::Code::kNotConstant, let.value->range,
                      "the value of a constant must be known before the policy runs (no "
                      "attributes or window functions)");
        value.reset();
      }
    }
    constant_state_[index] = 2;
    constant_values_[index] = value;
    if (value) policy_.constants.push_back({let.name.text, *value, let.range});
    return constant_values_[index];
  }

  // --- expressions -------------------------------------------------------------------------

  std::optional<TypedExpr> number_literal(double value, const std::string& unit,
                                          ast::SourceRange range) {
    TypedExpr e;
    e.op = Op::kNumber;
    e.range = range;
    if (unit.empty()) {
      e.type = Type::number(Dimension::kCount);
      e.number = value;
      return e;
    }
    const catalog::Unit* u = catalog::find_unit(unit);
    if (!u) {
      std::vector<std::string_view> units;
      for (const auto& x : catalog::units()) units.push_back(x.suffix);
      auto& d = diags_.report(diag::Code::kUnknownUnit, range,
                              with_suggestion("unknown unit " + quote(unit), unit, units));
      const std::string best = diag::closest_match(unit, units);
      if (!best.empty()) {
        const auto begin = range.end - static_cast<std::uint32_t>(unit.size());
        d.fixits.push_back({{range.file, begin, range.end}, best});
      }
      return std::nullopt;
    }
    e.type = Type::number(u->dimension);
    e.number = value * u->scale;
    return e;
  }

  std::vector<std::string_view> name_candidates(const Scope& scope) const {
    std::vector<std::string_view> out;
    for (const auto& [name, def] : names_) {
      if (!scope.constants_only || def.what == Definition::What::kConstant) out.push_back(name);
    }
    if (scope.params) {
      for (const auto& p : *scope.params) out.push_back(p.name);
    }
    return out;
  }

  /// Resolves a name that stands for an object: a parameter in scope or a declared object.
  std::optional<ObjectRef> object_ref(std::string_view name, const Scope& scope) const {
    if (scope.params) {
      for (std::size_t i = 0; i < scope.params->size(); ++i) {
        if ((*scope.params)[i].name == name) {
          return ObjectRef{ObjectRef::Base::kParameter, static_cast<int>(i),
                           (*scope.params)[i].kind};
        }
      }
    }
    auto it = names_.find(std::string(name));
    if (it != names_.end() && it->second.what == Definition::What::kObject) {
      return ObjectRef{ObjectRef::Base::kObject, it->second.index,
                       policy_.objects[it->second.index].kind};
    }
    return std::nullopt;
  }

  /// An object name that does not resolve: report with suggestions.
  void unknown_object(const ast::Name& name, const Scope& scope, std::string_view what) {
    std::vector<std::string_view> candidates;
    if (scope.params) {
      for (const auto& p : *scope.params) candidates.push_back(p.name);
    }
    for (const auto& o : policy_.objects) candidates.push_back(o.name);
    auto& d = diags_.report(diag::Code::kUnknownName, name.range,
                            with_suggestion("unknown " + std::string(what) + " " + quote(name.text),
                                            name.text, candidates));
    const std::string best = diag::closest_match(name.text, candidates);
    if (!best.empty()) d.fixits.push_back({name.range, best});
  }

  std::optional<TypedExpr> path_expr(const ast::Expr& e, const Scope& scope) {
    const ast::Name& head = e.path.front();
    if (e.path.size() == 1) {
      if (auto it = names_.find(head.text);
          it != names_.end() && it->second.what == Definition::What::kConstant) {
        used_constants_.insert(head.text);
        const auto& value = fold_constant(it->second.index);
        if (!value) return std::nullopt;
        TypedExpr copy = *value;
        copy.range = e.range;
        return copy;
      }
      if (!scope.constants_only && object_ref(head.text, scope)) {
        diags_.report(diag::Code::kObjectNotValue, e.range,
                      quote(head.text) +
                          " is an object, not a value; read one of its "
                          "attributes, as in " +
                          quote(head.text + ".alive"));
        return std::nullopt;
      }
      for (catalog::EnumType t : catalog::all_enum_types()) {
        if (catalog::enum_ordinal(t, head.text)) {
          TypedExpr m;
          m.op = Op::kEnum;
          m.type = Type::enumeration(t);
          m.enum_ordinal = -1;  // resolved against the other side of a comparison
          m.string = head.text;
          m.range = e.range;
          return m;
        }
      }
      std::vector<std::string_view> candidates = name_candidates(scope);
      for (catalog::EnumType t : catalog::all_enum_types()) {
        for (auto m : catalog::enum_members(t)) candidates.push_back(m);
      }
      auto& d =
          diags_.report(diag::Code::kUnknownName, e.range,
                        with_suggestion("unknown name " + quote(head.text), head.text, candidates));
      const std::string best = diag::closest_match(head.text, candidates);
      if (!best.empty()) d.fixits.push_back({e.range, best});
      return std::nullopt;
    }
    if (scope.constants_only) {
      diags_.report(diag::Code::kNotConstant, e.range,
                    "the value of a constant must be known before the policy runs (no "
                    "attributes or window functions)");
      return std::nullopt;
    }
    auto obj = object_ref(head.text, scope);
    if (!obj) {
      unknown_object(head, scope, "object");
      return std::nullopt;
    }
    std::string attr;
    for (std::size_t i = 1; i < e.path.size(); ++i) {
      if (i > 1) attr += '.';
      attr += e.path[i].text;
    }
    const ast::SourceRange attr_range{e.range.file, e.path[1].range.begin, e.range.end};
    TypedExpr out;
    out.op = Op::kAttr;
    out.range = e.range;
    out.attr.object = *obj;
    out.attr.attribute = attr;
    if (const catalog::Attribute* a = catalog::find_attribute(obj->kind, attr)) {
      out.type = a->type;
    } else if (catalog::has_perfdata_attributes(obj->kind) &&
               attr.rfind(catalog::kPerfdataPrefix, 0) == 0 &&
               attr.size() > catalog::kPerfdataPrefix.size()) {
      // Perfdata values arrive with their own UOM; the policy compares them as plain numbers.
      out.type = Type::number(Dimension::kCount);
    } else {
      std::vector<std::string_view> names;
      for (const auto& a : catalog::attributes(obj->kind)) names.push_back(a.name);
      auto& d =
          diags_.report(diag::Code::kUnknownAttribute, attr_range,
                        with_suggestion(std::string(catalog::kind_name(obj->kind)) + " " +
                                            quote(head.text) + " has no attribute " + quote(attr),
                                        attr, names));
      const std::string best = diag::closest_match(attr, names);
      if (!best.empty()) d.fixits.push_back({attr_range, best});
      return std::nullopt;
    }
    return out;
  }

  void type_error(diag::Code code, ast::SourceRange range, std::string message) {
    diags_.report(code, range, std::move(message));
  }

  static std::string type_str(const TypedExpr& e) { return catalog::type_name(e.type); }

  bool require_bool(const TypedExpr& e, std::string_view context) {
    if (e.type.kind == ValueKind::kBool) return true;
    type_error(diag::Code::kNotABoolean, e.range,
               std::string(context) + " must be true or false, but this is " + type_str(e));
    return false;
  }

  /// An unresolved enum member (`up`) on one side, an enum on the other: resolve it.
  bool resolve_enum(TypedExpr& member, const TypedExpr& other) {
    if (member.op != Op::kEnum || member.enum_ordinal >= 0) return true;
    if (other.type.kind != ValueKind::kEnum) {
      type_error(
          diag::Code::kBadEnumMember, member.range,
          quote(member.string) + " is an enum member but is compared with " + type_str(other));
      return false;
    }
    auto ord = catalog::enum_ordinal(other.type.enum_type, member.string);
    if (!ord) {
      std::vector<std::string_view> members(catalog::enum_members(other.type.enum_type).begin(),
                                            catalog::enum_members(other.type.enum_type).end());
      type_error(diag::Code::kBadEnumMember, member.range,
                 with_suggestion(quote(member.string) + " is not a " + type_str(other),
                                 member.string, members));
      return false;
    }
    member.type = other.type;
    member.enum_ordinal = *ord;
    return true;
  }

  bool is_zero_literal(const TypedExpr& e) const {
    return e.op == Op::kNumber && e.type.dimension == Dimension::kCount && e.number == 0;
  }

  std::optional<TypedExpr> binary(const ast::Expr& e, const Scope& scope) {
    auto l = check_expr(*e.args[0], scope);
    auto r = check_expr(*e.args[1], scope);
    if (!l || !r) return std::nullopt;
    TypedExpr out;
    out.range = e.range;
    const std::string spelling = ast::binary_op_spelling(e.binary_op);
    switch (e.binary_op) {
      case ast::BinaryOp::kOr:
      case ast::BinaryOp::kAnd: {
        if (!require_bool(*l, "the operand of '" + spelling + "'") ||
            !require_bool(*r, "the operand of '" + spelling + "'")) {
          return std::nullopt;
        }
        const bool is_and = e.binary_op == ast::BinaryOp::kAnd;
        if (l->op == Op::kBool && r->op == Op::kBool) {
          out.op = Op::kBool;
          out.boolean = is_and ? (l->boolean && r->boolean) : (l->boolean || r->boolean);
          out.type = Type::boolean();
          return out;
        }
        out.op = is_and ? Op::kAnd : Op::kOr;
        out.type = Type::boolean();
        break;
      }
      case ast::BinaryOp::kMatch:
      case ast::BinaryOp::kNotMatch: {
        if (l->type.kind != ValueKind::kString) {
          type_error(diag::Code::kWrongOperandType, e.args[0]->range,
                     "'" + spelling + "' matches a string, but this is " + type_str(*l));
          return std::nullopt;
        }
        if (r->op != Op::kString) {
          type_error(diag::Code::kWrongOperandType, e.args[1]->range,
                     "the right side of '" + spelling + "' must be a regular expression in quotes");
          return std::nullopt;
        }
        try {
          std::regex re(r->string, std::regex::ECMAScript);
        } catch (const std::regex_error& err) {
          type_error(diag::Code::kInvalidRegex, e.args[1]->range,
                     "invalid regular expression: " + std::string(err.what()));
          return std::nullopt;
        }
        out.op = e.binary_op == ast::BinaryOp::kMatch ? Op::kMatch : Op::kNotMatch;
        out.type = Type::boolean();
        out.string = r->string;
        out.operands.push_back(std::move(*l));
        return out;
      }
      case ast::BinaryOp::kEq:
      case ast::BinaryOp::kNe:
      case ast::BinaryOp::kLt:
      case ast::BinaryOp::kLe:
      case ast::BinaryOp::kGt:
      case ast::BinaryOp::kGe: {
        const bool unresolved_l = l->op == Op::kEnum && l->enum_ordinal < 0;
        const bool unresolved_r = r->op == Op::kEnum && r->enum_ordinal < 0;
        if (unresolved_l && unresolved_r) {
          type_error(diag::Code::kBadEnumMember, e.range,
                     "comparing two enum members: one side must be an attribute");
          return std::nullopt;
        }
        if (!resolve_enum(*l, *r) || !resolve_enum(*r, *l)) return std::nullopt;
        const bool ordering =
            e.binary_op != ast::BinaryOp::kEq && e.binary_op != ast::BinaryOp::kNe;
        if (l->type.kind == ValueKind::kNumber && r->type.kind == ValueKind::kNumber) {
          if (!(l->type == r->type) && !is_zero_literal(*l) && !is_zero_literal(*r)) {
            std::string msg = "cannot compare " + type_str(*l) + " with " + type_str(*r);
            if (r->op == Op::kNumber && r->type.dimension == Dimension::kCount) {
              msg += " (write the unit, as in '" +
                     std::to_string(static_cast<long long>(r->number)) +
                     std::string(catalog::base_unit_suffix(l->type.dimension)) + "')";
            }
            type_error(diag::Code::kIncompatibleUnits, e.range, msg);
            return std::nullopt;
          }
        } else if (!(l->type == r->type)) {
          type_error(diag::Code::kIncompatibleUnits, e.range,
                     "cannot compare " + type_str(*l) + " with " + type_str(*r));
          return std::nullopt;
        } else if (ordering && l->type.kind != ValueKind::kNumber) {
          type_error(diag::Code::kWrongOperandType, e.op_range,
                     "'" + spelling + "' orders numbers; " + type_str(*l) +
                         " values can only be compared with == and !=");
          return std::nullopt;
        }
        out.type = Type::boolean();
        out.op = std::array{Op::kEq, Op::kNe, Op::kLt, Op::kLe, Op::kGt, Op::kGe}
            [static_cast<int>(e.binary_op) - static_cast<int>(ast::BinaryOp::kEq)];
        if (is_literal(*l) && is_literal(*r)) return fold_compare(out, *l, *r);
        break;
      }
      case ast::BinaryOp::kAdd:
      case ast::BinaryOp::kSub:
      case ast::BinaryOp::kMul:
      case ast::BinaryOp::kDiv: {
        for (const TypedExpr* side : {&*l, &*r}) {
          if (side->type.kind != ValueKind::kNumber) {
            type_error(diag::Code::kWrongOperandType, side->range,
                       "'" + spelling + "' needs numbers, but this is " + type_str(*side));
            return std::nullopt;
          }
        }
        const Dimension dl = l->type.dimension, dr = r->type.dimension;
        Dimension result = dl;
        if (e.binary_op == ast::BinaryOp::kAdd || e.binary_op == ast::BinaryOp::kSub) {
          if (dl != dr && !is_zero_literal(*l) && !is_zero_literal(*r)) {
            type_error(diag::Code::kIncompatibleUnits, e.range,
                       "cannot " +
                           std::string(e.binary_op == ast::BinaryOp::kAdd ? "add " : "subtract ") +
                           type_str(*r) + (e.binary_op == ast::BinaryOp::kAdd ? " to " : " from ") +
                           type_str(*l));
            return std::nullopt;
          }
          if (is_zero_literal(*l)) result = dr;
        } else if (e.binary_op == ast::BinaryOp::kMul) {
          if (dl != Dimension::kCount && dr != Dimension::kCount) {
            type_error(diag::Code::kIncompatibleUnits, e.range,
                       "cannot multiply " + type_str(*l) + " by " + type_str(*r) +
                           " (one side must be a plain number)");
            return std::nullopt;
          }
          result = dl == Dimension::kCount ? dr : dl;
        } else {
          if (dr == Dimension::kCount) {
            result = dl;
          } else if (dl == dr) {
            result = Dimension::kCount;  // a ratio
          } else if (dl == Dimension::kBytes && dr == Dimension::kDuration) {
            result = Dimension::kBytesPerSecond;
          } else if (dl == Dimension::kCount && dr == Dimension::kDuration) {
            result = Dimension::kPerSecond;
          } else {
            type_error(diag::Code::kIncompatibleUnits, e.range,
                       "cannot divide " + type_str(*l) + " by " + type_str(*r));
            return std::nullopt;
          }
        }
        out.type = Type::number(result);
        out.op = std::array{
            Op::kAdd, Op::kSub, Op::kMul,
            Op::kDiv}[static_cast<int>(e.binary_op) - static_cast<int>(ast::BinaryOp::kAdd)];
        if (l->op == Op::kNumber && r->op == Op::kNumber) {
          double v = 0;
          switch (out.op) {
            case Op::kAdd:
              v = l->number + r->number;
              break;
            case Op::kSub:
              v = l->number - r->number;
              break;
            case Op::kMul:
              v = l->number * r->number;
              break;
            default:
              if (r->number == 0) {
                type_error(diag::Code::kDivisionByZero, e.range, "division by zero");
                return std::nullopt;
              }
              v = l->number / r->number;
          }
          out.op = Op::kNumber;
          out.number = v;
          return out;
        }
        break;
      }
    }
    out.operands.push_back(std::move(*l));
    out.operands.push_back(std::move(*r));
    return out;
  }

  static std::optional<TypedExpr> fold_compare(TypedExpr out, const TypedExpr& l,
                                               const TypedExpr& r) {
    int c = 0;  // -1, 0, 1
    if (l.op == Op::kNumber) {
      c = l.number < r.number ? -1 : (l.number > r.number ? 1 : 0);
    } else if (l.op == Op::kBool) {
      c = l.boolean == r.boolean ? 0 : 1;
    } else if (l.op == Op::kString) {
      c = l.string == r.string ? 0 : 1;
    } else {
      c = l.enum_ordinal == r.enum_ordinal ? 0 : 1;
    }
    bool v = false;
    switch (out.op) {
      case Op::kEq:
        v = c == 0;
        break;
      case Op::kNe:
        v = c != 0;
        break;
      case Op::kLt:
        v = c < 0;
        break;
      case Op::kLe:
        v = c <= 0;
        break;
      case Op::kGt:
        v = c > 0;
        break;
      default:
        v = c >= 0;
    }
    TypedExpr b;
    b.op = Op::kBool;
    b.type = Type::boolean();
    b.boolean = v;
    b.range = out.range;
    return b;
  }

  /// A duration known at check time, in seconds (literal or constant), or nullopt (reported).
  std::optional<double> duration_value(const ast::Expr& e, std::string_view what) {
    Scope scope;
    scope.constants_only = true;
    scope.allow_windows = false;
    auto v = check_expr(e, scope);
    if (!v) return std::nullopt;
    if (v->op != Op::kNumber || v->type.dimension != Dimension::kDuration) {
      std::string msg = std::string(what) + " must be a duration such as 30s or 5min";
      if (v->op == Op::kNumber && v->type.dimension == Dimension::kCount) {
        msg += "; add a unit";
      } else {
        msg += ", but this is " + type_str(*v);
      }
      type_error(diag::Code::kExpectedDuration, e.range, msg);
      return std::nullopt;
    }
    if (v->number <= 0) {
      type_error(diag::Code::kExpectedDuration, e.range,
                 std::string(what) + " must be longer than zero");
      return std::nullopt;
    }
    return v->number;
  }

  /// A positive whole count known at check time.
  std::optional<int> count_value(const ast::Expr& e, std::string_view what) {
    Scope scope;
    scope.constants_only = true;
    scope.allow_windows = false;
    auto v = check_expr(e, scope);
    if (!v) return std::nullopt;
    if (v->op != Op::kNumber || v->type.dimension != Dimension::kCount || v->number < 1 ||
        v->number != std::floor(v->number) || v->number > 1e6) {
      type_error(diag::Code::kExpectedCount, e.range,
                 std::string(what) + " must be a whole number from 1 to 1000000, but this is " +
                     (v->op == Op::kNumber && v->type.dimension == Dimension::kCount
                          ? format_number(v->number)
                          : type_str(*v)));
      return std::nullopt;
    }
    return static_cast<int>(v->number);
  }

  std::optional<TypedExpr> call(const ast::Expr& e, const Scope& scope) {
    struct Fn {
      std::string_view name;
      Op op;
      int min_args, max_args;
    };
    static constexpr Fn kFns[] = {
        {"avg", Op::kAvg, 2, 2},         {"min", Op::kMin, 2, 2},
        {"max", Op::kMax, 2, 2},         {"rate", Op::kRate, 1, 1},
        {"delta", Op::kDelta, 1, 2},     {"changed", Op::kChanged, 1, 1},
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
      auto& d = diags_.report(diag::Code::kUnknownFunction, name_range,
                              with_suggestion("unknown function " + quote(e.text), e.text, names));
      const std::string best = diag::closest_match(e.text, names);
      if (!best.empty()) d.fixits.push_back({name_range, best});
      return std::nullopt;
    }
    if (!scope.allow_windows) {
      diags_.report(diag::Code::kNotConstant, e.range,
                    "the value of a constant must be known before the policy runs (no "
                    "attributes or window functions)");
      return std::nullopt;
    }
    const int n = static_cast<int>(e.args.size());
    if (n < fn->min_args || n > fn->max_args) {
      const std::string usage =
          fn->min_args == fn->max_args
              ? std::to_string(fn->min_args)
              : std::to_string(fn->min_args) + " or " + std::to_string(fn->max_args);
      type_error(diag::Code::kWrongArguments, e.range,
                 quote(e.text) + " takes " + usage + " argument" + (fn->max_args > 1 ? "s" : "") +
                     ", not " + std::to_string(n));
      return std::nullopt;
    }
    auto x = check_expr(*e.args[0], scope);
    if (!x) return std::nullopt;
    if (x->op != Op::kAttr) {
      type_error(diag::Code::kWrongArguments, e.args[0]->range,
                 quote(e.text) + " works on the history of an attribute, as in " +
                     quote(e.text + "(s.cpu" + (fn->min_args > 1 ? ", 5min)" : ")")));
      return std::nullopt;
    }
    TypedExpr out;
    out.op = fn->op;
    out.range = e.range;
    if (fn->op == Op::kChanged) {
      out.type = Type::boolean();
    } else {
      if (x->type.kind != ValueKind::kNumber) {
        type_error(diag::Code::kWrongArguments, e.args[0]->range,
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
          type_error(diag::Code::kWrongArguments, e.args[0]->range,
                     "'rate' needs a count or bytes, but this is " + type_str(*x) +
                         " (use delta for the change)");
          return std::nullopt;
        }
      }
    }
    if (n == 2) {
      auto d = duration_value(*e.args[1],
                              fn->op == Op::kPredict ? "the forecast horizon" : "the window");
      if (!d) return std::nullopt;
      out.duration = *d;
    }
    out.operands.push_back(std::move(*x));
    return out;
  }

  int depth_ = 0;

  std::optional<TypedExpr> check_expr(const ast::Expr& e, const Scope& scope) {
    // The parser caps tree depth; this guards hand-built trees too.
    if (depth_ > ast::kMaxExprDepth + 8) {
      diags_.report(diag::Code::kExpressionTooLarge, e.range, "expression too large");
      return std::nullopt;
    }
    ++depth_;
    auto out = check_expr_inner(e, scope);
    --depth_;
    return out;
  }

  std::optional<TypedExpr> check_expr_inner(const ast::Expr& e, const Scope& scope) {
    switch (e.kind) {
      case ast::ExprKind::kNumber:
        return number_literal(e.number, e.unit, e.range);
      case ast::ExprKind::kString: {
        TypedExpr s;
        s.op = Op::kString;
        s.type = Type::string();
        s.string = e.text;
        s.range = e.range;
        return s;
      }
      case ast::ExprKind::kBool: {
        TypedExpr b;
        b.op = Op::kBool;
        b.type = Type::boolean();
        b.boolean = e.boolean;
        b.range = e.range;
        return b;
      }
      case ast::ExprKind::kPath:
        return path_expr(e, scope);
      case ast::ExprKind::kUnary: {
        auto x = check_expr(*e.args[0], scope);
        if (!x) return std::nullopt;
        TypedExpr out;
        out.range = e.range;
        if (e.unary_op == ast::UnaryOp::kNot) {
          if (!require_bool(*x, "the operand of 'not'")) return std::nullopt;
          if (x->op == Op::kBool) {
            x->boolean = !x->boolean;
            x->range = e.range;
            return x;
          }
          out.op = Op::kNot;
          out.type = Type::boolean();
        } else {
          if (x->type.kind != ValueKind::kNumber) {
            type_error(diag::Code::kWrongOperandType, e.args[0]->range,
                       "'-' needs a number, but this is " + type_str(*x));
            return std::nullopt;
          }
          if (x->op == Op::kNumber) {
            x->number = -x->number;
            x->range = e.range;
            return x;
          }
          out.op = Op::kNeg;
          out.type = x->type;
        }
        out.operands.push_back(std::move(*x));
        return out;
      }
      case ast::ExprKind::kBinary:
        return binary(e, scope);
      case ast::ExprKind::kCall:
        return call(e, scope);
      case ast::ExprKind::kWithin: {
        if (!scope.allow_windows) {
          diags_.report(diag::Code::kNotConstant, e.range,
                        "the value of a constant must be known before the policy runs (no "
                        "attributes or window functions)");
          return std::nullopt;
        }
        auto x = check_expr(*e.args[0], scope);
        if (!x) return std::nullopt;
        if (x->op != Op::kAttr || x->type.kind != ValueKind::kNumber) {
          type_error(diag::Code::kWrongArguments, e.args[0]->range,
                     "'within' counts the increase of a numeric attribute, as in "
                     "'s.restarts within 5min'");
          return std::nullopt;
        }
        auto d = duration_value(*e.args[1], "the window after 'within'");
        if (!d) return std::nullopt;
        TypedExpr out;
        out.op = Op::kDelta;
        out.type = x->type;
        out.duration = *d;
        out.range = e.range;
        out.operands.push_back(std::move(*x));
        return out;
      }
      case ast::ExprKind::kError:
        return std::nullopt;
    }
    return std::nullopt;
  }

  /// Checks a condition; bare enum members left unresolved are errors here.
  std::optional<TypedExpr> condition(const ast::Expr* e, const Scope& scope) {
    if (!e) return std::nullopt;
    auto c = check_expr(*e, scope);
    if (!c) return std::nullopt;
    if (!require_bool(*c, "a condition")) return std::nullopt;
    return c;
  }

  // --- objects -----------------------------------------------------------------------------

  struct SettingReader;
  void objects();
  void object_settings(std::size_t id);
  void depends_cycles();
  void cluster_settings();

  // --- rules -------------------------------------------------------------------------------

  std::vector<Parameter> rule_params(const std::vector<ast::Param>& params, bool& ok) {
    std::vector<Parameter> out;
    std::set<std::string> seen;
    for (const auto& p : params) {
      auto kind = resolve_kind(p.kind);
      if (!kind) ok = false;
      if (!seen.insert(p.name.text).second) {
        diags_.report(diag::Code::kDuplicateDefinition, p.name.range,
                      "duplicate parameter " + quote(p.name.text));
        ok = false;
      }
      out.push_back({p.name.text, kind.value_or(Kind::kNode), p.name.range});
    }
    return out;
  }

  /// Resolves a raise clause against the events, inferring the event on its first raise.
  std::optional<std::pair<int, std::vector<ObjectRef>>> raise(const ast::RaiseClause& r,
                                                              const Scope& scope) {
    std::vector<ObjectRef> args;
    bool ok = true;
    for (const auto& a : r.args) {
      auto ref = object_ref(a.text, scope);
      if (!ref) {
        unknown_object(a, scope, "object");
        ok = false;
        continue;
      }
      args.push_back(*ref);
    }
    if (!ok) return std::nullopt;
    int id = policy_.find_event(r.event.text);
    if (id < 0) {
      Event ev;
      ev.name = r.event.text;
      ev.range = r.range;
      for (std::size_t i = 0; i < args.size(); ++i) {
        ev.params.push_back({r.args[i].text, args[i].kind, r.args[i].range});
      }
      policy_.events.push_back(std::move(ev));
      id = static_cast<int>(policy_.events.size() - 1);
    } else {
      const Event& ev = policy_.events[id];
      const char* where =
          ev.declared ? "the event is declared here" : "the event is first raised here";
      if (ev.params.size() != args.size()) {
        auto& d =
            diags_.report(diag::Code::kEventArgumentCount, r.range,
                          "event " + quote(ev.name) + " takes " + std::to_string(ev.params.size()) +
                              " argument" + (ev.params.size() == 1 ? "" : "s") + ", but " +
                              std::to_string(args.size()) + " are given");
        d.notes.push_back({ev.range, where});
        return std::nullopt;
      }
      for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i].kind != ev.params[i].kind) {
          auto& d = diags_.report(
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
    raised_.insert(id);
    return std::make_pair(id, std::move(args));
  }

  void discover_rules() {
    std::map<std::string, ast::SourceRange> rule_names;
    each_statement(ast::Statement::Kind::kDiscover, [&](const ast::Statement& st) {
      const ast::DiscoverRule& r = *st.discover;
      auto [it, inserted] = rule_names.emplace(r.name.text, r.name.range);
      if (!inserted) {
        auto& d = diags_.report(diag::Code::kDuplicateDefinition, r.name.range,
                                "redefinition of rule " + quote(r.name.text));
        d.notes.push_back({it->second, "previous definition is here"});
        return;
      }
      bool ok = true;
      DiscoverRule out;
      out.name = r.name.text;
      out.range = r.range;
      out.params = rule_params(r.params, ok);
      if (!ok) return;
      for (const auto& p : out.params) {
        bool any = false;
        for (const auto& o : policy_.objects) any = any || o.kind == p.kind;
        if (!any) {
          diags_.report(diag::Code::kNoObjectsOfKind, p.range,
                        "rule " + quote(out.name) + " applies to every " +
                            std::string(catalog::kind_name(p.kind)) +
                            ", but none is declared; it never fires");
        }
      }
      Scope scope;
      scope.params = &out.params;
      auto c = condition(r.condition.get(), scope);
      if (!c) ok = false;
      const ast::Temporal& t = r.temporal;
      out.temporal.kind = static_cast<Temporal::Kind>(t.kind);
      if (t.kind == ast::Temporal::Kind::kForDuration) {
        // `for 3` is almost certainly `for 3 checks` with the word missing.
        auto d = duration_value(*t.value, "the time after 'for'");
        if (!d) ok = false;
        out.temporal.duration = d.value_or(0);
      } else if (t.kind == ast::Temporal::Kind::kForChecks) {
        auto n = count_value(*t.value, "the number of checks");
        if (!n) ok = false;
        out.temporal.count = n.value_or(0);
      } else if (t.kind == ast::Temporal::Kind::kTimesWithin) {
        auto n = count_value(*t.value, "the number of times");
        auto d = duration_value(*t.window, "the window after 'within'");
        if (!n || !d) ok = false;
        out.temporal.count = n.value_or(0);
        out.temporal.duration = d.value_or(0);
      }
      auto raised = raise(r.raise, scope);
      if (!raised) ok = false;
      if (!ok) return;
      out.condition = std::move(*c);
      out.event = raised->first;
      out.args = std::move(raised->second);
      policy_.discover.push_back(std::move(out));
    });
  }

  // --- recovery ----------------------------------------------------------------------------

  bool target(const ast::Name& name, const Scope& scope, ObjectRef& out) {
    auto ref = object_ref(name.text, scope);
    if (!ref) {
      unknown_object(name, scope, "object");
      return false;
    }
    out = *ref;
    return true;
  }

  bool require_kind(const ast::Action& a, const ObjectRef& ref, std::initializer_list<Kind> kinds,
                    std::string_view verb) {
    for (Kind k : kinds) {
      if (ref.kind == k) return true;
    }
    std::string allowed;
    for (Kind k : kinds) {
      if (!allowed.empty()) allowed += " or ";
      allowed += catalog::kind_name(k);
    }
    diags_.report(diag::Code::kActionNotForKind, a.target.range,
                  "cannot " + std::string(verb) + " " + quote(a.target.text) + ": it is " +
                      a_kind(ref.kind) + ", and only a " + allowed + " can be " +
                      std::string(verb == "stop" ? "stopp" : verb) + "ed");
    return false;
  }

  std::optional<ActionList> actions(const ast::ActionList& in, const Scope& scope) {
    ActionList out;
    bool ok = true;
    for (const auto& a : in) {
      auto checked = action(a, scope);
      if (!checked) {
        ok = false;
        continue;
      }
      out.push_back(std::move(*checked));
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<Action> action(const ast::Action& a, const Scope& scope) {
    using K = catalog::ActionKind;
    Action out;
    out.range = a.range;
    if (a.kind == ast::Action::Kind::kWhen) {
      out.kind = Action::Kind::kWhen;
      auto c = condition(a.condition.get(), scope);
      std::optional<ActionList> then_body, else_body;
      if (a.then_body) then_body = actions(*a.then_body, scope);
      if (a.else_body) else_body = actions(*a.else_body, scope);
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
        if (!target(a.target, scope, out.target)) return std::nullopt;
        const std::string_view verb = catalog::action_kind_name(a.action);
        if (!require_kind(a, out.target, {Kind::kService}, verb)) return std::nullopt;
        bool ok = true;
        if (a.backoff_min) {
          auto lo = duration_value(*a.backoff_min, "the shortest backoff");
          auto hi = duration_value(*a.backoff_max, "the longest backoff");
          if (lo && hi && *lo > *hi) {
            diags_.report(
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
          auto n = count_value(*a.limit_count, "the restart limit");
          auto w = duration_value(*a.limit_window, "the window of the restart limit");
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
        if (!target(a.target, scope, out.target)) return std::nullopt;
        return out;
      case K::kSignal: {
        if (!target(a.target, scope, out.target)) return std::nullopt;
        if (!require_kind(a, out.target, {Kind::kService, Kind::kProcess}, "signal")) {
          return std::nullopt;
        }
        auto sig = signal_number(a.signal.text);
        if (!sig) {
          std::vector<std::string_view> names;
          for (const auto& s : kSignals) names.push_back(s.name);
          diags_.report(
              diag::Code::kUnknownSignal, a.signal.range,
              with_suggestion("unknown signal " + quote(a.signal.text), a.signal.text, names));
          return std::nullopt;
        }
        out.signal = *sig;
        return out;
      }
      case K::kRun: {
        bool ok = true;
        for (const auto& arg : a.argv) {
          RunArg r;
          if (!arg.is_ref) {
            r.kind = RunArg::Kind::kLiteral;
            r.text = arg.text;
          } else {
            ObjectRef ref;
            if (!target(arg.path[0], scope, ref)) {
              ok = false;
              continue;
            }
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
              diags_.report(
                  diag::Code::kUnknownAttribute, arg.range,
                  with_suggestion(std::string(catalog::kind_name(ref.kind)) + " " +
                                      quote(arg.path[0].text) + " has no attribute " + quote(field),
                                  field, names));
              ok = false;
              continue;
            }
          }
          out.argv.push_back(std::move(r));
        }
        if (!ok) return std::nullopt;
        if (out.argv.front().kind != RunArg::Kind::kLiteral || out.argv.front().text.empty() ||
            out.argv.front().text[0] != '/') {
          diags_.report(diag::Code::kInvalidSettingValue, a.argv.front().range,
                        "the program to run must be an absolute path (run never uses a shell "
                        "or $PATH)");
          return std::nullopt;
        }
        return out;
      }
      case K::kNotify:
        out.channel = a.channel;
        out.message = a.message;
        if (out.channel.empty()) {
          diags_.report(diag::Code::kInvalidSettingValue, a.range,
                        "the notification channel must not be empty");
          return std::nullopt;
        }
        return out;
      case K::kWait: {
        auto d = duration_value(*a.duration, "the time to wait");
        if (!d) return std::nullopt;
        out.duration = *d;
        return out;
      }
      case K::kRaise: {
        auto r = raise(a.raise, scope);
        if (!r) return std::nullopt;
        out.event = r->first;
        out.event_args = std::move(r->second);
        return out;
      }
      case K::kFailover: {
        if (!target(a.target, scope, out.target)) return std::nullopt;
        if (!require_kind(a, out.target, {Kind::kService}, "fail over")) return std::nullopt;
        if (!a.peer.text.empty()) {
          ObjectRef peer;
          if (!target(a.peer, scope, peer)) return std::nullopt;
          if (peer.kind != Kind::kPeer) {
            diags_.report(diag::Code::kActionNotForKind, a.peer.range,
                          "failover hands over to a peer, but " + quote(a.peer.text) + " is a " +
                              std::string(catalog::kind_name(peer.kind)));
            return std::nullopt;
          }
          out.peer = peer;
        }
        if (!cluster_decl_) {
          diags_.report(diag::Code::kNoCluster, a.range,
                        "failover hands a service to another node of the cluster, but the policy "
                        "declares no cluster (add 'cluster NAME { group \"...\" }')");
          return std::nullopt;
        }
        // A parameter is bound per raise; at least one service must be able to move.
        bool movable = false;
        if (out.target.base == ObjectRef::Base::kObject) {
          movable = policy_.objects[static_cast<std::size_t>(out.target.index)].clustered;
        } else {
          for (const auto& o : policy_.objects) movable = movable || o.clustered;
        }
        if (!movable) {
          diags_.report(diag::Code::kNotClustered, a.target.range,
                        out.target.base == ObjectRef::Base::kObject
                            ? "service " + quote(a.target.text) +
                                  " is not clustered, so it cannot fail over (add 'clustered' "
                                  "to its settings)"
                            : "failover of " + quote(a.target.text) +
                                  ", but no service is clustered (add 'clustered' to the "
                                  "settings of the services that may move)");
          return std::nullopt;
        }
        return out;
      }
    }
    return std::nullopt;
  }

  void recover_rules() {
    std::vector<const ast::RecoverRule*> pending;
    each_statement(ast::Statement::Kind::kRecover,
                   [&](const ast::Statement& st) { pending.push_back(st.recover.get()); });
    // A recover rule may handle an event that only a later recover rule raises: retry those.
    std::vector<const ast::RecoverRule*> unknown;
    for (int round = 0; round < 2; ++round) {
      unknown.clear();
      for (const ast::RecoverRule* r : pending) {
        if (policy_.find_event(r->event.text) < 0) {
          unknown.push_back(r);
          continue;
        }
        recover_rule(*r);
      }
      if (unknown.size() == pending.size()) break;
      pending = unknown;
    }
    for (const ast::RecoverRule* r : unknown) {
      orphan_recovers_.push_back(r->event.text);
      std::vector<std::string_view> names;
      for (const auto& e : policy_.events) names.push_back(e.name);
      auto& d = diags_.report(diag::Code::kNeverRaised, r->event.range,
                              with_suggestion("recover rule for event " + quote(r->event.text) +
                                                  ", which no rule raises",
                                              r->event.text, names));
      const std::string best = diag::closest_match(r->event.text, names);
      if (!best.empty()) d.fixits.push_back({r->event.range, best});
    }
  }

  void recover_rule(const ast::RecoverRule& r) {
    const int id = policy_.find_event(r.event.text);
    const Event& ev = policy_.events[id];
    if (auto it = recovered_.find(id); it != recovered_.end()) {
      auto& d = diags_.report(diag::Code::kDuplicateDefinition, r.event.range,
                              "a second recover rule for event " + quote(r.event.text));
      d.notes.push_back({it->second, "the first one is here"});
      return;
    }
    recovered_.emplace(id, r.event.range);
    RecoverRule out;
    out.event = id;
    out.event_name = ev.name;
    out.range = r.range;
    if (r.params.size() != ev.params.size()) {
      auto& d =
          diags_.report(diag::Code::kRecoverParameters, r.event.range,
                        "event " + quote(ev.name) + " has " + std::to_string(ev.params.size()) +
                            " parameter" + (ev.params.size() == 1 ? "" : "s") +
                            ", but the recover rule names " + std::to_string(r.params.size()));
      d.notes.push_back({ev.range, ev.declared ? "the event is declared here"
                                               : "the event is first raised here"});
      return;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < r.params.size(); ++i) {
      if (!seen.insert(r.params[i].text).second) {
        diags_.report(diag::Code::kDuplicateDefinition, r.params[i].range,
                      "duplicate parameter " + quote(r.params[i].text));
        return;
      }
      out.params.push_back({r.params[i].text, ev.params[i].kind, r.params[i].range});
    }
    Scope scope;
    scope.params = &out.params;
    auto body = actions(r.body, scope);
    if (!body) return;
    out.body = std::move(*body);
    policy_.recover.push_back(std::move(out));
  }

  // --- lint --------------------------------------------------------------------------------

  void lint() {
    // After syntax errors, rules and uses are missing from the tree: "never raised",
    // "never recovered" and "never used" would mostly be echoes of those errors.
    if (errors_before_check_ > 0) return;
    for (std::size_t i = 0; i < policy_.events.size(); ++i) {
      const Event& ev = policy_.events[i];
      const bool raised = raised_.count(static_cast<int>(i)) > 0;
      if (raised && !ev.notify_only && !recovered_.count(static_cast<int>(i))) {
        // A recover rule for a misspelt name is the usual cause: suggest it.
        std::vector<std::string_view> handled(orphan_recovers_.begin(), orphan_recovers_.end());
        std::string msg = "event " + quote(ev.name) + " is raised but never recovered";
        const std::string best = diag::closest_match(ev.name, handled);
        if (!best.empty()) {
          msg += "; did you mean to raise " + quote(best) + ", which has a recover rule?";
        } else {
          msg += " (add 'recover " + ev.name + "(...) { ... }', or declare it 'notify_only')";
        }
        diags_.report(diag::Code::kNeverRecovered, ev.range, msg);
      }
    }
    for (const ast::LetDecl* let : lets_) {
      if (!used_constants_.count(let->name.text)) {
        diags_.report(diag::Code::kUnusedConstant, let->name.range,
                      "constant " + quote(let->name.text) + " is never used");
      }
    }
  }

  const ast::Program& program_;
  const source::SourceManager& sources_;
  diag::DiagnosticEngine& diags_;
  CheckedPolicy policy_;

  std::unordered_map<std::string, Definition> names_;  // objects and constants
  std::map<std::string, ast::SourceRange> event_defs_;
  std::vector<const ast::ObjectDecl*> object_decls_;  // parallel to policy_.objects
  const ast::ObjectDecl* cluster_decl_ = nullptr;     // the `cluster` declaration, if any
  std::vector<const ast::LetDecl*> lets_;
  std::vector<std::optional<TypedExpr>> constant_values_;
  std::vector<int> constant_state_;  // 0 new, 1 in progress, 2 done
  std::set<std::string> used_constants_;
  std::set<int> raised_;
  std::map<int, ast::SourceRange> recovered_;
  std::vector<std::string> orphan_recovers_;  // recover rules for events nobody raises
  std::size_t errors_before_check_ = 0;       // syntax and I/O errors: lint stays quiet

  friend struct SettingReader;
};

// --- objects (settings into ObjectSpec) ----------------------------------------------------

namespace settings {

/// A setting and the kinds that accept it.
struct Info {
  std::string_view name;
  std::initializer_list<Kind> kinds;
  std::string_view usage;
};

// clang-format off
const Info kSettings[] = {
    {"every",   {Kind::kNode, Kind::kService, Kind::kProcess, Kind::kInterface, Kind::kFilesystem, Kind::kHost, Kind::kCheck, Kind::kPeer}, "every DURATION"},
    {"start",   {Kind::kService}, "start \"/abs/program\" \"arg\"..."},
    {"stop",    {Kind::kService}, "stop SIGNAL [then KILL] [after DURATION]"},
    {"health",  {Kind::kService}, "health tcp|unix|http \"TARGET\" [every DURATION] [timeout DURATION] [expect STATUS]"},
    {"depends", {Kind::kService}, "depends SERVICE..."},
    {"user",    {Kind::kService}, "user \"NAME\""},
    {"group",   {Kind::kService}, "group \"NAME\""},
    {"dir",     {Kind::kService}, "dir \"/abs/dir\""},
    {"env",     {Kind::kService}, "env NAME \"VALUE\""},
    {"log",     {Kind::kService}, "log \"/abs/file\""},
    {"grace",   {Kind::kService}, "grace DURATION"},
    {"pidfile", {Kind::kService, Kind::kProcess}, "pidfile \"/abs/file\""},
    {"match",   {Kind::kService, Kind::kProcess}, "match \"REGEX\""},
    {"name",    {Kind::kInterface, Kind::kPeer}, "name \"NAME\""},
    {"path",    {Kind::kFilesystem}, "path \"/mount/point\""},
    {"address", {Kind::kHost}, "address \"HOST\""},
    {"port",    {Kind::kHost}, "port NUMBER"},
    {"method",  {Kind::kHost}, "method tcp|icmp"},
    {"timeout", {Kind::kHost, Kind::kCheck}, "timeout DURATION"},
    {"command", {Kind::kCheck}, "command \"/abs/plugin\" \"arg\"..."},
    {"node_id", {Kind::kPeer}, "node_id NUMBER"},
    {"clustered",      {Kind::kService}, "clustered"},
    {"prefer",         {Kind::kService}, "prefer PEER..."},
    {"only_preferred", {Kind::kService}, "only_preferred"},
};

/// The settings of a `cluster` declaration (it is not an object kind).
const Info kClusterSettings[] = {
    {"group",          {}, "group \"CPG-GROUP\""},
    {"on_quorum_loss", {}, "on_quorum_loss stop|freeze"},
    {"fence",          {}, "fence \"/abs/agent\" \"arg\"..."},
};
// clang-format on

const Info* find(std::string_view name) {
  for (const auto& s : kSettings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool accepts(const Info& info, Kind kind) {
  return std::find(info.kinds.begin(), info.kinds.end(), kind) != info.kinds.end();
}

}  // namespace settings

/// Reads the arguments of one setting, reporting every misfit as E0206.
struct Checker::SettingReader {
  Checker& c;
  const ast::Setting& s;
  const settings::Info& info;
  bool ok = true;

  void bad(const ast::SourceRange& r, const std::string& what) {
    c.diags_.report(diag::Code::kInvalidSettingValue, r,
                    what + " (usage: " + std::string(info.usage) + ")");
    ok = false;
  }
  bool count(std::size_t min, std::size_t max) {
    if (s.args.size() >= min && s.args.size() <= max) return true;
    std::string want = min == max ? std::to_string(min) : "at least " + std::to_string(min);
    if (max != min && max < 1000) want = std::to_string(min) + " to " + std::to_string(max);
    bad(s.range, quote(s.name.text) + " takes " + want + " value" + (max == 1 ? "" : "s") +
                     ", not " + std::to_string(s.args.size()));
    return false;
  }
  std::optional<std::string> str(std::size_t i) {
    const auto& a = s.args[i];
    if (a.kind != ast::SettingArg::Kind::kString) {
      bad(a.range, "expected a string in quotes");
      return std::nullopt;
    }
    return a.text;
  }
  std::optional<std::string> abs_path(std::size_t i) {
    auto v = str(i);
    if (v && (v->empty() || (*v)[0] != '/')) {
      bad(s.args[i].range, "expected an absolute path");
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::string> word(std::size_t i) {
    const auto& a = s.args[i];
    if (a.kind != ast::SettingArg::Kind::kWord) {
      bad(a.range, "expected a word");
      return std::nullopt;
    }
    return a.text;
  }
  /// A number with its unit, or a constant's name, normalised.
  std::optional<TypedExpr> value(std::size_t i) {
    const auto& a = s.args[i];
    if (a.kind == ast::SettingArg::Kind::kNumber) {
      auto v = c.number_literal(a.number, a.text, a.range);
      if (!v) ok = false;
      return v;
    }
    if (a.kind == ast::SettingArg::Kind::kWord) {
      auto it = c.names_.find(a.text);
      if (it != c.names_.end() && it->second.what == Definition::What::kConstant) {
        c.used_constants_.insert(a.text);
        const auto& v = c.fold_constant(it->second.index);
        if (!v) ok = false;
        return v;
      }
    }
    bad(a.range, "expected a number or a constant");
    return std::nullopt;
  }
  std::optional<double> duration(std::size_t i) {
    auto v = value(i);
    if (!v) return std::nullopt;
    if (v->op != Op::kNumber || v->type.dimension != Dimension::kDuration || v->number <= 0) {
      c.diags_.report(diag::Code::kExpectedDuration, s.args[i].range,
                      "expected a duration longer than zero, such as 500ms or 5s, but this is " +
                          (v->op == Op::kNumber && v->type.dimension == Dimension::kDuration
                               ? std::string("zero or less")
                               : type_str(*v)));
      ok = false;
      return std::nullopt;
    }
    return v->number;
  }
  std::optional<long> integer(std::size_t i, long min, long max) {
    auto v = value(i);
    if (!v) return std::nullopt;
    if (v->op != Op::kNumber || v->type.dimension != Dimension::kCount || v->number < min ||
        v->number > max || v->number != std::floor(v->number)) {
      bad(s.args[i].range,
          "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      return std::nullopt;
    }
    return static_cast<long>(v->number);
  }
  std::optional<int> signal(std::size_t i) {
    auto w = word(i);
    if (!w) return std::nullopt;
    auto n = signal_number(*w);
    if (!n) {
      std::vector<std::string_view> names;
      for (const auto& x : kSignals) names.push_back(x.name);
      c.diags_.report(diag::Code::kUnknownSignal, s.args[i].range,
                      with_suggestion("unknown signal " + quote(*w), *w, names));
      ok = false;
    }
    return n;
  }
};

void Checker::objects() {
  for (std::size_t id = 0; id < policy_.objects.size(); ++id) object_settings(id);
  depends_cycles();
  cluster_settings();
}

void Checker::cluster_settings() {
  if (cluster_decl_) {
    const ast::ObjectDecl& decl = *cluster_decl_;
    catalog::ClusterSpec cluster;
    cluster.name = decl.name.text;
    cluster.group = "amata-" + decl.name.text;
    std::map<std::string, ast::SourceRange> seen;
    for (const ast::Setting& s : decl.incomplete ? std::vector<ast::Setting>{} : decl.settings) {
      const settings::Info* info = nullptr;
      std::vector<std::string_view> names;
      for (const auto& x : settings::kClusterSettings) {
        names.push_back(x.name);
        if (x.name == s.name.text) info = &x;
      }
      if (!info) {
        auto& d = diags_.report(
            diag::Code::kUnknownSetting, s.name.range,
            with_suggestion("unknown setting " + quote(s.name.text) + " for a cluster", s.name.text,
                            names));
        const std::string best = diag::closest_match(s.name.text, names);
        if (!best.empty()) d.fixits.push_back({s.name.range, best});
        continue;
      }
      auto [it, inserted] = seen.emplace(s.name.text, s.name.range);
      if (!inserted) {
        auto& d = diags_.report(diag::Code::kDuplicateDefinition, s.name.range,
                                "setting " + quote(s.name.text) + " given twice");
        d.notes.push_back({it->second, "first given here"});
        continue;
      }
      SettingReader r{*this, s, *info};
      if (s.name.text == "group") {
        if (r.count(1, 1)) {
          if (auto v = r.str(0)) {
            if (v->empty() || v->size() > 127) {
              r.bad(s.args[0].range, "a group name has 1 to 127 characters");
            } else {
              cluster.group = *v;
            }
          }
        }
      } else if (s.name.text == "on_quorum_loss") {
        if (r.count(1, 1)) {
          if (auto w = r.word(0)) {
            if (*w == "stop") {
              cluster.on_quorum_loss = catalog::ClusterSpec::QuorumLoss::kStop;
            } else if (*w == "freeze") {
              cluster.on_quorum_loss = catalog::ClusterSpec::QuorumLoss::kFreeze;
            } else {
              r.bad(s.args[0].range,
                    with_suggestion("unknown policy " + quote(*w), *w, {"stop", "freeze"}));
            }
          }
        }
      } else if (s.name.text == "fence") {
        if (r.count(1, 4096)) {
          std::vector<std::string> argv;
          if (auto p = r.abs_path(0)) argv.push_back(*p);
          for (std::size_t i = 1; i < s.args.size(); ++i) {
            if (auto a = r.str(i)) argv.push_back(*a);
          }
          if (r.ok) cluster.fence = std::move(argv);
        }
      }
    }
    policy_.cluster = std::move(cluster);
  }
  // `prefer` named peer objects; the cluster knows nodes by their names.
  for (auto& spec : policy_.objects) {
    for (auto& node : spec.prefer) {
      const int peer = policy_.find_object(node);
      if (peer >= 0) node = policy_.objects[static_cast<std::size_t>(peer)].peer_name;
    }
  }
  // A clustered service is placed by the cluster: without one it would never start.
  if (!cluster_decl_) {
    for (std::size_t id = 0; id < policy_.objects.size(); ++id) {
      if (!policy_.objects[id].clustered) continue;
      diags_.report(diag::Code::kNoCluster, object_decls_[id]->name.range,
                    "service " + quote(policy_.objects[id].name) +
                        " is clustered, but the policy declares no cluster (add 'cluster NAME { "
                        "group \"...\" }')");
    }
  }
}

void Checker::object_settings(std::size_t id) {
  catalog::ObjectSpec& spec = policy_.objects[id];
  const ast::ObjectDecl& decl = *object_decls_[id];
  if (decl.incomplete) return;  // its syntax error was reported; settings unknown
  std::map<std::string, ast::SourceRange> seen;
  for (const ast::Setting& s : decl.settings) {
    const settings::Info* info = settings::find(s.name.text);
    if (!info || !settings::accepts(*info, spec.kind)) {
      std::vector<std::string_view> names;
      for (const auto& x : settings::kSettings) {
        if (settings::accepts(x, spec.kind)) names.push_back(x.name);
      }
      std::string msg = "unknown setting " + quote(s.name.text) + " for a " +
                        std::string(catalog::kind_name(spec.kind));
      if (info) {
        msg = quote(s.name.text) + " is not a setting of a " +
              std::string(catalog::kind_name(spec.kind)) + " (it applies to " +
              std::string(catalog::kind_name(*info->kinds.begin())) + ")";
      }
      auto& d = diags_.report(diag::Code::kUnknownSetting, s.name.range,
                              with_suggestion(msg, s.name.text, names));
      const std::string best = diag::closest_match(s.name.text, names);
      if (!best.empty()) d.fixits.push_back({s.name.range, best});
      continue;
    }
    const bool repeatable =
        s.name.text == "health" || s.name.text == "env" || s.name.text == "depends";
    if (!repeatable) {
      auto [it, inserted] = seen.emplace(s.name.text, s.name.range);
      if (!inserted) {
        auto& d = diags_.report(diag::Code::kDuplicateDefinition, s.name.range,
                                "setting " + quote(s.name.text) + " given twice");
        d.notes.push_back({it->second, "first given here"});
        continue;
      }
    }
    SettingReader r{*this, s, *info};
    const std::string& n = s.name.text;
    if (n == "every") {
      if (r.count(1, 1)) {
        if (auto d = r.duration(0)) spec.every = *d;
      }
    } else if (n == "start" || n == "command") {
      if (r.count(1, 4096)) {
        std::vector<std::string> argv;
        if (auto p = r.abs_path(0)) argv.push_back(*p);
        for (std::size_t i = 1; i < s.args.size(); ++i) {
          if (auto a = r.str(i)) argv.push_back(*a);
        }
        if (r.ok) (n == "start" ? spec.start : spec.command) = std::move(argv);
      }
    } else if (n == "stop") {
      // stop SIG [then KILL] [after D]
      if (r.count(1, 5)) {
        std::size_t i = 0;
        if (auto sig = r.signal(i++)) spec.stop.signal = *sig;
        if (i < s.args.size() && s.args[i].kind == ast::SettingArg::Kind::kWord &&
            s.args[i].text == "then") {
          ++i;
          if (i >= s.args.size()) {
            r.bad(s.range, "expected KILL after 'then'");
          } else if (auto k = r.signal(i++); k && *k != SIGKILL) {
            r.bad(s.args[i - 1].range, "the second signal is always KILL");
          }
        }
        if (i < s.args.size()) {
          if (s.args[i].kind == ast::SettingArg::Kind::kWord && s.args[i].text == "after" &&
              i + 1 < s.args.size()) {
            if (auto d = r.duration(i + 1)) spec.stop.kill_after = *d;
            i += 2;
          } else {
            r.bad(s.args[i].range, "expected 'after DURATION'");
            i = s.args.size();
          }
        }
        if (i < s.args.size()) r.bad(s.args[i].range, "unexpected value");
      }
    } else if (n == "health") {
      if (r.count(2, 8)) {
        catalog::HealthCheckSpec h;
        if (auto proto = r.word(0)) {
          if (*proto == "tcp") {
            h.protocol = catalog::HealthCheckSpec::Protocol::kTcp;
          } else if (*proto == "unix") {
            h.protocol = catalog::HealthCheckSpec::Protocol::kUnix;
          } else if (*proto == "http") {
            h.protocol = catalog::HealthCheckSpec::Protocol::kHttp;
          } else {
            r.bad(s.args[0].range, with_suggestion("unknown health check " + quote(*proto), *proto,
                                                   {"tcp", "unix", "http"}));
          }
        }
        if (auto t = r.str(1)) {
          h.target = *t;
          if (h.protocol == catalog::HealthCheckSpec::Protocol::kTcp &&
              h.target.rfind(':') == std::string::npos) {
            r.bad(s.args[1].range, "a tcp health check needs \"HOST:PORT\"");
          } else if (h.protocol == catalog::HealthCheckSpec::Protocol::kUnix &&
                     (h.target.empty() || h.target[0] != '/')) {
            r.bad(s.args[1].range, "a unix health check needs an absolute socket path");
          } else if (h.protocol == catalog::HealthCheckSpec::Protocol::kHttp &&
                     h.target.rfind("http://", 0) != 0) {
            r.bad(s.args[1].range, "an http health check needs a URL starting with http://");
          }
        }
        for (std::size_t i = 2; i < s.args.size(); i += 2) {
          const auto& key = s.args[i];
          if (key.kind != ast::SettingArg::Kind::kWord || i + 1 >= s.args.size()) {
            r.bad(key.range, "expected 'every', 'timeout' or 'expect' and a value");
            break;
          }
          if (key.text == "every") {
            if (auto d = r.duration(i + 1)) h.interval = *d;
          } else if (key.text == "timeout") {
            if (auto d = r.duration(i + 1)) h.timeout = *d;
          } else if (key.text == "expect") {
            if (auto v = r.integer(i + 1, 100, 599)) h.expect_status = static_cast<int>(*v);
          } else {
            r.bad(key.range, with_suggestion("unknown health option " + quote(key.text), key.text,
                                             {"every", "timeout", "expect"}));
          }
        }
        if (r.ok) spec.health.push_back(std::move(h));
      }
    } else if (n == "depends") {
      if (r.count(1, 4096)) {
        for (std::size_t i = 0; i < s.args.size(); ++i) {
          if (auto w = r.word(i)) spec.depends.push_back(*w);
        }
      }
    } else if (n == "user" || n == "group") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0)) (n == "user" ? spec.user : spec.group) = *v;
      }
    } else if (n == "dir" || n == "log" || n == "pidfile" || n == "path") {
      if (r.count(1, 1)) {
        if (auto v = r.abs_path(0)) {
          (n == "dir"       ? spec.workdir
           : n == "log"     ? spec.log
           : n == "pidfile" ? spec.pidfile
                            : spec.path) = *v;
        }
      }
    } else if (n == "env") {
      if (r.count(2, 2)) {
        const auto& k = s.args[0];
        if (k.kind == ast::SettingArg::Kind::kNumber || k.text.empty() ||
            k.text.find('=') != std::string::npos) {
          r.bad(k.range, "expected a variable name");
        } else if (auto v = r.str(1)) {
          spec.env.emplace_back(k.text, *v);
        }
      }
    } else if (n == "grace" || n == "timeout") {
      if (r.count(1, 1)) {
        if (auto d = r.duration(0)) {
          if (n == "grace") {
            spec.grace = *d;
          } else if (spec.kind == Kind::kHost) {
            spec.host.timeout = *d;
          } else {
            spec.timeout = *d;
          }
        }
      }
    } else if (n == "match") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0)) {
          try {
            std::regex re(*v, std::regex::ECMAScript);
            spec.match = *v;
          } catch (const std::regex_error& e) {
            diags_.report(diag::Code::kInvalidRegex, s.args[0].range,
                          "invalid regular expression: " + std::string(e.what()));
          }
        }
      }
    } else if (n == "name") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0)) (spec.kind == Kind::kInterface ? spec.ifname : spec.peer_name) = *v;
      }
    } else if (n == "address") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0)) spec.host.address = *v;
      }
    } else if (n == "port") {
      if (r.count(1, 1)) {
        if (auto v = r.integer(0, 1, 65535)) spec.host.port = static_cast<int>(*v);
      }
    } else if (n == "method") {
      if (r.count(1, 1)) {
        if (auto w = r.word(0)) {
          if (*w == "tcp") {
            spec.host.method = catalog::HostProbeSpec::Method::kTcp;
          } else if (*w == "icmp") {
            spec.host.method = catalog::HostProbeSpec::Method::kIcmp;
          } else {
            r.bad(s.args[0].range,
                  with_suggestion("unknown method " + quote(*w), *w, {"tcp", "icmp"}));
          }
        }
      }
    } else if (n == "node_id") {
      if (r.count(1, 1)) {
        if (auto v = r.integer(0, 1, 0xffffffffL)) spec.node_id = static_cast<std::uint32_t>(*v);
      }
    } else if (n == "clustered" || n == "only_preferred") {
      if (r.count(0, 0)) (n == "clustered" ? spec.clustered : spec.only_preferred) = true;
    } else if (n == "prefer") {
      // prefer PEER...: declared peers, stored as their node names (what Corosync knows).
      if (r.count(1, 64)) {
        std::vector<std::string> nodes;
        for (std::size_t i = 0; i < s.args.size(); ++i) {
          auto w = r.word(i);
          if (!w) continue;
          auto it = names_.find(*w);
          if (it == names_.end() || it->second.what != Definition::What::kObject) {
            std::vector<std::string_view> peers;
            for (const auto& o : policy_.objects) {
              if (o.kind == Kind::kPeer) peers.push_back(o.name);
            }
            diags_.report(diag::Code::kUnknownName, s.args[i].range,
                          with_suggestion("unknown peer " + quote(*w), *w, peers));
            r.ok = false;
            continue;
          }
          const catalog::ObjectSpec& peer = policy_.objects[it->second.index];
          if (peer.kind != Kind::kPeer) {
            r.bad(s.args[i].range, quote(*w) + " is a " +
                                       std::string(catalog::kind_name(peer.kind)) + ", not a peer");
            continue;
          }
          // The peer's node name is known once its own settings are read (cluster_settings).
          nodes.push_back(peer.name);
        }
        if (r.ok) spec.prefer = std::move(nodes);
      }
    }
  }

  // Required settings and defaults. A setting that is present but invalid was reported
  // already; "missing" would only repeat it.
  auto missing = [&](const std::string& what) {
    for (const ast::Setting& s : decl.settings) {
      if (what.find("'" + s.name.text + " ") != std::string::npos) return;
    }
    diags_.report(
        diag::Code::kMissingSetting, decl.name.range,
        std::string(catalog::kind_name(spec.kind)) + " " + quote(spec.name) + " needs " + what);
  };
  switch (spec.kind) {
    case Kind::kService:
      if (spec.start.empty()) missing("'start \"/path/to/program\" ...'");
      if (!spec.clustered) {
        for (const ast::Setting& s : decl.settings) {
          if (s.name.text == "prefer" || s.name.text == "only_preferred") {
            diags_.report(diag::Code::kMissingSetting, s.name.range,
                          quote(s.name.text) + " places a clustered service; service " +
                              quote(spec.name) + " needs 'clustered'");
          }
        }
      } else if (spec.only_preferred && spec.prefer.empty()) {
        missing("'prefer PEER...' for 'only_preferred'");
      }
      break;
    case Kind::kProcess:
      if (spec.pidfile.empty() && spec.match.empty()) {
        missing("'pidfile \"/run/x.pid\"' or 'match \"REGEX\"' to find it");
      }
      break;
    case Kind::kInterface:
      if (spec.ifname.empty()) spec.ifname = spec.name;
      break;
    case Kind::kFilesystem:
      if (spec.path.empty()) missing("'path \"/mount/point\"'");
      break;
    case Kind::kHost:
      if (spec.host.address.empty()) missing("'address \"HOST\"'");
      if (spec.host.method == catalog::HostProbeSpec::Method::kTcp && spec.host.port == 0) {
        missing("'port N' for its tcp probe (or 'method icmp')");
      }
      break;
    case Kind::kCheck:
      if (spec.command.empty()) missing("'command \"/path/to/plugin\" ...'");
      break;
    case Kind::kPeer:
      if (spec.peer_name.empty()) spec.peer_name = spec.name;
      break;
    case Kind::kNode:
      break;
  }
}

void Checker::depends_cycles() {
  const std::size_t n = policy_.objects.size();
  std::vector<std::vector<int>> edges(n);
  for (std::size_t id = 0; id < n; ++id) {
    const ast::ObjectDecl& decl = *object_decls_[id];
    for (const ast::Setting& s : decl.settings) {
      if (s.name.text != "depends" || policy_.objects[id].kind != Kind::kService) continue;
      for (const auto& a : s.args) {
        if (a.kind != ast::SettingArg::Kind::kWord) continue;
        const int dep = policy_.find_object(a.text);
        if (dep < 0) {
          std::vector<std::string_view> names;
          for (const auto& o : policy_.objects) {
            if (o.kind == Kind::kService) names.push_back(o.name);
          }
          diags_.report(diag::Code::kBadDependency, a.range,
                        with_suggestion("unknown service " + quote(a.text), a.text, names));
        } else if (policy_.objects[dep].kind != Kind::kService) {
          diags_.report(diag::Code::kBadDependency, a.range,
                        quote(a.text) + " is a " +
                            std::string(catalog::kind_name(policy_.objects[dep].kind)) +
                            "; a service can only depend on services");
        } else if (dep == static_cast<int>(id)) {
          diags_.report(diag::Code::kDependencyCycle, a.range,
                        "service " + quote(a.text) + " depends on itself");
        } else {
          edges[id].push_back(dep);
        }
      }
    }
  }
  // Iterative DFS (no recursion: the object count is unbounded).
  std::vector<int> color(n, 0);  // 0 white, 1 on stack, 2 done
  std::vector<int> parent(n, -1);
  for (std::size_t root = 0; root < n; ++root) {
    if (color[root]) continue;
    std::vector<std::pair<int, std::size_t>> stack{{static_cast<int>(root), 0}};
    color[root] = 1;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next < edges[v].size()) {
        const int w = edges[v][next++];
        if (color[w] == 0) {
          color[w] = 1;
          parent[w] = v;
          stack.push_back({w, 0});
        } else if (color[w] == 1) {
          std::string chain = policy_.objects[w].name;
          std::vector<int> cycle;
          for (int x = v; x != w && x >= 0; x = parent[x]) cycle.push_back(x);
          std::reverse(cycle.begin(), cycle.end());
          for (int x : cycle) chain += " -> " + policy_.objects[x].name;
          chain += " -> " + policy_.objects[w].name;
          auto& d = diags_.report(diag::Code::kDependencyCycle, object_decls_[v]->name.range,
                                  "dependency cycle: " + chain);
          d.notes.push_back(
              {object_decls_[w]->name.range, quote(policy_.objects[w].name) + " is declared here"});
        }
      } else {
        color[v] = 2;
        stack.pop_back();
      }
    }
  }
}

}  // namespace

std::optional<CheckedPolicy> check_program(const ast::Program& program,
                                           const source::SourceManager& sources,
                                           diag::DiagnosticEngine& diags,
                                           const PassObserver& observer) {
  Checker checker(program, sources, diags);
  return checker.run(observer);
}

}  // namespace amata::check
