#include "tests/backend/program_builder.h"

namespace amata::testing {

using ir::Expr;
using ir::Op;

ProgramBuilder::ProgramBuilder() : p_(std::make_shared<ir::Program>()) {
  p_->tables.name = "test";
}

int ProgramBuilder::object(const std::string& name, catalog::Kind kind) {
  catalog::ObjectSpec spec;
  spec.name = name;
  spec.kind = kind;
  p_->tables.objects.push_back(spec);
  return static_cast<int>(p_->tables.objects.size()) - 1;
}

int ProgramBuilder::number_slot(int object, const std::string& attribute) {
  int index = 0;
  for (const auto& s : p_->tables.slots) {
    if (s.object == object && s.attribute == attribute) return s.index;
    if (!s.is_string) ++index;
  }
  ir::SlotInfo s;
  s.object = object;
  s.attribute = attribute;
  s.index = index;
  p_->tables.slots.push_back(s);
  p_->tables.number_slot_count = index + 1;
  return index;
}

int ProgramBuilder::string_slot(int object, const std::string& attribute) {
  int index = 0;
  for (const auto& s : p_->tables.slots) {
    if (s.object == object && s.attribute == attribute) return s.index;
    if (s.is_string) ++index;
  }
  ir::SlotInfo s;
  s.object = object;
  s.attribute = attribute;
  s.is_string = true;
  s.type = catalog::Type::string();
  s.index = index;
  p_->tables.slots.push_back(s);
  p_->tables.string_slot_count = index + 1;
  return index;
}

int ProgramBuilder::event(const std::string& name, std::vector<catalog::Kind> params) {
  p_->tables.events.push_back(ir::EventInfo{name, std::move(params), -1});
  return static_cast<int>(p_->tables.events.size()) - 1;
}

int ProgramBuilder::k(double v) {
  return p_->add(Expr{.op = Op::kConst, .value = v});
}
int ProgramBuilder::slot(int number_index) {
  return p_->add(Expr{.op = Op::kSlot, .slot = number_index});
}
int ProgramBuilder::unary(Op op, int a) {
  return p_->add(Expr{.op = op, .a = a});
}
int ProgramBuilder::binary(Op op, int a, int b) {
  return p_->add(Expr{.op = op, .a = a, .b = b});
}
int ProgramBuilder::string_op(Op op, int string_index, const std::string& literal) {
  return p_->add(Expr{.op = op, .slot = string_index, .str = p_->add_string(literal)});
}
int ProgramBuilder::window(Op op, int number_index, double seconds, double horizon) {
  return p_->add(Expr{.op = op, .slot = number_index, .value = seconds, .horizon = horizon});
}
int ProgramBuilder::param_attr(Op op, int param, const std::string& attribute, double seconds) {
  return p_->add(
      Expr{.op = op, .value = seconds, .param = param, .attr = p_->add_string(attribute)});
}

int ProgramBuilder::rule(const std::string& name, int cond, int event, std::vector<int> args,
                         ir::Temporal temporal, double seconds, int count, int check_clock) {
  p_->tables.rules.push_back(ir::RuleInfo{name, name, event, std::move(args), ""});
  p_->rules.push_back(ir::Rule{cond, temporal, seconds, count, check_clock, 0});
  return static_cast<int>(p_->rules.size()) - 1;
}

void ProgramBuilder::recovery(int event, std::vector<std::string> params,
                              std::vector<ir::Stmt> body) {
  p_->recoveries.push_back(ir::Recovery{event, std::move(params), std::move(body)});
  p_->tables.events[static_cast<std::size_t>(event)].recovery =
      static_cast<int>(p_->recoveries.size()) - 1;
}

std::shared_ptr<const ir::Program> ProgramBuilder::finish() {
  ir::finalize(*p_);
  return p_;
}

ir::Stmt action(ir::ActionKind kind, ir::ObjectRef target) {
  ir::Stmt s;
  s.kind = ir::Stmt::Kind::kAction;
  s.action = kind;
  s.target = target;
  return s;
}
ir::ObjectRef param(int index) {
  return ir::ObjectRef{index, -1};
}
ir::ObjectRef fixed(int object) {
  return ir::ObjectRef{-1, object};
}
ir::Text literal(const std::string& text) {
  return ir::Text{ir::TextPiece{text}};
}

}  // namespace amata::testing
