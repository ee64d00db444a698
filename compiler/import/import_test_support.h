// For the importers' tests: what the real checker says of an imported policy, and a
// temporary directory to write configurations into.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
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

/// A temporary directory, removed with what it holds when the test ends.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/amata-import-test-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Writes `text` to NAME (its directories made) in the directory; returns the file's path.
  std::string write(const std::string& name, const std::string& text) const {
    const std::filesystem::path p = std::filesystem::path(path) / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  std::string path;
};

}  // namespace amata::importer
