// What the Monit and supervisord importers share: located warnings, the files they read,
// and the pieces of .amata text they write (names, strings, durations, argv).
// An importer never prints: it returns the policy text and its warnings (an Imported), or an
// Error when the input cannot be read or parsed at all.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compiler/ast/ast.h"
#include "compiler/source/source_manager.h"

namespace amata::importer {

/// A statement of the source configuration that the policy does not carry over (or carries
/// over only in part), at that statement.
struct Warning {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string message;
};

/// `FILE:LINE:COL: warning: MESSAGE`, as compilers print them.
std::string format_warning(const Warning& w);

/// The result of an import: the policy text and what it could not carry over.
struct Imported {
  std::string policy;
  std::vector<Warning> warnings;
};

/// A position in one of the files of an import.
struct Loc {
  ast::FileId file = ast::kNoFile;
  std::uint32_t offset = 0;
};

/// The files an import reads (the configuration and what it includes) and the warnings
/// located in them.
class Reporter {
 public:
  source::SourceManager& sources() { return sources_; }
  const source::SourceManager& sources() const { return sources_; }

  void warn(Loc at, std::string message);
  /// An error at `at`, formatted `FILE:LINE:COL: error: MESSAGE`, for a Result.
  Error error(Loc at, const std::string& message) const;
  /// "FILE:LINE" for comments in the generated policy.
  std::string where(Loc at) const;
  /// The source text from `begin` to `end` in one file, blanks collapsed, cut at 100 bytes.
  std::string excerpt(Loc begin, std::uint32_t end) const;

  /// The warnings, in the order reported or (`sorted`) by file and position.
  std::vector<Warning> take_warnings(bool sorted = false);

 private:
  source::SourceManager sources_;
  std::vector<Warning> warnings_;
  std::vector<Loc> locs_;  // where each warning stands
};

/// Names for the generated policy: every object, rule and event name is unique, a valid
/// .amata name (ASCII letters, digits, '_', not starting with a digit) and not reserved.
class Names {
 public:
  /// A free name as close to `wanted` as possible ("pdns-recursor" -> "pdns_recursor",
  /// a second "web" -> "web_2", "node" -> "node_").
  std::string claim(std::string_view wanted);

 private:
  std::set<std::string> taken_;
};

/// `wanted` made a valid .amata name (not yet unique): other characters become '_'.
std::string sanitize_name(std::string_view wanted);
/// "apache_cpu" -> "ApacheCpu": the event name for a rule.
std::string camel_case(std::string_view name);

/// A .amata string literal: quotes and escapes. The text holds no NUL (the readers refuse one).
std::string quote(std::string_view text);
/// A .amata duration literal: 120 -> "120s", 0.5 -> "500ms", 3600 -> "1h".
std::string duration(double seconds);
/// argv as the values of a `start` / `run` / `command`: "\"/bin/x\" \"a\"".
std::string argv_text(const std::vector<std::string>& argv);

/// Splits a command line as Python's shlex.split (POSIX mode) does: blanks separate words,
/// single quotes keep everything, double quotes keep all but `\"`, `\\`, `\$` and "\`"
/// escapes, a backslash outside quotes escapes the next character. An unclosed quote or a
/// trailing backslash is an error (its message says which).
Result<std::vector<std::string>> shell_split(std::string_view text);

/// The first executable `name` in the colon-separated `path`, if any.
std::optional<std::string> find_in_path(const std::string& name, const std::string& path);

/// The files a (shell) glob pattern names, in name order; `base` is the directory a relative
/// pattern is taken from.
std::vector<std::string> expand_glob(const std::string& pattern, const std::string& base);

/// The directory part of `path` ("." when it has none).
std::string dir_of(const std::string& path);

/// True if `text` is a whole number or a decimal ("30", "2.5").
bool is_number(std::string_view text);

/// `text` in ASCII lower case: both formats read their keywords case-insensitively.
std::string lower(std::string_view text);
/// `text` without its leading and trailing blanks.
std::string_view strip(std::string_view text);

}  // namespace amata::importer
