#include "compiler/interp/interpreter.h"

#include "compiler/ir/eval.h"
#include "compiler/ir/runtime.h"

namespace amata::interp {
namespace {

class InterpretedPolicy final : public ir::CompiledPolicy {
 public:
  InterpretedPolicy(std::shared_ptr<const ir::Program> program, std::vector<base::Regex> regexes)
      : CompiledPolicy(std::move(program), std::move(regexes)) {}

  std::string_view backend_name() const override { return "interp"; }

 protected:
  void evaluate(double now, const ir::Samples& samples, ir::PolicyState& state,
                std::vector<ir::Edge>& edges) const override {
    const ir::Program& p = program();
    ir::RuntimeFrame frame;
    frame.numbers = samples.numbers.data();
    frame.strings = samples.strings.data();
    frame.check_times = samples.check_times.empty() ? nullptr : samples.check_times.data();
    frame.history = &state.history;
    frame.literals = &p.strings;
    frame.regexes = &regexes();
    double* words = state.words.data();
    for (std::size_t i = 0; i < p.rules.size(); ++i) {
      const ir::Rule& r = p.rules[i];
      const double cond = ir::eval_expr(p, frame, r.cond, now);
      const bool active = ir::step_rule(p, frame, i, cond, now, words);
      double& was = words[r.state_offset];
      if (active != (was != 0)) {
        was = active ? 1 : 0;
        edges.push_back(ir::Edge{static_cast<int>(i), active});
      }
    }
  }
};

}  // namespace

Result<std::shared_ptr<const ir::CompiledPolicy>> interpret(
    std::shared_ptr<const ir::Program> program) {
  if (Status s = ir::validate(*program); !s.ok()) return s.error();
  auto regexes = ir::compile_regexes(*program);
  if (!regexes.ok()) return regexes.error();
  return std::shared_ptr<const ir::CompiledPolicy>(
      std::make_shared<InterpretedPolicy>(std::move(program), std::move(regexes).value()));
}

}  // namespace amata::interp
