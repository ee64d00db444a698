// textDocument/formatting: `amatac fmt` (compiler/format/format.h) on the editor's buffer.
#pragma once

#include <optional>
#include <string>

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

/// The TextEdits that lay file `id` of `a` out as `amatac fmt` does: none when it already
/// is, else one edit replacing the whole text. nullopt with `error` set when the file has
/// syntax errors (a file that does not parse has no layout to keep).
std::optional<Json> format_edits(const Analysis& a, ast::FileId id, std::string& error);

}  // namespace amata::lsp
