// The logic behind `amatac fmt`, kept out of tools/ so it can be tested.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

namespace amata::format {

struct FmtOptions {
  /// Policy files; "-" reads standard input and writes the result to `out`.
  std::vector<std::string> files;
  /// Print a diff for each file that is not formatted, change nothing; exit 1 if any.
  bool check = false;
  /// Rewrite files that are not formatted, in place (a new file renamed over the old one).
  bool write = false;
};

/// Formats `options.files`: to `out` (neither flag), as diffs (check) or in place (write).
/// Returns the exit code: 0 done (and, with check, every file formatted), 1 syntax errors
/// (printed to `err`, the file left as it is) or, with check, a file not formatted,
/// 2 a file that cannot be read or written.
int run_fmt(const FmtOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace amata::format
