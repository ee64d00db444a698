#include "engine/console/console_view.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/clock.h"
#include "engine/console/cluster_view.h"

namespace amata::console {
namespace {

std::string join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

std::string object_name(const ir::PolicyTables& tables, int object) {
  if (object < 0 || static_cast<std::size_t>(object) >= tables.objects.size()) return "";
  return tables.objects[static_cast<std::size_t>(object)].name;
}

nlohmann::json number_or_null(double v) {
  return std::isnan(v) ? nlohmann::json() : nlohmann::json(v);
}

// The console's state of a rule: firing once its event is raised, pending while the
// condition holds but its `for`/`times within` qualifier has not been met, else armed.
std::string_view rule_state(bool firing, const ir::TemporalExplanation& t) {
  if (firing) return "firing";
  return t.pending ? "pending" : "armed";
}

// Comparisons and logic give truth values; shown as booleans rather than 0/1.
bool is_truth_op(std::string_view op) {
  static constexpr std::string_view kTruth[] = {
      "<", "<=", ">", "==", "!=", ">=", "and", "or", "not", "str==", "str!=", "match", "changed"};
  return std::find(std::begin(kTruth), std::end(kTruth), op) != std::end(kTruth);
}

// What the qualifier is waiting for, in words: "for 30s: true since 12.3 s, 17.7 s left",
// and with `clear after`, how long an active rule still holds its event.
std::string qualifier_note(const ir::TemporalExplanation& t);
std::string temporal_note(const ir::TemporalExplanation& t) {
  std::string note = qualifier_note(t);
  if (!std::isnan(t.clearing_left_s)) {
    note += fmt::format("{}clear after {:g}s: false, clears in {:.1f} s", note.empty() ? "" : "; ",
                        t.clear_after, t.clearing_left_s);
  }
  return note;
}

std::string qualifier_note(const ir::TemporalExplanation& t) {
  switch (t.kind) {
    case ir::Temporal::kNone:
      return {};
    case ir::Temporal::kForDuration:
      if (!t.holds) return fmt::format("for {:g}s: condition false", t.seconds);
      if (std::isnan(t.since))
        return fmt::format("for {:g}s: condition just turned true", t.seconds);
      return fmt::format("for {:g}s: true since {:.1f} s, {:.1f} s left", t.seconds, t.held_s,
                         t.left_s);
    case ir::Temporal::kForChecks:
      return fmt::format("for {} checks: {} counted, {} left", t.count, t.checks,
                         std::max(0, t.count - t.checks));
    case ir::Temporal::kTimesWithin:
      return fmt::format("{} times within {:g}s: {} rises in the window", t.count, t.seconds,
                         t.rises_in_window);
  }
  return {};
}

nlohmann::json explain_node_json(const ir::RuleExplanation& e, int pos, int depth) {
  const ir::ExprExplanation& n = e.nodes[static_cast<std::size_t>(pos)];
  nlohmann::json j = {{"text", n.text}, {"op", n.op}};
  if (std::isnan(n.value)) {
    j["value"] = nullptr;  // missing: not measured yet
  } else if (is_truth_op(n.op)) {
    j["value"] = n.value != 0;
  } else {
    j["value"] = n.value;
  }
  nlohmann::json children = nlohmann::json::array();
  if (depth < 64) {
    for (int c : n.children) children.push_back(explain_node_json(e, c, depth + 1));
  }
  j["children"] = std::move(children);
  return j;
}

nlohmann::json temporal_json(const ir::TemporalExplanation& t) {
  nlohmann::json j = {{"kind", ir::temporal_name(t.kind)},
                      {"holds", t.holds},
                      {"active", t.active},
                      {"pending", t.pending}};
  switch (t.kind) {
    case ir::Temporal::kNone:
      break;
    case ir::Temporal::kForDuration:
      j["seconds"] = t.seconds;
      j["held_s"] = t.held_s;
      j["left_s"] = t.left_s;
      break;
    case ir::Temporal::kForChecks:
      j["count"] = t.count;
      j["checks"] = t.checks;
      break;
    case ir::Temporal::kTimesWithin:
      j["count"] = t.count;
      j["seconds"] = t.seconds;
      j["rises_in_window"] = t.rises_in_window;
      break;
  }
  if (t.clear_after > 0) j["clear_after_s"] = t.clear_after;
  if (!std::isnan(t.clearing_left_s)) j["clearing_left_s"] = t.clearing_left_s;
  return j;
}

std::string utc_minute(std::int64_t unix_ms) {
  const auto seconds = static_cast<time_t>(unix_ms / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z", parts.tm_year + 1900, parts.tm_mon + 1,
                     parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
}

// "maintenance of web until 2026-12-05 01:00:00Z by uid 0: kernel upgrade", or "maintenance
// of the node ended: expired", from a Maintenance event's values (a <window>).
std::string maintenance_message(const nlohmann::json& values, bool began) {
  auto object = values.find("object");
  const std::string target =
      object != values.end() && object->is_string() ? object->get<std::string>() : "the node";
  if (!began) return "maintenance of " + target + " ended: " + values.value("ended", "ended");
  auto until = values.find("until_unix_ms");
  auto uid = values.find("uid");
  return fmt::format(
      "maintenance of {} until {} by uid {}: {}", target,
      until != values.end() && until->is_number_integer() ? utc_minute(until->get<std::int64_t>())
                                                          : "?",
      uid != values.end() && uid->is_number() ? uid->dump() : "?", values.value("reason", ""));
}

}  // namespace

nlohmann::json event_record_json(const store::EventRecord& e) {
  nlohmann::json j = {{"id", e.id},
                      {"at_unix_ms", base::to_unix_ms(e.time)},
                      {"type", e.edge == "clear" ? "cleared" : "raised"},
                      {"event", e.event}};
  if (!e.objects.empty()) j["object"] = e.objects.front();
  if (!e.rule.empty()) j["rule"] = e.rule;
  auto values = nlohmann::json::parse(e.values, nullptr, false);
  if (values.is_discarded()) values = nlohmann::json::object();
  j["data"] = values;
  // The events amatad raises itself read as what they are.
  if (e.event == store::kReloadEvent) {
    const std::string file = values.value("file", "");
    j["type"] = "reload";
    j["message"] = values.value("ok", false)
                       ? "policy reloaded from " + file
                       : "reload of " + file + " rejected: " + values.value("error", "errors");
  } else if (e.event == store::kGaveUpEvent) {
    j["message"] = join(e.objects, ", ") + ": " + values.value("reason", "gave up");
  } else if (e.event == store::kMaintenanceEvent) {
    j["type"] = "maintenance";
    j["message"] = maintenance_message(values, e.edge != "clear");
  } else if (e.event == store::kControlEvent) {
    // "restart web asked by uid 0 for web:alice from 127.0.0.1", "failover db to c5 asked by
    // uid 0"
    j["type"] = "control";
    const auto uid = values.value("uid", std::int64_t{-1});
    const std::string behalf = values.value("on_behalf_of", "");
    const std::string to = values.value("to", "");
    j["message"] = values.value("verb", "control") + " " + join(e.objects, ", ") +
                   (to.empty() ? "" : " to " + to) + " asked by uid " + std::to_string(uid) +
                   (behalf.empty() ? "" : " for " + behalf);
  } else {
    j["message"] = e.event + "(" + join(e.objects, ", ") + ") " +
                   (e.edge == "clear" ? "cleared" : "raised") +
                   (e.rule.empty() ? "" : " by " + e.rule);
    // Seen while its objects were in maintenance: stored, but nothing was done about it.
    auto marker = values.find("maintenance");
    if (marker != values.end() && marker->is_boolean() && marker->get<bool>()) {
      j["message"] = j["message"].get<std::string>() + " (in maintenance)";
    }
  }
  return j;
}

nlohmann::json action_record_json(const store::ActionRecord& a) {
  nlohmann::json j = {{"id", kActionIdOffset + a.id},
                      {"at_unix_ms", base::to_unix_ms(a.time)},
                      {"type", a.kind == "notify" ? "notify" : "action"},
                      {"message", a.kind + (a.object.empty() ? "" : " " + a.object) + ": " +
                                      a.outcome + (a.detail.empty() ? "" : " (" + a.detail + ")") +
                                      " in " + std::to_string(std::llround(a.duration_ms)) + " ms"},
                      {"data",
                       {{"kind", a.kind},
                        {"outcome", a.outcome},
                        {"detail", a.detail},
                        {"duration_ms", a.duration_ms},
                        {"event_id", a.event_id}}}};
  if (!a.object.empty()) j["object"] = a.object;
  return j;
}

nlohmann::json status_json(const discovery::RuleEngine& rules,
                           const supervisor::Supervisor& supervisor) {
  const auto& tables = rules.policy().tables();
  const discovery::MetricStore& metrics = rules.metrics();
  nlohmann::json objects = nlohmann::json::array();
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    const auto& spec = tables.objects[i];
    nlohmann::json o = {{"name", spec.name}, {"kind", std::string(catalog::kind_name(spec.kind))}};
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [attr, v] : metrics.numbers_of(static_cast<int>(i))) {
      attrs[attr] = number_or_null(v);
    }
    for (const auto& [attr, v] : metrics.strings_of(static_cast<int>(i))) attrs[attr] = v;
    if (auto st = supervisor.status(static_cast<int>(i))) {
      o["state"] = st->monitored || st->state == supervisor::ServiceState::kGaveUp
                       ? std::string(supervisor::service_state_name(st->state))
                       : "unmonitored";
      o["monitored"] = st->monitored;
      o["restarts"] = st->restarts;
      if (st->pid > 0) o["pid"] = st->pid;
      if (st->state == supervisor::ServiceState::kRunning) {
        o["since_unix_ms"] = base::to_unix_ms(base::unix_now() - st->uptime);
      }
    } else {
      bool monitored = rules.monitored(static_cast<int>(i));
      o["state"] = monitored ? "monitored" : "unmonitored";
      o["monitored"] = monitored;
    }
    o["attributes"] = std::move(attrs);
    objects.push_back(std::move(o));
  }
  // Moved, not copied: `status` with a hundred services is tens of KB of JSON, asked for
  // every few seconds by the web view and `amatactl status`, on the loop.
  nlohmann::json status = nlohmann::json::object();
  status["policy"] = tables.name;
  status["objects"] = std::move(objects);
  return status;
}

std::vector<std::string_view> rule_states(const discovery::RuleEngine& engine) {
  const std::size_t count = engine.policy().tables().rules.size();
  auto temporal = engine.temporal_all();
  std::vector<std::string_view> states;
  states.reserve(count);
  for (std::size_t r = 0; r < count; ++r) {
    const bool firing = engine.rule(static_cast<int>(r)).firing;
    // Without the temporal state (samples of the wrong layout) pending cannot be told from armed.
    states.push_back(temporal ? rule_state(firing, (*temporal)[r]) : (firing ? "firing" : "armed"));
  }
  return states;
}

Outcome rules_view(const discovery::RuleEngine& engine) {
  const auto& tables = engine.policy().tables();
  auto explained = engine.explain_all();
  if (!explained) return Outcome::failure("internal", explained.error().message);
  nlohmann::json rules = nlohmann::json::array();
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    const auto& rule = tables.rules[r];
    const ir::TemporalExplanation& t = (*explained)[r].temporal;
    const discovery::RuleStatus& status = engine.rule(static_cast<int>(r));
    const bool firing = status.firing;
    nlohmann::json j = {
        {"name", rule.name}, {"rule", rule.source_rule}, {"state", rule_state(firing, t)}};
    if (!firing && t.pending) {
      if (t.kind == ir::Temporal::kForDuration) {
        j["pending_left_ms"] = std::llround(t.left_s * 1000);
      } else if (t.kind == ir::Temporal::kForChecks) {
        j["pending_checks_left"] = std::max(0, t.count - t.checks);
      }
    }
    if (firing && !std::isnan(t.clearing_left_s)) {
      j["clearing_left_ms"] = std::llround(t.clearing_left_s * 1000);
    }
    if (!rule.args.empty()) j["object"] = object_name(tables, rule.args.front());
    if (status.last_edge_unix > 0) {
      j["last_edge"] = {{"edge", status.firing ? "rise" : "fall"},
                        {"at_unix_ms", base::to_unix_ms(status.last_edge_unix)}};
    } else {
      j["last_edge"] = nullptr;
    }
    rules.push_back(j);
  }
  return Outcome::success({{"rules", rules}});
}

Outcome events_view(store::EventStore& store, const EventFilter& filter) {
  int limit = static_cast<int>(std::min<std::size_t>(filter.limit, 100000));
  if (filter.cluster) {
    // The cluster history: already in delivery order, which is the order on every node.
    auto rows = store.recent_cluster_entries(limit);
    if (!rows) return Outcome::failure("internal", rows.error().message);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : *rows) {
      nlohmann::json r = cluster_record_of(row);
      if (filter.matches(r)) out.push_back(std::move(r));
    }
    return Outcome::success({{"events", out}});
  }
  auto events = store.recent_events(limit);
  if (!events) return Outcome::failure("internal", events.error().message);
  std::vector<nlohmann::json> records;
  for (const auto& e : *events) records.push_back(event_record_json(e));
  auto actions = store.recent_actions(limit);
  if (!actions) return Outcome::failure("internal", actions.error().message);
  for (const auto& a : *actions) records.push_back(action_record_json(a));
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a["at_unix_ms"].template get<std::int64_t>() <
           b["at_unix_ms"].template get<std::int64_t>();
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : records) {
    if (filter.matches(r)) out.push_back(r);
  }
  if (out.size() > filter.limit) {
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(out.size() - filter.limit));
  }
  return Outcome::success({{"events", out}});
}

Outcome explain_view(const discovery::RuleEngine& engine, std::string_view name) {
  const auto& tables = engine.policy().tables();
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    const auto& rule = tables.rules[r];
    if (rule.name != name && rule.source_rule != name) continue;
    const bool firing = engine.rule(static_cast<int>(r)).firing;
    auto e = engine.explain(static_cast<int>(r));
    if (!e) return Outcome::failure("internal", e.error().message);
    nlohmann::json condition = explain_node_json(*e, 0, 0);
    condition["text"] = rule.text;  // the root as written, not as lowered
    const std::string note = temporal_note(e->temporal);
    if (!note.empty()) condition["note"] = note;
    std::string reason;
    if (firing) {
      reason = "firing: the condition held (" + (note.empty() ? "now" : note) +
               "), the event was raised and not yet cleared";
    } else if (e->temporal.pending) {
      reason = "pending: the condition holds but its qualifier is not met yet (" + note + ")";
    } else if (e->temporal.holds) {
      reason = "armed: the condition holds now; the next evaluation decides";
    } else {
      reason = std::isnan(e->nodes.front().value)
                   ? "armed: the condition is unknown (a value it reads is missing)"
                   : "armed: the condition does not hold";
    }
    return Outcome::success({{"rule", rule.name},
                             {"state", rule_state(firing, e->temporal)},
                             {"firing", firing},
                             {"reason", reason},
                             {"condition", condition},
                             {"temporal", temporal_json(e->temporal)}});
  }
  return Outcome::failure("unknown_rule", "no rule named " + std::string(name));
}

}  // namespace amata::console
