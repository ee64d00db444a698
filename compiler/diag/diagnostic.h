// Diagnostics are data: the parser and the checker report them into one DiagnosticEngine;
// a printer (diag/printer.h) renders them clang-style or as JSON. Nothing here prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/diag/codes.h"

namespace amata::diag {

/// A related location: "previous definition is here".
struct Note {
  ast::SourceRange range;
  std::string message;
};

/// A suggested edit: replace `range` by `replacement`.
struct FixIt {
  ast::SourceRange range;
  std::string replacement;
};

struct Diagnostic {
  Severity severity = Severity::kError;
  ast::SourceRange range;
  std::string code;  // as printed: E0101, W0201 (the table in diag/codes.h)
  std::string message;
  std::vector<Note> notes;
  std::vector<FixIt> fixits;
};

/// Collects diagnostics of one compilation.
class DiagnosticEngine {
 public:
  /// Adds a diagnostic, an error or a warning as the code table says, and returns it so the
  /// caller can attach notes and fix-its.
  Diagnostic& report(Code code, ast::SourceRange range, std::string message);

  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  /// Diagnostics in report order.
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }
  /// Diagnostics sorted by (file, offset, code), stable; output is deterministic.
  std::vector<Diagnostic> sorted() const;

  /// Stops recording after this many errors (a 10 MB garbage file must not yield 10^6 lines).
  static constexpr std::size_t kMaxErrors = 200;
  bool saturated() const { return errors_ >= kMaxErrors; }

 private:
  std::vector<Diagnostic> diags_;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  Diagnostic overflow_;  // target of reports past kMaxErrors
};

/// The Levenshtein-closest candidate within a small distance, or "" (for did-you-mean).
std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace amata::diag
