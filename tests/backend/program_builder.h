// Builds IR programs by hand for the back-end tests, the random generator and benchmarks.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/ir.h"

namespace amata::testing {

class ProgramBuilder {
 public:
  ProgramBuilder();
  /// Declares an object; returns its id.
  int object(const std::string& name, catalog::Kind kind = catalog::Kind::kService);
  /// A number slot for object.attribute; returns the slot's Samples::numbers index.
  int number_slot(int object, const std::string& attribute);
  /// A string slot; returns its Samples::strings index.
  int string_slot(int object, const std::string& attribute);
  int event(const std::string& name, std::vector<catalog::Kind> params = {});

  int k(double v);
  int slot(int number_index);
  int unary(ir::Op op, int a);
  int binary(ir::Op op, int a, int b);
  int string_op(ir::Op op, int string_index, const std::string& literal);
  int window(ir::Op op, int number_index, double seconds, double horizon = 0);
  /// A number attribute of an event parameter (recovery bodies).
  int param_attr(ir::Op op, int param, const std::string& attribute, double seconds = 0);

  /// Adds a rule; returns its id.
  int rule(const std::string& name, int cond, int event, std::vector<int> args = {},
           ir::Temporal temporal = ir::Temporal::kNone, double seconds = 0, int count = 0,
           int check_clock = -1);
  /// Adds the recovery body of `event`.
  void recovery(int event, std::vector<std::string> params, std::vector<ir::Stmt> body);

  ir::Program& program() { return *p_; }
  /// Finalizes and hands out the program.
  std::shared_ptr<const ir::Program> finish();

 private:
  std::shared_ptr<ir::Program> p_;
};

/// A helper for actions in recovery bodies.
ir::Stmt action(ir::ActionKind kind, ir::ObjectRef target = {});
ir::ObjectRef param(int index);
ir::ObjectRef fixed(int object);
ir::Text literal(const std::string& text);

}  // namespace amata::testing
