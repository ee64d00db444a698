#include "compiler/lower/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "base/file.h"
#include "catalog/catalog.h"

namespace amata::lower {
namespace {

// Splits a line into words; "quoted strings" (with \" and \\ escapes) are one word and keep
// their quotes so values can tell strings from bare words. Records each word's column.
struct Word {
  std::string text;
  std::size_t column = 0;
};

// Returns false, with `unterminated` the column of a string that never closes.
bool split(const std::string& line, std::vector<Word>& words, std::size_t& unterminated) {
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
      ++i;
      continue;
    }
    if (line[i] == '#') break;
    Word w;
    w.column = i + 1;
    // A word runs to the next blank; quotes inside it (`x="a b"`) protect blanks.
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
      if (line[i] == '\\' && quoted && i + 1 < line.size()) {
        w.text += line[i];
        w.text += line[i + 1];
        i += 2;
        continue;
      }
      if (line[i] == '"') quoted = !quoted;
      w.text += line[i++];
    }
    if (quoted) {
      unterminated = w.column;
      return false;
    }
    words.push_back(std::move(w));
  }
  return true;
}

std::string unquote(const std::string& s) {
  std::string out;
  for (std::size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] == '\\' && i + 2 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

// "90%", "2GiB", "100ms", "3", "-1.5": a number scaled by its unit suffix.
std::optional<double> number_with_unit(const std::string& s, bool durations_only) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string suffix = s.substr(used);
  if (suffix.empty()) return v;
  const catalog::Unit* unit = catalog::find_unit(suffix);
  if (unit == nullptr) return std::nullopt;
  if (durations_only && unit->dimension != catalog::Dimension::kDuration) return std::nullopt;
  return v * unit->scale;
}

RawValue raw_value(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  if (s == "missing" || s == "null") return std::monostate{};
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return unquote(s);
  if (auto n = number_with_unit(s, false)) return *n;
  return s;  // an enum member
}

// Canonical text of an expectation: words re-joined with single blanks, strings re-quoted
// the way Replayer::text quotes them.
std::string canonical(const std::vector<Word>& words, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < words.size(); ++i) {
    if (!out.empty()) out += " ";
    out += words[i].text;
  }
  return out;
}

}  // namespace

Result<std::string> read_trace_file(const std::string& path) {
  // A trace named by mistake may be a FIFO or a device: refused, never waited on.
  auto text = base::read_regular_file(path);
  if (!text) return Error{"cannot read trace: " + text.error().message};
  return text;
}

Result<std::vector<Scenario>> parse_scenarios(const ir::PolicyTables& tables,
                                              const std::string& text, const std::string& file,
                                              const TraceReader& read_trace) {
  std::vector<Scenario> out;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  Scenario* current = nullptr;
  auto error = [&](std::size_t column, const std::string& message) {
    return Error{fmt::format("{}:{}:{}: error: {}", file, n, column, message)};
  };
  auto time_of = [&](const Word& w) -> Result<double> {
    auto t = number_with_unit(w.text, true);
    if (!t || !std::isfinite(*t)) {
      return error(w.column,
                   fmt::format("expected a time (seconds, or 100ms, 2min), got '{}'", w.text));
    }
    return *t;
  };
  while (std::getline(in, line)) {
    ++n;
    std::vector<Word> words;
    if (std::size_t column = 0; !split(line, words, column)) {
      return error(column, "unterminated string");
    }
    if (words.empty()) continue;
    const std::string& key = words[0].text;
    if (key == "test") {
      if (current != nullptr) return error(words[0].column, "'test' inside a test (missing 'end')");
      out.emplace_back();
      current = &out.back();
      current->line = n;
      current->name = words.size() > 1 ? canonical(words, 1) : fmt::format("line {}", n);
      if (current->name.size() >= 2 && current->name.front() == '"') {
        current->name = unquote(current->name);
      }
      continue;
    }
    if (current == nullptr) return error(words[0].column, "expected 'test NAME'");
    if (key == "end") {
      current = nullptr;
      continue;
    }
    if (key == "at") {
      if (words.size() < 2) return error(words[0].column, "expected 'at TIME set NAME=VALUE...'");
      auto t = time_of(words[1]);
      if (!t.ok()) return t.error();
      if (!current->steps.empty() && *t < current->steps.back().t) {
        return error(words[1].column, "time goes back");
      }
      ReplayStep step;
      step.t = *t;
      std::size_t i = 2;
      if (i < words.size() && words[i].text == "set") ++i;
      for (; i < words.size(); ++i) {
        const auto eq = words[i].text.find('=');
        if (eq == std::string::npos) {
          return error(words[i].column, "expected NAME=VALUE, got '" + words[i].text + "'");
        }
        auto a = resolve_assignment(tables, words[i].text.substr(0, eq),
                                    raw_value(words[i].text.substr(eq + 1)));
        if (!a.ok()) return error(words[i].column, a.error().message);
        step.set.push_back(std::move(a).value());
      }
      current->steps.push_back(std::move(step));
      continue;
    }
    if (key == "trace") {
      if (words.size() != 2 || words[1].text.front() != '"') {
        return error(words[0].column, "expected 'trace \"FILE\"'");
      }
      std::string path = unquote(words[1].text);
      if (!path.starts_with("/")) {
        const auto slash = file.rfind('/');
        if (slash != std::string::npos) path = file.substr(0, slash + 1) + path;
      }
      auto trace_text = read_trace(path);
      if (!trace_text) return error(words[1].column, trace_text.error().message);
      std::istringstream trace(*trace_text);
      std::string trace_line;
      int trace_n = 0;
      while (std::getline(trace, trace_line)) {
        ++trace_n;
        if (trace_line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto step = parse_trace_line(tables, trace_line, path, trace_n);
        if (!step.ok()) return step.error();
        if (!current->steps.empty() && step->t < current->steps.back().t) {
          return Error{fmt::format("{}:{}:1: error: time goes back", path, trace_n)};
        }
        current->steps.push_back(std::move(step).value());
      }
      continue;
    }
    if (key == "expect") {
      if (words.size() < 3) return error(words[0].column, "expected 'expect TIME WHAT'");
      auto t = time_of(words[1]);
      if (!t.ok()) return t.error();
      current->expected.push_back(Expectation{*t, canonical(words, 2), n});
      continue;
    }
    return error(words[0].column, "unknown statement '" + key + "' (test, at, trace, expect, end)");
  }
  if (current != nullptr) {
    return Error{fmt::format("{}:{}:1: error: test '{}' has no 'end'", file, n, current->name)};
  }
  return out;
}

std::string run_scenario(std::shared_ptr<const ir::CompiledPolicy> policy,
                         const Scenario& scenario) {
  Replayer replayer(std::move(policy));
  std::vector<ReplayRecord> records;
  for (const ReplayStep& step : scenario.steps) {
    if (auto s = replayer.step(step, records); !s.ok()) return "  " + s.error().message + "\n";
  }
  // Multisets keyed by time: order within one time does not matter to a reader.
  std::multimap<double, std::string> want, got;
  for (const auto& e : scenario.expected) want.emplace(e.t, e.text);
  for (const auto& r : records) got.emplace(r.t, replayer.text(r));
  std::string diff;
  auto take = [](std::multimap<double, std::string>& from, double t, const std::string& text) {
    auto [lo, hi] = from.equal_range(t);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == text) {
        from.erase(it);
        return true;
      }
    }
    return false;
  };
  std::vector<std::pair<double, std::string>> missing;
  for (const auto& [t, text] : std::multimap<double, std::string>(want)) {
    if (take(got, t, text)) take(want, t, text);
  }
  for (const auto& [t, text] : want)
    diff += fmt::format("  - at {}: {}   (expected, not produced)\n", t, text);
  for (const auto& [t, text] : got)
    diff += fmt::format("  + at {}: {}   (produced, not expected)\n", t, text);
  return diff;
}

}  // namespace amata::lower
