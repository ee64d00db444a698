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
