#include "compiler/import/monit_statements.h"

#include <functional>
#include <map>
#include <set>
#include <utility>

namespace amata::importer {
namespace {

/// The words that begin a statement inside a `check`.
bool service_keyword(const Tokens& t, std::size_t i) {
  static const std::set<std::string, std::less<>> kKeywords = {
      "if",    "start",   "stop",  "restart", "depends",  "depend", "group",
      "alert", "noalert", "every", "mode",    "onreboot", "check",  "set"};
  const std::string w = lw(t[i]);
  if (w == "not") return i + 1 < t.size() && lw(t[i + 1]) == "every";
  return kKeywords.contains(w);
}

/// The end of `if ... then ACTION [else if ... then ACTION]` starting at `i`.
std::size_t if_extent(const Tokens& t, std::size_t i) {
  auto action_end = [&](std::size_t j) {
    // j: the action word
    if (j >= t.size()) return j;
    const std::string a = lw(t[j]);
    ++j;
    if (a == "exec" && j < t.size()) ++j;
    while (j < t.size()) {
      const std::string w = lw(t[j]);
      if (w == "as" || w == "and") {
        ++j;
      } else if ((w == "uid" || w == "gid") && j + 1 < t.size()) {
        j += 2;
      } else if (w == "repeat") {
        // `repeat every N cycles`: its `every` is the action's, not the check's statement.
        ++j;
        if (j < t.size() && lw(t[j]) == "every") ++j;
        while (j < t.size() && lw(t[j]) != "cycle" && lw(t[j]) != "cycles" &&
               !service_keyword(t, j)) {
          ++j;
        }
        if (j < t.size() && !service_keyword(t, j)) ++j;
      } else {
        break;
      }
    }
    return j;
  };
  auto find_then = [&](std::size_t j) {
    while (j < t.size() && lw(t[j]) != "then") {
      const std::string w = lw(t[j]);
      if (w == "check" || w == "set" || (w == "if" && j != i)) return t.size() + 1;
      ++j;
    }
    return j;
  };
  std::size_t then = find_then(i + 1);
  if (then >= t.size()) {
    // No `then`: the statement runs to the next keyword.
    std::size_t j = i + 1;
    while (j < t.size() && !service_keyword(t, j)) ++j;
    return j;
  }
  std::size_t j = action_end(then + 1);
  if (j + 1 < t.size() && lw(t[j]) == "else" && lw(t[j + 1]) == "if") {
    const std::size_t then2 = find_then(j + 2);
    if (then2 < t.size()) j = action_end(then2 + 1);
  }
  return j;
}

/// `set daemon N` into `file`; any other `set` is warned.
void set_statement(Reporter& rep, const Tokens& t, ControlFile& file) {
  const std::string what = t.size() > 1 ? lw(t[1]) : "";
  if (what == "daemon") {
    if (t.size() > 2 && is_number(t[2].text) && std::stod(t[2].text) >= 1 &&
        std::stod(t[2].text) <= 86400) {
      file.cycle = std::stod(t[2].text);
      file.cycle_set = true;
      file.cycle_loc = t[0].loc;
    } else {
      rep.warn(t[0].loc, "'" + text_of(rep, t) +
                             "' not imported: expected a cycle of 1 to 86400 seconds; the "
                             "import uses " +
                             duration(file.cycle));
    }
    for (std::size_t i = 3; i < t.size(); ++i) {
      if (lw(t[i]) == "start" || lw(t[i]) == "delay") {
        rep.warn(t[i].loc,
                 "'start delay' not imported: amatad probes at once; a service's 'grace' "
                 "is the nearest thing, and only for health checks of services");
        break;
      }
    }
    return;
  }
  static const std::map<std::string, std::string, std::less<>> kWhy = {
      {"log", "amatad logs to stderr or the journal (amatad --log-level)"},
      {"logfile", "amatad logs to stderr or the journal (amatad --log-level)"},
      {"pidfile", "amatad's own files are set on its command line (docs/operations.md)"},
      {"idfile", "amatad's own files are set on its command line (docs/operations.md)"},
      {"statefile", "amatad keeps its state in --state-dir"},
      {"eventqueue", "amatad keeps every event in its event store (--state-dir)"},
      {"mailserver", "amata sends no mail; hook scripts (amatad --hooks) receive every event"},
      {"mail-format", "amata sends no mail; hook scripts (amatad --hooks) receive every event"},
      {"alert", "amata sends no mail; hook scripts (amatad --hooks) receive every event"},
      {"httpd", "amatactl talks to amatad over its console socket (amatad --socket)"},
      {"mmonit", "amatad's /metrics and event store replace M/Monit reports"},
      {"limits", "amata's limits are fixed (docs/language.md, Value ranges)"},
      {"ssl", "amata's https health checks always verify the server"},
      {"onreboot", "amatad adopts running services and starts the others at boot"}};
  auto it = kWhy.find(what);
  rep.warn(t[0].loc, "'" + text_of(rep, t) + "' not imported: " +
                         (it == kWhy.end() ? std::string("amata has no equivalent") : it->second));
}

/// `check TYPE NAME HEADER...` and the statements under it into `file`.
void check_statement(Reporter& rep, const Tokens& t, ControlFile& file) {
  Check c;
  c.loc = t[0].loc;
  if (t.size() < 3 || !is_word(t[1]) ||
      (t[2].kind != Token::Kind::kWord && t[2].kind != Token::Kind::kString)) {
    rep.warn(t[0].loc, "not imported: '" + text_of(rep, t) + "' needs 'check TYPE NAME'");
    return;
  }
  c.type = lw(t[1]);
  c.name = t[2].text;
  std::size_t i = 3;
  while (i < t.size() && !service_keyword(t, i)) c.header.push_back(t[i++]);
  c.end = c.header.empty() ? t[2].end : c.header.back().end;
  while (i < t.size()) {
    const std::size_t b = i;
    if (lw(t[i]) == "if") {
      i = if_extent(t, i);
    } else {
      i += lw(t[i]) == "not" ? 2 : 1;  // `not every` is one keyword
      while (i < t.size() && !service_keyword(t, i)) ++i;
    }
    c.statements.emplace_back(t.begin() + static_cast<long>(b), t.begin() + static_cast<long>(i));
  }
  file.checks.push_back(std::move(c));
}

}  // namespace

ControlFile read_statements(Reporter& rep, const Tokens& t) {
  ControlFile file;
  std::size_t i = 0;
  auto next_top = [&](std::size_t from) {
    std::size_t j = from;
    while (j < t.size() && lw(t[j]) != "set" && lw(t[j]) != "check") ++j;
    return j;
  };
  while (i < t.size()) {
    const std::string w = lw(t[i]);
    if (w == "set") {
      const std::size_t j = next_top(i + 1);
      set_statement(rep, Tokens(t.begin() + static_cast<long>(i), t.begin() + static_cast<long>(j)),
                    file);
      i = j;
    } else if (w == "check") {
      const std::size_t j = next_top(i + 1);
      check_statement(
          rep, Tokens(t.begin() + static_cast<long>(i), t.begin() + static_cast<long>(j)), file);
      i = j;
    } else {
      const std::size_t j = next_top(i + 1);
      rep.warn(t[i].loc, "not imported: '" + text_of(rep, t, i, j) +
                             "' is not a Monit statement (expected set, check or include)");
      i = j;
    }
  }
  return file;
}

}  // namespace amata::importer
