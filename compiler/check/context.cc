#include "compiler/check/context.h"

#include <sstream>

namespace amata::check {

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::string a_kind(catalog::Kind k) {
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

}  // namespace amata::check
