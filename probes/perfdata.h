// The Nagios plugin output convention: `TEXT | label=value[UOM];warn;crit;min;max ...`, with
// optional long text on later lines and more perfdata after a '|' there. Values are
// converted to base units by their UOM (s/ms/us, %, B/KB/MB/GB/TB, c).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amata::probes {

/// One perfdata item, its value in base units (seconds, bytes, percent, plain count).
struct PerfValue {
  std::string label;
  double value = 0;
  std::string uom;
};

/// A plugin's output, split.
struct PluginOutput {
  std::string text;  // the first line, before any '|', trimmed
  std::vector<PerfValue> perf;
};

/// Parses plugin output. Malformed perfdata items are skipped, never fatal; an item whose
/// value is `U` (undetermined) is left out.
PluginOutput parse_plugin_output(std::string_view output);

/// Parses perfdata items alone (what follows a '|'), appending to `out`.
void parse_perfdata(std::string_view perfdata, std::vector<PerfValue>& out);

/// The factor from a UOM to its base unit: "ms" → 0.001, "KB" → 1024 (plugins use binary
/// prefixes: check_disk's MB are MiB), "" and "c" → 1; nullopt for an unknown UOM.
std::optional<double> perf_unit_scale(std::string_view uom);

/// The catalog status ordinal of a plugin exit code: 0 ok, 1 warning, 2 critical, else 3.
int plugin_status(int exit_code);

}  // namespace amata::probes
