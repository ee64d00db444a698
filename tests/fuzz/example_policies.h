// The example policies (dsl-examples/*.amata), each compiled once per fuzzer process with both
// back ends: what the replay fuzzers (`amatac test` files, `amatac eval` traces) run inputs
// against. A test file or trace names objects of one policy; an input is tried on each.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "compiler/frontend/frontend.h"
#include "compiler/lower/backend.h"
#include "compiler/lower/lower.h"

namespace amata::fuzz {

struct ExamplePolicy {
  std::string name;
  std::shared_ptr<const ir::Program> program;
  std::shared_ptr<const ir::CompiledPolicy> interp;
  std::shared_ptr<const ir::CompiledPolicy> jit;
};

/// Every policy of AMATA_EXAMPLES_DIR, in name order; aborts when one does not compile (the
/// examples are tested to compile, so that is a broken build, not a finding).
inline const std::vector<ExamplePolicy>& example_policies() {
  static const std::vector<ExamplePolicy> policies = [] {
    std::vector<std::filesystem::path> paths;
    for (const auto& entry : std::filesystem::directory_iterator(AMATA_EXAMPLES_DIR)) {
      if (entry.path().extension() == ".amata") paths.push_back(entry.path());
    }
    std::sort(paths.begin(), paths.end());
    std::vector<ExamplePolicy> out;
    for (const auto& path : paths) {
      source::SourceManager sources;
      diag::DiagnosticEngine diags;
      auto checked = frontend::compile_file(path.string(), sources, diags);
      if (!checked) {
        std::fprintf(stderr, "fuzz: %s does not compile\n", path.c_str());
        std::abort();
      }
      auto program = lower::lower(
          *checked, [&](const ast::SourceRange& r) { return std::string(sources.text(r)); });
      if (!program) std::abort();
      ExamplePolicy p{path.stem().string(), *program, nullptr, nullptr};
      auto interp = lower::compile_program(p.program, {lower::Backend::kInterp, {}});
      auto jit = lower::compile_program(p.program, {lower::Backend::kJit, {}});
      if (!interp || !jit) std::abort();
      p.interp = *interp;
      p.jit = *jit;
      out.push_back(std::move(p));
    }
    if (out.empty()) std::abort();
    return out;
  }();
  return policies;
}

/// Stops the fuzzer with a message: the two back ends disagree, or an invariant broke.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace amata::fuzz
