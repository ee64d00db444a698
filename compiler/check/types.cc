#include "compiler/check/types.h"

#include <array>
#include <cmath>
#include <string_view>
#include <utility>

#include "base/regex.h"
#include "compiler/check/constants.h"
#include "compiler/check/names.h"
#include "compiler/check/temporal.h"

namespace amata::check {
namespace {

using catalog::Dimension;
using catalog::Type;
using catalog::ValueKind;
using Op = TypedExpr::Op;

bool is_zero_literal(const TypedExpr& e) {
  return e.op == Op::kNumber && e.type.dimension == Dimension::kCount && e.number == 0;
}

/// An unresolved enum member (`up`) on one side, an enum on the other: resolve it.
bool resolve_enum(CheckContext& ctx, TypedExpr& member, const TypedExpr& other) {
  if (member.op != Op::kEnum || member.enum_ordinal >= 0) return true;
  if (other.type.kind != ValueKind::kEnum) {
    ctx.diags.report(
        diag::Code::kBadEnumMember, member.range,
        quote(member.string) + " is an enum member but is compared with " + type_str(other));
    return false;
  }
  auto ord = catalog::enum_ordinal(other.type.enum_type, member.string);
  if (!ord) {
    std::vector<std::string_view> members(catalog::enum_members(other.type.enum_type).begin(),
                                          catalog::enum_members(other.type.enum_type).end());
    ctx.diags.report(diag::Code::kBadEnumMember, member.range,
                     with_suggestion(quote(member.string) + " is not a " + type_str(other),
                                     member.string, members));
    return false;
  }
  member.type = other.type;
  member.enum_ordinal = *ord;
  return true;
}

std::optional<TypedExpr> fold_compare(const TypedExpr& out, const TypedExpr& l,
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

std::optional<TypedExpr> binary(CheckContext& ctx, const ast::Expr& e, const Scope& scope) {
  auto l = check_expr(ctx, *e.args[0], scope);
  auto r = check_expr(ctx, *e.args[1], scope);
  if (!l || !r) return std::nullopt;
  TypedExpr out;
  out.range = e.range;
  const std::string spelling = ast::binary_op_spelling(e.binary_op);
  switch (e.binary_op) {
    case ast::BinaryOp::kOr:
    case ast::BinaryOp::kAnd: {
      if (!require_bool(ctx, *l, "the operand of '" + spelling + "'") ||
          !require_bool(ctx, *r, "the operand of '" + spelling + "'")) {
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
        ctx.diags.report(diag::Code::kWrongOperandType, e.args[0]->range,
                         "'" + spelling + "' matches a string, but this is " + type_str(*l));
        return std::nullopt;
      }
      if (r->op != Op::kString) {
        ctx.diags.report(
            diag::Code::kWrongOperandType, e.args[1]->range,
            "the right side of '" + spelling + "' must be a regular expression in quotes");
        return std::nullopt;
      }
      if (!check_regex(ctx, r->string, e.args[1]->range)) return std::nullopt;
      if (l->op == Op::kString) {
        // Two literals (a constant, say): known now. The back ends match attributes only.
        const bool found = base::Regex::compile(r->string)->search(l->string);
        out.op = Op::kBool;
        out.type = Type::boolean();
        out.boolean = found == (e.binary_op == ast::BinaryOp::kMatch);
        return out;
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
        ctx.diags.report(diag::Code::kBadEnumMember, e.range,
                         "comparing two enum members: one side must be an attribute");
        return std::nullopt;
      }
      if (!resolve_enum(ctx, *l, *r) || !resolve_enum(ctx, *r, *l)) return std::nullopt;
      const bool ordering = e.binary_op != ast::BinaryOp::kEq && e.binary_op != ast::BinaryOp::kNe;
      if (l->type.kind == ValueKind::kNumber && r->type.kind == ValueKind::kNumber) {
        if (!(l->type == r->type) && !is_zero_literal(*l) && !is_zero_literal(*r)) {
          std::string msg = "cannot compare " + type_str(*l) + " with " + type_str(*r);
          if (r->op == Op::kNumber && r->type.dimension == Dimension::kCount) {
            msg += " (write the unit, as in '" + std::to_string(static_cast<long long>(r->number)) +
                   std::string(catalog::base_unit_suffix(l->type.dimension)) + "')";
          }
          ctx.diags.report(diag::Code::kIncompatibleUnits, e.range, msg);
          return std::nullopt;
        }
      } else if (!(l->type == r->type)) {
        ctx.diags.report(diag::Code::kIncompatibleUnits, e.range,
                         "cannot compare " + type_str(*l) + " with " + type_str(*r));
        return std::nullopt;
      } else if (ordering && l->type.kind != ValueKind::kNumber) {
        ctx.diags.report(diag::Code::kWrongOperandType, e.op_range,
                         "'" + spelling + "' orders numbers; " + type_str(*l) +
                             " values can only be compared with == and !=");
        return std::nullopt;
      }
      if (l->type.kind == ValueKind::kString && l->op == Op::kAttr && r->op == Op::kAttr) {
        // The back ends compare a string attribute with a literal only.
        ctx.diags.report(diag::Code::kWrongOperandType, e.range,
                         "two string attributes cannot be compared with each other; compare "
                         "each with a string in quotes");
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
          ctx.diags.report(diag::Code::kWrongOperandType, side->range,
                           "'" + spelling + "' needs numbers, but this is " + type_str(*side));
          return std::nullopt;
        }
      }
      const Dimension dl = l->type.dimension, dr = r->type.dimension;
      Dimension result = dl;
      if (e.binary_op == ast::BinaryOp::kAdd || e.binary_op == ast::BinaryOp::kSub) {
        if (dl != dr && !is_zero_literal(*l) && !is_zero_literal(*r)) {
          ctx.diags.report(
              diag::Code::kIncompatibleUnits, e.range,
              "cannot " + std::string(e.binary_op == ast::BinaryOp::kAdd ? "add " : "subtract ") +
                  type_str(*r) + (e.binary_op == ast::BinaryOp::kAdd ? " to " : " from ") +
                  type_str(*l));
          return std::nullopt;
        }
        if (is_zero_literal(*l)) result = dr;
      } else if (e.binary_op == ast::BinaryOp::kMul) {
        if (dl != Dimension::kCount && dr != Dimension::kCount) {
          ctx.diags.report(diag::Code::kIncompatibleUnits, e.range,
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
          ctx.diags.report(diag::Code::kIncompatibleUnits, e.range,
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
              ctx.diags.report(diag::Code::kDivisionByZero, e.range, "division by zero");
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

std::optional<TypedExpr> check_expr_inner(CheckContext& ctx, const ast::Expr& e,
                                          const Scope& scope) {
  switch (e.kind) {
    case ast::ExprKind::kNumber:
      return number_literal(ctx, e.number, e.unit, e.range);
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
      return path_expr(ctx, e, scope);
    case ast::ExprKind::kUnary: {
      auto x = check_expr(ctx, *e.args[0], scope);
      if (!x) return std::nullopt;
      TypedExpr out;
      out.range = e.range;
      if (e.unary_op == ast::UnaryOp::kNot) {
        if (!require_bool(ctx, *x, "the operand of 'not'")) return std::nullopt;
        if (x->op == Op::kBool) {
          x->boolean = !x->boolean;
          x->range = e.range;
          return x;
        }
        out.op = Op::kNot;
        out.type = Type::boolean();
      } else {
        if (x->type.kind != ValueKind::kNumber) {
          ctx.diags.report(diag::Code::kWrongOperandType, e.args[0]->range,
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
      return binary(ctx, e, scope);
    case ast::ExprKind::kCall:
      return window_function(ctx, e, scope);
    case ast::ExprKind::kWithin:
      return within(ctx, e, scope);
    case ast::ExprKind::kError:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string type_str(const TypedExpr& e) {
  return catalog::type_name(e.type);
}

std::optional<TypedExpr> number_literal(CheckContext& ctx, double value, const std::string& unit,
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
    // Spelled out as systemd and people write them: too far from `s` or `h` for
    // closest_match, so named here.
    static constexpr std::pair<std::string_view, std::string_view> kSpelledOut[] = {
        {"sec", "s"},    {"secs", "s"},     {"second", "s"},    {"seconds", "s"}, {"msec", "ms"},
        {"mins", "min"}, {"minute", "min"}, {"minutes", "min"}, {"hr", "h"},      {"hrs", "h"},
        {"hour", "h"},   {"hours", "h"},    {"day", "d"},       {"days", "d"},
    };
    std::string best = diag::closest_match(unit, units);
    for (const auto& [spelled, suffix] : kSpelledOut) {
      if (unit == spelled) best = suffix;
    }
    std::string message = "unknown unit " + quote(unit);
    if (!best.empty()) message += "; did you mean " + quote(best) + "?";
    auto& d = ctx.diags.report(diag::Code::kUnknownUnit, range, message);
    if (!best.empty()) {
      const auto begin = range.end - static_cast<std::uint32_t>(unit.size());
      d.fixits.push_back({{range.file, begin, range.end}, best});
    }
    return std::nullopt;
  }
  e.type = Type::number(u->dimension);
  e.number = value * u->scale;
  if (!std::isfinite(e.number)) {
    ctx.diags.report(diag::Code::kMalformedNumber, range,
                     "number out of range: in base units (" +
                         std::string(catalog::base_unit_suffix(u->dimension)) +
                         ") it is more than any value amata can hold (about 1.8e308)");
    return std::nullopt;
  }
  return e;
}

bool check_regex(CheckContext& ctx, const std::string& pattern, ast::SourceRange range) {
  auto re = base::Regex::compile(pattern);
  if (re) return true;
  ctx.diags.report(diag::Code::kInvalidRegex, range,
                   "invalid regular expression (RE2 syntax): " + re.error().message);
  return false;
}

bool require_bool(CheckContext& ctx, const TypedExpr& e, std::string_view context) {
  if (e.type.kind == ValueKind::kBool) return true;
  ctx.diags.report(diag::Code::kNotABoolean, e.range,
                   std::string(context) + " must be true or false, but this is " + type_str(e));
  return false;
}

std::optional<TypedExpr> check_expr(CheckContext& ctx, const ast::Expr& e, const Scope& scope) {
  // The parser caps tree depth; this guards hand-built trees too.
  if (ctx.expr_depth > ast::kMaxExprDepth + 8) {
    ctx.diags.report(diag::Code::kExpressionTooLarge, e.range, "expression too large");
    return std::nullopt;
  }
  ++ctx.expr_depth;
  auto out = check_expr_inner(ctx, e, scope);
  --ctx.expr_depth;
  return out;
}

/// Checks a condition; bare enum members left unresolved are errors here.
std::optional<TypedExpr> condition(CheckContext& ctx, const ast::Expr* e, const Scope& scope) {
  if (!e) return std::nullopt;
  auto c = check_expr(ctx, *e, scope);
  if (!c) return std::nullopt;
  if (!require_bool(ctx, *c, "a condition")) return std::nullopt;
  return c;
}

}  // namespace amata::check
