// The front end in one call: load a policy file and its includes, parse, check.
// This is what amatac, amatad (load and reload) and the backend's tests call.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_policy.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace amata::frontend {

/// The text of a file held somewhere other than on disk (an editor's unsaved buffer), or
/// nullptr to read the file from disk. Called with the path as resolved (the root as given,
/// an include relative to its includer's directory, lexically normal).
using OpenText = std::function<const std::string*(const std::string& path)>;

/// Loads `path` and every file it includes (relative to the including file; cycles are
/// diagnostics) and parses them; a file `open` holds is read from it, not from disk. An
/// unreadable root file is a diagnostic too (code E0001), so callers have a single channel
/// to print.
ast::Program parse_program(const std::string& path, source::SourceManager& sources,
                           diag::DiagnosticEngine& diags, const OpenText& open = nullptr);

/// Same, for a root file already in `sources` (tests, fuzzers, stdin).
ast::Program parse_program(ast::FileId root, source::SourceManager& sources,
                           diag::DiagnosticEngine& diags);

/// Parses and checks. Returns the checked policy when there are no errors (warnings allowed).
std::optional<check::CheckedPolicy> compile_file(const std::string& path,
                                                 source::SourceManager& sources,
                                                 diag::DiagnosticEngine& diags);

/// Parses and checks policy text held in memory; `name` is used in diagnostics.
std::optional<check::CheckedPolicy> compile_text(const std::string& name, std::string text,
                                                 source::SourceManager& sources,
                                                 diag::DiagnosticEngine& diags);

}  // namespace amata::frontend
