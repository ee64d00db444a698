#include "engine/cluster/bus_wire.h"

#include <gtest/gtest.h>

#include <variant>

namespace amata::cluster {
namespace {

template <typename T>
T decoded(const std::string& payload) {
  auto message = decode_bus_payload(payload);
  EXPECT_TRUE(message.ok()) << payload << ": " << (message ? "" : message.error().message);
  if (!message || !std::holds_alternative<T>(*message)) {
    ADD_FAILURE() << payload << " did not decode as expected";
    return T{};
  }
  return std::get<T>(*message);
}

TEST(BusWire, EveryKindSurvivesEncodeAndDecode) {
  Announcement a{{"web"}, {"db"}, {4}, PlacementFingerprints{{"web", 7U}, {"db", 4294967295U}}};
  EXPECT_EQ(decoded<Announcement>(encode_announcement(a)), a);
  a.placement.reset();
  EXPECT_EQ(decoded<Announcement>(encode_announcement(a)), a);
  a.claims = {"db", "web"};
  EXPECT_EQ(decoded<Announcement>(encode_announcement(a)), a);

  auto r = decoded<FailoverRequest>(encode_failover({"web", NodeId{3}}));
  EXPECT_EQ(r.service, "web");
  EXPECT_EQ(r.target, NodeId{3});
  EXPECT_FALSE(decoded<FailoverRequest>(encode_failover({"web", std::nullopt})).target);

  EXPECT_EQ(decoded<FencedNotice>(encode_fenced(9)).node, 9U);
  nlohmann::json body{{"type", "raised"}, {"object", "web"}, {"id", 17}};
  EXPECT_EQ(decoded<PublishedEvent>(encode_event(body)).body, body);
  nlohmann::json status{{"remote_health", nlohmann::json::array()}};
  EXPECT_EQ(decoded<PublishedStatus>(encode_status(status)).body, status);
  decoded<AliveNotice>(encode_alive());
  EXPECT_EQ(decoded<UnknownMessage>(R"({"t":"hello","x":1})").kind, "hello");
}

TEST(BusWire, RemoteNodesSurviveEncodeAndDecodeAndTheirIdComesFromTheirName) {
  const RemoteHolding c1{"c1", 2, "9f3c", 7, {"db", "web"}, {"web"}, {"db"}, {"web"}};
  const auto state = decoded<RemoteStateNotice>(encode_remote_state(c1));
  EXPECT_EQ(state.state, c1);
  EXPECT_EQ(state.node, remote_node_id("c1"));

  Announcement a{{"web"}, {}, {}, std::nullopt, {{remote_node_id("c1"), c1}}};
  EXPECT_EQ(decoded<Announcement>(encode_announcement(a)), a);

  const auto lost = decoded<RemoteLostNotice>(encode_remote_lost({"c1", "9f3c", 2, 7}));
  EXPECT_EQ(lost.name, "c1");
  EXPECT_EQ(lost.epoch, "9f3c");
  EXPECT_EQ(lost.via, 2U);
  EXPECT_EQ(lost.seq, 7U);
  EXPECT_EQ(decoded<AliveNotice>(encode_alive(12)).n, 12U);
  EXPECT_EQ(decoded<AliveNotice>(R"({"t":"alive"})").n, 0U);
}

TEST(BusWire, MalformedRemoteNodeMessagesAreErrors) {
  for (
      const char* payload : {
          R"({"t":"remote_state"})",
          R"({"t":"remote_state","remote":[]})",
          R"({"t":"remote_state","remote":{"node":"","via":1,"epoch":"e","seq":1,"eligible":[],"running":[],"gave_up":[],"granted":[]}})",
          R"({"t":"remote_state","remote":{"node":"c1","via":-1,"epoch":"e","seq":1,"eligible":[],"running":[],"gave_up":[],"granted":[]}})",
          R"({"t":"remote_state","remote":{"node":"c1","via":1,"epoch":7,"seq":1,"eligible":[],"running":[],"gave_up":[],"granted":[]}})",
          R"({"t":"remote_state","remote":{"node":"c1","via":1,"epoch":"e","seq":-1,"eligible":[],"running":[],"gave_up":[],"granted":[]}})",
          R"({"t":"remote_state","remote":{"node":"c1","via":1,"epoch":"e","seq":1,"eligible":[],"running":[],"gave_up":[]}})",
          R"({"t":"remote_state","remote":{"node":"c1","via":1,"epoch":"e","seq":1,"eligible":[3],"running":[],"gave_up":[],"granted":[]}})",
          R"({"t":"remote_lost","node":"c1","epoch":"e"})",
          R"({"t":"remote_lost","node":"c1","epoch":"e","via":1})",
          R"({"t":"remote_lost","node":"c1","epoch":"e","via":1,"seq":-2})",
          R"({"t":"remote_lost","node":"","epoch":"e","via":1,"seq":1})",
          R"({"t":"remote_lost","node":"c1","epoch":null,"via":1,"seq":1})",
          R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"remotes":{}})",
          R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"remotes":[7]})",
      }) {
    EXPECT_FALSE(decode_bus_payload(payload).ok()) << payload;
  }
}

TEST(BusWire, InvalidUtf8InAnEventIsReplacedNotThrown) {
  nlohmann::json body{{"message", std::string("caf\xe9")}};
  auto text = encode_event(body);
  EXPECT_EQ(decoded<PublishedEvent>(text).body["message"], "caf\xef\xbf\xbd");
}

// Node ids and fingerprints are unsigned 32-bit integers. nlohmann's get<std::uint32_t>()
// converted anything numeric: -1 wrapped to 4294967295 and 1e300 was undefined behaviour
// (UBSan: "1e+300 is outside the range of representable values of type 'unsigned int'").
TEST(BusWire, NodeIdsOutOfRangeOrNotIntegersAreMalformed) {
  for (const char* payload : {
           R"({"t":"fenced","node":1e300})",
           R"({"t":"fenced","node":-1})",
           R"({"t":"fenced","node":2.5})",
           R"({"t":"fenced","node":4294967296})",
           R"({"t":"fenced","node":"3"})",
           R"({"t":"fenced"})",
           R"({"t":"status"})",
           R"({"t":"status","body":[1]})",
           R"({"t":"failover","service":"web","target":1e300})",
           R"({"t":"failover","service":"web","target":null})",
           R"({"t":"announce","running":[],"gave_up":[],"unfenced":[-7]})",
           R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"placement":{"web":1e300}})",
           R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"placement":null})",
           R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"claims":"web"})",
           R"({"t":"announce","running":[],"gave_up":[],"unfenced":[],"claims":[3]})",
       }) {
    EXPECT_FALSE(decode_bus_payload(payload).ok()) << payload;
  }
  EXPECT_EQ(decoded<FencedNotice>(R"({"t":"fenced","node":4294967295})").node, 4294967295U);
}

TEST(BusWire, MalformedMessagesAreErrorsNotExceptions) {
  for (const char* payload : {
           "",
           "not json",
           "[1,2]",
           "{}",
           R"({"t":1})",
           R"({"t":"announce"})",
           R"({"t":"announce","running":"web","gave_up":[],"unfenced":[]})",
           R"({"t":"announce","running":[1],"gave_up":[],"unfenced":[]})",
           R"({"t":"failover"})",
           R"({"t":"failover","service":7})",
           R"({"t":"event"})",
       }) {
    auto message = decode_bus_payload(payload);
    ASSERT_FALSE(message.ok()) << payload;
    EXPECT_FALSE(message.error().message.empty()) << payload;
  }
}

}  // namespace
}  // namespace amata::cluster
