// textDocument/completion: what may be written at the cursor, read from the text before it
// (the statement being typed rarely parses yet) and from the policy around it (names that
// did parse). Kinds and statement words at a statement's start; the settings a kind takes
// inside its braces; attributes after `x.` for x's kind; units after a number, only those of
// the dimension the other side of the comparison has; events after `raise` and `recover`;
// signals after `signal X` and `stop`; functions, parameters, objects and constants in
// expressions; actions in a recover body.
#pragma once

#include <cstdint>

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/protocol.h"

namespace amata::lsp {

/// A CompletionList (`{"isIncomplete":false,"items":[{label, kind, detail, documentation}]}`).
Json complete(const Analysis& a, ast::FileId file, std::uint32_t offset);

}  // namespace amata::lsp
