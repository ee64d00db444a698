#include "compiler/check/ranges.h"

#include <cmath>

#include "compiler/check/context.h"

namespace amata::check {

std::string format_duration(double seconds) {
  struct Unit {
    const char* suffix;
    double scale;
  };
  static constexpr Unit kUnits[] = {{"h", kHour}, {"min", 60}, {"s", 1}, {"ms", kMillisecond}};
  for (const Unit& u : kUnits) {
    const double n = seconds / u.scale;
    if (n >= 1 && (n == std::round(n) || u.scale == kHour)) return format_number(n) + u.suffix;
  }
  return format_number(seconds / kMillisecond) + "ms";
}

std::string describe(const DurationRange& range) {
  return "from " + format_duration(range.min) + " to " + format_duration(range.max);
}

}  // namespace amata::check
