#include "engine/remote/remote_wire.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "engine/remote/remote_attacher.h"

namespace amata::remote {
namespace {

LinkMessage round_trip(const LinkMessage& m) {
  const std::string line = encode(m);
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto back = decode(std::string_view(line).substr(0, line.size() - 1));
  EXPECT_TRUE(back.ok()) << line << ": " << (back.ok() ? "" : back.error().message);
  return back.ok() ? *back : LinkMessage{Bye{"decode failed"}};
}

TEST(RemoteWireTest, EveryKindSurvivesARoundTrip) {
  const auto hello = std::get<Hello>(round_trip(Hello{"9f3c", 12}));
  EXPECT_EQ(hello.epoch, "9f3c");
  EXPECT_EQ(hello.dropped, 12U);
  const auto beat = std::get<Heartbeat>(round_trip(Heartbeat{123456, 840}));
  EXPECT_EQ(beat.at, 123456U);
  EXPECT_EQ(beat.rtt_us, 840U);
  EXPECT_FALSE(std::get<Heartbeat>(round_trip(Heartbeat{1, std::nullopt})).rtt_us);
  const auto event = std::get<RemoteEvent>(round_trip(RemoteEvent{7, {{"event", "Down"}}}));
  EXPECT_EQ(event.seq, 7U);
  EXPECT_EQ(event.body["event"], "Down");
  const auto welcome = std::get<Welcome>(round_trip(Welcome{"n1", 500, 2000, 6}));
  EXPECT_EQ(welcome.node, "n1");
  EXPECT_EQ(welcome.heartbeat_ms, 500U);
  EXPECT_EQ(welcome.timeout_ms, 2000U);
  EXPECT_EQ(welcome.acked, 6U);
  EXPECT_EQ(std::get<Ack>(round_trip(Ack{9})).seq, 9U);
  EXPECT_EQ(std::get<Bye>(round_trip(Bye{"no"})).why, "no");
  const auto report =
      std::get<ServiceReport>(round_trip(ServiceReport{7, {"db"}, {"mq"}, {"db", "mq", "web"}, 3}));
  EXPECT_EQ(report.seq, 7U);
  EXPECT_EQ(report.placed, 3U);
  EXPECT_EQ(report.running, std::set<std::string>{"db"});
  EXPECT_EQ(report.gave_up, std::set<std::string>{"mq"});
  EXPECT_EQ(report.eligible, (std::set<std::string>{"db", "mq", "web"}));
  const auto place = std::get<Placement>(round_trip(Placement{{"db", "web"}, 1500, 123456, 4}));
  EXPECT_EQ(place.n, 4U);
  EXPECT_EQ(place.run, (std::set<std::string>{"db", "web"}));
  EXPECT_EQ(place.lease_ms, 1500U);
  EXPECT_EQ(place.at, 123456U);
  const auto bare = std::get<Placement>(round_trip(Placement{{}, 1, std::nullopt}));
  EXPECT_TRUE(bare.run.empty());
  EXPECT_FALSE(bare.at);
}

TEST(RemoteWireTest, NameListsAtTheirLimitsSurviveARoundTrip) {
  ServiceReport report{1, {}, {}, {}};
  for (std::size_t i = 0; i < kMaxNames; ++i) report.eligible.insert(std::to_string(i));
  report.running.insert(std::string(kMaxNameBytes, 'x'));
  const auto back = std::get<ServiceReport>(round_trip(report));
  EXPECT_EQ(back.eligible.size(), kMaxNames);
  EXPECT_EQ(back.running, report.running);
}

TEST(RemoteWireTest, InvalidUtf8InABodyIsReplacedNotThrown) {
  const std::string line = encode(RemoteEvent{1,
                                              {{"text", std::string("a\xff"
                                                                    "b")}}});
  EXPECT_TRUE(decode(std::string_view(line).substr(0, line.size() - 1)).ok()) << line;
}

TEST(RemoteWireTest, RefusesWhatIsMalformedAndSaysWhy) {
  const std::map<std::string, std::string> bad = {
      {"garbage", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"seq":1})", "\"t\" is not a string"},
      {R"({"t":"nope"})", "unknown message \"nope\""},
      {R"({"t":"ev","seq":0,"body":{}})", "\"seq\" starts at 1"},
      {R"({"t":"ev","seq":-1,"body":{}})", "\"seq\" is not an unsigned integer"},
      {R"({"t":"ev","seq":1,"body":[]})", "\"body\" is not an object"},
      {R"({"t":"hello","epoch":"ABC","dropped":0})",
       "\"epoch\" is not 1 to 32 lowercase hex digits"},
      {R"({"t":"hello","epoch":"","dropped":0})", "\"epoch\" is not 1 to 32 lowercase hex digits"},
      {R"({"t":"hb"})", "\"at\" is not an unsigned integer"},
      {R"({"t":"welcome","node":"n1","heartbeat_ms":0,"timeout_ms":1,"acked":0})",
       "a zero heartbeat or timeout"},
      {R"({"t":"welcome","node":"n1","heartbeat_ms":1,"timeout_ms":99999999,"acked":0})",
       "\"timeout_ms\" is out of range"},
      {R"({"t":"state","seq":0,"running":[],"gave_up":[],"eligible":[]})", "\"seq\" starts at 1"},
      {R"({"t":"state","seq":"1","running":[],"gave_up":[],"eligible":[]})",
       "\"seq\" is not an unsigned integer"},
      {R"({"t":"state","seq":1,"gave_up":[],"eligible":[]})", "\"running\" is not an array"},
      {R"({"t":"state","seq":1,"running":[],"gave_up":{},"eligible":[]})",
       "\"gave_up\" is not an array"},
      {R"({"t":"state","seq":1,"running":[],"gave_up":[],"eligible":"db"})",
       "\"eligible\" is not an array"},
      {R"({"t":"state","seq":1,"running":[1],"gave_up":[],"eligible":[]})",
       "\"running\" holds a name that is not a string"},
      {R"({"t":"state","seq":1,"running":[],"gave_up":[""],"eligible":[]})",
       "\"gave_up\" holds a name of 0 or over 256 bytes"},
      {R"({"t":"state","seq":1,"running":[],"gave_up":[],"eligible":["db","db"]})",
       "\"eligible\" holds a name twice"},
      {R"({"t":"place","lease_ms":1})", "\"run\" is not an array"},
      {R"({"t":"place","run":[null],"lease_ms":1})", "\"run\" holds a name that is not a string"},
      {R"({"t":"place","run":["db"]})", "\"lease_ms\" is not an unsigned integer"},
      {R"({"t":"place","run":["db"],"lease_ms":1.5})", "\"lease_ms\" is not an unsigned integer"},
      {R"({"t":"place","run":["db"],"lease_ms":0})", "a zero lease"},
      {R"({"t":"place","run":["db"],"lease_ms":3600001})", "\"lease_ms\" is out of range"},
  };
  for (const auto& [line, why] : bad) {
    const auto decoded = decode(line);
    ASSERT_FALSE(decoded.ok()) << line;
    EXPECT_EQ(decoded.error().message, why) << line;
  }
}

TEST(RemoteWireTest, RefusesNameListsOverTheirLimits) {
  const auto list = [](std::size_t count, std::size_t bytes) {
    nlohmann::json names = nlohmann::json::array();
    for (std::size_t i = 0; i < count; ++i) {
      std::string name = std::to_string(i);
      name.resize(std::max(bytes, name.size()), 'x');
      names.push_back(name);
    }
    return names;
  };
  const auto state = [](const nlohmann::json& eligible) {
    return nlohmann::json{{"t", "state"},
                          {"seq", 1},
                          {"running", nlohmann::json::array()},
                          {"gave_up", nlohmann::json::array()},
                          {"eligible", eligible}}
        .dump();
  };
  ASSERT_TRUE(decode(state(list(kMaxNames, kMaxNameBytes / 8))).ok());
  const auto too_many = decode(state(list(kMaxNames + 1, 1)));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().message, "\"eligible\" has over 1024 names");
  const auto too_long = decode(state(list(1, kMaxNameBytes + 1)));
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message, "\"eligible\" holds a name of 0 or over 256 bytes");
  const auto place = decode(
      nlohmann::json{{"t", "place"}, {"run", list(kMaxNames + 1, 1)}, {"lease_ms", 1}}.dump());
  ASSERT_FALSE(place.ok());
  EXPECT_EQ(place.error().message, "\"run\" has over 1024 names");
}

TEST(RemoteWireTest, RefusesDeepNestingBeforeParsingIt) {
  const std::string deep = R"({"t":"ev","seq":1,"body":{"a":)" + std::string(20000, '[') +
                           std::string(20000, ']') + "}}";
  const auto decoded = decode(deep);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().message, "nested deeper than 32 levels");
  // Brackets inside strings are text, not nesting.
  const std::string text = R"({"t":"ev","seq":1,"body":{"a":")" + std::string(100, '[') + "\"}}";
  EXPECT_TRUE(decode(text).ok());
}

TEST(RemoteWireTest, FrameReaderCutsLinesAcrossFeeds) {
  FrameReader reader;
  std::string line;
  reader.feed("ab");
  EXPECT_EQ(reader.next(line), FrameReader::Next::kNeedMore);
  reader.feed("c\nde\n\nf");
  ASSERT_EQ(reader.next(line), FrameReader::Next::kLine);
  EXPECT_EQ(line, "abc");
  ASSERT_EQ(reader.next(line), FrameReader::Next::kLine);
  EXPECT_EQ(line, "de");
  ASSERT_EQ(reader.next(line), FrameReader::Next::kLine);
  EXPECT_EQ(line, "");
  EXPECT_EQ(reader.next(line), FrameReader::Next::kNeedMore);
  EXPECT_EQ(reader.buffered(), 1U);
}

TEST(RemoteWireTest, FrameReaderRefusesALineOverTheLimitWithOrWithoutItsNewline) {
  FrameReader endless;
  std::string line;
  endless.feed(std::string(kMaxFrameBytes + 1, 'x'));
  EXPECT_EQ(endless.next(line), FrameReader::Next::kTooLong);
  FrameReader whole;
  whole.feed(std::string(kMaxFrameBytes + 1, 'x') + "\n");
  EXPECT_EQ(whole.next(line), FrameReader::Next::kTooLong);
  FrameReader at_limit;
  at_limit.feed(std::string(kMaxFrameBytes, 'x') + "\n");
  EXPECT_EQ(at_limit.next(line), FrameReader::Next::kLine);
}

std::vector<AttachTarget> ring(std::initializer_list<const char*> names) {
  std::vector<AttachTarget> out;
  for (const char* name : names) out.push_back({name, "10.0.0.1", 7420});
  return out;
}

TEST(RankRingMembersTest, SpreadsRemoteNodesEvenlyAndMovesOnlyTheDeadMembersOnes) {
  std::map<std::string, int> first;
  int moved = 0;
  for (int i = 0; i < 600; ++i) {
    const std::string node = "c" + std::to_string(i);
    const auto order = rank_ring_members(node, ring({"n1", "n2", "n3"}));
    ASSERT_EQ(order.size(), 3U);
    EXPECT_EQ(order.front().name, rank_ring_members(node, ring({"n3", "n1", "n2"})).front().name)
        << "the order depends on names, not on how the list is given";
    ++first[order.front().name];
    // Without n2, a node keeps its member unless that was n2, and then takes its second.
    const auto without = rank_ring_members(node, ring({"n1", "n3"}));
    if (order[0].name == "n2") {
      EXPECT_EQ(without.front().name, order[1].name);
      ++moved;
    } else {
      EXPECT_EQ(without.front().name, order[0].name);
    }
  }
  for (const auto& [member, count] : first) {
    EXPECT_GT(count, 150) << member;
    EXPECT_LT(count, 250) << member;
  }
  EXPECT_EQ(moved, first["n2"]);
}

}  // namespace
}  // namespace amata::remote
