#include "engine/cluster/remote_registry.h"

#include <gtest/gtest.h>

namespace amata::cluster {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json attached(const std::string& node, const std::string& epoch) {
  return {{"type", "remote"},
          {"remote", {{"node", node}, {"epoch", epoch}, {"state", "attached"}}}};
}
json lost(const std::string& node, const std::string& epoch) {
  return {{"type", "remote"}, {"remote", {{"node", node}, {"epoch", epoch}, {"state", "lost"}}}};
}
json event(const std::string& node, const std::string& epoch, std::uint64_t seq) {
  return {{"type", "event"},
          {"event", "ServiceDown"},
          {"remote", {{"node", node}, {"epoch", epoch}, {"seq", seq}}}};
}

TEST(RemoteRegistryTest, FollowsAttachEventsAndLossFromTheServingMember) {
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  EXPECT_FALSE(r.apply("n1", {{"type", "event"}, {"event", "Down"}}, t0)) << "not about a remote";
  EXPECT_EQ(r.apply("n1", attached("c1", "aa"), t0)->node, "c1");
  EXPECT_TRUE(r.nodes().at("c1").member);
  EXPECT_EQ(r.nodes().at("c1").via, "n1");
  for (std::uint64_t seq = 1; seq <= 3; ++seq) (void)r.apply("n1", event("c1", "aa", seq), t0);
  EXPECT_EQ(r.acked("c1", "aa"), 3U);
  EXPECT_EQ(r.acked("c1", "bb"), 0U) << "another run of its amatad starts again";
  (void)r.apply("n1", lost("c1", "aa"), t0 + 1s);
  EXPECT_FALSE(r.nodes().at("c1").member);
  EXPECT_EQ(r.nodes().at("c1").since, t0 + 1s);
}

TEST(RemoteRegistryTest, ALossReportedAfterTheNodeMovedChangesNothing) {
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  (void)r.apply("n1", attached("c1", "aa"), t0);
  (void)r.apply("n2", attached("c1", "aa"), t0 + 1s);  // it moved before n1 noticed
  (void)r.apply("n1", lost("c1", "aa"), t0 + 2s);
  EXPECT_TRUE(r.nodes().at("c1").member);
  EXPECT_EQ(r.nodes().at("c1").via, "n2");
}

TEST(RemoteRegistryTest, AnOrphanStaysAMemberForTheGraceAndNoLonger) {
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  (void)r.apply("n1", attached("c1", "aa"), t0);
  (void)r.apply("n2", attached("c2", "bb"), t0);
  r.ring_member_left("n1", t0 + 1s);
  r.ring_member_left("n2", t0 + 2s);
  EXPECT_EQ(r.next_expiry(), t0 + 3s) << "n1's orphan first";
  EXPECT_TRUE(r.expire(t0 + 2900ms).empty());
  EXPECT_TRUE(r.nodes().at("c1").member);
  EXPECT_EQ(r.expire(t0 + 3s), std::vector<std::string>{"c1"});
  EXPECT_FALSE(r.nodes().at("c1").member);
  EXPECT_TRUE(r.nodes().at("c2").member) << "n2's orphan has its own grace";
  EXPECT_EQ(r.next_expiry(), t0 + 4s);
  EXPECT_EQ(r.expire(t0 + 4s), std::vector<std::string>{"c2"});
  EXPECT_FALSE(r.next_expiry());
  (void)r.apply("n3", attached("c2", "bb"), t0 + 4s);
  // Re-attached within the grace: it never stopped being a member.
  (void)r.apply("n2", attached("c1", "aa"), t0 + 4s);
  r.ring_member_left("n2", t0 + 5s);
  (void)r.apply("n3", attached("c1", "aa"), t0 + 6s);
  EXPECT_TRUE(r.expire(t0 + 10s).empty());
  EXPECT_TRUE(r.nodes().at("c1").member);
  EXPECT_TRUE(r.nodes().at("c2").member);
  EXPECT_EQ(r.acked("c1", "aa"), 0U);
}

TEST(RemoteRegistryTest, AJoiningMemberLearnsWhatIsServedFromTheRepeatedList) {
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  json served = {{"type", "remote"}};
  served["remote_served"] = json::array({json{{"node", "c1"}, {"epoch", "aa"}, {"acked", 7}},
                                         json{{"node", "c2"}, {"epoch", "bb"}, {"acked", 0}},
                                         json{{"node", ""}, {"epoch", "cc"}, {"acked", 1}},
                                         json{{"node", "c3"}, {"epoch", "cc"}, {"acked", -1}}});
  EXPECT_EQ(r.apply_served("n3", served, t0), (std::vector<std::string>{"c1", "c2"}));
  EXPECT_TRUE(r.nodes().at("c1").member);
  EXPECT_EQ(r.nodes().at("c1").via, "n3");
  EXPECT_EQ(r.acked("c1", "aa"), 7U);
  EXPECT_EQ(r.nodes().count("c3"), 0U);
  EXPECT_TRUE(r.apply_served("n3", attached("c1", "aa"), t0).empty());
}

TEST(RemoteRegistryTest, AServedListInsideARemoteNodesEventIsIgnored) {
  // A remote node's events reach the bus as its serving member's, with the `remote` object
  // that member writes: a node that put a served list in its own event must not be able to
  // claim other nodes are attached anywhere.
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  json forged = event("c1", "aa", 1);
  forged["remote_served"] = json::array({json{{"node", "c9"}, {"epoch", "bb"}, {"acked", 5}}});
  EXPECT_TRUE(r.apply_served("n1", forged, t0).empty());
  EXPECT_EQ(r.apply("n1", forged, t0)->node, "c1");
  EXPECT_EQ(r.nodes().count("c9"), 0U);
}

TEST(RemoteRegistryTest, IgnoresBodiesThatAreNotNotices) {
  RemoteRegistry r(2000ms);
  const auto t0 = base::Clock::now();
  for (const json& body :
       {json{{"remote", "c1"}}, json{{"remote", {{"node", "c1"}}}},
        json{{"remote", {{"node", "c1"}, {"epoch", "aa"}, {"state", "odd"}}}},
        json{{"remote", {{"node", 3}, {"epoch", "aa"}, {"seq", 1}}}},
        json{{"remote", {{"node", "c1"}, {"epoch", "aa"}, {"seq", -1}}}}, json::array()}) {
    EXPECT_FALSE(r.apply("n1", body, t0)) << body.dump();
  }
  EXPECT_TRUE(r.nodes().empty());
}

}  // namespace
}  // namespace amata::cluster
