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

json holding_json(const RemoteHolding& r) {
  return json{{"node", r.name},       {"via", r.via},           {"epoch", r.epoch},
              {"seq", r.seq},         {"eligible", r.eligible}, {"running", r.running},
              {"gave_up", r.gave_up}, {"granted", r.granted}};
}

Result<RemoteHolding> holding_of(const json& j) {
  if (!j.is_object()) return Error{"a remote node's holding must be an object"};
  RemoteHolding r;
  auto node = j.find("node");
  if (node == j.end() || !node->is_string() || node->get<std::string>().empty())
    return Error{"a remote node's \"node\" must be its name"};
  r.name = node->get<std::string>();
  auto via = j.find("via");
  auto via_id = via == j.end() ? std::nullopt : uint32_of(*via);
  if (!via_id) return Error{"a remote node's \"via\" must be a node id"};
  r.via = *via_id;
  auto epoch = j.find("epoch");
  if (epoch == j.end() || !epoch->is_string())
    return Error{"a remote node's \"epoch\" must be a string"};
  r.epoch = epoch->get<std::string>();
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_unsigned())
    return Error{"a remote node's \"seq\" must be a whole number"};
  r.seq = seq->get<std::uint64_t>();
  for (auto [key, field] : {std::pair{"eligible", &r.eligible}, std::pair{"running", &r.running},
                            std::pair{"gave_up", &r.gave_up}, std::pair{"granted", &r.granted}}) {
    auto names = names_of(j, key);
    if (!names) return names.error();
    *field = std::move(names).value();
  }
  return r;
}

Result<Announcement> announcement_of(const json& j) {
  Announcement a;
  auto running = names_of(j, "running");
  if (!running) return running.error();
  a.running = std::move(running).value();
  auto gave_up = names_of(j, "gave_up");
  if (!gave_up) return gave_up.error();
  a.gave_up = std::move(gave_up).value();
  if (j.contains("claims")) {
    auto claims = names_of(j, "claims");
    if (!claims) return claims.error();
    a.claims = std::move(claims).value();
  }
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
  if (auto remotes = j.find("remotes"); remotes != j.end()) {
    if (!remotes->is_array()) return Error{"\"remotes\" must be an array of holdings"};
    for (const auto& entry : *remotes) {
      auto r = holding_of(entry);
      if (!r) return r.error();
      const NodeId id = remote_node_id(r->name);
      a.remotes[id] = std::move(r).value();
    }
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
  if (!a.claims.empty()) j["claims"] = a.claims;
  if (a.placement) j["placement"] = *a.placement;
  if (!a.remotes.empty()) {
    json remotes = json::array();
    for (const auto& [id, r] : a.remotes) remotes.push_back(holding_json(r));
    j["remotes"] = std::move(remotes);
  }
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

std::string encode_alive(std::uint64_t n) {
  return wire(json{{"t", "alive"}, {"n", n}});
}

std::string encode_remote_state(const RemoteHolding& state) {
  return wire(json{{"t", "remote_state"}, {"remote", holding_json(state)}});
}

std::string encode_remote_lost(const RemoteLostNotice& lost) {
  return wire(json{{"t", "remote_lost"},
                   {"node", lost.name},
                   {"epoch", lost.epoch},
                   {"via", lost.via},
                   {"seq", lost.seq}});
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
  if (kind == "alive") {
    // An amatad of an older version sends no count.
    const auto n = j.find("n");
    return BusPayload(
        AliveNotice{n != j.end() && n->is_number_unsigned() ? n->get<std::uint64_t>() : 0});
  }
  if (kind == "remote_state") {
    auto remote = j.find("remote");
    if (remote == j.end()) return Error{"a remote_state without \"remote\""};
    auto r = holding_of(*remote);
    if (!r) return r.error();
    const NodeId id = remote_node_id(r->name);
    return BusPayload(RemoteStateNotice{id, std::move(r).value()});
  }
  if (kind == "remote_lost") {
    auto node = j.find("node");
    auto epoch = j.find("epoch");
    auto via = j.find("via");
    auto via_id = via == j.end() ? std::nullopt : uint32_of(*via);
    auto seq = j.find("seq");
    if (node == j.end() || !node->is_string() || node->get<std::string>().empty() ||
        epoch == j.end() || !epoch->is_string() || !via_id || seq == j.end() ||
        !seq->is_number_unsigned())
      return Error{
          "a remote_lost needs \"node\" (a name), \"epoch\", \"via\" (a node id) and \"seq\""};
    return BusPayload(RemoteLostNotice{node->get<std::string>(), epoch->get<std::string>(), *via_id,
                                       seq->get<std::uint64_t>()});
  }
  return BusPayload(UnknownMessage{kind});
}

}  // namespace amata::cluster
