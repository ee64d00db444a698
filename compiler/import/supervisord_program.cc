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

/// One process of a program: a service, its discover rule and its recover rule; false when
/// it is not imported.
bool process(const ProgramContext& cx, const Section& s, std::map<std::string, std::string> vars,
             const std::string& program_name, long num, long numprocs, bool first) {
  vars["program_name"] = program_name;
  vars["group_name"] =
      cx.group_of.contains(program_name) ? cx.group_of.at(program_name) : program_name;
  vars["process_num"] = std::to_string(num);
  vars["numprocs"] = std::to_string(numprocs);
  // Each warning once, for the first process of the program.
  auto warn = [&](Loc at, const std::string& message) {
    if (first) cx.rep.warn(at, message);
  };
  auto get = [&](std::string_view key) -> std::optional<std::string> {
    const Entry* e = s.find(key);
    if (!e) return std::nullopt;
    auto v = expand(e->value, vars);
    if (!v) {
      warn(e->value_loc, "'" + e->key + "' not imported: " + v.error().message);
      return std::nullopt;
    }
    return *v;
  };

  std::string name = program_name;
  if (s.find("process_name") != nullptr) {
    if (auto v = get("process_name")) {
      name = *v;
    } else {
      return false;
    }
  }

  const Entry* command_e = s.find("command");
  if (!command_e) {
    warn(s.loc, "[" + s.name + "] not imported: it has no command (supervisord refuses it too)");
    return false;
  }
  auto command = get("command");
  if (!command) {
    warn(s.loc, "[" + s.name + "] not imported: its command cannot be expanded");
    return false;
  }
  auto argv = shell_split(*command);
  if (!argv || argv->empty()) {
    warn(command_e->value_loc, "[" + s.name +
                                   "] not imported: the command cannot be split into words: " +
                                   (argv ? std::string("it is empty") : argv.error().message));
    return false;
  }

  // The environment: [supervisord]'s, then the program's (which wins).
  std::vector<std::pair<std::string, std::string>> env = cx.global_env;
  if (const Entry* e = s.find("environment")) {
    if (auto v = get("environment")) {
      auto pairs = parse_environment(*v);
      if (!pairs) {
        warn(e->value_loc, "environment not imported: " + pairs.error().message);
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
  std::vector<std::pair<std::string, std::string>> env_ok;
  for (auto& [k, v] : env) {
    if (check::env_name_problem(k)) {
      warn(s.find("environment") ? s.find("environment")->value_loc : s.loc,
           "environment variable '" + k +
               "' not imported: amata takes names of letters, digits and '_' (not first "
               "a digit)");
      continue;
    }
    env_ok.emplace_back(k, v);
  }

  std::vector<std::string> notes;  // comments above the service
  std::string dir;
  if (s.find("directory")) {
    if (auto v = get("directory")) {
      if (!check::path_problem(*v)) {
        dir = *v;
      } else {
        warn(s.find("directory")->value_loc,
             "directory '" + *v + "' not imported: amata needs an absolute path");
      }
    }
  }

  std::string& program = (*argv)[0];
  if (program.find('/') == std::string::npos) {
    std::string path;
    if (auto it = cx.options.environment.find("PATH"); it != cx.options.environment.end()) {
      path = it->second;
    }
    for (const auto& [k, v] : env_ok) {
      if (k == "PATH") path = v;
    }
    if (path.empty()) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if (auto found = find_in_path(program, path)) {
      notes.push_back("'" + program + "' is " + *found + " in the PATH on this machine");
      program = *found;
    } else {
      warn(command_e->value_loc, "'" + program +
                                     "' is not in the PATH on this machine: the service "
                                     "runs it through /usr/bin/env, which searches PATH when "
                                     "amatad starts it");
      argv->insert(argv->begin(), "/usr/bin/env");
    }
  } else if (program[0] != '/') {
    if (dir.empty()) {
      warn(command_e->value_loc,
           "[" + s.name + "] not imported: the program '" + program +
               "' is a relative path and the section has no directory to resolve it from");
      return false;
    }
    program = dir + "/" + program;
  }

  std::string user;
  if (s.find("user")) {
    if (auto v = get("user")) {
      if (!check::account_name_problem(*v)) {
        user = *v;
      } else {
        warn(s.find("user")->value_loc,
             "user '" + *v +
                 "' not imported: amata takes a user name as useradd(8) creates it, not a "
                 "number");
      }
    }
  }

  // Logs: amata writes stdout and stderr to one file (by default STATE/logs/NAME.log, as
  // supervisord's AUTO puts them in childlogdir).
  std::string log;
  bool redirect = false;
  if (const Entry* e = s.find("redirect_stderr"); e && !parse_bool(e->value, redirect)) {
    warn(e->value_loc, "redirect_stderr not imported: expected true or false");
  }
  auto log_value = [&](std::string_view key) -> std::optional<std::string> {
    auto v = get(key);
    if (!v) return std::nullopt;
    const std::string u = lower(*v);
    if (u == "auto") return std::string();
    if (u == "none") {
      warn(s.find(key)->value_loc,
           std::string(key) +
               "=NONE not imported: amatad always keeps a service's output (in its log "
               "directory unless 'log' names a file)");
      return std::nullopt;
    }
    if (u == "syslog") {
      warn(s.find(key)->value_loc,
           std::string(key) + "=syslog not imported: amata writes a service's output to a file");
      return std::nullopt;
    }
    if (check::path_problem(*v)) {
      warn(s.find(key)->value_loc,
           std::string(key) + " '" + *v + "' not imported: amata needs an absolute path");
      return std::nullopt;
    }
    return v;
  };
  std::optional<std::string> out_log, err_log;
  if (s.find("stdout_logfile")) out_log = log_value("stdout_logfile");
  if (s.find("stderr_logfile")) err_log = log_value("stderr_logfile");
  if (out_log && !out_log->empty()) log = *out_log;
  if (err_log && !err_log->empty()) {
    if (log.empty() && redirect) {
      // stderr goes to stdout's file; supervisord ignores stderr_logfile then.
      warn(s.find("stderr_logfile")->key_loc,
           "stderr_logfile not imported: with redirect_stderr=true supervisord ignores it");
    } else if (log.empty()) {
      log = *err_log;
      warn(s.find("stderr_logfile")->key_loc,
           "stderr_logfile imported as the one log of the service: amata writes stdout and "
           "stderr to the same file");
    } else if (*err_log != log) {
      warn(
          s.find("stderr_logfile")->key_loc,
          "stderr_logfile not imported: amata writes stdout and stderr to one file, '" + log + "'");
    }
  } else if (!redirect && !log.empty() && s.find("redirect_stderr") == nullptr) {
    notes.push_back("stderr goes to the log too (amata writes both streams to one file)");
  }

  // Stopping.
  std::string stop_signal = "TERM";
  if (auto v = get("stopsignal")) {
    if (auto sig = signal_name(*v)) {
      stop_signal = *sig;
    } else {
      warn(s.find("stopsignal")->value_loc,
           "stopsignal '" + *v + "' not imported (unknown signal); amatad sends TERM");
    }
  }
  double stopwait = 10;  // supervisord's default
  if (auto v = get("stopwaitsecs")) {
    long n = 0;
    if (!parse_int(*v, 0, 1000000, n)) {
      warn(s.find("stopwaitsecs")->value_loc,
           "stopwaitsecs not imported: expected a whole number of seconds");
    } else if (n > 3600) {
      warn(s.find("stopwaitsecs")->value_loc,
           "stopwaitsecs=" + *v + " imported as 1h: amata waits at most an hour before KILL");
      stopwait = 3600;
    } else if (n == 0) {
      notes.push_back("stopwaitsecs=0: KILL follows the stop signal after 1ms");
      stopwait = 0.001;
    } else {
      stopwait = static_cast<double>(n);
    }
  }
  for (const char* key : {"stopasgroup", "killasgroup"}) {
    bool b = false;
    const Entry* e = s.find(key);
    if (!e) continue;
    if (!parse_bool(e->value, b)) {
      warn(e->value_loc, std::string(key) + " not imported: expected true or false");
    } else if (!b) {
      warn(e->key_loc, std::string(key) +
                           "=false not imported: amatad signals the service's whole process "
                           "group (its children too)");
    }
  }

  // Restarting.
  std::string autorestart = "unexpected";
  if (auto v = get("autorestart")) {
    const std::string l = lower(*v);
    bool b = false;
    if (l == "unexpected") {
      autorestart = l;
    } else if (parse_bool(l, b)) {
      autorestart = b ? "true" : "false";
    } else {
      warn(s.find("autorestart")->value_loc,
           "autorestart '" + *v + "' not imported: expected true, false or unexpected");
    }
  }
  std::vector<long> exitcodes = {0};
  if (auto v = get("exitcodes")) {
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
    if (ok && !codes.empty()) {
      exitcodes = codes;
    } else {
      warn(s.find("exitcodes")->value_loc,
           "exitcodes not imported: expected exit codes from 0 to 255, separated by commas");
    }
  }
  long startsecs = 1, startretries = 3;  // supervisord's defaults
  if (auto v = get("startsecs"); v && !parse_int(*v, 0, 86400, startsecs)) {
    warn(s.find("startsecs")->value_loc,
         "startsecs not imported: expected a whole number of seconds up to a day");
  }
  if (auto v = get("startretries"); v && !parse_int(*v, 0, 1000, startretries)) {
    warn(s.find("startretries")->value_loc,
         "startretries not imported: expected a whole number from 0 to 1000");
  }
  if (auto v = get("autostart")) {
    bool b = true;
    if (!parse_bool(*v, b)) {
      warn(s.find("autostart")->value_loc, "autostart not imported: expected true or false");
    } else if (!b) {
      warn(s.find("autostart")->key_loc,
           "autostart=false not imported: amatad starts every service of its policy (start "
           "it later with `amatactl start`, or leave it out of the policy)");
    }
  }
  if (s.find("priority")) {
    warn(s.find("priority")->key_loc,
         "priority not imported: amatad starts services in the order 'depends' gives, not by "
         "priority (add 'depends' to the services that need another first)");
  }
  for (const auto& e : s.entries) {
    static const std::set<std::string, std::less<>> kHandled = {
        "command",     "process_name", "numprocs",        "numprocs_start", "directory",
        "user",        "environment",  "stopsignal",      "stopwaitsecs",   "stopasgroup",
        "killasgroup", "autorestart",  "exitcodes",       "startsecs",      "startretries",
        "autostart",   "priority",     "redirect_stderr", "stdout_logfile", "stderr_logfile"};
    if (kHandled.contains(e.key)) continue;
    if (kNoEquivalentProgramKeys.contains(e.key)) {
      warn(e.key_loc, e.key + " not imported: amata has no equivalent");
    } else {
      warn(e.key_loc, "'" + e.key + "' not imported: not a setting supervisord knows");
    }
  }

  // The text.
  const std::string svc = cx.names.claim(name);
  cx.out << "\n# " << cx.rep.where(s.loc) << ": [" << s.name << "]";
  if (numprocs > 1) cx.out << ", process " << num;
  cx.out << "\n";
  for (const auto& n : notes) cx.out << "# " << n << "\n";
  if (svc != name) cx.out << "# supervisord's '" << name << "'\n";
  cx.out << "service " << svc << " {\n";
  cx.out << "  start " << argv_text(*argv) << "\n";
  if (!dir.empty()) cx.out << "  dir " << quote(dir) << "\n";
  if (!user.empty()) cx.out << "  user " << quote(user) << "\n";
  for (const auto& [k, v] : env_ok) cx.out << "  env " << k << " " << quote(v) << "\n";
  if (!log.empty()) cx.out << "  log " << quote(log) << "\n";
  cx.out << "  stop " << stop_signal << " then KILL after " << duration(stopwait) << "\n";
  cx.out << "}\n";

  const std::string rule = cx.names.claim(svc + "_exited");
  const std::string event = cx.names.claim(camel_case(svc) + "Exited");
  std::string condition = "not " + svc + ".alive";
  if (autorestart == "unexpected") {
    // A death by a signal reads exit_code -1: never an expected code.
    for (long c : exitcodes) condition += " and " + svc + ".exit_code != " + std::to_string(c);
    std::string codes;
    for (long c : exitcodes) codes += (codes.empty() ? "" : ",") + std::to_string(c);
    cx.out << "# autorestart=unexpected: restarted unless it exits with " << codes << "\n";
  }
  cx.out << "discover " << rule << " when " << condition << " raise " << event << "(" << svc
         << ")\n";
  if (autorestart == "false") {
    cx.out << "# autorestart=false: amatad reports the exit and leaves the service stopped\n";
    cx.out << "event " << event << "(s: service) notify_only\n";
    return true;
  }
  // supervisord retries a start that dies within startsecs startretries times, waiting 1s,
  // 2s, 3s..., then gives up (FATAL); amata's restart limit counts every restart in a
  // window as long as those tries take.
  const long retries = std::max(1L, startretries);
  const long backoffs = startretries * (startretries + 1) / 2;  // 1s + 2s + ... (exact)
  double window =
      static_cast<double>((startretries + 1) * startsecs) + static_cast<double>(backoffs);
  window = std::clamp(window, 1.0, 86400.0);
  cx.out << "# startretries=" << startretries << ", startsecs=" << startsecs
         << ": supervisord gives up after " << startretries
         << " failed starts in a row; amata after " << retries << " restarts within "
         << duration(window) << "\n";
  cx.out << "recover " << event << "(s) { restart s backoff 1s .. "
         << duration(static_cast<double>(std::max(1L, startretries))) << " limit " << retries
         << " within " << duration(window) << " }\n";
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
