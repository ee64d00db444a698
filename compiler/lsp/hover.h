// textDocument/hover: what the word under the cursor is. An attribute: its type, unit and
// meaning from the catalog; an object: its kind and settings; an event: its parameters; a
// constant: its definition and folded value; also kinds, settings, functions, rules and
// parameters.
#pragma once

#include <cstdint>

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

/// A Hover (`{"contents":{"kind":"markdown","value":...},"range":...}`), or null when the
/// offset is on nothing hover explains.
Json hover(const Analysis& a, ast::FileId file, std::uint32_t offset);

}  // namespace amata::lsp
