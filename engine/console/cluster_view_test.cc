#include "engine/console/cluster_view.h"

#include <gtest/gtest.h>

namespace amata::console {
namespace {

using nlohmann::json;

cluster::BusMessage event_entry() {
  cluster::BusMessage m;
  m.kind = cluster::BusMessage::Kind::kEvent;
  m.from = 2;
  m.from_name = "n2";
  m.ring = {1, 52};
  m.view = 0x3fa2c011;
  m.seq = 7;
  m.body = {{"id", 17},         {"at_unix_ms", 1764081000000},
            {"type", "raised"}, {"event", "ServiceDown"},
            {"object", "web"},  {"message", "ServiceDown(web) raised by down(web)"}};
  return m;
}

TEST(ClusterView, AnEventKeepsItsOriginAndGainsItsPosition) {
  json r = cluster_record_json(event_entry(), 1764081000.125);
  EXPECT_EQ(r["scope"], "cluster");
  EXPECT_EQ(r["node"], "n2");
  EXPECT_EQ(r["node_id"], 2);
  EXPECT_EQ(r["origin_id"], 17);
  EXPECT_FALSE(r.contains("id"));             // the store gives it this node's id
  EXPECT_EQ(r["at_unix_ms"], 1764081000000);  // when it happened at its origin
  EXPECT_EQ(r["delivered_unix_ms"], 1764081000125);
  EXPECT_EQ(r["position"], (json{{"ring", "1.52"}, {"view", "3fa2c011"}, {"seq", 7}}));
  EXPECT_EQ(r["event"], "ServiceDown");
  EXPECT_EQ(r["object"], "web");
}

TEST(ClusterView, AMembershipChangeSaysWhoLeftAndWhy) {
  cluster::BusMessage m;
  m.kind = cluster::BusMessage::Kind::kMembership;
  m.ring = {1, 56};
  m.view = 0xab;
  m.body = {{"members", {"n1", "n2"}},
            {"joined", json::array()},
            {"left", {{{"node", "n3"}, {"reason", "node down"}}}}};
  json r = cluster_record_json(m, 1764081000.5);
  EXPECT_EQ(r["type"], "membership");
  EXPECT_EQ(r["scope"], "cluster");
  EXPECT_FALSE(r.contains("node"));
  EXPECT_EQ(r["message"], "members n1 n2; left n3 (node down)");
  EXPECT_EQ(r["at_unix_ms"], 1764081000500);
  EXPECT_EQ(r["position"]["view"], "000000ab");
  EXPECT_EQ(r["position"]["seq"], 0);
  EXPECT_EQ(r["data"]["left"][0]["node"], "n3");
}

TEST(ClusterView, ABodyThatIsNotARecordIsKeptAsText) {
  cluster::BusMessage m = event_entry();
  m.body = "from another version";
  json r = cluster_record_json(m, 10);
  EXPECT_EQ(r["type"], "unknown");
  EXPECT_EQ(r["message"], "\"from another version\"");
  EXPECT_EQ(r["at_unix_ms"], 10000);
}

TEST(ClusterView, RowsRoundTripAndABadRowStaysVisible) {
  json r = cluster_record_json(event_entry(), 1764081000.125);
  store::ClusterLogRecord row = cluster_log_row(event_entry(), 1764081000.125, r);
  EXPECT_EQ(row.origin, 2u);
  EXPECT_EQ(row.ring, "1.52");
  EXPECT_EQ(row.view, "3fa2c011");
  EXPECT_EQ(row.seq, 7u);
  row.id = 41;
  json back = cluster_record_of(row);
  EXPECT_EQ(back["id"], 41);
  EXPECT_EQ(back["node"], "n2");
  row.record = "{not json";
  json bad = cluster_record_of(row);
  EXPECT_EQ(bad["id"], 41);
  EXPECT_EQ(bad["scope"], "cluster");
  EXPECT_EQ(bad["type"], "unknown");
}

TEST(ClusterView, StatusNamesOwnersHoldersAndWhoRunsWhat) {
  ClusterStatusInput in;
  in.name = "demo";
  in.group = "amata-demo";
  in.status.connected = in.status.quorate = in.status.synced = true;
  in.status.local_node = 1;
  in.status.members = {1, 2};  // n3's amatad is not in the group
  in.status.owners = {{"web", 2}, {"db", std::nullopt}};
  in.status.holders = {{"web", {2}}, {"db", {}}};
  in.status.here = {{"web", "stopped"}, {"db", "stopped"}};
  in.status.disagreeing = {3};
  in.status.messages_sent = 7;
  in.status.messages_delivered = 19;
  in.now = base::Clock::now();
  in.now_unix = 1764081000;
  cluster::PeerView p1{1, "n1", true, true, true, in.now - std::chrono::seconds(60)};
  cluster::PeerView p2{2, "n2", true, true, false, in.now - std::chrono::seconds(30)};
  cluster::PeerView p3{3, "n3", false, true, false, in.now - std::chrono::seconds(5)};
  in.peers = {p1, p2, p3};
  in.node_name = [](cluster::NodeId id) { return "n" + std::to_string(id); };
  json s = cluster_status_json(in);
  EXPECT_EQ(s["name"], "demo");
  EXPECT_EQ(s["group"], "amata-demo");
  EXPECT_TRUE(s["quorate"].get<bool>());
  EXPECT_EQ(s["local_node"], (json{{"id", 1}, {"name", "n1"}}));
  EXPECT_EQ(s["config_mismatch"], json::array({"n3"}));
  EXPECT_EQ(s["messages"], (json{{"sent", 7}, {"delivered", 19}}));
  ASSERT_EQ(s["peers"].size(), 3u);
  EXPECT_EQ(s["peers"][1]["runs"], json::array({"web"}));
  EXPECT_EQ(s["peers"][0]["runs"], json::array());
  EXPECT_TRUE(s["peers"][1]["amatad"].get<bool>());
  EXPECT_FALSE(s["peers"][2]["amatad"].get<bool>());
  EXPECT_FALSE(s["peers"][2]["member"].get<bool>());
  EXPECT_EQ(s["peers"][0]["since_unix_ms"], 1764081000000 - 60000);
  ASSERT_EQ(s["services"].size(), 2u);
  EXPECT_EQ(s["services"][0]["name"], "db");  // by name
  EXPECT_TRUE(s["services"][0]["owner"].is_null());
  EXPECT_EQ(s["services"][1]["owner"], "n2");
  EXPECT_EQ(s["services"][1]["holders"], json::array({"n2"}));
  EXPECT_EQ(s["services"][1]["here"], "stopped");
}

// An isolated node's ledger still ranks the members of its own partition (itself), but
// without quorum nothing is placed: it must not name an owner while nothing runs.
TEST(ClusterView, WithoutQuorumOnlyACopyKeptHereHasAnOwner) {
  ClusterStatusInput in;
  in.status.connected = true;
  in.status.quorate = false;
  in.status.synced = true;
  in.status.local_node = 3;
  in.status.members = {3};
  in.status.owners = {{"web", 3}, {"db", 3}};
  in.status.holders = {{"web", {}}, {"db", {3}}};
  in.status.running_here = {"db"};  // on_quorum_loss freeze keeps it
  in.status.here = {{"web", "stopped"}, {"db", "running"}};
  in.node_name = [](cluster::NodeId id) { return "n" + std::to_string(id); };
  json s = cluster_status_json(in);
  ASSERT_EQ(s["services"].size(), 2u);
  EXPECT_EQ(s["services"][0]["name"], "db");
  EXPECT_EQ(s["services"][0]["owner"], "n3");
  EXPECT_EQ(s["services"][1]["name"], "web");
  EXPECT_TRUE(s["services"][1]["owner"].is_null()) << s.dump(1);
}

TEST(ClusterView, AClusteredServiceNotRunHereIsStandbyOrNotHere) {
  cluster::ClusterStatus st;
  st.excluded_here = {"db"};
  EXPECT_EQ(clustered_service_state(st, "web"), "standby");
  EXPECT_EQ(clustered_service_state(st, "db"), "not-here");
}

}  // namespace
}  // namespace amata::console
