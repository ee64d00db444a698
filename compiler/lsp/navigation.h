// Finding one's way in a policy: go to definition, find references, the outline of a file
// (document symbols), rename, and the code actions that apply a diagnostic's fix-its.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

/// The Location where the name at `offset` is defined, or null.
Json definition(const Analysis& a, ast::FileId file, std::uint32_t offset);
/// Every Location of the name at `offset` (its definition too when `include_declaration`),
/// across the files of the policy; an empty array when the offset is on no name.
Json references(const Analysis& a, ast::FileId file, std::uint32_t offset,
                bool include_declaration);
/// The outline of one file: a DocumentSymbol per statement, an object's settings as children.
Json document_symbols(const Analysis& a, ast::FileId file);
/// `{"range","placeholder"}` of the name at `offset`, or null when nothing there can be renamed.
Json prepare_rename(const Analysis& a, ast::FileId file, std::uint32_t offset);
/// The WorkspaceEdit renaming the name at `offset` everywhere, or nullopt with `error` set
/// (no name there, a new name that is not a name, a reserved word, or already defined).
std::optional<Json> rename(const Analysis& a, ast::FileId file, std::uint32_t offset,
                           const std::string& new_name, std::string& error);
/// The quick fixes (one CodeAction per diagnostic with fix-its) of the diagnostics in file
/// `file` that overlap [begin, end].
Json code_actions(const Analysis& a, ast::FileId file, std::uint32_t begin, std::uint32_t end);

}  // namespace amata::lsp
