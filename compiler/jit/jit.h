// The native back end: one fused discover function per policy, compiled by LLVM ORC (LLJIT)
// into its own JITDylib. LLVM stays behind this header: nothing here names an LLVM type, so
// only amata_jit links libLLVM and no exception ever crosses an LLVM frame.
//
// Tiers: the default tier runs no IR passes and uses CodeGenOptLevel::None (fast isel):
// 13-28 ms of CPU for 1,000 rules on a shared 2-vCPU VM (docs/benchmarks.md). The optimising
// tier (CodeGenOptLevel::Default without the passes that dominate on one huge function: X86
// domain reassignment, the machine schedulers, the machine combiner) can be compiled in the
// background and swapped in atomically; see JitOptions.
//
// Reload: compile the new policy beside the old one (each has its own JITDylib and
// ResourceTracker); drop the old shared_ptr when no evaluation holds it, and its code is
// removed from the process.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/ir/ir.h"

namespace amata::jit {

enum class Tier {
  kFast,       // no IR passes, CodeGenOptLevel::None
  kOptimised,  // CodeGenOptLevel::Default, minus the passes that dominate on one huge function
};

struct JitOptions {
  Tier tier = Tier::kFast;
  /// With kFast: also compile kOptimised on a background thread and switch to it once ready.
  bool optimise_in_background = false;
};

class JitEngine;

/// A process-wide JIT: an LLJIT per tier, created on first use. Thread-safe.
class Jit {
 public:
  /// Creates the JIT (initialises LLVM's native target once per process).
  static Result<std::shared_ptr<Jit>> create();
  ~Jit();
  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;

  /// Compiles `program` (finalized) into a new JITDylib. Errors: malformed program, bad
  /// regex, LLVM failure. The policy keeps this Jit alive.
  Result<std::shared_ptr<const ir::CompiledPolicy>> compile(
      std::shared_ptr<const ir::Program> program, const JitOptions& options = {});

  /// Number of policies whose code is currently loaded (for reload tests).
  int live_policies() const;

 private:
  Jit();
  std::shared_ptr<JitEngine> engine_;
};

/// The LLVM IR of `program`'s discover function, as text (`amatac build --emit-llvm`).
Result<std::string> emit_llvm(const ir::Program& program);

/// Whether a JIT policy has switched to its optimised code (tests and `amatactl status`).
bool is_optimised(const ir::CompiledPolicy& policy);

}  // namespace amata::jit
