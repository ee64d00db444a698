// The checker as a pipeline of passes over one CheckContext. Each pass answers one question
// in its own file (see passes.h); this file only runs them in order and reports the policy
// after each to the observer (`amatac dump --after=PASS`).
#include "compiler/check/checker.h"

#include <iterator>

#include "compiler/check/context.h"
#include "compiler/check/passes.h"

namespace amata::check {
namespace {

struct Pass {
  std::string_view name;
  void (*run)(CheckContext&);
};

constexpr Pass kPasses[] = {
    {"declarations", declarations_pass}, {"constants", constants_pass}, {"objects", objects_pass},
    {"discover", discover_pass},         {"recover", recover_pass},     {"lint", lint_pass},
};

constexpr bool passes_are_named_in_order() {
  if (std::size(kPasses) != std::size(kPassNames)) return false;
  for (std::size_t i = 0; i < std::size(kPasses); ++i) {
    if (kPasses[i].name != kPassNames[i]) return false;
  }
  return true;
}
static_assert(passes_are_named_in_order(), "kPassNames (checker.h) lists the passes run here");

}  // namespace

std::optional<CheckedPolicy> check_program(const ast::Program& program,
                                           const source::SourceManager& /*sources*/,
                                           diag::DiagnosticEngine& diags,
                                           const PassObserver& observer) {
  CheckContext ctx(program, diags);
  const std::size_t errors_before = diags.error_count();
  ctx.errors_before_check = errors_before;
  for (const Pass& pass : kPasses) {
    pass.run(ctx);
    if (observer) observer(pass.name, ctx.policy);
  }
  if (diags.error_count() > errors_before) return std::nullopt;
  return std::move(ctx.policy);
}

}  // namespace amata::check
