// The reference back end: discover() walks the IR. Slower than the JIT, but with no LLVM, no
// compile time, and the semantics every other back end is tested against.
#pragma once

#include <memory>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"
#include "compiler/ir/ir.h"

namespace amata::interp {

/// Makes an interpreted policy of `program` (finalized). Fails if the program is malformed
/// or a regex does not compile.
Result<std::shared_ptr<const ir::CompiledPolicy>> interpret(
    std::shared_ptr<const ir::Program> program);

}  // namespace amata::interp
