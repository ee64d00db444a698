// The checker: resolves names, kinds, units and types of a parsed program and produces a
// CheckedPolicy. It runs as a pipeline of named passes; each can be dumped
// (`amatac dump --after=PASS`). Mistakes in the policy are diagnostics; the checker never
// throws, prints or exits.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_policy.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/source/source_manager.h"

namespace amata::check {

/// The passes in the order they run.
///   declarations: policy name, objects (kinds), constants, declared events; duplicates
///   constants:    fold every `let` into a literal in base units
///   objects:      settings of each object into catalog::ObjectSpec; depends and its cycles
///   discover:     discover rules: parameters, typed conditions, temporal, raise; events inferred
///   recover:      recover rules and their actions
///   lint:         warnings (events never recovered, recover rules never triggered, unused lets)
inline constexpr std::string_view kPassNames[] = {"declarations", "constants", "objects",
                                                  "discover",     "recover",   "lint"};

/// Called after each pass with the policy as built so far (for dumps and tests).
using PassObserver = std::function<void(std::string_view pass, const CheckedPolicy& so_far)>;

/// Checks `program`. Returns the policy when no errors were reported (warnings allowed).
std::optional<CheckedPolicy> check_program(const ast::Program& program,
                                           const source::SourceManager& sources,
                                           diag::DiagnosticEngine& diags,
                                           const PassObserver& observer = nullptr);

/// The signal number of `name` (TERM, SIGTERM, HUP, USR1, ...), or nullopt.
std::optional<int> signal_number(std::string_view name);

}  // namespace amata::check
