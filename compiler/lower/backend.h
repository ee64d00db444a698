// From a checked policy to a running CompiledPolicy in one call, with the back end chosen by
// the caller: what amatad (load and reload) and amatac (eval, test, build) use.
#pragma once

#include <memory>

#include "base/result.h"
#include "compiler/check/checked_policy.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/jit/jit.h"
#include "compiler/lower/lower.h"

namespace amata::lower {

enum class Backend { kInterp, kJit };

struct BackendOptions {
  Backend backend = Backend::kJit;
  jit::JitOptions jit;  // tier and background optimisation, for kJit
};

/// Lowers `policy` and compiles it with the chosen back end. The JIT is created once per
/// process on first use.
Result<std::shared_ptr<const ir::CompiledPolicy>> compile_checked(
    const check::CheckedPolicy& policy, const BackendOptions& options = {},
    const SourceText& source_text = {});

/// Compiles an already lowered program.
Result<std::shared_ptr<const ir::CompiledPolicy>> compile_program(
    std::shared_ptr<const ir::Program> program, const BackendOptions& options = {});

}  // namespace amata::lower
