// The invariant of the compiler, over every policy in the tree: each example and each
// golden-diagnostics policy that checks without errors is loaded as amatad loads it (both
// back ends, then every object's probe) and must load. A policy amatac accepts and amatad
// refuses (a port of 99999, a regex RE2 rejects, a socket path too long, ...) fails here.
#include "tests/invariant/load_invariant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/frontend/frontend.h"
#include "compiler/source/source_manager.h"

namespace amata::invariant {
namespace {

std::vector<std::string> policies() {
  std::vector<std::string> out;
  for (const char* dir : {"dsl-examples", "tests/diagnostics"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() != ".amata" || name.ends_with(".inc.amata")) continue;
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LoadInvariant, EveryPolicyThatChecksCleanLoadsInBothBackEndsAndProbes) {
  const auto files = policies();
  ASSERT_GT(files.size(), 100u) << "run from the repository root";
  int clean = 0;
  for (const std::string& file : files) {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    (void)frontend::compile_file(file, sources, diags);
    if (diags.has_errors()) continue;
    ++clean;
    for (lower::Backend backend : {lower::Backend::kInterp, lower::Backend::kJit}) {
      SCOPED_TRACE(file + (backend == lower::Backend::kJit ? " (jit)" : " (interp)"));
      const lower::LoadedPolicy loaded = lower::load_policy(file, backend);
      EXPECT_EQ(loaded.errors, 0) << loaded.diagnostics;
      const LoadOutcome outcome = probe_objects(loaded, Names::kResolve);
      EXPECT_TRUE(outcome.ok) << outcome.failure;
      if (outcome.unresolved_names > 0) {
        std::cout << file << ": " << outcome.unresolved_names
                  << " host name(s) do not resolve here; probed as 127.0.0.1\n";
      }
    }
  }
  // Every example checks clean, and so do the golden tests of warnings.
  EXPECT_GE(clean, 10);
}

}  // namespace
}  // namespace amata::invariant
