// The test of an `if TEST then ACTION` as a rule's condition: "cpu usage > 80% for 3 cycles"
// -> `web.cpu > 80% for 3 checks`, by the kind of the check's object (process, node,
// filesystem, interface, host, check). A port or ping test also adds the host object it
// probes (CheckContext::pending_objects).
#pragma once

#include <string>

#include "compiler/import/monit_lexer.h"
#include "compiler/import/monit_rules.h"

namespace amata::importer {

/// The test `t` (noise words removed) into `r.condition` and `r.temporal`; false with `why`
/// set when amata has no equivalent.
bool condition(CheckContext& x, Tokens t, Rule& r, std::string& why);

}  // namespace amata::importer
