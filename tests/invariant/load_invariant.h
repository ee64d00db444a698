// The promise of amatac check, as a function both the ctest and the fuzzer run: a policy the
// front end accepts, amatad loads. "Loads" is what amatad does at start and on reload short
// of starting services: lower::load_policy with the back end, then a probes::ProbeSet on a
// real base::EventLoop with every object added (resolve endpoints, compile `match`
// regexes, open /proc, create curl handles, ...).
#pragma once

#include <string>

#include "compiler/lower/backend.h"
#include "compiler/lower/policy_loader.h"

namespace amata::invariant {

/// What amatad would say loading a policy; `ok` false with the first failure otherwise.
struct LoadOutcome {
  bool ok = false;
  std::string failure;
  int objects = 0;
  /// Host names that did not resolve on this machine, retried with a literal address:
  /// whether a name resolves is the resolver's business (like whether a user exists), not
  /// the policy's, and the checker only holds names to RFC 1123.
  int unresolved_names = 0;
};

/// How load_like_amatad treats host names.
enum class Names {
  kResolve,       // resolve them as amatad does; a name that does not resolve is retried as
                  // 127.0.0.1 and counted (the ctest)
  kNeverResolve,  // replace every name by 127.0.0.1 before adding (the fuzzer: no DNS)
};

/// Loads `loaded` (the result of lower::load_policy[_text]) as amatad would.
LoadOutcome probe_objects(const lower::LoadedPolicy& loaded, Names names);

}  // namespace amata::invariant
