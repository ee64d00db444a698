// Deterministic JSON dumps of the syntax tree and of the checked policy
// (`amatac dump --after=parse|<pass>|check`). Keys are sorted; ranges are "path:begin-end"
// byte offsets so a dump does not change when only whitespace elsewhere does not move it.
#pragma once

#include <nlohmann/json.hpp>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_policy.h"
#include "compiler/source/source_manager.h"

namespace amata::frontend {

nlohmann::json program_to_json(const ast::Program& program, const source::SourceManager& sources);
nlohmann::json policy_to_json(const check::CheckedPolicy& policy,
                              const source::SourceManager& sources);
nlohmann::json expr_to_json(const check::TypedExpr& e);

/// Serialises with invalid UTF-8 replaced (sources may contain any bytes).
std::string dump_json(const nlohmann::json& j);

}  // namespace amata::frontend
