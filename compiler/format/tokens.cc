#include "compiler/format/tokens.h"

#include <tao/pegtl.hpp>

#include "compiler/parse/grammar.h"

namespace amata::format {
namespace {

namespace pegtl = tao::pegtl;
namespace g = parse::grammar;

/// The length of `Rule` matched at the start of `rest`, 0 when it does not match.
template <typename Rule>
std::size_t match(std::string_view rest) {
  pegtl::memory_input<> in(rest.data(), rest.data() + rest.size(), "");
  if (!pegtl::parse<Rule>(in)) return 0;
  return static_cast<std::size_t>(in.current() - rest.data());
}

// Two-character operators first, so `==` is never `=` `=`.
constexpr std::string_view kPuncts[] = {"..", "==", "!=", "<=", ">=", "=~", "!~", "{",
                                        "}",  "(",  ")",  ",",  ";",  ":",  ".",  "=",
                                        "<",  ">",  "+",  "-",  "*",  "/"};

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>& out) {
  std::size_t p = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  std::uint32_t newlines = 0;
  while (p < text.size()) {
    const char c = text[p];
    if (c == '\n') {
      ++newlines;
      ++p;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++p;
      continue;
    }
    const std::string_view rest = text.substr(p);
    Token t;
    t.begin = static_cast<std::uint32_t>(p);
    t.newlines = newlines;
    std::size_t n = 0;
    if ((n = match<g::line_comment>(rest)) > 0) {
      t.kind = Token::Kind::kComment;
    } else if ((n = match<g::string_lit>(rest)) > 0) {
      t.kind = Token::Kind::kString;
    } else if ((n = match<g::number_lit>(rest)) > 0) {
      t.kind = Token::Kind::kNumber;
    } else if ((n = match<g::identifier>(rest)) > 0) {
      t.kind = Token::Kind::kWord;
    } else {
      for (std::string_view punct : kPuncts) {
        if (rest.substr(0, punct.size()) == punct) {
          n = punct.size();
          break;
        }
      }
      if (n == 0) return false;
    }
    t.text = rest.substr(0, n);
    out.push_back(t);
    newlines = 0;
    p += n;
  }
  return true;
}

}  // namespace amata::format
