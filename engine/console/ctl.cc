#include "engine/console/ctl.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/console/client.h"
#include "engine/console/console_backend.h"
#include "engine/console/render.h"

namespace amata::console {
namespace {

using Json = nlohmann::json;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_known_command(const std::string& cmd) {
  return cmd == "status" || cmd == "rules" || cmd == "events" || cmd == "explain" ||
         cmd == "reload" || cmd == "version" || cmd == "names" || cmd == "maintenance" ||
         cmd == "failover" || control_verb_from(cmd).has_value();
}

// `maintenance` on the command line is three requests: list, open a window, end one. The
// request it is, with its arguments, or a usage error.
Result<std::pair<std::string, Json>> maintenance_request(const CtlCommand& command) {
  const bool named = !command.target.empty();
  if (named && command.node) return Error{"maintenance takes an OBJECT or --node, not both"};
  if (!named && !command.node) {
    if (command.end || command.for_duration || command.reason) {
      return Error{"maintenance needs an OBJECT or --node"};
    }
    return std::pair<std::string, Json>{"maintenance", Json::object()};
  }
  Json args = Json::object();
  if (named) {
    args["object"] = command.target;
  } else {
    args["node"] = true;
  }
  if (command.end) {
    if (command.for_duration || command.reason) {
      return Error{"maintenance --end takes no --for or --reason"};
    }
    return std::pair<std::string, Json>{"maintenance_end", std::move(args)};
  }
  if (!command.for_duration) return Error{"maintenance needs --for D (30m, 2h, 1d) or --end"};
  auto duration = parse_duration_ms(*command.for_duration);
  if (!duration) return Error{"--for: " + duration.error().message};
  if (*duration < kMinMaintenanceMs || *duration > kMaxMaintenanceMs) {
    return Error{"--for: '" + *command.for_duration + "' is not between 1s and 7d"};
  }
  if (!command.reason || command.reason->find_first_not_of(" \t") == std::string::npos) {
    return Error{"maintenance needs --reason TEXT: why, for whoever reads the history"};
  }
  if (command.reason->size() > kMaxReasonBytes) {
    return Error{"--reason: at most " + std::to_string(kMaxReasonBytes) + " bytes"};
  }
  args["duration_ms"] = *duration;
  args["reason"] = *command.reason;
  return std::pair<std::string, Json>{"maintenance_start", std::move(args)};
}

// Replies come from another process: read them without trusting their shape (nlohmann's
// value() throws on a type mismatch, and amatactl must not die of a odd reply).
bool reply_ok(const Json& reply) {
  auto it = reply.find("ok");
  return it != reply.end() && it->is_boolean() && it->get<bool>();
}

const Json& reply_error(const Json& reply) {
  static const Json kEmpty = Json::object();
  auto it = reply.find("error");
  return it != reply.end() && it->is_object() ? *it : kEmpty;
}

int exit_code_for_error(const Json& reply) {
  const Json& error = reply_error(reply);
  auto it = error.find("code");
  std::string code = it != error.end() && it->is_string() ? it->get<std::string>() : "";
  if (code == "permission_denied") return kExitPermissionDenied;
  if (code == "too_many_clients") return kExitCannotConnect;
  return kExitRefused;
}

}  // namespace

Result<std::int64_t> parse_duration_ms(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits == text.size()) {
    return Error{"'" + text + "' is not a duration (500ms, 90s, 10m, 2h, 1d)"};
  }
  std::int64_t amount = 0;
  try {
    amount = std::stoll(text.substr(0, digits));
  } catch (const std::exception&) {
    return Error{"'" + text + "' is out of range"};
  }
  std::string unit = text.substr(digits);
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m" || unit == "min")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  if (scale == 0) return Error{"unknown unit '" + unit + "' (use ms, s, m, h or d)"};
  // Beyond a thousand years no duration means anything; this bound also keeps the product
  // inside int64.
  if (amount > 1000LL * 365 * 86'400'000 / scale) return Error{"'" + text + "' is out of range"};
  return amount * scale;
}

Result<std::int64_t> parse_since(const std::string& text, std::int64_t now) {
  // A duration: digits then a unit.
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits > 0 && digits < text.size() && text.find_first_of("-:T ") == std::string::npos) {
    auto duration = parse_duration_ms(text);
    if (!duration) return Error{"--since: " + duration.error().message};
    return now - *duration;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char sep = 0;
  int fields = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &year, &month, &day, &sep,
                           &hour, &minute, &second);
  bool date_only = fields == 3 && text.size() == 10;
  bool full = fields == 7 && (sep == 'T' || sep == ' ');
  if (!date_only && !full) {
    return Error{"--since: '" + text +
                 "' is neither a duration (10m, 2h, 1d) nor a UTC time (2026-11-25T15:04:05Z)"};
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return Error{"--since: '" + text + "' is not a valid date and time"};
  }
  tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&parts)) * 1000;
}

int run_ctl(const CtlCommand& command, std::ostream& out, std::ostream& err) {
  if (!is_known_command(command.cmd)) {
    err << "amatactl: unknown command '" << command.cmd << "'\n";
    return kExitUsage;
  }
  // `names objects|rules` is status or rules with only the names printed (completion, scripts).
  std::string wire_cmd = command.cmd;
  if (command.cmd == "names") {
    if (command.target != "objects" && command.target != "rules") {
      err << "amatactl: names takes objects or rules\n";
      return kExitUsage;
    }
    wire_cmd = command.target == "objects" ? "status" : "rules";
  }
  const bool needs_target = command.cmd == "explain" || control_verb_from(command.cmd);
  if (needs_target && command.target.empty()) {
    err << "amatactl: " << command.cmd << " needs "
        << (command.cmd == "explain" ? "a RULE" : "an OBJECT") << "\n";
    return kExitUsage;
  }

  if (command.cmd != "maintenance" &&
      (command.node || command.end || command.for_duration || command.reason)) {
    err << "amatactl: --node, --end, --for and --reason belong to maintenance\n";
    return kExitUsage;
  }
  const bool waits =
      command.wait && (command.cmd == "restart" || command.cmd == "start" || command.cmd == "stop");
  if (command.wait && !waits) {
    err << "amatactl: --wait applies to restart, start and stop\n";
    return kExitUsage;
  }
  if (waits && command.wait_timeout <= std::chrono::milliseconds(0)) {
    err << "amatactl: --timeout must be more than 0\n";
    return kExitUsage;
  }

  Json args = Json::object();
  if (command.cmd == "explain") args["rule"] = command.target;
  if (control_verb_from(command.cmd) || command.cmd == "failover") args["object"] = command.target;
  if (command.cmd == "failover" && command.to) args["to"] = *command.to;
  if (waits) args["wait"] = true;
  if (command.cmd == "maintenance") {
    auto request = maintenance_request(command);
    if (!request) {
      err << "amatactl: " << request.error().message << "\n";
      return kExitUsage;
    }
    wire_cmd = request->first;
    args = std::move(request->second);
  }
  if (command.cmd == "reload" && !command.target.empty()) args["file"] = command.target;
  if (command.cmd == "events") {
    if (command.since) {
      auto since = parse_since(*command.since, now_unix_ms());
      if (!since) {
        err << "amatactl: " << since.error().message << "\n";
        return kExitUsage;
      }
      args["since_unix_ms"] = *since;
    }
    if (command.object) args["object"] = *command.object;
    if (command.event) args["event"] = *command.event;
    if (command.limit) args["limit"] = *command.limit;
    if (command.follow) args["follow"] = true;
    if (command.cluster) args["cluster"] = true;
  }

  bool permission_denied = false;
  auto client = ConsoleClient::connect(command.socket_path, &permission_denied,
                                       std::min(command.timeout, std::chrono::milliseconds(5000)));
  if (!client) {
    err << "amatactl: cannot reach amatad: " << client.error().message << "\n";
    return permission_denied ? kExitPermissionDenied : kExitCannotConnect;
  }
  auto reply = client->call(wire_cmd, args, waits ? command.wait_timeout : command.timeout);
  if (!reply) {
    if (waits && reply.error().message == kReplyTimedOut) {
      err << "amatactl: " << command.cmd << " " << command.target << " has not ended after "
          << short_duration(command.wait_timeout.count())
          << "; it may still end (amatactl events --object " << command.target << ")\n";
      return kExitWaitTimedOut;
    }
    err << "amatactl: " << reply.error().message << "\n";
    return kExitCannotConnect;
  }
  RenderStyle style{command.colour, now_unix_ms()};
  if (!reply_ok(*reply)) {
    if (command.json) out << reply_error(*reply).dump(2) << "\n";
    err << "amatactl: " << render_error(reply_error(*reply), style);
    return exit_code_for_error(*reply);
  }
  Json& result = (*reply)["result"];
  if (command.cmd == "status" && !command.objects.empty()) {
    // status OBJECT...: the objects named, in the order named; an unknown one fails.
    Json chosen = Json::array();
    for (const std::string& name : command.objects) {
      const Json* found = nullptr;
      if (auto it = result.find("objects"); result.is_object() && it != result.end()) {
        for (const Json& object : *it) {
          if (object.is_object() && object.value("name", "") == name) found = &object;
        }
      }
      if (!found) {
        err << "amatactl: no object named '" << name << "'\n";
        return kExitRefused;
      }
      chosen.push_back(*found);
    }
    result["objects"] = std::move(chosen);
  }
  if (command.json) {
    // Following: the history as one line, then one line per event (JSON lines).
    out << (command.follow ? result.dump() : result.dump(2)) << "\n";
  } else if (command.cmd == "names") {
    out << render_names(result, command.target);
  } else if (command.cmd == "status") {
    out << render_status(result, style);
  } else if (command.cmd == "rules") {
    out << render_rules(result, style);
  } else if (command.cmd == "events") {
    out << render_events(result, style);
  } else if (command.cmd == "explain") {
    out << render_explain(result, style);
  } else if (command.cmd == "reload") {
    out << render_reload(result, style);
  } else if (command.cmd == "version") {
    out << render_version(result, style);
  } else if (wire_cmd == "maintenance") {
    out << render_maintenance(result, style);
  } else if (command.cmd == "maintenance") {
    out << render_maintenance_change(result, wire_cmd == "maintenance_start", style);
  } else {
    out << render_control(result, style);
  }
  out.flush();
  if (waits) {
    auto outcome = result.find("outcome");
    const bool ok = outcome != result.end() && outcome->is_string() && *outcome == "ok";
    return ok ? kExitOk : kExitActionFailed;
  }
  if (command.cmd != "events" || !command.follow) return kExitOk;

  std::size_t seen = 0;
  while (!command.follow_limit || seen < *command.follow_limit) {
    auto line = client->read_line(std::nullopt);
    if (!line) {
      err << "amatactl: " << line.error().message << "\n";
      return kExitCannotConnect;
    }
    if (!line->is_object() || !line->contains("event")) {
      if (line->is_object() && line->contains("ok") && !reply_ok(*line)) {
        err << "amatactl: " << render_error(reply_error(*line), style);
        return exit_code_for_error(*line);
      }
      continue;
    }
    const Json& event = (*line)["event"];
    if (command.json) {
      out << event.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    } else {
      out << render_event_line(event, style);
    }
    out.flush();
    ++seen;
  }
  return kExitOk;
}

}  // namespace amata::console
