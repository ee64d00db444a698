// The words of the language the server explains and offers that no other table holds with
// a sentence each: window functions, statement keywords, recovery actions.
#pragma once

#include <span>
#include <string_view>

namespace amata::lsp {

struct Word {
  std::string_view name;
  std::string_view usage;  // how it is written
  std::string_view doc;    // one sentence
};

/// The window functions (check/temporal.cc checks them; docs/language.md, Window functions).
std::span<const Word> functions();
/// The words that start a top-level statement (besides the kinds).
std::span<const Word> statement_keywords();
/// The statements of a recover body.
std::span<const Word> actions();
/// Finds `name` in `words`, or nullptr.
const Word* find_word(std::span<const Word> words, std::string_view name);

}  // namespace amata::lsp
