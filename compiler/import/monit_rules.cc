#include "compiler/import/monit_rules.h"

#include <optional>

#include "compiler/check/values.h"
#include "compiler/import/monit_conditions.h"

namespace amata::importer {
namespace {

std::vector<std::string> run_line(const std::vector<std::string>& argv) {
  return {"run " + argv_text(argv)};
}

/// The body for a Monit action, or nullopt with a warning when it has none (the event is
/// then only reported).
std::optional<std::vector<std::string>> action(CheckContext& x, const Tokens& s, std::size_t i,
                                               std::string& note) {
  const std::string a = lw(s[i]);
  if (a == "alert") return std::vector<std::string>{};
  if (a == "restart") {
    auto body = restart_actions(x);
    if (body.empty()) {
      note = "'restart' without a start program: amatad reports the event and does nothing";
      x.rep.warn(s[i].loc, "not imported: '" + s[i].text + "': the check has no start program");
    }
    return body;
  }
  if (a == "start" || a == "stop") {
    const auto& argv = a == "start" ? x.start : x.stop;
    if (argv.empty()) {
      x.rep.warn(s[i].loc, "not imported: '" + s[i].text + "': the check has no " + a + " program");
      return std::vector<std::string>{};
    }
    std::vector<std::string> body = run_line(argv);
    if (a == "stop") body.push_back("unmonitor @OBJ@");  // Monit stops and unmonitors
    return body;
  }
  if (a == "unmonitor" || a == "timeout") return std::vector<std::string>{"unmonitor @OBJ@"};
  if (a == "monitor") return std::vector<std::string>{"monitor @OBJ@"};
  if (a == "exec") {
    if (i + 1 >= s.size()) return std::nullopt;
    auto argv = shell_split(s[i + 1].text);
    if (!argv || argv->empty() || check::path_problem((*argv)[0])) {
      x.rep.warn(s[i + 1].loc, "not imported: exec '" + s[i + 1].text +
                                   "': amata runs a program by its absolute path, no shell");
      return std::vector<std::string>{};
    }
    // `as uid U and gid G` and `repeat every N cycles` (Monit's order): one warning each.
    for (std::size_t j = i + 2; j < s.size() && lw(s[j]) != "else"; ++j) {
      const std::string w = lw(s[j]);
      if (w != "uid" && w != "gid" && w != "repeat") continue;
      std::size_t end = j + 1;
      while (end < s.size() && lw(s[end]) != "else" && (w == "repeat" || lw(s[end]) != "repeat"))
        ++end;
      x.rep.warn(s[j].loc,
                 "not imported: '" + text_of(x.rep, s, j, end) + "': " +
                     (w == "repeat" ? "amatad runs the program once per raise, not again every "
                                      "N cycles while the failure lasts"
                                    : "amatad runs a program as itself (a wrapper such as "
                                      "runuser can change user)"));
      j = end - 1;
    }
    return run_line(*argv);
  }
  x.rep.warn(s[i].loc, "not imported: the action '" + s[i].text + "' is not one Monit has");
  return std::nullopt;
}

}  // namespace

std::vector<std::string> restart_actions(const CheckContext& x) {
  if (!x.restart.empty()) return run_line(x.restart);
  if (x.start.empty()) return {};
  std::vector<std::string> out;
  if (!x.stop.empty()) out.push_back("run " + argv_text(x.stop));
  out.push_back("run " + argv_text(x.start));
  return out;
}

void if_statement(CheckContext& x, const Tokens& s) {
  // Locate `then`, the action and an `else if`.
  std::size_t then = 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (lw(s[i]) == "then") {
      then = i;
      break;
    }
  }
  if (then == 0 || then + 1 >= s.size()) {
    x.rep.warn(s[0].loc, "not imported: '" + text_of(x.rep, s) + "': no 'then ACTION'");
    return;
  }
  for (std::size_t i = then + 1; i < s.size(); ++i) {
    if (lw(s[i]) == "else") {
      x.rep.warn(s[i].loc,
                 "not imported: '" + text_of(x.rep, s, i, s.size()) +
                     "': amata acts when a rule raises its event; its clearing is recorded "
                     "and reported to hook scripts, but runs no actions");
      break;
    }
  }
  Tokens cond;
  for (std::size_t i = 1; i < then; ++i) {
    if (!noise(s[i])) cond.push_back(s[i]);
  }
  Rule r;
  r.comment = x.rep.where(s[0].loc) + ": " + text_of(x.rep, s, 0, then + 2);
  r.object = x.obj;
  r.kind = x.kind;
  std::string why;
  if (!condition(x, cond, r, why)) {
    x.rep.warn(s[0].loc, "not imported: '" + text_of(x.rep, s) + "': " + why);
    return;
  }
  std::string note;
  auto body = action(x, s, then + 1, note);
  if (!body) return;
  if (!note.empty()) r.notes.push_back(note);
  r.actions = *body;
  x.pending.push_back(std::move(r));
}

void write_rule(CheckContext& x, const Rule& r, std::ostream& out) {
  const std::string rule_name = x.names.claim(x.obj + "_" + r.name_hint);
  const std::string event = x.names.claim(camel_case(rule_name));
  const std::string param = r.kind == "process"      ? "p"
                            : r.kind == "node"       ? "n"
                            : r.kind == "filesystem" ? "f"
                            : r.kind == "interface"  ? "i"
                            : r.kind == "host"       ? "h"
                                                     : "c";
  out << "# " << r.comment << "\n";
  for (const auto& n : r.notes) out << "# " << n << "\n";
  out << "discover " << rule_name << " when " << r.condition;
  if (!r.temporal.empty()) out << " " << r.temporal;
  out << " raise " << event << "(" << r.object << ")\n";
  if (r.actions.empty()) {
    out << "event " << event << "(" << param << ": " << r.kind << ") notify_only\n";
    return;
  }
  out << "recover " << event << "(" << param << ") {";
  for (std::string a : r.actions) {
    // The object an action names is the event's argument.
    if (auto at = a.find("@OBJ@"); at != std::string::npos) a.replace(at, 5, param);
    out << " " << a << ";";
  }
  out << " }\n";
}

}  // namespace amata::importer
