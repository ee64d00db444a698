// The token stream of a .amata file as the formatter sees it: every token of the grammar
// plus the comments, each with the number of line breaks before it. The token rules are the
// grammar's own (parse/grammar.h), so the formatter can never split or join a token
// differently from the parser.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace amata::format {

struct Token {
  enum class Kind : std::uint8_t { kWord, kNumber, kString, kComment, kPunct };
  Kind kind = Kind::kPunct;
  std::string_view text;
  std::uint32_t begin = 0;     // byte offset in the file
  std::uint32_t newlines = 0;  // line breaks in the layout before the token

  bool is(std::string_view s) const { return kind != Kind::kComment && text == s; }
};

/// Splits `text` into tokens. Layout (blanks, line breaks, a leading byte-order mark) is not
/// a token. Returns false at a byte no token starts with: the file does not parse and the
/// caller has its diagnostics from the parser.
bool tokenize(std::string_view text, std::vector<Token>& out);

}  // namespace amata::format
