// Renders diagnostics: clang-style text (`path:line:col: error: message [E0123]`, the source
// line, a caret/underline, notes, "In file included from") or JSON. Line and column are
// computed here, from byte offsets.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace amata::diag {

struct PrintOptions {
  bool color = false;  // ANSI colours (only when writing to a terminal)
  /// The offending source line under each diagnostic. Off for readers who may not read the
  /// file (a console caller other than root): then only locations and messages are shown.
  bool source_lines = true;
};

/// Writes every diagnostic in `diags` (already sorted) as text.
void print_text(std::ostream& out, const std::vector<Diagnostic>& diags,
                const source::SourceManager& sources, const PrintOptions& options = {});

/// Writes a summary line such as "2 errors, 1 warning generated." (nothing if none).
void print_summary(std::ostream& out, const DiagnosticEngine& engine);

/// The diagnostics as a JSON document:
/// {"diagnostics":[{"severity","code","message","file","line","column","end_line",
///   "end_column","begin","end","notes":[...],"fixits":[...],"included_from":[...]}],
///  "errors":N,"warnings":N}
std::string to_json(const std::vector<Diagnostic>& diags, const source::SourceManager& sources,
                    const DiagnosticEngine& engine);

}  // namespace amata::diag
