#include "compiler/ast/ast.h"

namespace amata::ast {

const char* binary_op_spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kEq:
      return "==";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kMatch:
      return "=~";
    case BinaryOp::kNotMatch:
      return "!~";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
  }
  return "?";
}

const char* unary_op_spelling(UnaryOp op) {
  return op == UnaryOp::kNeg ? "-" : "not";
}

}  // namespace amata::ast
