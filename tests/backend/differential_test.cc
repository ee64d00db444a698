// The interpreter and the JIT must agree on every input: 10,000+ random rules (1,000 per
// JIT module) over random traces, each rule's edges compared. A mismatch is shrunk to the
// smallest policy and trace that still differ, and printed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>

#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "tests/backend/random_program.h"

namespace amata::testing {
namespace {

std::shared_ptr<jit::Jit> the_jit() {
  static auto jit = jit::Jit::create();
  return jit.ok() ? *jit : nullptr;
}

std::vector<std::string> run_interp(const Repro& r) {
  auto p = interp::interpret(r.program);
  if (!p.ok()) return {"compile error: " + p.error().message};
  return run_trace(**p, r.trace, r.with_check_times);
}

std::vector<std::string> run_jit(const Repro& r, jit::Tier tier = jit::Tier::kFast) {
  auto p = the_jit()->compile(r.program, jit::JitOptions{tier, false});
  if (!p.ok()) return {"compile error: " + p.error().message};
  return run_trace(**p, r.trace, r.with_check_times);
}

std::string report(const Repro& r) {
  return describe(*r.program, r.trace, r.with_check_times) +
         "interp: " + fmt::format("{}", fmt::join(run_interp(r), " ")) +
         "\njit:    " + fmt::format("{}", fmt::join(run_jit(r), " ")) + "\n";
}

// Runs one batch; on a mismatch, shrinks the first differing rule and fails with it.
int check_batch(std::uint64_t seed, int rules, int steps, jit::Tier tier,
                std::size_t* edges = nullptr) {
  RandomCase c = random_case(seed, rules, steps);
  Repro whole{c.program, c.trace, c.with_check_times};
  const auto a = run_interp(whole);
  const auto b = run_jit(whole, tier);
  if (edges != nullptr) *edges += a.size();
  if (a == b) return rules;
  // Find a rule whose own edges differ, then shrink it alone.
  for (int rule = 0; rule < rules; ++rule) {
    Repro one{single_rule(*c.program, rule), c.trace, c.with_check_times};
    auto differs = [tier](const Repro& r) { return run_interp(r) != run_jit(r, tier); };
    if (!differs(one)) continue;
    Repro small = shrink(one, differs);
    ADD_FAILURE() << "interp and jit differ (seed " << seed << ", rule " << rule
                  << "); smallest reproduction:\n"
                  << report(small);
    return 0;
  }
  ADD_FAILURE() << "interp and jit differ on seed " << seed << " but no single rule reproduces it";
  return 0;
}

TEST(DifferentialTest, InterpreterAndJitAgreeOnTenThousandRandomRules) {
  ASSERT_TRUE(the_jit());
  const auto start = std::chrono::steady_clock::now();
  int cases = 0;
  std::size_t edges = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    cases += check_batch(seed, 1000, 40, jit::Tier::kFast, &edges);
  }
  EXPECT_GE(cases, 10'000);
  // The cases must exercise edges, not agree on silence: a few edges per rule.
  EXPECT_GT(edges, 15'000u);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d random rules agreed on %zu edges in %.2f s\n", cases, edges, seconds);
}

TEST(DifferentialTest, OptimisedTierAgreesToo) {
  ASSERT_TRUE(the_jit());
  EXPECT_EQ(check_batch(100, 1000, 40, jit::Tier::kOptimised), 1000);
}

TEST(DifferentialTest, ShrinkerFindsASmallReproduction) {
  // A deliberate semantic difference (> versus >=) must shrink to a one-step trace.
  RandomCase c = random_case(7, 1, 30);
  auto mutate = [](const ir::Program& p) {
    auto m = std::make_shared<ir::Program>(p);
    for (auto& e : m->exprs) {
      if (e.op == ir::Op::kGt) e.op = ir::Op::kGe;
    }
    return m;
  };
  auto differs = [&](const Repro& r) {
    return run_interp(r) != run_interp(Repro{mutate(*r.program), r.trace, r.with_check_times});
  };
  // Find a seed whose single rule shows the difference.
  Repro found;
  for (std::uint64_t seed = 1; seed < 500 && !found.program; ++seed) {
    RandomCase rc = random_case(seed, 1, 30);
    Repro r{rc.program, rc.trace, rc.with_check_times};
    if (differs(r)) found = r;
  }
  ASSERT_TRUE(found.program);
  Repro small = shrink(found, differs);
  EXPECT_TRUE(differs(small));
  EXPECT_LE(small.trace.size(), 3u) << describe(*small.program, small.trace, false);
  EXPECT_LT(small.trace.size(), found.trace.size());
}

}  // namespace
}  // namespace amata::testing
