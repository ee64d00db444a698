// Signals by name, for `signal OBJ SIG` and a service's `stop SIG` (signal_number, the
// lookup itself, is part of checker.h's interface).
#pragma once

#include <string_view>
#include <vector>

namespace amata::check {

/// Every signal name a policy may use, without the SIG prefix (for did-you-mean).
std::vector<std::string_view> signal_names();

}  // namespace amata::check
