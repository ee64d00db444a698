// The one regular-expression dialect of amata: RE2 (github.com/google/re2, Debian's
// libre2). Matching takes time linear in the text, whatever the pattern: a `match` over
// every command line on the machine or a `=~` in a rule can never stall amatad the way a
// backtracking engine does on `(a+)+$`. The price is the dialect: no backreferences and no
// lookaround. The checker validates with this class, and the rule runtime and the process
// probe match with it, so a pattern the checker accepts is one the daemon can compile.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace re2 {
class RE2;
}

namespace amata::base {

class Regex {
 public:
  /// Matches nothing (a slot in a table of regexes that holds none).
  Regex();
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// Compiles `pattern` in RE2 syntax; the error is RE2's own message ("missing ): (unclosed",
  /// "invalid perl operator: (?<").
  static Result<Regex> compile(std::string_view pattern);

  /// Whether the pattern matches somewhere in `text` (unanchored: `^` and `$` anchor).
  bool search(std::string_view text) const;

 private:
  std::unique_ptr<re2::RE2> re_;
};

}  // namespace amata::base
