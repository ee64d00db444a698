// supervisord's value types as its options.py reads them: booleans, bounded integers,
// signal names and the `KEY=value,...` environment.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace amata::importer {

/// true|yes|on|1 or false|no|off|0 (any case) into `out`; false when `v` is neither.
bool parse_bool(std::string_view v, bool& out);

/// A whole number from `min` to `max` into `out`; false when `v` is not one.
bool parse_int(std::string_view v, long min, long max, long& out);

/// A supervisord stop signal ("TERM", "SIGTERM", "15") as an amata signal name.
std::optional<std::string> signal_name(std::string_view v);

/// `KEY="value",KEY2=value2` as supervisord's dict_of_key_value_pairs reads it.
Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view v);

}  // namespace amata::importer
