// Lowering from the checked policy, trace parsing and offline test files, through the real
// front end.
#include "compiler/lower/lower.h"

#include <gtest/gtest.h>

#include <map>

#include "compiler/frontend/frontend.h"
#include "compiler/lower/backend.h"
#include "compiler/lower/replay.h"
#include "compiler/lower/scenario.h"

namespace amata::lower {
namespace {

constexpr const char* kPolicy = R"(
policy t
node self { every 1s }
service web { start "/bin/true" }
service db  { start "/bin/true" }
interface up { name "eth0" }
discover down(s: service) when not s.alive raise ServiceDown(s)
discover hot when avg(self.cpu, 1min) > 90% for 30s raise Overload(self)
discover link when up.carrier == down for 2 checks raise LinkDown(up)
event Overload(n: node) notify_only
event LinkDown(i: interface) notify_only
recover ServiceDown(s) {
  restart s backoff 100ms .. 30s
  when s.restarts within 5min > 3 { unmonitor s }
}
)";

/// `text` checked and lowered, or nullptr (with the test failed).
std::shared_ptr<const ir::Program> lowered(const std::string& name, const std::string& text) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  auto checked = frontend::compile_text(name, text, sources, diags);
  EXPECT_TRUE(checked.has_value());
  if (!checked) return nullptr;
  auto program =
      lower(*checked, [&](const ast::SourceRange& r) { return std::string(sources.text(r)); });
  EXPECT_TRUE(program.ok()) << (program.ok() ? "" : program.error().message);
  return program.ok() ? *program : nullptr;
}

std::shared_ptr<const ir::Program> lowered() {
  return lowered("t.amata", kPolicy);
}

TEST(LowerTest, ExpandsQuantifiedRulesPerObjectAndLaysOutSlots) {
  auto p = lowered();
  ASSERT_TRUE(p);
  const auto& t = p->tables;
  ASSERT_EQ(t.rules.size(), 4u);
  EXPECT_EQ(t.rules[0].name, "down[web]");
  EXPECT_EQ(t.rules[1].name, "down[db]");
  EXPECT_EQ(t.rules[1].source_rule, "down");
  EXPECT_EQ(t.rules[1].args, std::vector<int>{t.find_object("db")});
  EXPECT_EQ(t.rules[2].text, "avg(self.cpu, 1min) > 90%");
  EXPECT_EQ(p->rules[2].temporal, ir::Temporal::kForDuration);
  EXPECT_EQ(p->rules[2].seconds, 30);
  EXPECT_EQ(p->rules[3].temporal, ir::Temporal::kForChecks);
  EXPECT_EQ(p->rules[3].check_clock, t.find_object("up"));
  const ir::SlotInfo* cpu = t.find_slot(t.find_object("self"), "cpu");
  ASSERT_NE(cpu, nullptr);
  EXPECT_TRUE(cpu->needs_history);
  EXPECT_EQ(cpu->history_seconds, 60);
  // The recovery body reads restarts of any service: both get a slot with 5min of history.
  for (const char* s : {"web", "db"}) {
    const ir::SlotInfo* r = t.find_slot(t.find_object(s), "restarts");
    ASSERT_NE(r, nullptr) << s;
    EXPECT_EQ(r->history_seconds, 300) << s;
  }
  EXPECT_EQ(t.events[static_cast<std::size_t>(t.find_event("Overload"))].recovery, -1);
  EXPECT_TRUE(ir::validate(*p).ok());
}

TEST(LowerTest, TraceLinesAreResolvedAndBadOnesLocated) {
  auto p = lowered();
  ASSERT_TRUE(p);
  auto ok = parse_trace_line(
      p->tables, R"({"t": 2, "set": {"web.alive": false, "up.carrier": "down", "self.cpu": null}})",
      "x.jsonl", 1);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->t, 2);
  ASSERT_EQ(ok->set.size(), 3u);
  auto bad_attr = parse_trace_line(p->tables, R"({"t": 2, "set": {"web.wings": 1}})", "x.jsonl", 7);
  ASSERT_FALSE(bad_attr.ok());
  EXPECT_EQ(bad_attr.error().message, "x.jsonl:7:18: error: a service has no attribute 'wings'");
  auto bad_enum =
      parse_trace_line(p->tables, R"({"t": 2, "set": {"up.carrier": "sideways"}})", "x.jsonl", 3);
  ASSERT_FALSE(bad_enum.ok());
  EXPECT_NE(bad_enum.error().message.find("x.jsonl:3:18: error: 'sideways' is not a"),
            std::string::npos)
      << bad_enum.error().message;
  EXPECT_FALSE(parse_trace_line(p->tables, R"({"set": {}})", "x.jsonl", 1).ok());
  auto syntax = parse_trace_line(p->tables, R"({"t": 1,})", "x.jsonl", 4);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message.rfind("x.jsonl:4:", 0), 0u) << syntax.error().message;
  // Found by trace_fuzzer: a number beyond a double made nlohmann throw out_of_range, which
  // was not caught, and `amatac eval` died of std::terminate.
  auto overflow = parse_trace_line(p->tables, R"({"t": 1e999})", "x.jsonl", 5);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.error().message,
            "x.jsonl:5:7: error: bad JSON: number overflow parsing '1e999'");
}

TEST(LowerTest, ScenariosPassFailAndReportInBothBackends) {
  auto p = lowered();
  ASSERT_TRUE(p);
  const std::string text = R"(
test "down and back"
  at 0 set web.alive=true web.restarts=0
  at 1 set web.alive=false
  at 2 set web.alive=true
  expect 1 raise ServiceDown(web)
  expect 1 restart web
  expect 2 clear ServiceDown(web)
end
test "wrong on purpose"
  at 0 set web.alive=false
  expect 5 raise ServiceDown(web)
end
)";
  auto scenarios = parse_scenarios(p->tables, text, "x.test");
  ASSERT_TRUE(scenarios.ok()) << scenarios.error().message;
  ASSERT_EQ(scenarios->size(), 2u);
  for (Backend b : {Backend::kInterp, Backend::kJit}) {
    auto policy = compile_program(p, BackendOptions{b, {}});
    ASSERT_TRUE(policy.ok());
    EXPECT_EQ(run_scenario(*policy, (*scenarios)[0]), "");
    EXPECT_EQ(run_scenario(*policy, (*scenarios)[1]),
              "  - at 5: raise ServiceDown(web)   (expected, not produced)\n"
              "  + at 0: raise ServiceDown(web)   (produced, not expected)\n"
              "  + at 0: restart web   (produced, not expected)\n");
  }
}

// `for 2 checks` on a health result counts health checks: a probe round of the service
// between two checks is no check (the hang benchmark: rounds every 500 ms, a check timing out
// at the same tick as a round, counted a round late, so restarts came 250-500 ms late).
TEST(LowerTest, ForChecksOnHealthCountsHealthChecksNotProbeRounds) {
  auto program = lowered("h.amata", R"(
policy h
service web {
  start "/bin/true"
  every 100ms
  health tcp "127.0.0.1:1" every 1s timeout 300ms
}
discover sick(s: service) when s.health.failed for 2 checks raise ServiceSick(s)
discover flapping(s: service) when s.alive and s.cpu > 50% for 2 checks raise Busy(s)
)");
  ASSERT_TRUE(program);
  const auto& t = program->tables;
  const int web = t.find_object("web");
  EXPECT_EQ(program->rules[0].check_clock, ir::health_clock(t.objects.size(), web));
  EXPECT_EQ(program->rules[1].check_clock, ir::probe_clock(web));
  const std::string text = R"(
test "two failed checks, not one check and a round"
  at 0 set web.alive=true web.cpu=0 web.health.failed=false
  at 1 set web.health.failed=true
  at 1.1 set web.cpu=0
  at 1.2 set web.cpu=0
  expect 2 raise ServiceSick(web)
  at 2 set web.health.failed=true
end
test "probe rounds still count for the rest"
  at 0 set web.alive=true web.cpu=0
  at 0.1 set web.cpu=90%
  at 0.2 set web.cpu=90%
  expect 0.2 raise Busy(web)
end
)";
  auto scenarios = parse_scenarios(t, text, "h.test");
  ASSERT_TRUE(scenarios.ok()) << scenarios.error().message;
  for (Backend b : {Backend::kInterp, Backend::kJit}) {
    auto policy = compile_program(program, BackendOptions{b, {}});
    ASSERT_TRUE(policy.ok());
    EXPECT_EQ(run_scenario(*policy, (*scenarios)[0]), "");
    EXPECT_EQ(run_scenario(*policy, (*scenarios)[1]), "");
  }
}

// Found by scenario_fuzzer: a check's output that is not UTF-8, passed to `run`, made
// Replayer::text and ::json throw nlohmann's type_error 316: `amatac test` and `amatac eval`
// died of std::terminate. It is written as U+FFFD.
TEST(LowerTest, RecordsOfAnyBytesAreText) {
  auto program = lowered("r.amata", R"(
policy r
node self { every 1s }
check repl {
  command "/bin/true"
  every 10s
}
discover broken when repl.status != ok raise Broken(repl)
recover Broken(c) { run "/bin/report" c.output }
)");
  ASSERT_TRUE(program);
  const std::string text =
      "test a\n  at 1 set repl.status=critical repl.output=\"caf\xe9\"\n"
      "  expect 1 raise Broken(repl)\n  expect 1 run \"/bin/report\" \"caf\xef\xbf\xbd\"\nend\n";
  auto scenarios = parse_scenarios(program->tables, text, "r.test");
  ASSERT_TRUE(scenarios.ok()) << scenarios.error().message;
  for (Backend b : {Backend::kInterp, Backend::kJit}) {
    auto policy = compile_program(program, BackendOptions{b, {}});
    ASSERT_TRUE(policy.ok());
    EXPECT_EQ(run_scenario(*policy, (*scenarios)[0]), "");
    Replayer replayer(*policy);
    std::vector<ReplayRecord> records;
    ASSERT_TRUE(replayer.step((*scenarios)[0].steps[0], records).ok());
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(replayer.json(records[1]),
              "{\"t\":1.0,\"action\":\"run\",\"object\":\"repl\",\"argv\":[\"/bin/"
              "report\",\"caf\xef\xbf\xbd\"]}")
        << replayer.json(records[1]);
  }
}

TEST(LowerTest, MalformedTestFilesAreLocated) {
  auto p = lowered();
  ASSERT_TRUE(p);
  auto r = parse_scenarios(p->tables, "test a\n  at 1 set web.alive=maybe\nend\n", "x.test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("x.test:2:12: error:", 0), 0u) << r.error().message;
  r = parse_scenarios(p->tables, "test a\n  at 1\n  at 0\nend\n", "x.test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "x.test:3:6: error: time goes back");
  r = parse_scenarios(p->tables, "test a\n  at 1\n", "x.test");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("has no 'end'"), std::string::npos);
  r = parse_scenarios(p->tables, "test a\n  frobnicate\nend\n", "x.test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("x.test:2:3: error: unknown statement", 0), 0u);
  // Found by scenario_fuzzer: an unterminated string was reported as
  // "x.test:2:12: unterminated string error: unterminated string".
  r = parse_scenarios(p->tables, "test a\n  at 1 set web.alive=\"up\nend\n", "x.test");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "x.test:2:12: error: unterminated string");
}

// A bare `restart s` once restarted a program that exits at once 11,541 times in 30 s: with
// no backoff or limit named, the default restart policy (check::kDefaultBackoff, ...Limit)
// reaches the action request in both back ends, which the engine reads unchanged; `none`
// and explicit settings override it.
TEST(LowerTest, RestartWithoutBackoffOrLimitGetsTheDefaultsInBothBackends) {
  constexpr const char* kRestarts = R"(
service web { start "/bin/true" }
service db { start "/bin/true" }
service cache { start "/bin/true" }
discover web_down when not web.alive raise WebDown(web)
discover db_down when not db.alive raise DbDown(db)
discover cache_down when not cache.alive raise CacheDown(cache)
recover WebDown(s) { restart s }
recover DbDown(s) { restart s backoff none limit none }
recover CacheDown(s) { restart s backoff 1s .. 2s limit 3 within 1min }
)";
  auto program = lowered("r.amata", kRestarts);
  ASSERT_TRUE(program);
  const auto& t = program->tables;
  auto scenarios =
      parse_scenarios(t,
                      "test t\n  at 0 set web.alive=true db.alive=true cache.alive=true\n"
                      "  at 1 set web.alive=false db.alive=false cache.alive=false\nend\n",
                      "r.test");
  ASSERT_TRUE(scenarios.ok()) << scenarios.error().message;
  for (Backend b : {Backend::kInterp, Backend::kJit}) {
    auto policy = compile_program(program, BackendOptions{b, {}});
    ASSERT_TRUE(policy.ok());
    Replayer replayer(*policy);
    std::vector<ReplayRecord> records;
    for (const auto& step : (*scenarios)[0].steps) ASSERT_TRUE(replayer.step(step, records).ok());
    std::map<int, ir::ActionRequest> restarts;
    for (const auto& r : records) {
      if (r.is_action) restarts[r.action.object] = r.action;
    }
    ASSERT_EQ(restarts.size(), 3u);
    const auto& web = restarts.at(t.find_object("web"));
    EXPECT_DOUBLE_EQ(web.backoff_initial, 0.1);
    EXPECT_DOUBLE_EQ(web.backoff_max, 30);
    EXPECT_EQ(web.limit, 10);
    EXPECT_DOUBLE_EQ(web.limit_window, 600);
    const auto& db = restarts.at(t.find_object("db"));
    EXPECT_EQ(db.backoff_initial, 0);
    EXPECT_EQ(db.limit, 0);
    const auto& cache = restarts.at(t.find_object("cache"));
    EXPECT_DOUBLE_EQ(cache.backoff_initial, 1);
    EXPECT_DOUBLE_EQ(cache.backoff_max, 2);
    EXPECT_EQ(cache.limit, 3);
    EXPECT_DOUBLE_EQ(cache.limit_window, 60);
  }
}

}  // namespace
}  // namespace amata::lower
