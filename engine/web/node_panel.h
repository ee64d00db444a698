// The overview's first line: this node's CPU, memory, swap, load and pressure stalls at a
// glance, each coloured by how close it is to trouble. From the console's `status` (the
// attributes of its `node` objects), so it needs nothing the overview does not already ask.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace amata::web {

/// One panel per `node` object of `status` (none: ""). Values the node does not report (no
/// PSI in the kernel, say) are left out, never shown as zero.
std::string node_panel(const nlohmann::json& status);

}  // namespace amata::web
