#include "compiler/ir/runtime.h"

#include <cmath>
#include <limits>

namespace amata::ir {

Result<std::vector<base::Regex>> compile_regexes(const Program& program) {
  std::vector<base::Regex> regexes(program.strings.size());
  std::vector<bool> is_regex(program.strings.size(), false);
  for (const Expr& e : program.exprs) {
    if (e.op == Op::kMatch && e.str >= 0 && static_cast<std::size_t>(e.str) < is_regex.size()) {
      is_regex[static_cast<std::size_t>(e.str)] = true;
    }
  }
  for (std::size_t i = 0; i < regexes.size(); ++i) {
    if (!is_regex[i]) continue;
    auto re = base::Regex::compile(program.strings[i]);
    if (!re)
      return Error{"bad regular expression \"" + program.strings[i] + "\": " + re.error().message};
    regexes[i] = std::move(*re);
  }
  return regexes;
}

}  // namespace amata::ir

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using amata::ir::HistorySeries;
using amata::ir::Op;

double predict(const HistorySeries& s, std::size_t first, double now, double horizon) {
  // Least squares on x = t - now keeps the numbers small (t is seconds since the epoch).
  const auto n = static_cast<double>(s.size() - first);
  double mx = 0, my = 0;
  for (std::size_t i = first; i < s.size(); ++i) {
    mx += s[i].t - now;
    my += s[i].v;
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = first; i < s.size(); ++i) {
    const double dx = (s[i].t - now) - mx;
    sxx += dx * dx;
    sxy += dx * (s[i].v - my);
  }
  if (sxx == 0) return kNaN;
  const double slope = sxy / sxx;
  return my + slope * (horizon - mx);
}

}  // namespace

extern "C" double amata_rt_window(const amata::ir::RuntimeFrame* frame, std::int32_t op_int,
                                  std::int32_t slot, double window, double horizon, double now) {
  const auto op = static_cast<Op>(op_int);
  if (frame->history == nullptr || slot < 0 ||
      static_cast<std::size_t>(slot) >= frame->history->slot_count()) {
    return op == Op::kChanged ? 0 : kNaN;
  }
  const HistorySeries& s = frame->history->series(slot);
  if (s.empty()) return op == Op::kChanged ? 0 : kNaN;
  std::size_t first = s.size();
  if (window > 0) {
    const double lo = now - window;
    while (first > 0 && s[first - 1].t >= lo) --first;
  } else {
    first = s.size() >= 2 ? s.size() - 2 : 0;
  }
  const std::size_t n = s.size() - first;
  switch (op) {
    case Op::kAvg: {
      if (n == 0) return kNaN;
      double sum = 0;
      for (std::size_t i = first; i < s.size(); ++i) sum += s[i].v;
      return sum / static_cast<double>(n);
    }
    case Op::kMin:
    case Op::kMax: {
      if (n == 0) return kNaN;
      double m = s[first].v;
      for (std::size_t i = first + 1; i < s.size(); ++i) {
        m = op == Op::kMin ? std::fmin(m, s[i].v) : std::fmax(m, s[i].v);
      }
      return m;
    }
    case Op::kDelta:
      return n < 2 ? kNaN : s.back().v - s[first].v;
    case Op::kRate: {
      if (n < 2) return kNaN;
      const double dt = s.back().t - s[first].t;
      return dt > 0 ? (s.back().v - s[first].v) / dt : kNaN;
    }
    case Op::kChanged:
      for (std::size_t i = first + 1; i < s.size(); ++i) {
        if (s[i].v != s[i - 1].v) return 1;
      }
      return 0;
    case Op::kPredict:
      return n < 2 ? kNaN : predict(s, first, now, horizon);
    default:
      return kNaN;
  }
}

extern "C" double amata_rt_str_eq(const amata::ir::RuntimeFrame* frame, std::int32_t slot,
                                  std::int32_t str) {
  return frame->strings[slot] == (*frame->literals)[static_cast<std::size_t>(str)] ? 1 : 0;
}

extern "C" double amata_rt_match(const amata::ir::RuntimeFrame* frame, std::int32_t slot,
                                 std::int32_t str) {
  // RE2: linear in the string whatever the pattern, and it never throws.
  return (*frame->regexes)[static_cast<std::size_t>(str)].search(frame->strings[slot]) ? 1 : 0;
}

extern "C" double amata_rt_temporal(double* w, std::int32_t temporal_int, double seconds,
                                    std::int32_t count, double cond, double now,
                                    double check_time) {
  using amata::ir::Temporal;
  const bool holds = amata::ir::truthy(cond);
  switch (static_cast<Temporal>(temporal_int)) {
    case Temporal::kNone:
      return holds ? 1 : 0;
    case Temporal::kForDuration:
      if (!holds) {
        w[1] = kNaN;
        return 0;
      }
      if (std::isnan(w[1])) w[1] = now;
      return now - w[1] >= seconds ? 1 : 0;
    case Temporal::kForChecks: {
      const bool new_check = check_time > w[2];
      if (new_check) w[2] = check_time;
      if (!holds) {
        w[1] = 0;
      } else if (new_check) {
        w[1] += 1;
      }
      return w[1] >= count ? 1 : 0;
    }
    case Temporal::kTimesWithin: {
      if (count <= 0) return 0;
      if (holds && w[1] == 0) {
        const auto pos = static_cast<std::int32_t>(w[2]);
        w[3 + pos] = now;
        w[2] = (pos + 1) % count;
      }
      w[1] = holds ? 1 : 0;
      return w[3 + static_cast<std::int32_t>(w[2])] >= now - seconds ? 1 : 0;
    }
  }
  return 0;
}

extern "C" double amata_rt_clear_after(double* word, double active, double was, double holds,
                                       double seconds, double now) {
  // Not firing: the qualifier alone decides whether the event rises.
  if (was == 0) return active;
  // Firing: it stays so while the condition holds (or the qualifier is still met), and
  // clears once the condition has been false for `seconds` in a row.
  if (active != 0 || holds != 0) {
    *word = kNaN;
    return 1;
  }
  if (std::isnan(*word)) *word = now;
  if (now - *word < seconds) return 1;
  *word = kNaN;
  return 0;
}
