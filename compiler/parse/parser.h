// Parses one .amata source file into a syntax tree. Syntax errors become diagnostics; the
// parser recovers at the next statement boundary (a line starting with a word in column 1)
// and keeps going, so one run reports every error. It never throws and never prints.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace amata::parse {

/// The deepest nesting of grammar rules (about a dozen per parenthesis level).
inline constexpr std::size_t kMaxRuleDepth = 1000;
/// The most top-level statements one file may hold.
inline constexpr std::size_t kMaxStatements = 500000;

/// Parses file `id` of `sources`.
ast::File parse_file(const source::SourceManager& sources, ast::FileId id,
                     diag::DiagnosticEngine& diags);

}  // namespace amata::parse
