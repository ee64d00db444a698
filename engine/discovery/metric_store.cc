#include "engine/discovery/metric_store.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace amata::discovery {

MetricStore::MetricStore(const ir::PolicyTables& tables, ChangeCallback on_change,
                         NoticeCallback on_notice)
    : tables_(tables),
      on_change_(std::move(on_change)),
      on_notice_(std::move(on_notice)),
      numbers_(static_cast<std::size_t>(tables.number_slot_count), std::nan("")),
      strings_(static_cast<std::size_t>(tables.string_slot_count)),
      check_times_(ir::check_clock_count(tables.objects.size()), std::nan("")),
      number_slot_(tables.objects.size()),
      string_slot_(tables.objects.size()),
      latest_numbers_(tables.objects.size()),
      latest_strings_(tables.objects.size()) {
  for (const auto& slot : tables.slots) {
    if (slot.object < 0 || static_cast<std::size_t>(slot.object) >= tables.objects.size()) continue;
    auto& index = slot.is_string ? string_slot_[static_cast<std::size_t>(slot.object)]
                                 : number_slot_[static_cast<std::size_t>(slot.object)];
    index[slot.attribute] = slot.index;
  }
}

void MetricStore::set_number(int object, std::string_view attribute, double value) {
  auto o = static_cast<std::size_t>(object);
  if (o >= number_slot_.size()) return;
  auto latest = latest_numbers_[o].find(attribute);
  if (latest == latest_numbers_[o].end()) {
    latest_numbers_[o].emplace(std::string(attribute), value);
  } else {
    latest->second = value;
  }
  auto& index = number_slot_[o];
  if (index.empty()) return;
  auto it = index.find(std::string(attribute));
  if (it != index.end()) numbers_[static_cast<std::size_t>(it->second)] = value;
}

void MetricStore::set_string(int object, std::string_view attribute, std::string_view value) {
  auto o = static_cast<std::size_t>(object);
  if (o >= string_slot_.size()) return;
  latest_strings_[o][std::string(attribute)] = std::string(value);
  auto& index = string_slot_[o];
  if (index.empty()) return;
  auto it = index.find(std::string(attribute));
  if (it != index.end()) strings_[static_cast<std::size_t>(it->second)] = std::string(value);
}

void MetricStore::changed(int object) {
  if (on_change_) on_change_(object, true);
}

void MetricStore::sampled(int object) {
  auto o = static_cast<std::size_t>(object);
  if (o < tables_.objects.size()) check_times_[ir::probe_clock(object)] = base::monotonic_now();
  if (on_change_) on_change_(object, false);
}

void MetricStore::health_checked(int object) {
  const std::size_t objects = tables_.objects.size();
  if (static_cast<std::size_t>(object) >= objects) return;
  check_times_[static_cast<std::size_t>(ir::health_clock(objects, object))] = base::monotonic_now();
}

void MetricStore::notice(int object, std::string_view message) {
  if (on_notice_) on_notice_(object, message);
}

ir::Samples MetricStore::samples() const {
  // Until every object has completed a sample, let discover() count each call as a check.
  // (Only the probe clocks: an object without health checks never ticks its health clock.)
  bool all_sampled = true;
  for (std::size_t o = 0; o < tables_.objects.size(); ++o) {
    all_sampled &= !std::isnan(check_times_[ir::probe_clock(static_cast<int>(o))]);
  }
  return ir::Samples{
      numbers_, strings_,
      all_sampled ? std::span<const double>(check_times_) : std::span<const double>()};
}

const std::map<std::string, double, std::less<>>& MetricStore::numbers_of(int object) const {
  static const std::map<std::string, double, std::less<>> kEmpty;
  auto o = static_cast<std::size_t>(object);
  return o < latest_numbers_.size() ? latest_numbers_[o] : kEmpty;
}

const std::map<std::string, std::string, std::less<>>& MetricStore::strings_of(int object) const {
  static const std::map<std::string, std::string, std::less<>> kEmpty;
  auto o = static_cast<std::size_t>(object);
  return o < latest_strings_.size() ? latest_strings_[o] : kEmpty;
}

std::string MetricStore::values_json(const std::vector<int>& objects) const {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& slot : tables_.slots) {
    bool wanted = false;
    for (int o : objects) wanted |= o == slot.object;
    if (!wanted) continue;
    std::string key =
        tables_.objects[static_cast<std::size_t>(slot.object)].name + "." + slot.attribute;
    if (slot.is_string) {
      values[key] = strings_[static_cast<std::size_t>(slot.index)];
    } else {
      double v = numbers_[static_cast<std::size_t>(slot.index)];
      values[key] = std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
    }
  }
  // String samples are what probes read (a check plugin's output may be in any encoding):
  // invalid UTF-8 becomes U+FFFD rather than an exception that loses the event.
  return values.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace amata::discovery
