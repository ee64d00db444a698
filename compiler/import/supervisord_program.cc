#include "compiler/import/supervisord_program.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <sstream>

#include "compiler/check/values.h"
#include "compiler/import/supervisord_values.h"

namespace amata::importer {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

const std::set<std::string, std::less<>> kNoEquivalentProgramKeys = {
    "umask",
    "serverurl",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "strip_ansi",
};

/// The settings read (or warned about) one by one below; every other key of a program is in
/// kNoEquivalentProgramKeys or unknown to supervisord.
const std::set<std::string, std::less<>> kProgramKeysReadOneByOne = {
    "command",     "process_name", "numprocs",        "numprocs_start", "directory",
    "user",        "environment",  "stopsignal",      "stopwaitsecs",   "stopasgroup",
    "killasgroup", "autorestart",  "exitcodes",       "startsecs",      "startretries",
    "autostart",   "priority",     "redirect_stderr", "stdout_logfile", "stderr_logfile"};

/// One process's view of its [program:x] section: values expanded with the process's own
/// %(process_num)s, and warnings given once per program (by its first process) however many
/// processes it has.
struct ProcessSection {
  const ProgramContext& cx;
  const Section& s;
  std::map<std::string, std::string> vars;
  bool first;

  void warn(Loc at, const std::string& message) const {
    if (first) cx.rep.warn(at, message);
  }
  /// The value of `key`, expanded; nullopt when the section lacks it or (with a warning) it
  /// cannot be expanded.
  std::optional<std::string> get(std::string_view key) const {
    const Entry* e = s.find(key);
    if (!e) return std::nullopt;
    auto v = expand(e->value, vars);
    if (!v) {
      warn(e->value_loc, "'" + e->key + "' not imported: " + v.error().message);
      return std::nullopt;
    }
    return *v;
  }
  /// Where a key the section has, or its value, stands.
  Loc key_loc(std::string_view key) const { return s.find(key)->key_loc; }
  Loc value_loc(std::string_view key) const { return s.find(key)->value_loc; }
};

/// What the service statement says.
struct ServiceSettings {
  std::string name;  // supervisord's, before Names makes it a valid and free one
  std::vector<std::string> argv;
  Env env;
  std::string dir;
  std::string user;
  std::string log;  // empty: amatad's default, STATE/logs/NAME.log
  std::string stop_signal = "TERM";
  double stopwait = 10;            // supervisord's default
  std::vector<std::string> notes;  // comments above the service
};

/// What the discover and recover rules say.
struct RestartSettings {
  std::string autorestart = "unexpected";  // or "true", "false"
  std::vector<long> exitcodes = {0};
  long startsecs = 1, startretries = 3;  // supervisord's defaults
};

/// process_name, or the program's name when the section has none; nullopt when it cannot be
/// expanded (the process is not imported).
std::optional<std::string> read_process_name(const ProcessSection& ps,
                                             const std::string& program_name) {
  if (ps.s.find("process_name") == nullptr) return program_name;
  return ps.get("process_name");
}

/// The command in words; nullopt (with a warning) when there is none, or it cannot be
/// expanded or split: the process is not imported.
std::optional<std::vector<std::string>> read_command(const ProcessSection& ps) {
  const Section& s = ps.s;
  const Entry* command_e = s.find("command");
  if (!command_e) {
    ps.warn(s.loc, "[" + s.name + "] not imported: it has no command (supervisord refuses it too)");
    return std::nullopt;
  }
  auto command = ps.get("command");
  if (!command) {
    ps.warn(s.loc, "[" + s.name + "] not imported: its command cannot be expanded");
    return std::nullopt;
  }
  auto argv = shell_split(*command);
  if (!argv || argv->empty()) {
    ps.warn(command_e->value_loc, "[" + s.name +
                                      "] not imported: the command cannot be split into words: " +
                                      (argv ? std::string("it is empty") : argv.error().message));
    return std::nullopt;
  }
  return std::move(*argv);
}

/// The environment: [supervisord]'s, then the program's (which wins), less the names amata
/// does not take.
Env read_environment(const ProcessSection& ps) {
  Env env = ps.cx.global_env;
  const Entry* e = ps.s.find("environment");
  if (e) {
    if (auto v = ps.get("environment")) {
      auto pairs = parse_environment(*v);
      if (!pairs) {
        ps.warn(e->value_loc, "environment not imported: " + pairs.error().message);
      } else {
        for (auto& pair : *pairs) {
          auto same =
              std::find_if(env.begin(), env.end(), [&](auto& p) { return p.first == pair.first; });
          if (same != env.end()) env.erase(same);
          env.emplace_back(pair.first, pair.second);
        }
      }
    }
  }
  Env env_ok;
  for (auto& [k, v] : env) {
    if (check::env_name_problem(k)) {
      ps.warn(e ? e->value_loc : ps.s.loc,
              "environment variable '" + k +
                  "' not imported: amata takes names of letters, digits and '_' (not first "
                  "a digit)");
      continue;
    }
    env_ok.emplace_back(k, v);
  }
  return env_ok;
}

/// directory, when it is an absolute path; else empty.
std::string read_directory(const ProcessSection& ps) {
  if (!ps.s.find("directory")) return "";
  auto v = ps.get("directory");
  if (!v) return "";
  if (check::path_problem(*v)) {
    ps.warn(ps.value_loc("directory"),
            "directory '" + *v + "' not imported: amata needs an absolute path");
    return "";
  }
  return *v;
}

/// The PATH supervisord would search for the program: the program's environment's, else the
/// one amatac runs with, else a default.
std::string search_path(const ProcessSection& ps, const Env& env) {
  std::string path;
  if (auto it = ps.cx.options.environment.find("PATH"); it != ps.cx.options.environment.end()) {
    path = it->second;
  }
  for (const auto& [k, v] : env) {
    if (k == "PATH") path = v;
  }
  if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  return path;
}

/// Makes the program (the first word of the command) an absolute path, as amatad runs no
/// other: found in the PATH on this machine, else through /usr/bin/env; a relative path under
/// the directory. False (with a warning) for a relative path without a directory.
bool resolve_program(const ProcessSection& ps, ServiceSettings& svc) {
  const Loc command_at = ps.value_loc("command");
  std::string& program = svc.argv[0];
  if (program.find('/') == std::string::npos) {
    if (auto found = find_in_path(program, search_path(ps, svc.env))) {
      svc.notes.push_back("'" + program + "' is " + *found + " in the PATH on this machine");
      program = *found;
    } else {
      ps.warn(command_at, "'" + program +
                              "' is not in the PATH on this machine: the service runs it "
                              "through /usr/bin/env, which searches PATH when amatad starts it");
      svc.argv.insert(svc.argv.begin(), "/usr/bin/env");
    }
  } else if (program[0] != '/') {
    if (svc.dir.empty()) {
      ps.warn(command_at,
              "[" + ps.s.name + "] not imported: the program '" + program +
                  "' is a relative path and the section has no directory to resolve it from");
      return false;
    }
    program = svc.dir + "/" + program;
  }
  return true;
}

/// user, when it is a name amata takes; else empty.
std::string read_user(const ProcessSection& ps) {
  if (!ps.s.find("user")) return "";
  auto v = ps.get("user");
  if (!v) return "";
  if (check::account_name_problem(*v)) {
    ps.warn(ps.value_loc("user"),
            "user '" + *v +
                "' not imported: amata takes a user name as useradd(8) creates it, not a "
                "number");
    return "";
  }
  return *v;
}

/// stdout_logfile or stderr_logfile: a file, empty for AUTO (amatad's default), nullopt
/// (with a warning) for what amata cannot do.
std::optional<std::string> read_log_file(const ProcessSection& ps, std::string_view key) {
  auto v = ps.get(key);
  if (!v) return std::nullopt;
  const std::string u = lower(*v);
  if (u == "auto") return std::string();
  if (u == "none") {
    ps.warn(ps.value_loc(key), std::string(key) +
                                   "=NONE not imported: amatad always keeps a service's output "
                                   "(in its log directory unless 'log' names a file)");
    return std::nullopt;
  }
  if (u == "syslog") {
    ps.warn(ps.value_loc(key), std::string(key) +
                                   "=syslog not imported: amata writes a service's output to a "
                                   "file");
    return std::nullopt;
  }
  if (check::path_problem(*v)) {
    ps.warn(ps.value_loc(key),
            std::string(key) + " '" + *v + "' not imported: amata needs an absolute path");
    return std::nullopt;
  }
  return v;
}

/// The log: amata writes stdout and stderr to one file (by default STATE/logs/NAME.log, as
/// supervisord's AUTO puts them in childlogdir), so stdout's file wins over stderr's.
void read_logs(const ProcessSection& ps, ServiceSettings& svc) {
  const Section& s = ps.s;
  bool redirect = false;
  if (const Entry* e = s.find("redirect_stderr"); e && !parse_bool(e->value, redirect)) {
    ps.warn(e->value_loc, "redirect_stderr not imported: expected true or false");
  }
  std::optional<std::string> out_log, err_log;
  if (s.find("stdout_logfile")) out_log = read_log_file(ps, "stdout_logfile");
  if (s.find("stderr_logfile")) err_log = read_log_file(ps, "stderr_logfile");
  std::string& log = svc.log;
  if (out_log && !out_log->empty()) log = *out_log;
  if (err_log && !err_log->empty()) {
    const Loc err_at = ps.key_loc("stderr_logfile");
    if (log.empty() && redirect) {
      // stderr goes to stdout's file; supervisord ignores stderr_logfile then.
      ps.warn(err_at,
              "stderr_logfile not imported: with redirect_stderr=true supervisord ignores it");
    } else if (log.empty()) {
      log = *err_log;
      ps.warn(err_at,
              "stderr_logfile imported as the one log of the service: amata writes stdout and "
              "stderr to the same file");
    } else if (*err_log != log) {
      ps.warn(err_at, "stderr_logfile not imported: amata writes stdout and stderr to one file, '" +
                          log + "'");
    }
  } else if (!redirect && !log.empty() && s.find("redirect_stderr") == nullptr) {
    svc.notes.push_back("stderr goes to the log too (amata writes both streams to one file)");
  }
}

/// stopwaitsecs in seconds: amata waits at least 1ms and at most an hour before KILL.
double read_stopwait(const ProcessSection& ps, std::vector<std::string>& notes) {
  double stopwait = 10;  // supervisord's default
  auto v = ps.get("stopwaitsecs");
  if (!v) return stopwait;
  long n = 0;
  if (!parse_int(*v, 0, 1000000, n)) {
    ps.warn(ps.value_loc("stopwaitsecs"),
            "stopwaitsecs not imported: expected a whole number of seconds");
  } else if (n > 3600) {
    ps.warn(ps.value_loc("stopwaitsecs"),
            "stopwaitsecs=" + *v + " imported as 1h: amata waits at most an hour before KILL");
    stopwait = 3600;
  } else if (n == 0) {
    notes.push_back("stopwaitsecs=0: KILL follows the stop signal after 1ms");
    stopwait = 0.001;
  } else {
    stopwait = static_cast<double>(n);
  }
  return stopwait;
}

/// Stopping: the signal and how long before KILL. amatad always signals the whole process
/// group, so stopasgroup or killasgroup set to false is a warning.
void read_stopping(const ProcessSection& ps, ServiceSettings& svc) {
  if (auto v = ps.get("stopsignal")) {
    if (auto sig = signal_name(*v)) {
      svc.stop_signal = *sig;
    } else {
      ps.warn(ps.value_loc("stopsignal"),
              "stopsignal '" + *v + "' not imported (unknown signal); amatad sends TERM");
    }
  }
  svc.stopwait = read_stopwait(ps, svc.notes);
  for (const char* key : {"stopasgroup", "killasgroup"}) {
    bool b = false;
    const Entry* e = ps.s.find(key);
    if (!e) continue;
    if (!parse_bool(e->value, b)) {
      ps.warn(e->value_loc, std::string(key) + " not imported: expected true or false");
    } else if (!b) {
      ps.warn(e->key_loc, std::string(key) +
                              "=false not imported: amatad signals the service's whole process "
                              "group (its children too)");
    }
  }
}

/// exitcodes: the exits autorestart=unexpected leaves alone.
std::vector<long> read_exitcodes(const ProcessSection& ps) {
  auto v = ps.get("exitcodes");
  if (!v) return {0};
  std::string list = *v;
  std::replace(list.begin(), list.end(), ',', ' ');
  std::istringstream in(list);
  std::string c;
  std::vector<long> codes;
  bool ok = true;
  while (in >> c) {
    long n = 0;
    if (!parse_int(c, 0, 255, n)) ok = false;
    codes.push_back(n);
  }
  if (ok && !codes.empty()) return codes;
  ps.warn(ps.value_loc("exitcodes"),
          "exitcodes not imported: expected exit codes from 0 to 255, separated by commas");
  return {0};
}

/// Restarting: autorestart, exitcodes, startsecs and startretries.
RestartSettings read_restarting(const ProcessSection& ps) {
  RestartSettings r;
  if (auto v = ps.get("autorestart")) {
    const std::string l = lower(*v);
    bool b = false;
    if (l == "unexpected") {
      r.autorestart = l;
    } else if (parse_bool(l, b)) {
      r.autorestart = b ? "true" : "false";
    } else {
      ps.warn(ps.value_loc("autorestart"),
              "autorestart '" + *v + "' not imported: expected true, false or unexpected");
    }
  }
  r.exitcodes = read_exitcodes(ps);
  if (auto v = ps.get("startsecs"); v && !parse_int(*v, 0, 86400, r.startsecs)) {
    ps.warn(ps.value_loc("startsecs"),
            "startsecs not imported: expected a whole number of seconds up to a day");
  }
  if (auto v = ps.get("startretries"); v && !parse_int(*v, 0, 1000, r.startretries)) {
    ps.warn(ps.value_loc("startretries"),
            "startretries not imported: expected a whole number from 0 to 1000");
  }
  return r;
}

/// A warning for every setting the policy cannot carry over: autostart=false, priority, and
/// the keys amata has no equivalent for or supervisord does not know.
void warn_settings_without_equivalent(const ProcessSection& ps) {
  if (auto v = ps.get("autostart")) {
    bool b = true;
    if (!parse_bool(*v, b)) {
      ps.warn(ps.value_loc("autostart"), "autostart not imported: expected true or false");
    } else if (!b) {
      ps.warn(ps.key_loc("autostart"),
              "autostart=false not imported: amatad starts every service of its policy (start "
              "it later with `amatactl start`, or leave it out of the policy)");
    }
  }
  if (ps.s.find("priority")) {
    ps.warn(ps.key_loc("priority"),
            "priority not imported: amatad starts services in the order 'depends' gives, not "
            "by priority (add 'depends' to the services that need another first)");
  }
  for (const auto& e : ps.s.entries) {
    if (kProgramKeysReadOneByOne.contains(e.key)) continue;
    if (kNoEquivalentProgramKeys.contains(e.key)) {
      ps.warn(e.key_loc, e.key + " not imported: amata has no equivalent");
    } else {
      ps.warn(e.key_loc, "'" + e.key + "' not imported: not a setting supervisord knows");
    }
  }
}

/// Writes the service statement, under a comment naming its section; returns the name the
/// service got.
std::string write_service(const ProcessSection& ps, const ServiceSettings& svc, long num,
                          long numprocs) {
  std::ostream& out = ps.cx.out;
  std::string name = ps.cx.names.claim(svc.name);
  out << "\n# " << ps.cx.rep.where(ps.s.loc) << ": [" << ps.s.name << "]";
  if (numprocs > 1) out << ", process " << num;
  out << "\n";
  for (const auto& n : svc.notes) out << "# " << n << "\n";
  if (name != svc.name) out << "# supervisord's '" << svc.name << "'\n";
  out << "service " << name << " {\n";
  out << "  start " << argv_text(svc.argv) << "\n";
  if (!svc.dir.empty()) out << "  dir " << quote(svc.dir) << "\n";
  if (!svc.user.empty()) out << "  user " << quote(svc.user) << "\n";
  for (const auto& [k, v] : svc.env) out << "  env " << k << " " << quote(v) << "\n";
  if (!svc.log.empty()) out << "  log " << quote(svc.log) << "\n";
  out << "  stop " << svc.stop_signal << " then KILL after " << duration(svc.stopwait) << "\n";
  out << "}\n";
  return name;
}

/// Writes the recover rule that restarts the service on `event`.
void write_recover(std::ostream& out, const std::string& event, const RestartSettings& r) {
  // supervisord retries a start that dies within startsecs startretries times, waiting 1s,
  // 2s, 3s..., then gives up (FATAL); amata's restart limit counts every restart in a
  // window as long as those tries take.
  const long retries = std::max(1L, r.startretries);
  const long backoffs = r.startretries * (r.startretries + 1) / 2;  // 1s + 2s + ... (exact)
  double window =
      static_cast<double>((r.startretries + 1) * r.startsecs) + static_cast<double>(backoffs);
  window = std::clamp(window, 1.0, 86400.0);
  out << "# startretries=" << r.startretries << ", startsecs=" << r.startsecs
      << ": supervisord gives up after " << r.startretries
      << " failed starts in a row; amata after " << retries << " restarts within "
      << duration(window) << "\n";
  out << "recover " << event << "(s) { restart s backoff 1s .. "
      << duration(static_cast<double>(std::max(1L, r.startretries))) << " limit " << retries
      << " within " << duration(window) << " }\n";
}

/// Writes the discover rule for the death of service `svc` and, unless autorestart=false,
/// the recover rule.
void write_rules(const ProgramContext& cx, const std::string& svc, const RestartSettings& r) {
  const std::string rule = cx.names.claim(svc + "_exited");
  const std::string event = cx.names.claim(camel_case(svc) + "Exited");
  std::string condition = "not " + svc + ".alive";
  if (r.autorestart == "unexpected") {
    // A death by a signal reads exit_code -1: never an expected code.
    for (long c : r.exitcodes) condition += " and " + svc + ".exit_code != " + std::to_string(c);
    std::string codes;
    for (long c : r.exitcodes) codes += (codes.empty() ? "" : ",") + std::to_string(c);
    cx.out << "# autorestart=unexpected: restarted unless it exits with " << codes << "\n";
  }
  cx.out << "discover " << rule << " when " << condition << " raise " << event << "(" << svc
         << ")\n";
  if (r.autorestart == "false") {
    cx.out << "# autorestart=false: amatad reports the exit and leaves the service stopped\n";
    cx.out << "event " << event << "(s: service) notify_only\n";
    return;
  }
  write_recover(cx.out, event, r);
}

/// One process of a program: a service, its discover rule and its recover rule; false when
/// it is not imported. The settings are read in the order their warnings have always come.
bool process(const ProgramContext& cx, const Section& s, std::map<std::string, std::string> vars,
             const std::string& program_name, long num, long numprocs, bool first) {
  vars["program_name"] = program_name;
  vars["group_name"] =
      cx.group_of.contains(program_name) ? cx.group_of.at(program_name) : program_name;
  vars["process_num"] = std::to_string(num);
  vars["numprocs"] = std::to_string(numprocs);
  const ProcessSection ps{cx, s, std::move(vars), first};

  ServiceSettings svc;
  auto name = read_process_name(ps, program_name);
  if (!name) return false;
  svc.name = std::move(*name);
  auto argv = read_command(ps);
  if (!argv) return false;
  svc.argv = std::move(*argv);
  svc.env = read_environment(ps);
  svc.dir = read_directory(ps);
  if (!resolve_program(ps, svc)) return false;
  svc.user = read_user(ps);
  read_logs(ps, svc);
  read_stopping(ps, svc);
  const RestartSettings restart = read_restarting(ps);
  warn_settings_without_equivalent(ps);

  const std::string service = write_service(ps, svc, num, numprocs);
  write_rules(cx, service, restart);
  return true;
}

}  // namespace

int import_program(const ProgramContext& cx, const Section& s,
                   const std::map<std::string, std::string>& vars) {
  const std::string program_name = s.name.substr(8);
  const Entry* numprocs_e = s.find("numprocs");
  const Entry* start_e = s.find("numprocs_start");
  long numprocs = 1, numprocs_start = 0;
  if (numprocs_e && !parse_int(numprocs_e->value, 1, 1000, numprocs)) {
    cx.rep.warn(numprocs_e->value_loc,
                "[" + s.name + "] not imported: numprocs must be a whole number from 1 to 1000");
    return 0;
  }
  if (start_e && !parse_int(start_e->value, 0, 1000000, numprocs_start)) {
    cx.rep.warn(start_e->value_loc,
                "[" + s.name + "] not imported: numprocs_start must be a whole number");
    return 0;
  }
  const Entry* pname = s.find("process_name");
  if (numprocs > 1 && (!pname || pname->value.find("process_num") == std::string::npos)) {
    cx.rep.warn(pname ? pname->value_loc : s.loc,
                "[" + s.name +
                    "] not imported: with numprocs > 1, process_name must hold "
                    "%(process_num)s (supervisord refuses it too)");
    return 0;
  }
  int services = 0;
  for (long i = 0; i < numprocs; ++i) {
    if (process(cx, s, vars, program_name, numprocs_start + i, numprocs, i == 0)) ++services;
  }
  return services;
}

}  // namespace amata::importer
