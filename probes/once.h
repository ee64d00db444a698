// One-shot probing for `amatad --once --json POLICY`: every object probed once, printed as
// JSON. Runs its own EventLoop, so it needs nothing from the engine.
#pragma once

#include <nlohmann/json.hpp>
#include <span>

#include "base/result.h"
#include "catalog/object_spec.h"
#include "probes/probe.h"

namespace amata::probes {

/// How probe_once samples.
struct OnceOptions {
  ProbeOptions probe;      /// roots and listeners, as for the daemon
  double interval = 0.25;  /// seconds between the two samples that give rates and cpu %
  double max_wait = 20.0;  /// seconds to wait for asynchronous probes (checks, HTTP, hosts)
};

/// Probes every object twice, `interval` apart, waits for asynchronous probes (at most
/// `max_wait`), and returns
///   {"objects": {"NAME": {"kind": "node", "attrs": {"cpu": 3.2, ...}}, ...},
///    "notices": ["NAME: ...", ...]}
/// with every attribute a probe could fill (NaN values are left out; enums as member names,
/// bools as true/false). Errors: the loop or a listener could not be created, or an object's
/// spec was unusable.
Result<nlohmann::json> probe_once(std::span<const catalog::ObjectSpec> objects,
                                  const OnceOptions& options = {});

}  // namespace amata::probes
