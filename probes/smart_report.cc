#include "probes/smart_report.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace amata::probes {
namespace {

using nlohmann::json;

/// The member `key` of `j` when `j` is an object that has it, else nullptr. smartctl's
/// output is third-party text: every step down the tree checks the type first, so a
/// surprising layout gives an unknown value, never an exception.
const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::optional<double> number(const json* j) {
  if (j == nullptr || !j->is_number()) return std::nullopt;
  const auto v = j->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

/// A count: a non-negative integer (a float or a negative number is not one).
std::optional<std::uint64_t> count(const json* j) {
  if (j == nullptr) return std::nullopt;
  if (j->is_number_unsigned()) return j->get<std::uint64_t>();
  if (j->is_number_integer()) {
    const auto v = j->get<std::int64_t>();
    if (v >= 0) return static_cast<std::uint64_t>(v);
  }
  return std::nullopt;
}

/// smartctl.exit_status, which smartctl keeps in 0..255.
std::optional<int> exit_status(const json* j) {
  auto v = count(j);
  if (!v || *v > 255) return std::nullopt;
  return static_cast<int>(*v);
}

std::string joined_messages(const json* messages) {
  std::string out;
  if (messages == nullptr || !messages->is_array()) return out;
  for (const json& m : *messages) {
    const json* s = member(m, "string");
    if (s == nullptr || !s->is_string()) continue;
    if (!out.empty()) out += "; ";
    out += s->get_ref<const std::string&>();
  }
  return out;
}

/// The raw count of ATA attribute `id` in ata_smart_attributes.table.
std::optional<std::uint64_t> ata_attribute(const json* table, std::uint64_t id) {
  if (table == nullptr || !table->is_array()) return std::nullopt;
  for (const json& row : *table) {
    if (count(member(row, "id")) != id) continue;
    const json* raw = member(row, "raw");
    const json* text = raw != nullptr ? member(*raw, "string") : nullptr;
    std::string_view s = text != nullptr && text->is_string()
                             ? std::string_view(text->get_ref<const std::string&>())
                             : std::string_view();
    return ata_raw_count(raw != nullptr ? count(member(*raw, "value")) : std::nullopt, s);
  }
  return std::nullopt;
}

}  // namespace

bool SmartReport::has_smart_data() const {
  return passed || temperature || reallocated || pending || uncorrectable || media_errors ||
         percentage_used || available_spare || critical_warning || power_on_seconds;
}

std::optional<std::uint64_t> ata_raw_count(std::optional<std::uint64_t> raw_value,
                                           std::string_view raw_string) {
  std::uint64_t leading = 0;
  const char* end = raw_string.data() + raw_string.size();
  auto [rest, ec] = std::from_chars(raw_string.data(), end, leading);
  if (ec == std::errc() && rest != raw_string.data()) {
    std::string_view tail(rest, static_cast<std::size_t>(end - rest));
    if (tail.empty() || tail.starts_with(" (")) return leading;
  }
  return raw_value;
}

std::optional<SmartReport> parse_smartctl_json(std::string_view text) {
  // Without exceptions: a truncated or garbled output is a discarded value, not a throw
  // across the loop.
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;

  SmartReport r;
  if (const json* smartctl = member(doc, "smartctl")) {
    r.exit_status = exit_status(member(*smartctl, "exit_status"));
    r.messages = joined_messages(member(*smartctl, "messages"));
  }
  if (const json* status = member(doc, "smart_status")) {
    const json* passed = member(*status, "passed");
    if (passed != nullptr && passed->is_boolean()) r.passed = passed->get<bool>();
  }
  if (const json* temperature = member(doc, "temperature")) {
    r.temperature = number(member(*temperature, "current"));
  }
  if (const json* power_on = member(doc, "power_on_time")) {
    auto hours = count(member(*power_on, "hours"));
    auto minutes = count(member(*power_on, "minutes"));
    if (hours || minutes) {
      r.power_on_seconds = static_cast<double>(hours.value_or(0)) * 3600.0 +
                           static_cast<double>(minutes.value_or(0)) * 60.0;
    }
  }
  if (const json* ata = member(doc, "ata_smart_attributes")) {
    const json* table = member(*ata, "table");
    r.reallocated = ata_attribute(table, 5);
    r.pending = ata_attribute(table, 197);
    r.uncorrectable = ata_attribute(table, 198);
  }
  if (const json* nvme = member(doc, "nvme_smart_health_information_log")) {
    r.media_errors = count(member(*nvme, "media_errors"));
    r.percentage_used = number(member(*nvme, "percentage_used"));
    r.available_spare = number(member(*nvme, "available_spare"));
    r.critical_warning = count(member(*nvme, "critical_warning"));
  }
  return r;
}

}  // namespace amata::probes
