// `amatac import monit FILE`: a monitrc (and the files its `include` statements name) as an
// .amata policy. `set daemon N` is the probe period of every object; each `check` becomes an
// object (process, filesystem, host probes, node, interface, check) and each `if ... then
// ACTION` a discover rule (`for N cycles` -> `for N checks`) with its event and, unless the
// action is `alert`, a recover rule. A checked process keeps Monit's meaning: amatad watches
// it (pidfile or matching) and runs its start and stop programs, which put the daemon in the
// background, rather than owning it as a service. Every statement the policy cannot carry
// over is a warning at its line.
#pragma once

#include <string>

#include "base/result.h"
#include "compiler/import/import_common.h"

namespace amata::importer {

/// Reads `path` (and its includes) and writes the policy. An Error when the file cannot be
/// read or cannot be split into Monit's tokens (an unclosed string or brace).
Result<Imported> import_monit(const std::string& path);

/// The same for configuration text held in memory; `name` locates the warnings, and its
/// directory is where relative include patterns point.
Result<Imported> import_monit_text(const std::string& name, std::string text);

}  // namespace amata::importer
