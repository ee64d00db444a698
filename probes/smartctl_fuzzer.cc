// libFuzzer target: the smartctl JSON report parser on arbitrary bytes (smartctl's output,
// or a wrapper's, is whatever a third-party program prints, cut at any byte by a timeout).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/smart_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto report = amata::probes::parse_smartctl_json(text);
  if (!report) return 0;
  // What the probe writes must be a number or unknown, never infinite: the parser drops
  // non-finite values, and smartctl keeps its exit status in one byte.
  if (report->temperature && !std::isfinite(*report->temperature)) __builtin_trap();
  if (report->percentage_used && !std::isfinite(*report->percentage_used)) __builtin_trap();
  if (report->available_spare && !std::isfinite(*report->available_spare)) __builtin_trap();
  if (report->power_on_seconds && !std::isfinite(*report->power_on_seconds)) __builtin_trap();
  if (report->exit_status && (*report->exit_status < 0 || *report->exit_status > 255)) {
    __builtin_trap();
  }
  // A raw string never yields a count out of thin air: with no value and no leading
  // integer there is nothing.
  auto count = amata::probes::ata_raw_count(std::nullopt, text);
  if (count && (text.empty() || text[0] < '0' || text[0] > '9')) __builtin_trap();
  return 0;
}
