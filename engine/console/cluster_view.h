// What the console shows of the cluster (docs/console.md, "The cluster view"): the records
// of the cluster history as amatad stores and streams them, and the `cluster` object of the
// status command. Pure functions of the cluster layer's state, so they are tested without
// Corosync.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "engine/cluster/cluster_manager.h"
#include "engine/store/event_store.h"

namespace amata::console {

/// "representative.seq", as corosync-cfgtool prints a ring.
std::string ring_text(const cluster::RingId& ring);
/// The view as eight hex digits.
std::string view_text(std::uint32_t view);

/// The console record of one history entry as this node delivered it at `delivered_unix`
/// (seconds): the publisher's own record (its id kept as "origin_id") with "scope":
/// "cluster", "node", "node_id", "position" and "delivered_unix_ms"; a membership change
/// becomes a record of type "membership". The store assigns "id".
nlohmann::json cluster_record_json(const cluster::BusMessage& entry, double delivered_unix);

/// The row of the cluster log that keeps `record` (from cluster_record_json).
store::ClusterLogRecord cluster_log_row(const cluster::BusMessage& entry, double delivered_unix,
                                        const nlohmann::json& record);

/// The record of a stored row, with its id; a row that does not parse becomes a record that
/// says so rather than disappearing.
nlohmann::json cluster_record_of(const store::ClusterLogRecord& row);

/// What the status command shows of the cluster.
struct ClusterStatusInput {
  std::string name;   // the policy's cluster declaration
  std::string group;  // its CPG group
  cluster::ClusterStatus status;
  std::vector<cluster::PeerView> peers;
  std::function<std::string(cluster::NodeId)> node_name;
  double now_unix = 0;  // to turn the peers' steady-clock `since` into wall-clock times
  base::Clock::time_point now;
};
nlohmann::json cluster_status_json(const ClusterStatusInput& in);

/// The `state` status shows for a clustered service this node does not run (the supervisor
/// holds it back, unmonitored): "not-here" when its placement excludes this node
/// (`only_preferred`), else "standby" (this node may take it over).
std::string clustered_service_state(const cluster::ClusterStatus& status,
                                    const std::string& service);

}  // namespace amata::console
