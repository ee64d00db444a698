// Escalation: a recovery may `raise` another event, whose recovery may raise another. amatad
// follows every raise (it runs the raised event's recovery), so a chain that comes back to
// an event already on it never ends: each turn restarts, signals or notifies again. Such a
// cycle is an error, as a dependency cycle is, with a note at each raise on it.
#pragma once

#include "compiler/check/context.h"

namespace amata::check {

/// Reports every cycle of raises among the checked recover rules (E0408).
void check_escalations(CheckContext& ctx);

}  // namespace amata::check
