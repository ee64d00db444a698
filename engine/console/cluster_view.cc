#include "engine/console/cluster_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "engine/console/console_backend.h"

namespace amata::console {
namespace {

using nlohmann::json;

std::int64_t unix_ms(double unix_seconds) {
  return static_cast<std::int64_t>(std::llround(unix_seconds * 1000.0));
}

json position_json(const cluster::BusMessage& entry) {
  return {{"ring", ring_text(entry.ring)}, {"view", view_text(entry.view)}, {"seq", entry.seq}};
}

}  // namespace

std::string ring_text(const cluster::RingId& ring) {
  return fmt::format("{}.{}", ring.representative, ring.seq);
}

std::string view_text(std::uint32_t view) {
  return fmt::format("{:08x}", view);
}

json cluster_record_json(const cluster::BusMessage& entry, double delivered_unix) {
  json r;
  if (entry.kind == cluster::BusMessage::Kind::kMembership) {
    r = {{"at_unix_ms", unix_ms(delivered_unix)},
         {"type", "membership"},
         {"message", console::membership_message(entry.body)},
         {"data", entry.body}};
  } else {
    // The publisher's own console record; anything else (another version) is kept as text.
    r = entry.body.is_object() ? entry.body
                               : json{{"type", "unknown"}, {"message", entry.body.dump()}};
    if (auto id = r.find("id"); id != r.end()) {
      r["origin_id"] = *id;
      r.erase("id");
    }
    r["node"] = entry.from_name;
    r["node_id"] = entry.from;
    // About a remote node, published by the ring member that serves it (remote_registry.h).
    if (const auto about = r.find("remote"); about != r.end() && about->is_object()) {
      if (const auto node = about->find("node"); node != about->end() && node->is_string()) {
        r["via"] = entry.from_name;
        r["node"] = *node;
      }
    }
    if (!r.contains("at_unix_ms") || !r["at_unix_ms"].is_number())
      r["at_unix_ms"] = unix_ms(delivered_unix);
  }
  r["scope"] = "cluster";
  r["delivered_unix_ms"] = unix_ms(delivered_unix);
  r["position"] = position_json(entry);
  return r;
}

store::ClusterLogRecord cluster_log_row(const cluster::BusMessage& entry, double delivered_unix,
                                        const json& record) {
  return store::ClusterLogRecord{0,
                                 delivered_unix,
                                 entry.from,
                                 ring_text(entry.ring),
                                 view_text(entry.view),
                                 entry.seq,
                                 record.dump(-1, ' ', false, json::error_handler_t::replace)};
}

json cluster_record_of(const store::ClusterLogRecord& row) {
  json r = json::parse(row.record, nullptr, false);
  if (!r.is_object()) {
    r = {{"type", "unknown"},
         {"scope", "cluster"},
         {"at_unix_ms", unix_ms(row.time)},
         {"message", "unreadable cluster log entry"}};
  }
  r["id"] = row.id;
  return r;
}

json cluster_status_json(const ClusterStatusInput& in) {
  const cluster::ClusterStatus& st = in.status;
  auto name_of = [&](cluster::NodeId id) {
    return in.node_name ? in.node_name(id) : "node" + std::to_string(id);
  };
  json peers = json::array();
  for (const auto& p : in.peers) {
    json runs = json::array();
    for (const auto& [service, holders] : st.holders)
      if (std::find(holders.begin(), holders.end(), p.node_id) != holders.end())
        runs.push_back(service);
    const double ago = std::chrono::duration<double>(in.now - p.since).count();
    peers.push_back(
        {{"id", p.node_id},
         {"name", p.name.empty() ? name_of(p.node_id) : p.name},
         {"member", p.member},
         {"amatad", std::binary_search(st.members.begin(), st.members.end(), p.node_id)},
         {"local", p.local},
         {"since_unix_ms", unix_ms(in.now_unix - ago)},
         {"runs", runs}});
  }
  json services = json::array();
  for (const auto& [service, owner] : st.owners) {
    json holders = json::array();
    if (auto it = st.holders.find(service); it != st.holders.end())
      for (cluster::NodeId h : it->second) holders.push_back(name_of(h));
    auto here = st.here.find(service);
    // Without quorum nothing is placed: the ledger's owner would be the best member of this
    // partition, which starts nothing. Only a copy kept here (on_quorum_loss freeze, or one
    // still stopping) has an owner, this node.
    std::optional<cluster::NodeId> placed = owner;
    if (!st.quorate) {
      placed.reset();
      if (st.running_here.count(service) && st.local_node != 0) placed = st.local_node;
    }
    services.push_back({{"name", service},
                        {"owner", placed ? json(name_of(*placed)) : json()},
                        {"holders", holders},
                        {"here", here != st.here.end() ? here->second : "stopped"}});
  }
  json mismatch = json::array();
  for (cluster::NodeId n : st.disagreeing) mismatch.push_back(name_of(n));
  return {{"name", in.name},
          {"group", in.group},
          {"connected", st.connected},
          {"quorate", st.quorate},
          {"synced", st.synced},
          {"local_node", {{"id", st.local_node}, {"name", name_of(st.local_node)}}},
          {"config_mismatch", mismatch},
          {"messages", {{"sent", st.messages_sent}, {"delivered", st.messages_delivered}}},
          {"peers", peers},
          {"services", services}};
}

std::string clustered_service_state(const cluster::ClusterStatus& status,
                                    const std::string& service) {
  return status.excluded_here.count(service) ? "not-here" : "standby";
}

}  // namespace amata::console
