// libFuzzer target: the Nagios plugin output and perfdata parser on arbitrary bytes (plugin
// output is whatever a third-party program prints).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/perfdata.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto out = amata::probes::parse_plugin_output(text);
  for (const auto& p : out.perf) {
    if (p.label.empty()) __builtin_trap();  // an item always has a label
  }
  return 0;
}
