// Monit's values and comparison operators in the spellings .amata writes: "200.0 MB" ->
// "200.0MiB", "greater" -> ">". A value must have the dimension of what it is compared with.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "compiler/import/monit_lexer.h"

namespace amata::importer {

/// The dimension a compared attribute has; the value written must have it too.
enum class Dim { kPercent, kBytes, kByteRate, kRate, kDuration, kCount };

/// A Monit value at `t[i]` ("80%", "200.0 MB", "500 kb/s", "10 milliseconds", "3") as an
/// .amata literal of the dimension `want`, `i` moved past it; or nullopt with `why` set.
std::optional<std::string> literal(const Tokens& t, std::size_t& i, Dim want, std::string& why);

/// A comparison operator at `t[i]` in Monit's spellings, as .amata writes it, `i` moved past
/// it; nullopt when there is none.
std::optional<std::string> comparison(const Tokens& t, std::size_t& i);

}  // namespace amata::importer
