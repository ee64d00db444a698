// `amatac fmt`: the canonical layout of a .amata file.
//
// The formatter re-spaces the file's tokens; it never adds, drops or reorders one (but the
// `;` that ends a setting or an action, which a line break replaces). The parser's tree says
// where statements, settings and actions begin; the layout rules are:
//   - one top-level statement per line start, indented by 2 per block, continuation lines
//     (line breaks the author put inside a statement) by 4 more;
//   - a block written on one line stays on one line (`{ every 1s }`); any other block has
//     one setting or action per line and its `}` on a line of its own, `} else {` joined;
//   - one blank line at most where the author left any, and always one between statements
//     when either spans lines;
//   - consecutive one-line `let`s align their `=`, one-line objects their `{`, one-line
//     discover rules their `when` and `raise`, the settings of a block their values, and
//     consecutive trailing comments their `#`;
//   - comments stay where they were: on their own line, or after the code of their line.
// The result is a fixed point: formatting it again changes nothing.
#pragma once

#include <optional>
#include <string>

#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace amata::format {

/// The formatted text of file `id`, or nullopt when it has syntax errors (reported into
/// `diags`: a file that does not parse has no layout to keep).
std::optional<std::string> format_file(const source::SourceManager& sources, ast::FileId id,
                                       diag::DiagnosticEngine& diags);

}  // namespace amata::format
