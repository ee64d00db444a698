// The console's `history` on the real amatad (docs/console.md, "Attribute history"): the
// numeric attributes of an object, one point per 10 s step, the batch form (every object at
// once) and the refusals.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/console/client.h"
#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

using Json = nlohmann::json;

Json call(const std::string& socket, const std::string& cmd, const Json& args) {
  auto client = console::ConsoleClient::connect(socket);
  if (!client) return Json{{"client_error", client.error().message}};
  auto reply = client->call(cmd, args, std::chrono::seconds(10));
  return reply ? *reply : Json{{"client_error", reply.error().message}};
}

TEST(History, AnObjectsAttributesStepByStepAndTheRefusals) {
  Amatad a;
  a.write_policy("policy hist\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  ASSERT_GT(a.wait_new_pid("web", 0), 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("amatad ready"));
  const std::string socket = a.dir() + "/amatad.sock";

  // The first step is recorded at start, the next within 10 s: wait for alive's first point.
  Json reply;
  ASSERT_TRUE(Amatad::wait_for(
      [&] {
        reply = call(socket, "history", {{"object", "web"}});
        const Json* alive = reply.contains("result") ? &reply["result"]["series"] : nullptr;
        return alive && alive->contains("alive") && !(*alive)["alive"].empty();
      },
      15))
      << reply.dump() << a.log();
  const Json& result = reply["result"];
  EXPECT_EQ(result["object"], "web");
  EXPECT_EQ(result["step_ms"], 10000);
  for (const auto& [name, points] : result["series"].items()) {
    for (const auto& p : points) {
      ASSERT_TRUE(p.is_array() && p.size() == 2) << name << ": " << p.dump();
      EXPECT_EQ(p[0].get<std::int64_t>() % 10000, 0) << name << ": a step's start";
      EXPECT_TRUE(p[1].is_number() || p[1].is_null()) << name << ": " << p.dump();
    }
  }
  EXPECT_EQ(result["series"]["alive"].back()[1], 1.0);

  Json one = call(socket, "history", {{"object", "web"}, {"attribute", "alive"}});
  EXPECT_EQ(one["result"]["series"].size(), 1u) << one.dump();
  Json later = call(socket, "history", {{"object", "web"}, {"since_unix_ms", 4102444800000}});
  EXPECT_TRUE(later["result"]["series"]["alive"].empty()) << later.dump();  // after 2100
  EXPECT_EQ(call(socket, "history", {{"object", "nope"}})["error"]["code"], "unknown_object");
  EXPECT_EQ(call(socket, "history", {{"object", ""}})["error"]["code"], "bad_request");

  // The batch form: every object's series at once, here only the attributes asked for.
  Json batch = call(socket, "history", {{"attribute", Json::array({"alive", "cpu"})}});
  ASSERT_TRUE(batch.contains("result")) << batch.dump();
  EXPECT_EQ(batch["result"]["step_ms"], 10000);
  EXPECT_FALSE(batch["result"].contains("truncated"));
  const Json& web = batch["result"]["objects"]["web"];
  EXPECT_EQ(web["alive"].back()[1], 1.0) << batch.dump();
  for (const auto& [name, points] : web.items()) {
    EXPECT_TRUE(name == "alive" || name == "cpu") << name;
  }
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace amata::itest
