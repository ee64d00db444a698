#include "tests/backend/random_program.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace amata::testing {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kObjects = 3;
constexpr int kNumbersPerObject = 3;

// Values near the constants below so comparisons land on both sides and on equality.
constexpr double kValues[] = {0, 1, -1, 2, 2.5, 50, 100, 1e300};
constexpr const char* kStrings[] = {"", "a", "b", "ab", "R", "S"};
constexpr const char* kPatterns[] = {"^a", "b$", "a|S", "^$"};
constexpr double kWindows[] = {0, 1, 2.5, 5, 10};

class Generator {
 public:
  Generator(std::uint64_t seed, ir::Program& p) : rng_(seed), p_(p) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool coin(int percent) { return pick(100) < percent; }
  template <typename T, std::size_t N>
  const T& one_of(const T (&a)[N]) {
    return a[pick(static_cast<int>(N))];
  }

  double value() {
    if (coin(10)) return kNaN;
    return one_of(kValues);
  }

  int expr(int depth) {
    using ir::Op;
    if (depth <= 0 || coin(25)) return leaf();
    const int kind = pick(10);
    if (kind == 0)
      return p_.add(ir::Expr{.op = coin(50) ? Op::kNot : Op::kNeg, .a = expr(depth - 1)});
    static constexpr Op kBinary[] = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kLt,
                                     Op::kLe,  Op::kGt,  Op::kGe,  Op::kEq,  Op::kNe,
                                     Op::kAnd, Op::kOr,  Op::kAnd, Op::kOr,  Op::kGt};
    const int a = expr(depth - 1);
    const int b = expr(depth - 1);
    return p_.add(ir::Expr{.op = one_of(kBinary), .a = a, .b = b});
  }

  int leaf() {
    using ir::Op;
    const int kind = pick(10);
    if (kind < 3) return p_.add(ir::Expr{.op = Op::kConst, .value = value()});
    if (kind < 7)
      return p_.add(ir::Expr{.op = Op::kSlot, .slot = pick(kObjects * kNumbersPerObject)});
    if (kind < 9) {
      static constexpr Op kWindowOps[] = {Op::kAvg,  Op::kMin,     Op::kMax,    Op::kDelta,
                                          Op::kRate, Op::kChanged, Op::kPredict};
      const Op op = one_of(kWindowOps);
      return p_.add(ir::Expr{.op = op,
                             .slot = pick(kObjects * kNumbersPerObject),
                             .value = one_of(kWindows),
                             .horizon = op == Op::kPredict ? one_of(kWindows) : 0});
    }
    static constexpr Op kStringOps[] = {Op::kStrEq, Op::kStrNe, Op::kMatch};
    const Op op = one_of(kStringOps);
    const std::string lit = op == Op::kMatch ? one_of(kPatterns) : one_of(kStrings);
    return p_.add(ir::Expr{.op = op, .slot = pick(kObjects), .str = p_.add_string(lit)});
  }

  ir::Rule rule() {
    ir::Rule r;
    r.cond = expr(1 + pick(4));
    switch (pick(5)) {
      case 0:
      case 1:
        r.temporal = ir::Temporal::kNone;
        break;
      case 2:
        r.temporal = ir::Temporal::kForDuration;
        r.seconds = one_of(kWindows);
        break;
      case 3:
        r.temporal = ir::Temporal::kForChecks;
        r.count = 1 + pick(3);
        // Each call, or a probe or health clock of one of the objects.
        r.check_clock = pick(static_cast<int>(ir::check_clock_count(kObjects)) + 1) - 1;
        break;
      default:
        r.temporal = ir::Temporal::kTimesWithin;
        r.count = 1 + pick(3);
        r.seconds = one_of(kWindows);
        break;
    }
    // `clear after` on one rule in three, over any qualifier.
    if (pick(3) == 0) r.clear_after = one_of(kWindows);
    return r;
  }

  std::vector<TraceStep> trace(int steps) {
    static constexpr double kAdvance[] = {0, 0.5, 1, 1, 2.5, 7};
    std::vector<TraceStep> out;
    double t = pick(3);
    for (int i = 0; i < steps; ++i) {
      TraceStep s;
      t += one_of(kAdvance);
      s.t = t;
      const int changes = 1 + pick(4);
      for (int c = 0; c < changes; ++c) {
        s.numbers[pick(kObjects * kNumbersPerObject)] = value();
      }
      if (coin(30)) s.strings[pick(kObjects)] = one_of(kStrings);
      for (int clock = 0; clock < static_cast<int>(ir::check_clock_count(kObjects)); ++clock) {
        if (coin(40)) s.check_times[clock] = t;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::mt19937_64 rng_;
  ir::Program& p_;
};

}  // namespace

RandomCase random_case(std::uint64_t seed, int rules, int steps) {
  RandomCase c;
  c.program = std::make_shared<ir::Program>();
  ir::Program& p = *c.program;
  p.tables.name = fmt::format("random_{}", seed);
  static constexpr const char* kAttrs[] = {"x", "y", "z"};
  for (int o = 0; o < kObjects; ++o) {
    catalog::ObjectSpec spec;
    spec.name = fmt::format("o{}", o);
    spec.kind = catalog::Kind::kService;
    p.tables.objects.push_back(spec);
    for (int a = 0; a < kNumbersPerObject; ++a) {
      p.tables.slots.push_back(
          ir::SlotInfo{.object = o, .attribute = kAttrs[a], .index = o * kNumbersPerObject + a});
    }
    p.tables.slots.push_back(ir::SlotInfo{.object = o,
                                          .attribute = "state",
                                          .type = catalog::Type::string(),
                                          .is_string = true,
                                          .index = o});
  }
  p.tables.events.push_back(ir::EventInfo{"E", {}, -1});
  Generator g(seed, p);
  for (int i = 0; i < rules; ++i) {
    p.rules.push_back(g.rule());
    p.tables.rules.push_back(ir::RuleInfo{fmt::format("r{}", i), "r", 0, {}, ""});
  }
  c.trace = g.trace(steps);
  c.with_check_times = g.coin(50);
  ir::finalize(p);
  return c;
}

std::vector<std::string> run_trace(const ir::CompiledPolicy& policy,
                                   const std::vector<TraceStep>& trace, bool with_check_times) {
  const auto& t = policy.tables();
  std::vector<double> numbers(static_cast<std::size_t>(t.number_slot_count), kNaN);
  std::vector<std::string> strings(static_cast<std::size_t>(t.string_slot_count));
  std::vector<double> check_times(ir::check_clock_count(t.objects.size()), kNaN);
  auto state = policy.make_state();
  std::vector<std::string> out;
  std::vector<ir::Edge> edges;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const TraceStep& s = trace[i];
    for (auto [k, v] : s.numbers) numbers[static_cast<std::size_t>(k)] = v;
    for (const auto& [k, v] : s.strings) strings[static_cast<std::size_t>(k)] = v;
    for (auto [k, v] : s.check_times) check_times[static_cast<std::size_t>(k)] = v;
    edges.clear();
    policy.discover(s.t,
                    ir::Samples{numbers, strings,
                                with_check_times ? std::span<const double>(check_times)
                                                 : std::span<const double>()},
                    state, edges);
    for (const ir::Edge& e : edges) {
      out.push_back(fmt::format("{}:{}:{}", i, t.rules[static_cast<std::size_t>(e.rule)].name,
                                e.raise ? "raise" : "clear"));
    }
  }
  return out;
}

std::shared_ptr<ir::Program> single_rule(const ir::Program& program, int rule) {
  auto p = std::make_shared<ir::Program>(program);
  p->rules = {program.rules[static_cast<std::size_t>(rule)]};
  p->tables.rules = {program.tables.rules[static_cast<std::size_t>(rule)]};
  ir::finalize(*p);
  return p;
}

std::string describe(const ir::Program& program, const std::vector<TraceStep>& trace,
                     bool with_check_times) {
  std::string out = ir::dump(program);
  out += fmt::format("trace ({} steps, check clocks {}):\n", trace.size(),
                     with_check_times ? "on" : "off");
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const TraceStep& s = trace[i];
    out += fmt::format("  step {} t={}", i, s.t);
    for (auto [k, v] : s.numbers) out += fmt::format(" n{}={}", k, v);
    for (const auto& [k, v] : s.strings) out += fmt::format(" s{}=\"{}\"", k, v);
    if (with_check_times) {
      for (auto [k, v] : s.check_times) {
        out += k < kObjects ? fmt::format(" probe(o{})", k)
                            : fmt::format(" health(o{})", k - kObjects);
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace amata::testing

namespace amata::testing {

Repro shrink(Repro r, const std::function<bool(const Repro&)>& differs) {
  auto copy_program = [](const Repro& from) {
    Repro to = from;
    to.program = std::make_shared<ir::Program>(*from.program);
    return to;
  };
  bool progress = true;
  while (progress) {
    progress = false;
    // Fewer steps.
    for (std::size_t i = r.trace.size(); i-- > 0;) {
      Repro c = r;
      c.trace.erase(c.trace.begin() + static_cast<std::ptrdiff_t>(i));
      if (differs(c)) {
        r = std::move(c);
        progress = true;
      }
    }
    // Fewer assignments.
    for (std::size_t i = 0; i < r.trace.size(); ++i) {
      for (int key : [&] {
             std::vector<int> keys;
             for (auto& [k, v] : r.trace[i].numbers) keys.push_back(k);
             return keys;
           }()) {
        Repro c = r;
        c.trace[i].numbers.erase(key);
        if (differs(c)) {
          r = std::move(c);
          progress = true;
        }
      }
      if (!r.trace[i].strings.empty() || !r.trace[i].check_times.empty()) {
        Repro c = r;
        c.trace[i].strings.clear();
        c.trace[i].check_times.clear();
        if (differs(c)) {
          r = std::move(c);
          progress = true;
        }
      }
    }
    // Simpler rules.
    for (std::size_t rule = 0; rule < r.program->rules.size(); ++rule) {
      if (r.program->rules[rule].temporal != ir::Temporal::kNone) {
        Repro c = copy_program(r);
        c.program->rules[rule].temporal = ir::Temporal::kNone;
        ir::finalize(*c.program);
        if (differs(c)) {
          r = std::move(c);
          progress = true;
        }
      }
      const ir::Expr& root =
          r.program->exprs[static_cast<std::size_t>(r.program->rules[rule].cond)];
      for (int child : {root.a, root.b}) {
        if (child < 0) continue;
        Repro c = copy_program(r);
        c.program->rules[rule].cond = child;
        if (differs(c)) {
          r = std::move(c);
          progress = true;
          break;
        }
      }
    }
    // Constants for nodes (any node: unreachable ones make no difference and are skipped).
    for (std::size_t i = 0; i < r.program->exprs.size(); ++i) {
      if (r.program->exprs[i].op == ir::Op::kConst) continue;
      for (double v : {0.0, 1.0, kNaN}) {
        Repro c = copy_program(r);
        c.program->exprs[i] = ir::Expr{.op = ir::Op::kConst, .value = v};
        ir::finalize(*c.program);
        if (differs(c)) {
          r = std::move(c);
          progress = true;
          break;
        }
      }
    }
  }
  return r;
}

}  // namespace amata::testing
