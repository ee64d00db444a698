// A ConsoleBackend for tests of the console server and amatactl: canned answers shaped as
// console_backend.h documents, and a record of every call the server made. Test-only.
#pragma once

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/console/console_backend.h"

namespace amata::console::testing {

using Json = nlohmann::json;

/// A daemon stand-in: canned answers, and a record of every call the server made.
class RecordingBackend : public ConsoleBackend {
 public:
  std::vector<std::string> calls;
  Json status_result = {{"policy", "web_node"},
                        {"objects",
                         {{{"name", "web"},
                           {"kind", "service"},
                           {"state", "running"},
                           {"monitored", true},
                           {"since_unix_ms", 1764081000000},
                           {"restarts", 2},
                           {"pid", 4242},
                           {"attributes", {{"cpu", 3.2}, {"alive", true}}}},
                          {{"name", "uplink"},
                           {"kind", "interface"},
                           {"state", "up"},
                           {"monitored", true},
                           {"since_unix_ms", 1764080000000},
                           {"restarts", 0},
                           {"attributes", {{"carrier", "up"}}}}}}};
  std::vector<Json> stored_events;
  /// What events() answers when the filter asks for the cluster view, as amatad answers
  /// from its cluster log.
  std::vector<Json> cluster_log;
  /// Every filter events() received, in order.
  std::vector<EventFilter> event_filters;
  bool throw_on_status = false;

  Outcome status() override {
    calls.push_back("status");
    if (throw_on_status) throw std::runtime_error("status table is being rebuilt");
    return Outcome::success(status_result);
  }
  Outcome rules() override {
    calls.push_back("rules");
    return Outcome::success({{"rules",
                              {{{"name", "hot"},
                                {"state", "pending"},
                                {"pending_left_ms", 1200},
                                {"last_edge", nullptr}}}}});
  }
  Outcome events(const EventFilter& filter) override {
    calls.push_back("events");
    event_filters.push_back(filter);
    Json matching = Json::array();
    for (const auto& e : filter.cluster ? cluster_log : stored_events) {
      if (filter.matches(e)) matching.push_back(e);
    }
    while (matching.size() > filter.limit) matching.erase(matching.begin());
    return Outcome::success({{"events", matching}});
  }
  Outcome explain(std::string_view rule) override {
    calls.push_back("explain " + std::string(rule));
    if (rule != "hot")
      return Outcome::failure("unknown_rule", "no rule named " + std::string(rule));
    return Outcome::success({{"rule", "hot"},
                             {"state", "pending"},
                             {"firing", false},
                             {"reason", "true for 12s of 30s"},
                             {"condition",
                              {{"text", "self.cpu > 90%"},
                               {"value", true},
                               {"children",
                                {{{"text", "self.cpu"}, {"value", 95.5}, {"unit", "%"}},
                                 {{"text", "90%"}, {"value", 90}, {"unit", "%"}}}}}}});
  }
  Outcome control(ControlVerb verb, std::string_view object, const Caller& caller) override {
    calls.push_back(std::string(to_string(verb)) + " " + std::string(object) +
                    (caller.on_behalf_of.empty() ? "" : " for " + caller.on_behalf_of));
    if (object != "web")
      return Outcome::failure("unknown_object", "no object named " + std::string(object));
    return Outcome::success({{"object", object},
                             {"verb", to_string(verb)},
                             {"accepted", true},
                             {"message", "scheduled"}});
  }
  /// When set, control_and_wait() keeps its reply here (an action still running); the test
  /// answers through it. Otherwise it answers at once: ok, or failed for object "crasher".
  bool hold_waits = false;
  Reply held_wait;

  void control_and_wait(ControlVerb verb, std::string_view object, const Caller& caller,
                        Reply reply) override {
    calls.push_back(std::string(to_string(verb)) + " --wait " + std::string(object) +
                    (caller.on_behalf_of.empty() ? "" : " for " + caller.on_behalf_of));
    if (object != "web" && object != "crasher") {
      reply(Outcome::failure("unknown_object", "no object named " + std::string(object)));
      return;
    }
    if (hold_waits) {
      held_wait = std::move(reply);
      return;
    }
    reply(waited_outcome(verb, object, object == "web"));
  }
  static Outcome waited_outcome(ControlVerb verb, std::string_view object, bool ok) {
    return Outcome::success(
        {{"object", object},
         {"verb", to_string(verb)},
         {"accepted", true},
         {"message", std::string(to_string(verb)) + (ok ? " ok" : " failed")},
         {"outcome", ok ? "ok" : "failed"},
         {"detail", ok ? "pid 4243" : "pid 4244 exited 0.01 s after its start: exited 3"},
         {"duration_ms", 1012}});
  }

  /// The maintenance windows, by object ("" the node), as maintenance() lists them.
  std::map<std::string, Json> windows;
  std::int64_t now_unix_ms = 1764081000000;

  Outcome maintenance() override {
    calls.push_back("maintenance");
    Json list = Json::array();
    for (const auto& [object, window] : windows) list.push_back(window);
    return Outcome::success({{"windows", list}});
  }
  Outcome start_maintenance(const MaintenanceRequest& request, const Caller& caller) override {
    const std::string object = request.object.value_or("");
    calls.push_back("maintenance_start " + (object.empty() ? "(node)" : object) + " " +
                    std::to_string(request.duration_ms) + " " + request.reason);
    last_caller = caller;
    if (!object.empty() && object != "web" && object != "uplink") {
      return Outcome::failure("unknown_object", "no object named " + object);
    }
    const bool replaced = windows.count(object) > 0;
    Json window = {{"object", request.object ? Json(object) : Json()},
                   {"uid", caller.uid},
                   {"set_unix_ms", now_unix_ms},
                   {"until_unix_ms", now_unix_ms + request.duration_ms},
                   {"reason", request.reason}};
    windows[object] = window;
    return Outcome::success({{"window", window}, {"replaced", replaced}});
  }
  Outcome end_maintenance(const std::optional<std::string>& object, const Caller& caller) override {
    calls.push_back("maintenance_end " + object.value_or("(node)"));
    last_caller = caller;
    auto it = windows.find(object.value_or(""));
    if (it == windows.end()) {
      return Outcome::failure("not_in_maintenance", (object ? *object : std::string("the node")) +
                                                        " is not in maintenance");
    }
    Json window = it->second;
    windows.erase(it);
    return Outcome::success({{"window", window}});
  }

  /// When set, reload() keeps its reply here instead of answering at once (a long compile);
  /// the test answers through it.
  bool hold_reloads = false;
  Reply held_reload;

  void reload(const std::optional<std::string>& file, const Caller& caller, Reply reply) override {
    calls.push_back("reload " + file.value_or("-"));
    last_caller = caller;
    if (hold_reloads) {
      held_reload = std::move(reply);
      return;
    }
    reply(reload_outcome(file));
  }
  Outcome reload_outcome(const std::optional<std::string>& file) {
    if (file && *file == "bad.amata") {
      return Outcome::failure("policy_rejected",
                              "the new policy has 1 error; the old one keeps running",
                              {{"diagnostics",
                                {{{"severity", "error"},
                                  {"file", "bad.amata"},
                                  {"line", 3},
                                  {"column", 7},
                                  {"code", "E0102"},
                                  {"message", "unknown attribute 'cpux'"}}}}});
    }
    return Outcome::success({{"policy", "web_node"}, {"objects", 2}, {"rules", 1}});
  }
  Caller last_caller;

  Outcome version() override {
    calls.push_back("version");
    return Outcome::success({{"amatad", "0.1.0"}, {"policy", "web_node"}});
  }

  /// What history() answers for "web" (an attribute filter and `since` applied to it); the
  /// batch form (no object) answers it as the only object with history.
  Json history_series = {{"cpu", {{1764081000000, 3.2}, {1764081010000, nullptr}}},
                         {"rss", {{1764081000000, 1.2e7}}}};
  Outcome request_failover(std::string_view service, const std::optional<std::string>& to,
                           const Caller& caller) override {
    calls.push_back("failover " + std::string(service) + " " + to.value_or("-"));
    last_caller = caller;
    if (service != "web") return Outcome::failure("not_clustered", "web is the clustered one");
    return Outcome::success({{"object", service},
                             {"verb", "failover"},
                             {"to", to ? Json(*to) : Json()},
                             {"accepted", true},
                             {"message", "asked of the cluster"}});
  }

  Outcome history(const HistoryRequest& request) override {
    std::string names;
    for (const auto& name : request.attributes) names += (names.empty() ? "" : ",") + name;
    calls.push_back("history " + (request.object.empty() ? "(all)" : request.object) + " " +
                    (names.empty() ? "*" : names) + " " +
                    (request.since_unix_ms ? std::to_string(*request.since_unix_ms) : "-"));
    if (!request.object.empty() && request.object != "web" && request.object != "uplink") {
      return Outcome::failure("unknown_object", "no object named " + request.object);
    }
    Json series = Json::object();
    if (request.object.empty() || request.object == "web") {
      for (const auto& [name, points] : history_series.items()) {
        if (!request.attributes.empty() &&
            std::find(request.attributes.begin(), request.attributes.end(), name) ==
                request.attributes.end()) {
          continue;
        }
        Json kept = Json::array();
        for (const auto& p : points) {
          if (p[0].get<std::int64_t>() >= request.since_unix_ms.value_or(0)) kept.push_back(p);
        }
        series[name] = kept;
      }
    }
    if (request.object.empty()) {
      return Outcome::success({{"step_ms", 10000}, {"objects", {{"web", series}}}});
    }
    return Outcome::success({{"object", request.object}, {"step_ms", 10000}, {"series", series}});
  }

  std::size_t count(const std::string& call) const {
    return static_cast<std::size_t>(std::count(calls.begin(), calls.end(), call));
  }
};

inline Json make_event(std::int64_t id, const std::string& object) {
  return Json{{"id", id},         {"at_unix_ms", 1764081000000 + id},
              {"type", "raised"}, {"event", "ServiceDown"},
              {"object", object}, {"message", "event " + std::to_string(id)}};
}

/// A record of the cluster log: `type` published by `node` (its id is the digit in its name).
inline Json make_cluster_event(std::int64_t id, const std::string& node, const std::string& object,
                               const std::string& type = "raised") {
  return Json{{"id", id},
              {"at_unix_ms", 1764081000000 + id},
              {"delivered_unix_ms", 1764081000002 + id},
              {"scope", "cluster"},
              {"type", type},
              {"node", node},
              {"node_id", std::stoi(node.substr(1))},
              {"origin_id", 100 + id},
              {"position", {{"ring", "1.52"}, {"view", "3fa2c011"}, {"seq", id}}},
              {"event", "ServiceDown"},
              {"object", object},
              {"message", node + " event " + std::to_string(id)}};
}

/// A membership record of the cluster log: n1 and n2 remain, `left` went away for `reason`.
inline Json make_membership_event(std::int64_t id, const std::string& left,
                                  const std::string& reason) {
  return Json{{"id", id},
              {"at_unix_ms", 1764081000000 + id},
              {"delivered_unix_ms", 1764081000000 + id},
              {"scope", "cluster"},
              {"type", "membership"},
              {"position", {{"ring", "1.52"}, {"view", "3fa2c011"}, {"seq", id}}},
              {"message", "members n1 n2; left " + left + " (" + reason + ")"},
              {"data",
               {{"members", {"n1", "n2"}},
                {"joined", Json::array()},
                {"left", {{{"node", left}, {"reason", reason}}}}}}};
}

/// The `cluster` object of a status result: three nodes, n3 down, web owned by n1 (here).
inline Json make_cluster_status(std::int64_t now_unix_ms) {
  return Json{
      {"name", "demo"},
      {"group", "amata-demo"},
      {"connected", true},
      {"quorate", true},
      {"synced", true},
      {"local_node", {{"id", 1}, {"name", "n1"}}},
      {"config_mismatch", Json::array()},
      {"peers",
       {{{"id", 1},
         {"name", "n1"},
         {"member", true},
         {"amatad", true},
         {"local", true},
         {"since_unix_ms", now_unix_ms - 180'000},
         {"runs", {"web"}}},
        {{"id", 2},
         {"name", "n2"},
         {"member", true},
         {"amatad", true},
         {"local", false},
         {"since_unix_ms", now_unix_ms - 180'000},
         {"runs", Json::array()}},
        {{"id", 3},
         {"name", "n3"},
         {"member", false},
         {"amatad", false},
         {"local", false},
         {"since_unix_ms", now_unix_ms - 12'000},
         {"runs", Json::array()}}}},
      {"services", {{{"name", "web"}, {"owner", "n1"}, {"holders", {"n1"}}, {"here", "running"}}}}};
}

}  // namespace amata::console::testing
