#include "compiler/lower/replay.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace amata::lower {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMaxRaiseDepth = 4;

// Records carry strings of the trace (a check's output passed to `run`): invalid UTF-8 is
// written as U+FFFD instead of throwing.
template <typename Json>
std::string dumped(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<Assignment> resolve_assignment(const ir::PolicyTables& tables, std::string_view name,
                                      const RawValue& value) {
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) {
    return Error{fmt::format("expected OBJECT.ATTRIBUTE, got '{}'", name)};
  }
  const std::string object_name(name.substr(0, dot));
  const std::string attribute(name.substr(dot + 1));
  Assignment a;
  a.object = tables.find_object(object_name);
  if (a.object < 0) return Error{fmt::format("no object named '{}' in the policy", object_name)};
  const auto kind = tables.objects[static_cast<std::size_t>(a.object)].kind;
  const catalog::Attribute* attr = catalog::find_attribute(kind, attribute);
  catalog::Type type;
  if (attr != nullptr) {
    type = attr->type;
  } else if (catalog::has_perfdata_attributes(kind) &&
             attribute.starts_with(catalog::kPerfdataPrefix)) {
    type = catalog::Type::number(catalog::Dimension::kCount);
  } else {
    return Error{fmt::format("a {} has no attribute '{}'", catalog::kind_name(kind), attribute)};
  }
  if (const ir::SlotInfo* slot = tables.find_slot(a.object, attribute)) {
    a.slot = slot->index;
    type = slot->type;
  }
  a.is_string = type.kind == catalog::ValueKind::kString;
  a.health = attribute.starts_with("health.");
  const auto wrong = [&](std::string_view) {
    const std::string_view given = std::holds_alternative<bool>(value)     ? "a boolean"
                                   : std::holds_alternative<double>(value) ? "a number"
                                                                           : "a string";
    return Error{fmt::format("{} is {}, not {}", name, catalog::type_name(type), given)};
  };
  if (std::holds_alternative<std::monostate>(value)) {
    a.number = kNaN;  // missing; a string slot keeps ""
    return a;
  }
  switch (type.kind) {
    case catalog::ValueKind::kString:
      if (!std::holds_alternative<std::string>(value)) return wrong("a string value");
      a.text = std::get<std::string>(value);
      return a;
    case catalog::ValueKind::kBool:
      if (!std::holds_alternative<bool>(value)) return wrong("a boolean");
      a.number = std::get<bool>(value) ? 1 : 0;
      return a;
    case catalog::ValueKind::kNumber:
      if (!std::holds_alternative<double>(value)) return wrong("a number");
      a.number = std::get<double>(value);
      return a;
    case catalog::ValueKind::kEnum:
      if (std::holds_alternative<double>(value)) {
        a.number = std::get<double>(value);
        return a;
      }
      if (std::holds_alternative<std::string>(value)) {
        auto ordinal = catalog::enum_ordinal(type.enum_type, std::get<std::string>(value));
        if (!ordinal) {
          return Error{fmt::format("'{}' is not a {}", std::get<std::string>(value),
                                   catalog::enum_type_name(type.enum_type))};
        }
        a.number = *ordinal;
        return a;
      }
      return wrong("a boolean");
  }
  return wrong("this value");
}

Result<ReplayStep> parse_trace_line(const ir::PolicyTables& tables, std::string_view line,
                                    const std::string& file, int line_number) {
  auto located = [&](std::size_t column, const std::string& message) {
    return Error{fmt::format("{}:{}:{}: error: {}", file, line_number, column, message)};
  };
  // The column of a key or value as written, for errors found after parsing.
  auto column_of = [&](const std::string& needle) -> std::size_t {
    const auto at = line.find(needle);
    return at == std::string_view::npos ? 1 : at + 1;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    std::string message = e.what();
    if (const auto at = message.find("syntax error"); at != std::string::npos) {
      message = message.substr(at);
    }
    return located(e.byte == 0 ? 1 : e.byte, "bad JSON: " + message);
  } catch (const nlohmann::json::out_of_range& e) {
    // A number too large for a double ("1e999") is no syntax error: nlohmann throws
    // out_of_range (406) "number overflow parsing '1e999'", without a position.
    std::string message = e.what();
    std::size_t column = 1;
    if (const auto at = message.find("number overflow"); at != std::string::npos) {
      message = message.substr(at);
      const auto open = message.find('\'');
      const auto close = message.rfind('\'');
      if (open != std::string::npos && close > open) {
        column = column_of(message.substr(open + 1, close - open - 1));
      }
    }
    return located(column, "bad JSON: " + message);
  }
  if (!j.is_object()) return located(1, "a trace line must be a JSON object");
  ReplayStep step;
  auto t = j.find("t");
  if (t == j.end() || !t->is_number()) {
    return located(t == j.end() ? 1 : column_of("\"t\""), "missing number \"t\" (seconds)");
  }
  step.t = t->get<double>();
  if (!std::isfinite(step.t)) return located(column_of("\"t\""), "\"t\" must be finite");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "t" && it.key() != "set") {
      return located(column_of("\"" + it.key() + "\""), "unknown key \"" + it.key() + "\"");
    }
  }
  auto set = j.find("set");
  if (set == j.end()) return step;
  if (!set->is_object()) return located(column_of("\"set\""), "\"set\" must be an object");
  for (auto it = set->begin(); it != set->end(); ++it) {
    RawValue value;
    const auto& v = it.value();
    if (v.is_null()) {
      value = std::monostate{};
    } else if (v.is_boolean()) {
      value = v.get<bool>();
    } else if (v.is_number()) {
      value = v.get<double>();
    } else if (v.is_string()) {
      value = v.get<std::string>();
    } else {
      return located(column_of("\"" + it.key() + "\""),
                     it.key() + ": values are numbers, booleans, strings or null");
    }
    auto a = resolve_assignment(tables, it.key(), value);
    if (!a.ok()) return located(column_of("\"" + it.key() + "\""), a.error().message);
    step.set.push_back(std::move(a).value());
  }
  return step;
}

Replayer::Replayer(std::shared_ptr<const ir::CompiledPolicy> policy)
    : policy_(std::move(policy)),
      state_(policy_->make_state()),
      numbers_(static_cast<std::size_t>(policy_->tables().number_slot_count), kNaN),
      strings_(static_cast<std::size_t>(policy_->tables().string_slot_count)),
      check_times_(ir::check_clock_count(policy_->tables().objects.size()), kNaN) {}

Status Replayer::step(const ReplayStep& step, std::vector<ReplayRecord>& out) {
  if (step.t < last_t_) {
    return Error{fmt::format("time goes back: {} after {}", step.t, last_t_)};
  }
  last_t_ = step.t;
  for (const Assignment& a : step.set) {
    // Setting an attribute is a probe round of its object; a health.* one is also a check.
    check_times_[static_cast<std::size_t>(ir::probe_clock(a.object))] = step.t;
    if (a.health) {
      const std::size_t objects = policy_->tables().objects.size();
      check_times_[static_cast<std::size_t>(ir::health_clock(objects, a.object))] = step.t;
    }
    if (a.slot < 0) continue;
    if (a.is_string) {
      strings_[static_cast<std::size_t>(a.slot)] = a.text;
    } else {
      numbers_[static_cast<std::size_t>(a.slot)] = a.number;
    }
  }
  std::vector<ir::Edge> edges;
  const ir::Samples samples{numbers_, strings_, check_times_};
  policy_->discover(step.t, samples, state_, edges);
  for (const ir::Edge& e : edges) {
    ReplayRecord r;
    r.t = step.t;
    r.edge = e;
    r.event = policy_->event_of(e.rule);
    out.push_back(r);
    if (e.raise) recover(step.t, r.event, 0, out);
  }
  return {};
}

void Replayer::recover(double t, const ir::EventInstance& event, int depth,
                       std::vector<ReplayRecord>& out) {
  struct Collect : ir::ActionSink {
    std::vector<ir::ActionRequest> actions;
    void request(const ir::ActionRequest& a) override { actions.push_back(a); }
  } sink;
  const ir::Samples samples{numbers_, strings_, check_times_};
  policy_->recover(event, t, samples, state_, sink);
  for (const auto& a : sink.actions) {
    ReplayRecord r;
    r.t = t;
    r.is_action = true;
    r.action = a;
    out.push_back(r);
    if (a.kind == ir::ActionKind::kRaise && depth + 1 < kMaxRaiseDepth) {
      recover(t, a.raised, depth + 1, out);
    }
  }
}

std::string Replayer::object_name(int object) const {
  const auto& objects = policy_->tables().objects;
  if (object < 0 || static_cast<std::size_t>(object) >= objects.size()) return "";
  return objects[static_cast<std::size_t>(object)].name;
}

std::string Replayer::event_text(const ir::EventInstance& e) const {
  const auto& events = policy_->tables().events;
  std::string s = e.event >= 0 && static_cast<std::size_t>(e.event) < events.size()
                      ? events[static_cast<std::size_t>(e.event)].name
                      : "?";
  s += "(";
  for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? "," : "") + object_name(e.args[i]);
  return s + ")";
}

std::string Replayer::json(const ReplayRecord& r) const {
  nlohmann::ordered_json j;
  j["t"] = r.t;
  if (!r.is_action) {
    const auto& rule = policy_->tables().rules[static_cast<std::size_t>(r.edge.rule)];
    j["rule"] = rule.source_rule;
    j["event"] = policy_->tables().events[static_cast<std::size_t>(r.event.event)].name;
    j["args"] = nlohmann::json::array();
    for (int a : r.event.args) j["args"].push_back(object_name(a));
    j["edge"] = r.edge.raise ? "raise" : "clear";
    return dumped(j);
  }
  const ir::ActionRequest& a = r.action;
  j["action"] = std::string(ir::action_kind_name(a.kind));
  if (a.object >= 0) j["object"] = object_name(a.object);
  switch (a.kind) {
    case ir::ActionKind::kSignal:
      j["signal"] = a.signal;
      break;
    case ir::ActionKind::kRun:
      j["argv"] = a.argv;
      break;
    case ir::ActionKind::kNotify:
      j["channel"] = a.channel;
      j["message"] = a.message;
      break;
    case ir::ActionKind::kWait:
      j["seconds"] = a.seconds;
      break;
    case ir::ActionKind::kRaise: {
      j["event"] = policy_->tables().events[static_cast<std::size_t>(a.raised.event)].name;
      j["args"] = nlohmann::json::array();
      for (int o : a.raised.args) j["args"].push_back(object_name(o));
      break;
    }
    default:
      break;
  }
  if (a.backoff_initial > 0) j["backoff"] = {a.backoff_initial, a.backoff_max};
  if (a.limit > 0) j["limit"] = {{"count", a.limit}, {"within", a.limit_window}};
  return dumped(j);
}

std::string Replayer::text(const ReplayRecord& r) const {
  if (!r.is_action)
    return fmt::format("{} {}", r.edge.raise ? "raise" : "clear", event_text(r.event));
  const ir::ActionRequest& a = r.action;
  std::string s(ir::action_kind_name(a.kind));
  auto quoted = [](const std::string& v) { return dumped(nlohmann::json(v)); };
  switch (a.kind) {
    case ir::ActionKind::kRun:
      for (const auto& arg : a.argv) s += " " + quoted(arg);
      return s;
    case ir::ActionKind::kNotify:
      return s + " " + a.channel + " " + quoted(a.message);
    case ir::ActionKind::kWait:
      return s + fmt::format(" {}s", a.seconds);
    case ir::ActionKind::kRaise:
      return s + " " + event_text(a.raised);
    case ir::ActionKind::kSignal:
      return s + " " + object_name(a.object) + fmt::format(" {}", a.signal);
    default:
      if (a.object >= 0) s += " " + object_name(a.object);
      return s;
  }
}

}  // namespace amata::lower
