#include "engine/console/console_backend.h"

#include <gtest/gtest.h>

namespace amata::console {
namespace {

using Json = nlohmann::json;

TEST(EventFilter, MatchesOnEveryGivenField) {
  Json event = {{"id", 7}, {"at_unix_ms", 1000}, {"event", "ServiceDown"}, {"object", "web"}};
  EXPECT_TRUE(EventFilter{}.matches(event));
  EventFilter since;
  since.since_unix_ms = 1000;
  EXPECT_TRUE(since.matches(event));
  since.since_unix_ms = 1001;
  EXPECT_FALSE(since.matches(event));
  EventFilter object;
  object.object = "web";
  EXPECT_TRUE(object.matches(event));
  object.object = "db";
  EXPECT_FALSE(object.matches(event));
  EventFilter name;
  name.event = "ServiceDown";
  name.object = "web";
  EXPECT_TRUE(name.matches(event));
  name.event = "LinkDown";
  EXPECT_FALSE(name.matches(event));
  // Records without the field, or with the wrong type, do not match a filter on it.
  EXPECT_FALSE(object.matches(Json{{"at_unix_ms", 1}}));
  EXPECT_FALSE(since.matches(Json{{"at_unix_ms", "soon"}}));
  EXPECT_FALSE(EventFilter{}.matches(Json::array()));
}

TEST(EventFilter, KeepsTheLocalHistoryAndTheClusterLogApart) {
  Json local = {{"id", 7}, {"at_unix_ms", 1000}, {"type", "raised"}, {"object", "web"}};
  Json cluster = {{"id", 42},
                  {"at_unix_ms", 1000},
                  {"scope", "cluster"},
                  {"type", "raised"},
                  {"node", "n2"},
                  {"object", "web"},
                  {"position", {{"ring", "1.52"}, {"view", "3fa2c011"}, {"seq", 7}}}};
  Json membership = {{"id", 41},
                     {"at_unix_ms", 900},
                     {"scope", "cluster"},
                     {"type", "membership"},
                     {"data", {{"members", {"n1", "n2"}}}}};
  EventFilter local_view;
  EXPECT_TRUE(local_view.matches(local));
  EXPECT_FALSE(local_view.matches(cluster));
  EXPECT_FALSE(local_view.matches(membership));
  EventFilter cluster_view;
  cluster_view.cluster = true;
  EXPECT_FALSE(cluster_view.matches(local));
  EXPECT_TRUE(cluster_view.matches(cluster));
  EXPECT_TRUE(cluster_view.matches(membership));
  // The other criteria still apply inside the cluster view.
  cluster_view.object = "web";
  EXPECT_TRUE(cluster_view.matches(cluster));
  EXPECT_FALSE(cluster_view.matches(membership)) << "membership is about no object";
  cluster_view.object.reset();
  cluster_view.since_unix_ms = 1000;
  EXPECT_TRUE(cluster_view.matches(cluster));
  EXPECT_FALSE(cluster_view.matches(membership));
  // Only the exact scope string marks a cluster record.
  Json odd_scope = local;
  odd_scope["scope"] = "Cluster";
  EXPECT_TRUE(local_view.matches(odd_scope));
  odd_scope["scope"] = true;
  EXPECT_TRUE(local_view.matches(odd_scope));
  EXPECT_TRUE(is_cluster_record(cluster));
  EXPECT_FALSE(is_cluster_record(local));
  EXPECT_FALSE(is_cluster_record(Json("cluster")));
}

TEST(ControlVerb, RoundTripsItsSpelling) {
  for (auto verb : {ControlVerb::kRestart, ControlVerb::kStart, ControlVerb::kStop,
                    ControlVerb::kMonitor, ControlVerb::kUnmonitor}) {
    auto back = control_verb_from(to_string(verb));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, verb);
  }
  EXPECT_FALSE(control_verb_from("reload").has_value());
  EXPECT_FALSE(control_verb_from("Restart").has_value());
}

TEST(Outcome, CarriesResultOrRefusal) {
  auto ok = Outcome::success({{"a", 1}});
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.result()["a"], 1);
  auto refused = Outcome::failure("busy", "restart in progress", {{"since_ms", 5}});
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), "busy");
  EXPECT_EQ(refused.message(), "restart in progress");
  EXPECT_EQ(refused.details()["since_ms"], 5);
}

}  // namespace
}  // namespace amata::console
