#include "probes/perfdata.h"

#include <charconv>

namespace amata::probes {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::optional<double> perf_unit_scale(std::string_view uom) {
  struct Entry {
    std::string_view uom;
    double scale;
  };
  static constexpr Entry kUnits[] = {
      {"", 1},
      {"c", 1},
      {"%", 1},
      {"s", 1},
      {"ms", 1e-3},
      {"us", 1e-6},
      {"B", 1},
      {"KB", 1024.0},
      {"MB", 1024.0 * 1024},
      {"GB", 1024.0 * 1024 * 1024},
      {"TB", 1024.0 * 1024 * 1024 * 1024},
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"TiB", 1024.0 * 1024 * 1024 * 1024},
  };
  for (const auto& e : kUnits) {
    if (e.uom == uom) return e.scale;
  }
  return std::nullopt;
}

int plugin_status(int exit_code) {
  return exit_code >= 0 && exit_code <= 3 ? exit_code : 3;
}

void parse_perfdata(std::string_view s, std::vector<PerfValue>& out) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (i >= s.size()) break;
    std::string label;
    if (s[i] == '\'') {
      // Quoted label: may contain spaces and '='; '' is a literal quote.
      ++i;
      for (;;) {
        if (i >= s.size()) return;
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            label.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        label.push_back(s[i++]);
      }
    } else {
      while (i < s.size() && s[i] != '=' && !is_space(s[i])) label.push_back(s[i++]);
    }
    if (i >= s.size() || s[i] != '=' || label.empty()) {
      // Not an item: skip to the next whitespace and try again.
      while (i < s.size() && !is_space(s[i])) ++i;
      continue;
    }
    ++i;  // '='
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    std::string_view item = s.substr(start, i - start);  // value[UOM];warn;crit;min;max
    std::string_view value_uom = item.substr(0, item.find(';'));
    double value = 0;
    auto [end, ec] = std::from_chars(value_uom.data(), value_uom.data() + value_uom.size(), value);
    if (ec != std::errc() || end == value_uom.data()) continue;  // "U" or garbage
    std::string_view uom(end, static_cast<std::size_t>(value_uom.data() + value_uom.size() - end));
    auto scale = perf_unit_scale(uom);
    // An unknown UOM keeps its raw value: better a number in the plugin's unit than none.
    out.push_back(PerfValue{std::move(label), value * scale.value_or(1.0), std::string(uom)});
  }
}

PluginOutput parse_plugin_output(std::string_view output) {
  PluginOutput result;
  std::size_t nl = output.find('\n');
  std::string_view first = output.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : output.substr(nl + 1);
  std::size_t bar = first.find('|');
  result.text = std::string(trim(first.substr(0, bar)));
  if (bar != std::string_view::npos) parse_perfdata(first.substr(bar + 1), result.perf);
  // Long output: text lines, then perfdata from the first '|' to the end.
  std::size_t long_bar = rest.find('|');
  if (long_bar != std::string_view::npos) parse_perfdata(rest.substr(long_bar + 1), result.perf);
  return result;
}

}  // namespace amata::probes
