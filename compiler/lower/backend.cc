#include "compiler/lower/backend.h"

#include <mutex>

#include "compiler/interp/interpreter.h"

namespace amata::lower {
namespace {

Result<std::shared_ptr<jit::Jit>> process_jit() {
  static std::mutex mu;
  static std::shared_ptr<jit::Jit> jit;
  std::lock_guard lock(mu);
  if (!jit) {
    auto created = jit::Jit::create();
    if (!created.ok()) return created.error();
    jit = *created;
  }
  return jit;
}

}  // namespace

Result<std::shared_ptr<const ir::CompiledPolicy>> compile_program(
    std::shared_ptr<const ir::Program> program, const BackendOptions& options) {
  if (options.backend == Backend::kInterp) return interp::interpret(std::move(program));
  auto jit = process_jit();
  if (!jit.ok()) return jit.error();
  return (*jit)->compile(std::move(program), options.jit);
}

Result<std::shared_ptr<const ir::CompiledPolicy>> compile_checked(
    const check::CheckedPolicy& policy, const BackendOptions& options,
    const SourceText& source_text) {
  auto program = lower(policy, source_text);
  if (!program.ok()) return program.error();
  return compile_program(std::move(program).value(), options);
}

}  // namespace amata::lower
