#include "compiler/import/monit_import.h"

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "base/regex.h"
#include "compiler/check/values.h"
#include "compiler/import/monit_lexer.h"
#include "compiler/import/monit_rules.h"
#include "compiler/import/monit_statements.h"

namespace amata::importer {
namespace {

/// One object of the policy made from a check.
struct Object {
  std::string name;  // in the policy
  std::string kind;  // amata kind
  Loc loc;
  std::vector<std::string> settings;  // lines inside the braces
};

/// The value after a header keyword ("with pidfile X", "path X", "address X").
std::optional<std::string> header_value(const Check& c, std::string_view key) {
  for (std::size_t i = 0; i + 1 < c.header.size(); ++i) {
    if (lw(c.header[i]) == key) return c.header[i + 1].text;
  }
  return std::nullopt;
}

/// `start|stop|restart program = "COMMAND"` into the check's programs.
void program_statement(CheckContext& x, const Tokens& s) {
  const std::string w = lw(s[0]);
  std::size_t i = 1;
  while (i < s.size() && (noise(s[i]) || (s[i].kind == Token::Kind::kPunct && s[i].text == "=")))
    ++i;
  if (i >= s.size() || (s[i].kind != Token::Kind::kString && !is_word(s[i]))) {
    x.rep.warn(s[0].loc, "not imported: '" + text_of(x.rep, s) + "': expected " + w +
                             " program = \"/path/to/program args\"");
    return;
  }
  auto argv = shell_split(s[i].text);
  if (!argv || argv->empty()) {
    x.rep.warn(s[i].loc, "not imported: the " + w + " program is not a command line");
    return;
  }
  if (auto bad = check::path_problem((*argv)[0])) {
    x.rep.warn(s[i].loc, "not imported: the " + w + " program: " + *bad);
    return;
  }
  (w == "start" ? x.start : w == "stop" ? x.stop : x.restart) = *argv;
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    const std::string word = lw(s[j]);
    if (word == "uid" || word == "gid") {
      x.rep.warn(s[j].loc,
                 "not imported: '" + s[j].text + " " + (j + 1 < s.size() ? s[j + 1].text : "") +
                     "': amatad runs recovery programs as itself (a wrapper such as runuser "
                     "can change user)");
      ++j;
    } else if (word == "timeout") {
      x.rep.warn(s[j].loc,
                 "not imported: the program's timeout; amatad kills a recovery program after "
                 "its --run-timeout (60s by default)");
      j += 2;
    }
  }
}

/// The probe period `every N cycles` asks for; nullopt for any other `every` or `not every`.
std::optional<double> every_period(const CheckContext& x, const Tokens& s) {
  if (lw(s[0]) == "every" && s.size() >= 3 && is_number(s[1].text) &&
      lw(s[2]).starts_with("cycle")) {
    const double n = std::stod(s[1].text);
    if (n >= 1 && n * x.cycle <= 86400) return n * x.cycle;
  }
  return std::nullopt;
}

/// The warning for an `every` or `not every` statement that sets no probe period (a cron
/// schedule, a period out of range); `x.every` is the check's period, known by then.
void every_warning(CheckContext& x, const Tokens& s) {
  const bool cron =
      s.size() == (lw(s[0]) == "not" ? 3u : 2u) && s.back().kind == Token::Kind::kString;
  std::string why =
      "amata probes on a fixed period ('every N cycles' is imported, cron "
      "schedules are not)";
  if (cron && lw(s[0]) == "not") {
    why =
        "amata has no cron schedules in a policy; to pause an object's recovery for a "
        "window, open a maintenance window (amatactl maintenance OBJECT --for D --reason "
        "TEXT); the check is probed every " +
        duration(x.every);
  } else if (cron) {
    why =
        "amata has no cron schedules in a policy ('every N cycles' is imported); the check "
        "is probed every " +
        duration(x.every);
  }
  x.rep.warn(s[0].loc, "not imported: '" + text_of(x.rep, s) + "': " + why);
}

class MonitImporter {
 public:
  Reporter& reporter() { return rep_; }

  Result<Imported> run(ast::FileId root) {
    Tokens tokens;
    if (auto s = lex_monit(rep_, root, tokens); !s) return s.error();
    const ControlFile file = read_statements(rep_, tokens);
    out_ << "# Imported from " << rep_.sources().file(root).path
         << " by `amatac import monit`.\n"
            "# Each check is an object probed every cycle; each `if ... then` test a discover\n"
            "# rule. Check the policy with `amatac check`.\n"
            "policy "
         << names_.claim("monit") << "\n";
    if (!file.cycle_set) {
      out_ << "# No `set daemon`: every object is probed every " << duration(file.cycle)
           << ", Monit's usual cycle\n";
    } else {
      out_ << "# " << rep_.where(file.cycle_loc) << ": set daemon " << file.cycle
           << ": every object is probed every " << duration(file.cycle) << "\n";
    }
    for (const auto& c : file.checks) check(c, file.cycle);
    if (file.checks.empty()) out_ << "\n# No check statement: nothing to watch.\n";
    Imported result;
    result.policy = out_.str();
    result.warnings = rep_.take_warnings();
    return result;
  }

 private:
  void warn_statements(const Check& c, const std::string& why) {
    for (const auto& s : c.statements) {
      rep_.warn(s[0].loc, "not imported: '" + text_of(rep_, s) + "' (in check " + c.type + " " +
                              c.name + "): " + why);
    }
  }

  void check(const Check& c, double cycle) {
    Object o;
    o.loc = c.loc;
    std::string why;
    std::string host_address;
    if (c.type == "process") {
      o.kind = "process";
      if (auto p = header_value(c, "pidfile")) {
        if (auto bad = check::path_problem(*p)) {
          why = "its pidfile: " + *bad;
        } else {
          o.settings.push_back("pidfile " + quote(*p));
        }
      } else if (auto m = header_value(c, "matching")) {
        if (auto re = base::Regex::compile(*m); !re) {
          why = "its pattern is not RE2 syntax (" + re.error().message + ")";
        } else {
          o.settings.push_back("match " + quote(*m));
        }
      } else {
        why = "it names neither a pidfile nor a 'matching' pattern";
      }
    } else if (c.type == "filesystem") {
      o.kind = "filesystem";
      auto p = header_value(c, "path");
      if (!p) {
        why = "it has no path";
      } else if (p->starts_with("/dev/")) {
        why = "amata watches a filesystem by its mount point, and " + *p +
              " is a device: write 'check filesystem " + c.name + " with path /MOUNT/POINT'";
      } else if (auto bad = check::path_problem(*p)) {
        why = "its path: " + *bad;
      } else {
        o.settings.push_back("path " + quote(*p));
      }
    } else if (c.type == "system") {
      o.kind = "node";
    } else if (c.type == "network") {
      o.kind = "interface";
      auto i = header_value(c, "interface");
      if (!i) {
        why = "amata watches an interface by its name ('with interface eth0'), not by address";
      } else if (auto bad = check::interface_name_problem(*i)) {
        why = "its interface name: " + *bad;
      } else {
        o.settings.push_back("name " + quote(*i));
      }
    } else if (c.type == "host") {
      o.kind = "host";  // one host object per tested port or ping, made by the tests
      auto a = header_value(c, "address");
      if (!a) {
        why = "it has no address";
      } else if (auto bad = check::host_problem(*a)) {
        why = "its address: " + *bad;
      } else {
        host_address = *a;
      }
    } else if (c.type == "program") {
      o.kind = "check";
      auto p = header_value(c, "path");
      auto argv = p ? shell_split(*p) : Result<std::vector<std::string>>(Error{"no path"});
      if (!argv || argv->empty()) {
        why = "its path is not a command line (" +
              (argv ? std::string("empty") : argv.error().message) + ")";
      } else if (auto bad = check::path_problem((*argv)[0])) {
        why = "its program: " + *bad;
      } else {
        o.settings.push_back("command " + argv_text(*argv));
        for (std::size_t i = 0; i + 2 < c.header.size(); ++i) {
          if (lw(c.header[i]) == "timeout" && is_number(c.header[i + 1].text)) {
            const double s = std::stod(c.header[i + 1].text);
            if (s >= 0.001 && s <= 3600) o.settings.push_back("timeout " + duration(s));
          }
        }
      }
    } else if (c.type == "file" || c.type == "fifo" || c.type == "directory") {
      why =
          "amata does not watch files, FIFOs or directories (their checksum, permissions, "
          "owner, size or timestamp)";
    } else {
      why = "'check " + c.type + "' is not a Monit check type amata knows";
    }
    if (!why.empty()) {
      rep_.warn(c.loc, "not imported: 'check " + c.type + " " + c.name + "': " + why);
      warn_statements(c, "its check is not imported");
      return;
    }

    // Header words beyond the ones used.
    static const std::set<std::string, std::less<>> kHeaderUsed = {
        "with",      "pidfile", "matching", "path",  "address",
        "interface", "timeout", "seconds",  "second"};
    for (std::size_t i = 0; i < c.header.size(); ++i) {
      const std::string w = lw(c.header[i]);
      const bool value_of_previous =
          i > 0 && kHeaderUsed.contains(lw(c.header[i - 1])) && lw(c.header[i - 1]) != "with";
      if (!kHeaderUsed.contains(w) && !value_of_previous) {
        rep_.warn(c.header[i].loc,
                  "not imported: '" + c.header[i].text + "' in the check's header");
      }
    }

    const std::string monit_name = c.type == "system" && c.name == "$HOST" ? "self" : c.name;
    o.name = names_.claim(monit_name);
    CheckContext x{.rep = rep_,
                   .names = names_,
                   .cycle = cycle,
                   .obj = o.name,
                   .kind = o.kind,
                   .host_address = host_address,
                   .every = cycle};

    // Programs and `every` first: the tests' actions use them.
    for (const auto& s : c.statements) {
      const std::string w = lw(s[0]);
      if (w == "start" || w == "stop" || w == "restart") {
        program_statement(x, s);
      } else if (w == "every" || w == "not") {
        if (auto period = every_period(x, s)) x.every = *period;
      }
    }
    for (const auto& s : c.statements) {
      const std::string w = lw(s[0]);
      if (w == "if") {
        if_statement(x, s);
      } else if ((w == "every" || w == "not") && !every_period(x, s)) {
        every_warning(x, s);
      } else if (w == "start" || w == "stop" || w == "restart" || w == "every" || w == "not" ||
                 (w == "mode" && s.size() == 2 && lw(s[1]) == "active")) {
        // Programs and `every`: done above. `mode active`: Monit's default and amata's only
        // mode.
      } else {
        static const std::map<std::string, std::string, std::less<>> kWhy = {
            {"group", "amata has no service groups"},
            {"depends", "amata orders only the services it starts ('depends' of a service)"},
            {"depend", "amata orders only the services it starts ('depends' of a service)"},
            {"alert", "amata sends no mail; hook scripts (amatad --hooks) receive every event"},
            {"noalert", "amata sends no mail; hook scripts (amatad --hooks) receive every event"},
            {"mode", "amatad always probes and recovers (Monit's active mode)"},
            {"onreboot", "amatad adopts running services and starts the others at boot"}};
        auto it = kWhy.find(w);
        rep_.warn(s[0].loc,
                  "not imported: '" + text_of(rep_, s) + "': " +
                      (it == kWhy.end() ? std::string("not a Monit statement") : it->second));
      }
    }

    // A process that does not exist is restarted unless a test says otherwise.
    if (x.kind == "process" && !x.explicit_nonexist) {
      Rule r;
      r.comment = rep_.where(c.loc) + ": Monit restarts a checked process that does not exist";
      r.name_hint = "down";
      r.object = x.obj;
      r.kind = x.kind;
      r.condition = "not " + x.obj + ".alive";
      r.actions = restart_actions(x);
      if (r.actions.empty()) r.notes.push_back("no start program: amatad reports it");
      x.pending.insert(x.pending.begin(), std::move(r));
    }

    // The text.
    if (x.kind != "host") {
      out_ << "\n# " << rep_.where(c.loc) << ": " << rep_.excerpt(c.loc, c.end) << "\n";
      out_ << o.kind << " " << o.name << " {";
      o.settings.push_back("every " + duration(x.every));
      for (std::size_t i = 0; i < o.settings.size(); ++i) {
        out_ << (i ? "; " : " ") << o.settings[i];
      }
      out_ << " }\n";
    } else {
      out_ << "\n# " << rep_.where(c.loc) << ": " << rep_.excerpt(c.loc, c.end) << "\n";
    }
    for (const auto& extra : x.pending_objects) out_ << extra;
    for (const auto& r : x.pending) write_rule(x, r, out_);
  }

  Reporter rep_;
  Names names_;
  std::ostringstream out_;
};

}  // namespace

Result<Imported> import_monit(const std::string& path) {
  MonitImporter importer;
  auto id = importer.reporter().sources().load(path);
  if (!id) return Error{"error: cannot read the control file: " + id.error().message};
  return importer.run(*id);
}

Result<Imported> import_monit_text(const std::string& name, std::string text) {
  MonitImporter importer;
  auto id = importer.reporter().sources().add(name, std::move(text));
  return importer.run(id);
}

}  // namespace amata::importer
