#include "engine/console/console_backend.h"

#include <array>

namespace amata::console {
namespace {

constexpr std::array<std::pair<ControlVerb, std::string_view>, 5> kVerbs{{
    {ControlVerb::kRestart, "restart"},
    {ControlVerb::kStart, "start"},
    {ControlVerb::kStop, "stop"},
    {ControlVerb::kMonitor, "monitor"},
    {ControlVerb::kUnmonitor, "unmonitor"},
}};

bool string_field_is(const nlohmann::json& record, const char* key, const std::string& want) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() && it->get_ref<const std::string&>() == want;
}

}  // namespace

bool is_cluster_record(const nlohmann::json& record) {
  if (!record.is_object()) return false;
  auto it = record.find("scope");
  return it != record.end() && it->is_string() &&
         it->get_ref<const std::string&>() == kClusterScope;
}

namespace {

// The names of a list, separated by `separator`; "-" when there are none.
std::string names_of(const nlohmann::json& object, const char* key, const char* separator) {
  std::string out;
  auto it = object.find(key);
  if (it != object.end() && it->is_array()) {
    for (const auto& name : *it) {
      if (!out.empty()) out += separator;
      out += name.is_string() ? name.get<std::string>() : name.dump();
    }
  }
  return out;
}

}  // namespace

std::string membership_message(const nlohmann::json& data) {
  if (!data.is_object()) return "members -";
  std::string members = names_of(data, "members", " ");
  std::string text = "members " + (members.empty() ? "-" : members);
  if (auto joined = names_of(data, "joined", " "); !joined.empty()) text += "; joined " + joined;
  std::string left;
  if (auto it = data.find("left"); it != data.end() && it->is_array()) {
    for (const auto& departure : *it) {
      if (!left.empty()) left += ", ";
      if (!departure.is_object()) {
        left += departure.dump();
        continue;
      }
      auto node = departure.find("node");
      left += node != departure.end() && node->is_string() ? node->get<std::string>() : "?";
      auto reason = departure.find("reason");
      if (reason != departure.end() && reason->is_string())
        left += " (" + reason->get<std::string>() + ")";
    }
  }
  if (!left.empty()) text += "; left " + left;
  return text;
}

bool EventFilter::matches(const nlohmann::json& event_record) const {
  if (!event_record.is_object()) return false;
  if (is_cluster_record(event_record) != cluster) return false;
  if (since_unix_ms) {
    auto it = event_record.find("at_unix_ms");
    if (it == event_record.end() || !it->is_number() || it->get<double>() < *since_unix_ms) {
      return false;
    }
  }
  if (object && !string_field_is(event_record, "object", *object)) return false;
  if (event && !string_field_is(event_record, "event", *event)) return false;
  return true;
}

std::string_view to_string(ControlVerb verb) {
  for (const auto& [v, name] : kVerbs) {
    if (v == verb) return name;
  }
  return "unknown";
}

std::optional<ControlVerb> control_verb_from(std::string_view name) {
  for (const auto& [v, spelled] : kVerbs) {
    if (spelled == name) return v;
  }
  return std::nullopt;
}

}  // namespace amata::console
