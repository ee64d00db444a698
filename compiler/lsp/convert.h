// From the front end's terms to the protocol's: byte ranges to LSP ranges and locations,
// diagnostics (with their notes) to LSP Diagnostic objects.
#pragma once

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

/// `{"start":{line,character},"end":{...}}` of a range in a file of `a`.
Json lsp_range(const Analysis& a, const ast::SourceRange& r);
/// `{"uri":...,"range":...}`.
Json lsp_location(const Analysis& a, const ast::SourceRange& r);
/// The file URI of file `id` of `a`.
std::string file_uri(const Analysis& a, ast::FileId id);
/// One diagnostic as an LSP Diagnostic object.
Json lsp_diagnostic(const Analysis& a, const diag::Diagnostic& d);
/// The diagnostics of `a` located in file `id`, in (offset, code) order, as LSP Diagnostic
/// objects: severity, code, source "amatac", message, and each note (and, in an included
/// file, the include that loaded it) as related information. A diagnostic with no file (the
/// root could not be read) belongs to the root, file 0.
Json lsp_diagnostics(const Analysis& a, ast::FileId id);

}  // namespace amata::lsp
