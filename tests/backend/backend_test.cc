// Every IR construct, run through both back ends (parameterised on the back end), with the
// temporal edge cases: exactly on a `for` boundary, gaps between samples, missing values,
// time not advancing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "tests/backend/program_builder.h"

namespace amata {
namespace {

using ir::Op;
using ir::Temporal;
using testing::ProgramBuilder;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Step {
  double t;
  std::map<int, double> set;
  std::map<int, std::string> strings;
  std::map<int, double> check_times;
};

std::shared_ptr<const ir::CompiledPolicy> compile(const std::string& backend,
                                                  std::shared_ptr<const ir::Program> p) {
  if (backend == "interp") {
    auto r = interp::interpret(std::move(p));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? *r : nullptr;
  }
  static auto jit = jit::Jit::create();
  EXPECT_TRUE(jit.ok());
  auto r = (*jit)->compile(std::move(p));
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : nullptr;
}

// Replays steps; returns "t:rule:raise|clear" per edge.
std::vector<std::string> replay(const ir::CompiledPolicy& policy, const std::vector<Step>& steps,
                                bool with_check_times = false) {
  const auto& t = policy.tables();
  std::vector<double> numbers(static_cast<std::size_t>(t.number_slot_count), kNaN);
  std::vector<std::string> strings(static_cast<std::size_t>(t.string_slot_count));
  std::vector<double> check_times(ir::check_clock_count(t.objects.size()), kNaN);
  auto state = policy.make_state();
  std::vector<std::string> out;
  for (const Step& s : steps) {
    for (auto [i, v] : s.set) numbers[static_cast<std::size_t>(i)] = v;
    for (const auto& [i, v] : s.strings) strings[static_cast<std::size_t>(i)] = v;
    for (auto [i, v] : s.check_times) check_times[static_cast<std::size_t>(i)] = v;
    ir::Samples samples{
        numbers, strings,
        with_check_times ? std::span<const double>(check_times) : std::span<const double>()};
    std::vector<ir::Edge> edges;
    policy.discover(s.t, samples, state, edges);
    for (const auto& e : edges) {
      out.push_back(fmt::format("{}:{}:{}", s.t, t.rules[static_cast<std::size_t>(e.rule)].name,
                                e.raise ? "raise" : "clear"));
    }
  }
  return out;
}

using Edges = std::vector<std::string>;

class BackendTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BackendTest, ComparisonRaisesAndClearsAndMissingIsFalse) {
  ProgramBuilder b;
  int web = b.object("web");
  int cpu = b.number_slot(web, "cpu");
  int ev = b.event("Hot");
  b.rule("hot", b.binary(Op::kGt, b.slot(cpu), b.k(90)), ev, {web});
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(replay(*policy, {{0, {}},
                             {1, {{cpu, 95}}},
                             {2, {{cpu, 96}}},
                             {3, {{cpu, kNaN}}},
                             {4, {{cpu, 91}}},
                             {5, {{cpu, 90}}}}),
            (Edges{"1:hot:raise", "3:hot:clear", "4:hot:raise", "5:hot:clear"}));
}

TEST_P(BackendTest, ArithmeticAndAllComparisons) {
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  int y = b.number_slot(o, "y");
  int ev = b.event("E");
  // (x + y) * 2 - y / 4 >= 10, and each comparison on its own.
  int lhs = b.binary(Op::kSub, b.binary(Op::kMul, b.binary(Op::kAdd, b.slot(x), b.slot(y)), b.k(2)),
                     b.binary(Op::kDiv, b.slot(y), b.k(4)));
  b.rule("arith", b.binary(Op::kGe, lhs, b.k(10)), ev);
  b.rule("lt", b.binary(Op::kLt, b.slot(x), b.slot(y)), ev);
  b.rule("le", b.binary(Op::kLe, b.slot(x), b.slot(y)), ev);
  b.rule("eq", b.binary(Op::kEq, b.slot(x), b.slot(y)), ev);
  b.rule("ne", b.binary(Op::kNe, b.slot(x), b.slot(y)), ev);
  b.rule("neg", b.binary(Op::kGt, b.unary(Op::kNeg, b.slot(x)), b.k(0)), ev);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  // t1: x=4,y=4 -> (8*2 - 1) = 15 >= 10; le, eq. t2: x=1,y=4 -> 10-1=9; lt, le, ne.
  // t3: x=-1, y=0 -> (-2 - 0) no; lt, le, ne, neg.
  EXPECT_EQ(replay(*policy, {{1, {{x, 4}, {y, 4}}}, {2, {{x, 1}}}, {3, {{x, -1}, {y, 0}}}}),
            (Edges{"1:arith:raise", "1:le:raise", "1:eq:raise", "2:arith:clear", "2:lt:raise",
                   "2:eq:clear", "2:ne:raise", "3:neg:raise"}));
}

TEST_P(BackendTest, KleeneLogicOnMissingValues) {
  ProgramBuilder b;
  int o = b.object("o");
  int p = b.number_slot(o, "p");
  int q = b.number_slot(o, "q");
  int ev = b.event("E");
  b.rule("and", b.binary(Op::kAnd, b.slot(p), b.slot(q)), ev);
  b.rule("or", b.binary(Op::kOr, b.slot(p), b.slot(q)), ev);
  b.rule("not_p", b.unary(Op::kNot, b.slot(p)), ev);
  // not (p and q): true when either is known false, even if the other is missing.
  b.rule("nand", b.unary(Op::kNot, b.binary(Op::kAnd, b.slot(p), b.slot(q))), ev);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(replay(*policy, {{1, {{p, 1}}},             // p=1 q=NaN: or
                             {2, {{p, 0}}},             // p=0 q=NaN: not_p, nand
                             {3, {{p, kNaN}, {q, 1}}},  // or
                             {4, {{p, 1}, {q, 1}}}}),
            (Edges{"1:or:raise", "2:or:clear", "2:not_p:raise", "2:nand:raise", "3:or:raise",
                   "3:not_p:clear", "3:nand:clear", "4:and:raise"}));
}

TEST_P(BackendTest, ForDurationRaisesExactlyOnTheBoundaryAndSurvivesGaps) {
  ProgramBuilder b;
  int o = b.object("self", catalog::Kind::kNode);
  int cpu = b.number_slot(o, "cpu");
  int ev = b.event("Overload");
  b.rule("hot", b.binary(Op::kGt, b.slot(cpu), b.k(90)), ev, {o}, Temporal::kForDuration, 30);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(replay(*policy, {{10, {{cpu, 95}}},
                             {39.5, {}},              // 29.5 s: not yet
                             {40, {}},                // exactly 30 s: raise
                             {40, {}},                // time not advancing: nothing new
                             {100, {{cpu, 50}}},      // clear
                             {101, {{cpu, 99}}},      // since restarts here
                             {200, {}},               // a 99 s gap: held all along, raise
                             {201, {{cpu, kNaN}}}}),  // missing breaks the hold
            (Edges{"40:hot:raise", "100:hot:clear", "200:hot:raise", "201:hot:clear"}));
}

TEST_P(BackendTest, ForChecksCountsProbeRoundsNotCalls) {
  ProgramBuilder b;
  int web = b.object("web");
  int failed = b.number_slot(web, "health.failed");
  int ev = b.event("Hung");
  b.rule("hung", b.slot(failed), ev, {web}, Temporal::kForChecks, 0, 3, web);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  // The probe of web runs at 1, 2, 3; calls at 1.5 and 2.5 see no new check.
  std::vector<Step> steps = {{1, {{failed, 1}}, {}, {{web, 1}}},
                             {1.5, {}},
                             {2, {}, {}, {{web, 2}}},
                             {2.5, {}},
                             {3, {}, {}, {{web, 3}}},
                             {4, {{failed, 0}}, {}, {{web, 4}}},
                             {5, {{failed, 1}}, {}, {{web, 5}}}};
  EXPECT_EQ(replay(*policy, steps, true), (Edges{"3:hung:raise", "4:hung:clear"}));
  // Without object times every call at a new time is a check.
  EXPECT_EQ(replay(*policy, {{1, {{failed, 1}}}, {1, {}}, {1.5, {}}, {2, {}}}),
            (Edges{"2:hung:raise"}));
}

TEST_P(BackendTest, TimesWithinCountsRisingEdgesInTheWindow) {
  ProgramBuilder b;
  int web = b.object("web");
  int alive = b.number_slot(web, "alive");
  int ev = b.event("Flapping");
  b.rule("flap", b.unary(Op::kNot, b.slot(alive)), ev, {web}, Temporal::kTimesWithin, 60, 3);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(replay(*policy, {{0, {{alive, 0}}},  // rise 1 at 0
                             {1, {{alive, 1}}},
                             {2, {{alive, 0}}},  // rise 2 at 2
                             {3, {}},            // still down: not a new rise
                             {4, {{alive, 1}}},
                             {60, {{alive, 0}}},    // rise 3 at 60: 0..60 is within 60 s
                             {61, {{alive, 1}}},    // oldest rise (0) leaves the window
                             {62, {{alive, 0}}}}),  // rises at 2, 60, 62: exactly 60 s
            (Edges{"60:flap:raise", "61:flap:clear", "62:flap:raise"}));
}

TEST_P(BackendTest, WindowFunctions) {
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  int ev = b.event("E");
  b.rule("avg", b.binary(Op::kGt, b.window(Op::kAvg, x, 10), b.k(5)), ev);
  b.rule("min", b.binary(Op::kGt, b.window(Op::kMin, x, 10), b.k(2)), ev);
  b.rule("max", b.binary(Op::kGe, b.window(Op::kMax, x, 10), b.k(10)), ev);
  b.rule("delta", b.binary(Op::kGt, b.window(Op::kDelta, x, 10), b.k(6)), ev);
  b.rule("rate", b.binary(Op::kGt, b.window(Op::kRate, x, 0), b.k(3)), ev);
  b.rule("changed", b.window(Op::kChanged, x, 0), ev);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  // x: t0=1, t5=3, t10=10, t20=10 (window 10 s: {10,10} ...).
  EXPECT_EQ(replay(*policy, {{0, {{x, 1}}},
                             {5, {{x, 3}}},
                             {10, {{x, 10}}},
                             {20, {}},
                             {21, {{x, kNaN}}},
                             {22, {{x, 2}}}}),
            (Edges{// t5: rate (3-1)/5=0.4 no; changed yes.
                   "5:changed:raise",
                   // t10: avg(1,3,10)=4.67 no; min 1; max 10; delta 9; rate 7/5=1.4; changed.
                   "10:max:raise", "10:delta:raise",
                   // t20: points at 10, 20 (both 10): avg 10, min 10, delta 0, unchanged.
                   "20:avg:raise", "20:min:raise", "20:delta:clear", "20:changed:clear",
                   // t21: missing is not recorded; windows still see 10, 20.
                   // t22: points 20 (10), 22 (2): avg 6, min 2, max 10, rate -4, changed.
                   "22:min:clear", "22:changed:raise"}));
}

TEST_P(BackendTest, PredictIsALeastSquaresLine) {
  ProgramBuilder b;
  int root = b.object("root", catalog::Kind::kFilesystem);
  int used = b.number_slot(root, "used");
  int ev = b.event("DiskFilling");
  // Grows 1 %/s; in 100 s from 50 % it passes 100 %.
  b.rule("filling", b.binary(Op::kGt, b.window(Op::kPredict, used, 100, 100), b.k(100)), ev,
         {root});
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(replay(*policy, {{0, {{used, 50}}},    // one point: no line
                             {1, {{used, 50.5}}},  // 50.5 + 0.5*100 = 100.5
                             {2, {{used, 51}}},    // still 0.5 %/s: 101
                             {3, {{used, 51}}}}),  // flattening: slope 0.35, 86 %
            (Edges{"1:filling:raise", "3:filling:clear"}));
}

TEST_P(BackendTest, StringsAndRegex) {
  ProgramBuilder b;
  int o = b.object("web");
  int state = b.string_slot(o, "state");
  int ev = b.event("E");
  b.rule("zombie", b.string_op(Op::kStrEq, state, "Z"), ev);
  b.rule("not_running", b.string_op(Op::kStrNe, state, "R"), ev);
  b.rule("sleeping", b.string_op(Op::kMatch, state, "^[SD]$"), ev);
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  EXPECT_EQ(
      replay(*policy, {{1, {}, {{state, "R"}}}, {2, {}, {{state, "S"}}}, {3, {}, {{state, "Z"}}}}),
      (Edges{"2:not_running:raise", "2:sleeping:raise", "3:zombie:raise", "3:sleeping:clear"}));
}

TEST_P(BackendTest, SharedSubexpressionsAndManyRules) {
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  int ev = b.event("E");
  int shared = b.binary(Op::kMul, b.slot(x), b.k(2));
  for (int i = 0; i < 50; ++i) {
    b.rule(fmt::format("r{}", i), b.binary(Op::kGt, shared, b.k(i)), ev);
  }
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);
  auto edges = replay(*policy, {{1, {{x, 10}}}, {2, {{x, 0}}}});
  ASSERT_EQ(edges.size(), 40u);  // r0..r19 rise at 1 and fall at 2
  EXPECT_EQ(edges.front(), "1:r0:raise");
  EXPECT_EQ(edges.back(), "2:r19:clear");
}

struct RecordingSink : ir::ActionSink {
  std::vector<ir::ActionRequest> got;
  void request(const ir::ActionRequest& a) override { got.push_back(a); }
};

TEST_P(BackendTest, RecoveryBodiesWithConditionsOnParameters) {
  ProgramBuilder b;
  int web = b.object("web");
  int db = b.object("db");
  int web_alive = b.number_slot(web, "alive");
  b.number_slot(db, "alive");
  int web_restarts = b.number_slot(web, "restarts");
  b.number_slot(db, "restarts");
  int down = b.event("ServiceDown", {catalog::Kind::kService});
  b.rule("down[web]", b.unary(Op::kNot, b.slot(web_alive)), down, {web});
  // recover ServiceDown(s) {
  //   restart s backoff 0.1 .. 30
  //   when delta(s.restarts, 300) > 3 { unmonitor s; notify "pager" } else { run "x" s.name }
  // }
  auto restart = testing::action(ir::ActionKind::kRestart, testing::param(0));
  restart.backoff_initial = 0.1;
  restart.backoff_max = 30;
  ir::Stmt when;
  when.kind = ir::Stmt::Kind::kWhen;
  when.cond = b.binary(Op::kGt, b.param_attr(Op::kDelta, 0, "restarts", 300), b.k(3));
  when.then_body.push_back(testing::action(ir::ActionKind::kUnmonitor, testing::param(0)));
  auto notify = testing::action(ir::ActionKind::kNotify);
  notify.message = testing::literal("pager");
  when.then_body.push_back(notify);
  auto run = testing::action(ir::ActionKind::kRun);
  run.argv = {testing::literal("/bin/x"), ir::Text{ir::TextPiece{"", true, testing::param(0), ""}}};
  when.else_body.push_back(run);
  b.recovery(down, {"s"}, {restart, when});
  auto policy = compile(GetParam(), b.finish());
  ASSERT_TRUE(policy);

  const auto& t = policy->tables();
  EXPECT_TRUE(t.find_slot(web, "restarts")->needs_history);
  EXPECT_EQ(t.find_slot(db, "restarts")->history_seconds, 300);
  std::vector<double> numbers(static_cast<std::size_t>(t.number_slot_count), 0.0);
  std::vector<std::string> strings;
  auto state = policy->make_state();
  std::vector<ir::Edge> edges;
  numbers[static_cast<std::size_t>(web_alive)] = 1;
  policy->discover(0, ir::Samples{numbers, strings, {}}, state, edges);
  numbers[static_cast<std::size_t>(web_alive)] = 0;
  numbers[static_cast<std::size_t>(web_restarts)] = 2;
  policy->discover(10, ir::Samples{numbers, strings, {}}, state, edges);
  ASSERT_EQ(edges.size(), 1u);
  RecordingSink sink;
  policy->recover(policy->event_of(edges[0].rule), 10, ir::Samples{numbers, strings, {}}, state,
                  sink);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].kind, ir::ActionKind::kRestart);
  EXPECT_EQ(sink.got[0].object, web);
  EXPECT_EQ(sink.got[0].backoff_max, 30);
  EXPECT_EQ(sink.got[1].kind, ir::ActionKind::kRun);
  EXPECT_EQ(sink.got[1].argv, (std::vector<std::string>{"/bin/x", "web"}));

  // Five restarts within the window: unmonitor and page instead.
  numbers[static_cast<std::size_t>(web_restarts)] = 6;
  policy->discover(20, ir::Samples{numbers, strings, {}}, state, edges);
  sink.got.clear();
  policy->recover(ir::EventInstance{down, {web}}, 20, ir::Samples{numbers, strings, {}}, state,
                  sink);
  ASSERT_EQ(sink.got.size(), 3u);
  EXPECT_EQ(sink.got[1].kind, ir::ActionKind::kUnmonitor);
  EXPECT_EQ(sink.got[2].message, "pager");
  EXPECT_EQ(sink.got[2].object, web);  // notify carries the event's first argument
}

INSTANTIATE_TEST_SUITE_P(BothBackends, BackendTest, ::testing::Values("interp", "jit"),
                         [](const auto& info) { return info.param; });

TEST(JitTest, ReloadFreesTheOldCode) {
  auto jit = jit::Jit::create();
  ASSERT_TRUE(jit.ok());
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  b.rule("r", b.binary(Op::kGt, b.slot(x), b.k(1)), b.event("E"));
  auto program = b.finish();
  auto first = (*jit)->compile(program);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*jit)->live_policies(), 1);
  std::shared_ptr<const ir::CompiledPolicy> current = std::move(*first);
  for (int i = 0; i < 20; ++i) {
    auto next = (*jit)->compile(program);
    ASSERT_TRUE(next.ok());
    auto in_flight = current;  // an evaluation still holding the old policy
    current = std::move(*next);
    EXPECT_EQ((*jit)->live_policies(), 2);
    in_flight.reset();
    EXPECT_EQ((*jit)->live_policies(), 1);
  }
  EXPECT_EQ(replay(*current, {{1, {{x, 2}}}}), (Edges{"1:r:raise"}));
}

TEST(JitTest, OptimisedTierInTheBackgroundAgrees) {
  auto jit = jit::Jit::create();
  ASSERT_TRUE(jit.ok());
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  b.rule("r", b.binary(Op::kGt, b.slot(x), b.k(1)), b.event("E"), {}, Temporal::kForDuration, 2);
  auto policy = (*jit)->compile(b.finish(), jit::JitOptions{jit::Tier::kFast, true});
  ASSERT_TRUE(policy.ok());
  for (int i = 0; i < 500 && !jit::is_optimised(**policy); ++i) usleep(10'000);
  EXPECT_TRUE(jit::is_optimised(**policy));
  EXPECT_EQ(replay(**policy, {{1, {{x, 2}}}, {3, {}}, {4, {{x, 0}}}}),
            (Edges{"3:r:raise", "4:r:clear"}));
}

TEST(JitTest, EmitLlvmShowsOneFusedFunction) {
  ProgramBuilder b;
  int o = b.object("o");
  int x = b.number_slot(o, "x");
  b.rule("a", b.binary(Op::kGt, b.slot(x), b.k(1)), b.event("E"));
  b.rule("b", b.binary(Op::kLt, b.slot(x), b.k(1)), 0);
  auto text = jit::emit_llvm(*b.finish());
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("define void @amata_discover"), std::string::npos);
  EXPECT_EQ(text->find("define", text->find("define") + 1), std::string::npos);
}

TEST(ValidateTest, RejectsOutOfRangeIndices) {
  ProgramBuilder b;
  int o = b.object("o");
  b.number_slot(o, "x");
  b.rule("r", b.slot(5), b.event("E"));
  auto program = b.finish();
  EXPECT_FALSE(ir::validate(*program).ok());
  EXPECT_FALSE(interp::interpret(program).ok());
}

}  // namespace
}  // namespace amata
