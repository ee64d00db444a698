// The console's commands: each request's arguments checked, the backend asked, the reply
// built — or, for a reload or a waited action, the reply sent later through deliver().
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <utility>

#include "engine/console/console_connection.h"
#include "engine/console/console_server.h"

namespace amata::console {
namespace {

bool is_read_only_command(std::string_view cmd) {
  return cmd == "status" || cmd == "rules" || cmd == "events" || cmd == "explain" ||
         cmd == "version" || cmd == "maintenance" || cmd == "history";
}

bool is_maintenance_change(std::string_view cmd) {
  return cmd == "maintenance_start" || cmd == "maintenance_end";
}

/// Control commands other than the verbs of ControlVerb.
bool is_other_control_command(std::string_view cmd) {
  return cmd == "reload" || cmd == "failover" || is_maintenance_change(cmd);
}

/// `on_behalf_of` of a control command: one line of printable text, at most 128 bytes (it
/// goes into the history and the log as it is).
std::optional<std::string> on_behalf_of_problem(std::string_view text) {
  if (text.empty() || text.size() > 128) return "\"on_behalf_of\" has 1 to 128 bytes";
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "\"on_behalf_of\" holds no control characters";
    }
  }
  return std::nullopt;
}

/// `attribute` of `history`: one name or a list of 1 to HistoryRequest::kMaxAttributes names
/// (the overview asks for the key attributes of every kind it shows at once).
std::optional<std::string> history_attributes(const Json& args, std::vector<std::string>& out) {
  auto it = args.find("attribute");
  if (it == args.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return std::nullopt;
  }
  if (!it->is_array() || it->empty() || it->size() > HistoryRequest::kMaxAttributes ||
      !std::all_of(it->begin(), it->end(), [](const Json& name) { return name.is_string(); })) {
    return fmt::format("\"attribute\" must be a string or a list of 1 to {} strings",
                       HistoryRequest::kMaxAttributes);
  }
  for (const auto& name : *it) out.push_back(name.get<std::string>());
  return std::nullopt;
}

/// " for web:alice from 127.0.0.1" in the log line of a control command, or nothing.
std::string behalf_text(const Caller& caller) {
  return caller.on_behalf_of.empty() ? "" : " for " + caller.on_behalf_of;
}

}  // namespace

std::optional<Json> ConsoleServer::dispatch(Client& client, const Json& request,
                                            bool& close_after) {
  Json id;
  if (auto it = request.find("id"); it != request.end()) {
    if (!(it->is_number() || it->is_string() || it->is_null())) {
      return error_reply(nullptr, "bad_request", "\"id\" must be a number or a string");
    }
    id = *it;
  }
  if (auto it = request.find("protocol"); it != request.end()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() != kProtocolVersion) {
      close_after = true;
      return error_reply(id, "unsupported_protocol",
                         fmt::format("this amatad speaks console protocol {}", kProtocolVersion),
                         Json{{"protocol", kProtocolVersion}});
    }
  }
  auto cmd_it = request.find("cmd");
  if (cmd_it == request.end() || !cmd_it->is_string()) {
    return error_reply(id, "bad_request", "the request needs a string \"cmd\"");
  }
  const std::string& cmd = cmd_it->get_ref<const std::string&>();
  Json args = Json::object();
  if (auto it = request.find("args"); it != request.end()) {
    if (!it->is_object()) {
      return error_reply(id, "bad_request", "\"args\" must be an object");
    }
    args = *it;
  }
  auto string_arg = [&](const char* key) -> std::optional<std::string> {
    auto it = args.find(key);
    if (it == args.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw std::invalid_argument(fmt::format("\"{}\" must be a string", key));
    return it->get<std::string>();
  };
  // What a control command acts on (required), and who asks: the peer, and whom it acts for
  // (`on_behalf_of`). Bad arguments throw, as string_arg's do: a bad_request below.
  auto object_arg = [&] {
    auto object = string_arg("object");
    if (!object || object->empty()) {
      throw std::invalid_argument(fmt::format("{} needs an \"object\"", cmd));
    }
    return *object;
  };
  auto acting_caller = [&] {
    Caller caller{client.peer.pid, client.peer.uid, client.peer.gid, ""};
    if (auto behalf = string_arg("on_behalf_of")) {
      if (auto why = on_behalf_of_problem(*behalf)) throw std::invalid_argument(*why);
      caller.on_behalf_of = *behalf;
    }
    return caller;
  };

  auto verb = control_verb_from(cmd);
  if (!is_read_only_command(cmd) && !verb && !is_other_control_command(cmd)) {
    return error_reply(id, "unknown_command", fmt::format("no command named '{}'", cmd));
  }
  if (!is_read_only_command(cmd) && client.access != Access::kControl) {
    ++stats_.refused_permission;
    log_refusal(fmt::format("refused '{}' from pid {} uid {}: read-only client", cmd,
                            client.peer.pid, client.peer.uid));
    return error_reply(id, "permission_denied",
                       fmt::format("permission denied: '{}' needs root or membership of amatad's "
                                   "console group",
                                   cmd));
  }

  try {
    if (cmd == "status") return outcome_reply(id, backend_.status());
    if (cmd == "maintenance") return outcome_reply(id, backend_.maintenance());
    if (is_maintenance_change(cmd)) return maintenance_change(client, id, cmd, args);
    if (cmd == "rules") return outcome_reply(id, backend_.rules());
    if (cmd == "version") {
      Outcome outcome = backend_.version();
      if (!outcome.ok()) return outcome_reply(id, std::move(outcome));
      Json result = outcome.result();
      result["protocol"] = kProtocolVersion;
      return success_reply(id, std::move(result));
    }
    if (cmd == "explain") {
      auto rule = string_arg("rule");
      if (!rule || rule->empty()) return error_reply(id, "bad_request", "explain needs a \"rule\"");
      return outcome_reply(id, backend_.explain(*rule));
    }
    if (cmd == "history") {
      HistoryRequest history;
      // No object: the batch form, every object's history in one reply (bounded by the
      // backend: HistoryRequest::kMaxBatchPoints). An empty name is a mistake, not a batch.
      auto object = string_arg("object");
      if (object && object->empty()) {
        return error_reply(id, "bad_request", "\"object\" must not be empty");
      }
      history.object = object.value_or("");
      if (auto problem = history_attributes(args, history.attributes)) {
        return error_reply(id, "bad_request", *problem);
      }
      if (auto it = args.find("since_unix_ms"); it != args.end() && !it->is_null()) {
        if (!it->is_number_integer()) {
          return error_reply(id, "bad_request", "\"since_unix_ms\" must be an integer");
        }
        history.since_unix_ms = it->get<std::int64_t>();
      }
      return outcome_reply(id, backend_.history(history));
    }
    if (cmd == "events") {
      EventFilter filter;
      if (auto it = args.find("since_unix_ms"); it != args.end() && !it->is_null()) {
        if (!it->is_number_integer()) {
          return error_reply(id, "bad_request", "\"since_unix_ms\" must be an integer");
        }
        filter.since_unix_ms = it->get<std::int64_t>();
      }
      if (auto it = args.find("limit"); it != args.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
            it->get<std::int64_t>() > 100000) {
          return error_reply(id, "bad_request", "\"limit\" must be an integer in 0..100000");
        }
        filter.limit = it->get<std::size_t>();
      }
      filter.object = string_arg("object");
      filter.event = string_arg("event");
      bool follow = false;
      if (auto it = args.find("follow"); it != args.end() && !it->is_null()) {
        if (!it->is_boolean()) return error_reply(id, "bad_request", "\"follow\" must be boolean");
        follow = it->get<bool>();
      }
      if (auto it = args.find("cluster"); it != args.end() && !it->is_null()) {
        if (!it->is_boolean()) return error_reply(id, "bad_request", "\"cluster\" must be boolean");
        filter.cluster = it->get<bool>();
      }
      Outcome outcome = backend_.events(filter);
      // History and subscription happen in the same loop turn, so the stream continues
      // exactly where the history ends: no event is lost or repeated in between.
      if (outcome.ok() && follow) client.follows.push_back(Client::Follow{id, filter});
      return outcome_reply(id, std::move(outcome));
    }
    if (cmd == "failover") {
      const std::string object = object_arg();
      auto to = string_arg("to");
      if (to && to->empty()) return error_reply(id, "bad_request", "\"to\" must not be empty");
      const Caller caller = acting_caller();
      Outcome outcome = backend_.request_failover(object, to, caller);
      log(LogLevel::kInfo,
          fmt::format("failover {}{} by pid {} uid {}{}: {}", object, to ? " to " + *to : "",
                      client.peer.pid, client.peer.uid, behalf_text(caller),
                      outcome.ok() ? "accepted" : outcome.code()));
      return outcome_reply(id, std::move(outcome));
    }
    if (verb) {
      const std::string object = object_arg();
      bool wait = false;
      if (auto it = args.find("wait"); it != args.end() && !it->is_null()) {
        if (!it->is_boolean()) return error_reply(id, "bad_request", "\"wait\" must be boolean");
        wait = it->get<bool>();
      }
      const Caller caller = acting_caller();
      if (!wait) {
        Outcome outcome = backend_.control(*verb, object, caller);
        log(LogLevel::kInfo, fmt::format("{} {} by pid {} uid {}{}: {}", cmd, object,
                                         client.peer.pid, client.peer.uid, behalf_text(caller),
                                         outcome.ok() ? "accepted" : outcome.code()));
        return outcome_reply(id, std::move(outcome));
      }
      // The reply comes when the action has ended; meanwhile the client is not idle.
      std::weak_ptr<bool> alive = alive_;
      ++client.awaiting;  // before the call: a refusal answers inside it
      backend_.control_and_wait(
          *verb, object, caller,
          [this, alive, fd = client.fd, serial = client.serial, id, cmd, object,
           caller](const Outcome& outcome) {
            if (alive.expired()) return;
            std::string how = outcome.code();
            if (outcome.ok()) {
              auto it = outcome.result().find("outcome");
              how = it != outcome.result().end() && it->is_string() ? it->get<std::string>()
                                                                    : "ended";
            }
            log(LogLevel::kInfo, fmt::format("{} {} (waited) by pid {} uid {}{}: {}", cmd, object,
                                             caller.pid, caller.uid, behalf_text(caller), how));
            deliver(fd, serial, to_line(outcome_reply(id, outcome)));
          });
      return std::nullopt;
    }
    // reload: compiled off the loop; the reply comes when the new policy is in (or not).
    const Caller caller{client.peer.pid, client.peer.uid, client.peer.gid};
    std::weak_ptr<bool> alive = alive_;
    ++client.awaiting;  // before the call: a reload that is refused at once answers inside it
    backend_.reload(
        string_arg("file"), caller,
        [this, alive, fd = client.fd, serial = client.serial, id, caller](const Outcome& outcome) {
          if (alive.expired()) return;
          log(LogLevel::kInfo, fmt::format("reload by pid {} uid {}: {}", caller.pid, caller.uid,
                                           outcome.ok() ? "ok" : outcome.code()));
          deliver(fd, serial, to_line(outcome_reply(id, outcome)));
        });
    return std::nullopt;
  } catch (const std::invalid_argument& e) {
    return error_reply(id, "bad_request", e.what());
  }
}

Json ConsoleServer::maintenance_change(const Client& client, const Json& id, const std::string& cmd,
                                       const Json& args) {
  // What it names: one object, or the whole node (`"node": true`), never both.
  std::optional<std::string> object;
  if (auto it = args.find("object"); it != args.end() && !it->is_null()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return error_reply(id, "bad_request", "\"object\" must be a non-empty string");
    }
    object = it->get<std::string>();
  }
  bool node = false;
  if (auto it = args.find("node"); it != args.end() && !it->is_null()) {
    if (!it->is_boolean()) return error_reply(id, "bad_request", "\"node\" must be boolean");
    node = it->get<bool>();
  }
  if (node == object.has_value()) {
    return error_reply(id, "bad_request",
                       fmt::format("{} needs an \"object\" or \"node\": true (not both)", cmd));
  }
  const Caller caller{client.peer.pid, client.peer.uid, client.peer.gid};
  auto answer = [&](const Outcome& outcome) {
    log(LogLevel::kInfo, fmt::format("{} {} by pid {} uid {}: {}", cmd, object.value_or("(node)"),
                                     caller.pid, caller.uid, outcome.ok() ? "ok" : outcome.code()));
    return outcome_reply(id, outcome);
  };
  if (cmd == "maintenance_end") return answer(backend_.end_maintenance(object, caller));

  MaintenanceRequest request;
  request.object = object;
  auto duration = args.find("duration_ms");
  if (duration == args.end() || !duration->is_number_integer() ||
      duration->get<std::int64_t>() < kMinMaintenanceMs ||
      duration->get<std::int64_t>() > kMaxMaintenanceMs) {
    return error_reply(
        id, "bad_request",
        fmt::format("\"duration_ms\" must be an integer from {} (1 s) to {} (7 days)",
                    kMinMaintenanceMs, kMaxMaintenanceMs));
  }
  request.duration_ms = duration->get<std::int64_t>();
  auto reason = args.find("reason");
  if (reason == args.end() || !reason->is_string() ||
      reason->get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos ||
      reason->get_ref<const std::string&>().size() > kMaxReasonBytes) {
    return error_reply(id, "bad_request",
                       fmt::format("\"reason\" must be a non-blank string of at most {} bytes: "
                                   "say why, for whoever reads the history",
                                   kMaxReasonBytes));
  }
  request.reason = reason->get<std::string>();
  return answer(backend_.start_maintenance(request, caller));
}

}  // namespace amata::console
