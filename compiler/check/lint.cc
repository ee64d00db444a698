// The lint pass: warnings about events raised but never recovered and constants never used.
#include <string>
#include <vector>

#include "compiler/check/passes.h"

namespace amata::check {

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
}

}  // namespace amata::check
