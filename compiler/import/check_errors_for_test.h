// For the importers' tests: what the real checker says of an imported policy.
#pragma once

#include <sstream>
#include <string>

#include "compiler/diag/printer.h"
#include "compiler/frontend/frontend.h"

namespace amata::importer {

/// Runs the real checker on `policy`: "" when it has no errors, else the diagnostics and
/// the policy (what a failing test should show).
inline std::string check_errors(const std::string& policy) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  auto checked = frontend::compile_text("imported.amata", policy, sources, diags);
  if (checked && !diags.has_errors()) return "";
  std::ostringstream out;
  diag::print_text(out, diags.sorted(), sources);
  return out.str() + "\n--- policy ---\n" + policy;
}

}  // namespace amata::importer
