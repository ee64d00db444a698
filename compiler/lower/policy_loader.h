// From a policy file to a running CompiledPolicy: parse, check, lower, then the chosen back
// end. amatad uses it at start and on every reload; failures come back as rendered
// diagnostics, so a bad reload is logged and the old policy keeps running.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/check/checked_policy.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/lower/backend.h"

namespace amata::lower {

/// A policy ready to run, or why not.
struct LoadedPolicy {
  std::shared_ptr<const ir::CompiledPolicy> policy;  // null when loading failed
  std::string diagnostics;  // rendered text (errors and warnings), empty when clean
  /// The same without the source lines under each diagnostic: for readers who may not read
  /// the policy's files.
  std::string diagnostics_brief;
  /// The diagnostics as data (diag::to_json's document: severity, code, message, file, line,
  /// column, ... of each); "" when there are none.
  std::string diagnostics_json;
  int errors = 0;
  int warnings = 0;
  std::string file;
  /// Every file the policy was compiled from, the policy first, each with the text that was
  /// compiled (not what the disk holds now): what amatad keeps as the last policy that
  /// loaded. Empty when loading failed.
  std::vector<std::pair<std::string, std::string>> sources;
};

/// Loads, checks and compiles `path` with `backend`. Never throws.
LoadedPolicy load_policy(const std::string& path, Backend backend, bool color = false);
/// Same, for policy text held in memory (`name` in diagnostics; tests, fuzzers).
LoadedPolicy load_policy_text(const std::string& name, std::string text, Backend backend);

/// Parses and checks only (for --once): the objects of the policy, or nullopt with the
/// diagnostics in `diagnostics`.
std::optional<std::vector<catalog::ObjectSpec>> load_objects(const std::string& path,
                                                             std::string& diagnostics,
                                                             bool color = false);

}  // namespace amata::lower
