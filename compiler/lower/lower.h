// Lowering: the checked policy (compiler/check) to the rule IR (compiler/ir). Quantified
// rules are expanded per object here, attribute reads become slots, and every construct the
// back ends do not support yet is reported as an error naming the rule.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "compiler/check/checked_policy.h"
#include "compiler/ir/ir.h"

namespace amata::lower {

/// Gives the source text of a range (for RuleInfo::text); may be empty.
using SourceText = std::function<std::string(const ast::SourceRange&)>;

/// Lowers a checked policy to a finalized IR program.
Result<std::shared_ptr<const ir::Program>> lower(const check::CheckedPolicy& policy,
                                                 const SourceText& source_text = {});

}  // namespace amata::lower
