// libFuzzer target over the records of the cluster log (engine/console/cluster_view.h). Each
// input line is used twice: as a bus message a peer sent (decoded as ClusterManager does; an
// event's body, or any JSON as a membership change's data, becomes a console record, is kept
// as a store row and read back with cluster_record_of), and as the text of a stored row
// itself (rows written by another version, or damaged). Every record goes through the
// follow filter and amatactl's renderers. Invariants: no crash, no sanitizer report; a record
// read back from its row is the record written plus its id; every record read is a cluster
// record object with that id.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <variant>

#include "engine/cluster/bus_wire.h"
#include "engine/console/cluster_view.h"
#include "engine/console/console_backend.h"
#include "engine/console/render.h"

namespace {

using namespace amata;
using nlohmann::json;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  __builtin_trap();
}

constexpr double kDelivered = 1764081600.25;

void show(const json& record) {
  console::RenderStyle style{true, 1764081600000};
  for (bool cluster : {false, true}) {
    console::EventFilter filter;
    filter.cluster = cluster;
    filter.since_unix_ms = 0;
    filter.object = "web";
    (void)filter.matches(record);
  }
  (void)console::render_event_line(record, style);
  (void)console::render_events(json{{"events", json::array({record})}}, style);
}

void read_back(const store::ClusterLogRecord& row) {
  json record = console::cluster_record_of(row);
  if (!record.is_object() || record.value("id", json()) != json(row.id)) {
    fail("a stored row read back without its id: " + row.record);
  }
  show(record);
}

void store_and_read(const cluster::BusMessage& entry, std::int64_t id) {
  json record = console::cluster_record_json(entry, kDelivered);
  if (!console::is_cluster_record(record)) fail("a bus entry became a local record");
  store::ClusterLogRecord row = console::cluster_log_row(entry, kDelivered, record);
  row.id = id;
  json again = console::cluster_record_of(row);
  record["id"] = id;
  if (again != record) fail("a record changed through its row: " + row.record);
  show(again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  std::string line;
  std::int64_t id = 0;
  while (std::getline(lines, line)) {
    ++id;
    read_back(store::ClusterLogRecord{id, kDelivered, 2, "1.52", "3fa2c011", 7, line});
    auto message = cluster::decode_bus_payload(line);
    if (message) {
      if (auto* event = std::get_if<cluster::PublishedEvent>(&*message)) {
        store_and_read(
            cluster::BusMessage{cluster::BusMessage::Kind::kEvent, 2, "n2", cluster::RingId{1, 52},
                                0x3fa2c011, 7, static_cast<std::uint64_t>(id), event->body},
            id);
      }
    }
    json data = json::parse(line, nullptr, false);
    if (!data.is_discarded()) {
      store_and_read(
          cluster::BusMessage{cluster::BusMessage::Kind::kMembership, 0, "", cluster::RingId{1, 52},
                              0x3fa2c011, 0, static_cast<std::uint64_t>(id), data},
          id);
    }
  }
  return 0;
}
