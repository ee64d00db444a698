// The formatter's promise, as one function the tests and the fuzzer share: formatting a file
// that parses gives a file that parses, means the same and formats to itself.
#pragma once

#include <optional>
#include <string>

namespace amata::format {

/// What a policy means as far as one file can say: its syntax tree and checked policy as
/// JSON without locations, then the codes of its diagnostics (which name problems, not
/// places). Includes are not followed.
std::string meaning(const std::string& text);

/// Formats `text` and checks the promise. Returns nullopt when the promise holds or `text`
/// does not parse (nothing to format); otherwise what broke, with both texts.
std::optional<std::string> broken_promise(const std::string& text);

}  // namespace amata::format
