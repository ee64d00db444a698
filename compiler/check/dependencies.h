// Dependencies: `depends` names services, and no service depends on itself, directly or
// through others.
#pragma once

#include "compiler/check/context.h"

namespace amata::check {

/// Part of the objects pass: resolves every `depends` and reports cycles.
void check_dependencies(CheckContext& ctx);

}  // namespace amata::check
