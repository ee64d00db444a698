// Monit's control file as tokens. The file is free-form: words, "strings" or 'strings',
// `{ ... }` blocks (mail formats, limits, event lists: kept whole, never translated),
// operators and commas; `#` starts a comment. Keywords are case-insensitive, and an
// `include PATTERN` is replaced by the tokens of the files it names, as Monit reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/import/import_common.h"

namespace amata::importer {

struct Token {
  enum class Kind { kWord, kString, kBlock, kPunct } kind = Kind::kWord;
  std::string text;
  Loc loc;
  std::uint32_t end = 0;  // byte offset after the token, in loc.file
};

using Tokens = std::vector<Token>;

inline bool is_word(const Token& t) {
  return t.kind == Token::Kind::kWord;
}

/// The lower-case text of a word token, "" for any other token.
std::string lw(const Token& t);

/// Words Monit reads as noise ("if cpu usage is greater than 80%", "depends on x").
bool noise(const Token& t);

/// How deep includes may nest before the import takes them for a cycle.
constexpr int kMaxIncludeDepth = 16;

/// The tokens of `file` appended to `out`, includes followed (relative patterns from the
/// including file's directory). An Error for an unclosed string or brace, a NUL byte, an
/// unreadable included file or includes nested deeper than kMaxIncludeDepth.
Status lex_monit(Reporter& rep, ast::FileId file, Tokens& out);

/// The source text of tokens [b, e) for messages and comments: blanks collapsed, cut at
/// 100 bytes, and cut where the tokens pass into an included file.
std::string text_of(const Reporter& rep, const Tokens& t, std::size_t b, std::size_t e);
inline std::string text_of(const Reporter& rep, const Tokens& t) {
  return text_of(rep, t, 0, t.size());
}

}  // namespace amata::importer
