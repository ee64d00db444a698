// Generates large, realistic policies for the `amatac check` benchmark.
#pragma once

#include <string>

namespace amata::bench {

/// A policy with `rules` discover rules over 1,000 services, 100 interfaces and 50
/// filesystems, 100 events and their recover rules. Checks clean.
std::string generate_policy(int rules);

}  // namespace amata::bench
