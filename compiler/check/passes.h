// The checker's passes, in the order checker.cc runs them (and kPassNames in checker.h names
// them for `amatac dump --after=PASS`). Each reads and extends one CheckContext.
#pragma once

#include "compiler/check/context.h"

namespace amata::check {

/// declarations.cc: the policy name, objects and their kinds, constants, declared events,
/// the cluster declaration; duplicate definitions.
void declarations_pass(CheckContext& ctx);
/// constants.cc: folds every `let` into a literal in base units.
void constants_pass(CheckContext& ctx);
/// objects.cc: the settings of each object into its catalog::ObjectSpec, then the
/// dependencies between services (dependencies.cc) and the cluster (cluster.cc).
void objects_pass(CheckContext& ctx);
/// discover.cc: discover rules: parameters, typed conditions, temporal qualifiers, raises.
void discover_pass(CheckContext& ctx);
/// recover.cc: recover rules and their actions; then cycles of raises (escalation.cc).
void recover_pass(CheckContext& ctx);
/// lint.cc: warnings about events never recovered and constants never used.
void lint_pass(CheckContext& ctx);

}  // namespace amata::check
