#include "compiler/ast/ast.h"

#include <iterator>

namespace amata::ast {

const char* binary_op_spelling(BinaryOp op) {
  static constexpr const char* kSpellings[] = {"or", "and", "==", "!=", "<", "<=", ">",
                                               ">=", "=~",  "!~", "+",  "-", "*",  "/"};
  static_assert(std::size(kSpellings) == static_cast<std::size_t>(BinaryOp::kDiv) + 1);
  return kSpellings[static_cast<std::size_t>(op)];
}

const char* unary_op_spelling(UnaryOp op) {
  return op == UnaryOp::kNeg ? "-" : "not";
}

}  // namespace amata::ast
