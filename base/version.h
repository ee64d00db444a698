// What every tool answers to --version, and amatad to `amatactl version` and on /metrics: the
// project's version (CMakeLists.txt's project()) and the commit it was built from.
#pragma once

#include <string>
#include <string_view>

namespace amata::base {

/// "0.1.0".
std::string_view version();
/// `git describe` of the built tree ("6bf0c2c1a2b3", "...-dirty"), or "unknown" (a tarball
/// built without AMATA_COMMIT in the environment).
std::string_view commit();
/// "amatac 0.1.0 (commit 6bf0c2c1a2b3)": the --version line of `tool`.
std::string version_line(std::string_view tool);

}  // namespace amata::base
