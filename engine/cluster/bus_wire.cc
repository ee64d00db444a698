#include "engine/cluster/bus_wire.h"

#include <cstdint>
#include <limits>
#include <optional>

namespace amata::cluster {
namespace {

using nlohmann::json;

std::string wire(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An unsigned 32-bit integer as JSON writes one. nlohmann's get<std::uint32_t>() would
// accept -1, 2.5 or 1e300 and convert them (the last one undefined behaviour).
std::optional<std::uint32_t> uint32_of(const json& v) {
  if (!v.is_number_unsigned()) return std::nullopt;
  const auto n = v.get<std::uint64_t>();
  if (n > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

Result<std::set<std::string>> names_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return Error{std::string("\"") + key + "\" must be an array of names"};
  }
  std::set<std::string> out;
  for (const auto& name : *it) {
    if (!name.is_string()) return Error{std::string("\"") + key + "\" must be an array of names"};
    out.insert(name.get<std::string>());
  }
  return out;
}

Result<Announcement> announcement_of(const json& j) {
  Announcement a;
  auto running = names_of(j, "running");
  if (!running) return running.error();
  a.running = std::move(running).value();
  auto gave_up = names_of(j, "gave_up");
  if (!gave_up) return gave_up.error();
  a.gave_up = std::move(gave_up).value();
  auto unfenced = j.find("unfenced");
  if (unfenced == j.end() || !unfenced->is_array()) {
    return Error{"\"unfenced\" must be an array of node ids"};
  }
  for (const auto& node : *unfenced) {
    auto id = uint32_of(node);
    if (!id) return Error{"\"unfenced\" must be an array of node ids"};
    a.unfenced.insert(*id);
  }
  if (auto placement = j.find("placement"); placement != j.end()) {
    if (!placement->is_object()) {
      return Error{"\"placement\" must map service names to fingerprints"};
    }
    PlacementFingerprints fingerprints;
    for (const auto& [service, fingerprint] : placement->items()) {
      auto value = uint32_of(fingerprint);
      if (!value) return Error{"\"placement\" must map service names to fingerprints"};
      fingerprints[service] = *value;
    }
    a.placement = std::move(fingerprints);
  }
  return a;
}

Result<FailoverRequest> failover_of(const json& j) {
  auto service = j.find("service");
  if (service == j.end() || !service->is_string()) return Error{"\"service\" must be a name"};
  FailoverRequest r{service->get<std::string>(), std::nullopt};
  if (auto target = j.find("target"); target != j.end()) {
    r.target = uint32_of(*target);
    if (!r.target) return Error{"\"target\" must be a node id"};
  }
  return r;
}

}  // namespace

std::string encode_announcement(const Announcement& a) {
  json j{
      {"t", "announce"}, {"running", a.running}, {"gave_up", a.gave_up}, {"unfenced", a.unfenced}};
  if (a.placement) j["placement"] = *a.placement;
  return wire(j);
}

std::string encode_failover(const FailoverRequest& request) {
  json j{{"t", "failover"}, {"service", request.service}};
  if (request.target) j["target"] = *request.target;
  return wire(j);
}

std::string encode_fenced(NodeId node) {
  return wire(json{{"t", "fenced"}, {"node", node}});
}

std::string encode_event(json body) {
  return wire(json{{"t", "event"}, {"body", std::move(body)}});
}

std::string encode_status(json body) {
  return wire(json{{"t", "status"}, {"body", std::move(body)}});
}

std::string encode_alive() {
  return wire(json{{"t", "alive"}});
}

Result<BusPayload> decode_bus_payload(std::string_view payload) {
  json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"not JSON"};
  if (!j.is_object()) return Error{"not a JSON object"};
  auto kind_it = j.find("t");
  if (kind_it == j.end() || !kind_it->is_string()) return Error{"no string \"t\" (the kind)"};
  const std::string kind = kind_it->get<std::string>();
  if (kind == "announce") {
    auto a = announcement_of(j);
    if (!a) return a.error();
    return BusPayload(std::move(a).value());
  }
  if (kind == "failover") {
    auto r = failover_of(j);
    if (!r) return r.error();
    return BusPayload(std::move(r).value());
  }
  if (kind == "fenced") {
    auto node = j.find("node");
    auto id = node == j.end() ? std::nullopt : uint32_of(*node);
    if (!id) return Error{"\"node\" must be a node id"};
    return BusPayload(FencedNotice{*id});
  }
  if (kind == "event") {
    auto body = j.find("body");
    if (body == j.end()) return Error{"an event without \"body\""};
    return BusPayload(PublishedEvent{std::move(*body)});
  }
  if (kind == "status") {
    auto body = j.find("body");
    if (body == j.end() || !body->is_object()) return Error{"a status whose \"body\" is no object"};
    return BusPayload(PublishedStatus{std::move(*body)});
  }
  if (kind == "alive") return BusPayload(AliveNotice{});
  return BusPayload(UnknownMessage{kind});
}

}  // namespace amata::cluster
