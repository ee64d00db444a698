#include "compiler/check/constants.h"

#include "compiler/check/passes.h"
#include "compiler/check/types.h"

namespace amata::check {

using Op = TypedExpr::Op;

bool is_literal(const TypedExpr& e) {
  return e.op == Op::kNumber || e.op == Op::kBool || e.op == Op::kString ||
         (e.op == Op::kEnum && e.enum_ordinal >= 0);
}

void constants_pass(CheckContext& ctx) {
  ctx.constant_values.assign(ctx.lets.size(), std::nullopt);
  ctx.constant_state.assign(ctx.lets.size(), 0);
  for (std::size_t i = 0; i < ctx.lets.size(); ++i) fold_constant(ctx, static_cast<int>(i));
}

/// Folds `let` number `index`, following references to other constants (cycles are errors).
const std::optional<TypedExpr>& fold_constant(CheckContext& ctx, int index) {
  if (ctx.constant_state[index] == 2) return ctx.constant_values[index];
  const ast::LetDecl& let = *ctx.lets[index];
  if (ctx.constant_state[index] == 1) {
    ctx.diags.report(diag::Code::kNotConstant, let.name.range,
                     "constant " + quote(let.name.text) + " is defined in terms of itself");
    ctx.constant_state[index] = 2;
    return ctx.constant_values[index];
  }
  if (!let.value) {  // incomplete: its syntax error was reported
    ctx.constant_state[index] = 2;
    ctx.used_constants.insert(let.name.text);
    return ctx.constant_values[index];
  }
  ctx.constant_state[index] = 1;
  Scope scope;
  scope.constants_only = true;
  scope.allow_windows = false;
  std::optional<TypedExpr> value = check_expr(ctx, *let.value, scope);
  if (value && !is_literal(*value)) {
    if (value->op == Op::kEnum) {
      // A bare enum member: a constant may hold one, resolved where it is compared.
    } else {
      ctx.diags.report(diag::Code::kNotConstant, let.value->range,
                       "the value of a constant must be known before the policy runs (no "
                       "attributes or window functions)");
      value.reset();
    }
  }
  ctx.constant_state[index] = 2;
  ctx.constant_values[index] = value;
  if (value) ctx.policy.constants.push_back({let.name.text, *value, let.range});
  return ctx.constant_values[index];
}

}  // namespace amata::check
