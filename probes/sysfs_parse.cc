#include "probes/sysfs_parse.h"

#include <array>
#include <charconv>

namespace amata::probes {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/// The ordinal of `word` in `names`, where '-' in `word` counts as '_'.
template <std::size_t N>
std::optional<int> ordinal(std::string_view word, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    std::string_view name = names[i];
    if (name.size() != word.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < name.size() && same; ++k) {
      char c = word[k] == '-' ? '_' : word[k];
      same = c == name[k];
    }
    if (same) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

constexpr std::array<std::string_view, 5> kHwmonPrefixes = {"temp", "fan", "in", "curr", "power"};

}  // namespace

std::string_view trim_sysfs(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::optional<std::int64_t> parse_sysfs_int(std::string_view text) {
  text = trim_sysfs(text);
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<HwmonName> parse_hwmon_name(std::string_view name) {
  for (std::size_t t = 0; t < kHwmonPrefixes.size(); ++t) {
    std::string_view prefix = kHwmonPrefixes[t];
    if (name.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = name.substr(prefix.size());
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    // "intrusion0_alarm" starts with "in" but no digit follows; indexes are small, and a
    // bound keeps the conversion from overflowing on a hostile name.
    if (digits == 0 || digits > 6) return std::nullopt;
    HwmonName out;
    out.type = static_cast<HwmonType>(t);
    std::from_chars(rest.data(), rest.data() + digits, out.index);
    rest.remove_prefix(digits);
    if (rest.empty()) return out;
    if (rest.size() < 2 || rest[0] != '_') return std::nullopt;
    out.item = rest.substr(1);
    return out;
  }
  return std::nullopt;
}

std::string_view hwmon_type_prefix(HwmonType type) {
  return kHwmonPrefixes[static_cast<std::size_t>(type)];
}

bool valid_trip_millicelsius(std::int64_t value) {
  return value > -273150;
}

std::optional<int> md_array_state_ordinal(std::string_view text) {
  static constexpr std::array<std::string_view, 10> kStates = {
      "clear", "inactive", "suspended",     "readonly",    "read_auto",
      "clean", "active",   "write_pending", "active_idle", "broken"};
  return ordinal(trim_sysfs(text), kStates);
}

std::optional<int> md_sync_action_ordinal(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kActions = {
      "idle", "resync", "recover", "check", "repair", "reshape", "frozen"};
  return ordinal(trim_sysfs(text), kActions);
}

std::optional<double> parse_md_sync_completed(std::string_view text) {
  text = trim_sysfs(text);
  std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;  // "none", "delayed"
  auto done = parse_u64(trim_sysfs(text.substr(0, slash)));
  auto total = parse_u64(trim_sysfs(text.substr(slash + 1)));
  if (!done || !total || *total == 0) return std::nullopt;
  // A reshape can briefly show more done than its old total: keep the percentage in range.
  double percent = static_cast<double>(*done) / static_cast<double>(*total) * 100.0;
  return percent > 100.0 ? 100.0 : percent;
}

bool md_dev_state_faulty(std::string_view text) {
  text = trim_sysfs(text);
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    if (trim_sysfs(text.substr(0, comma)) == "faulty") return true;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace amata::probes
