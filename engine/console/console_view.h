// The console's answers: status, rules, events and explain, built from the engine's state
// (the rule engine, the supervisor, the event store) in the shapes docs/console.md fixes, and
// the records amatad streams to `events --follow`. Reads only: nothing here acts.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "engine/console/console_backend.h"
#include "engine/discovery/rule_engine.h"
#include "engine/store/event_store.h"
#include "engine/supervisor/supervisor.h"

namespace amata::console {

/// Action rows share the console's event id space with events: offset so the two never collide.
inline constexpr std::int64_t kActionIdOffset = std::int64_t{1} << 40;

/// The console record of a stored event ("raised"/"cleared", its objects, values, message).
nlohmann::json event_record_json(const store::EventRecord& event);
/// The console record of a stored action ("action" or "notify", outcome, duration).
nlohmann::json action_record_json(const store::ActionRecord& action);

/// status: every object with its kind, state, attributes (and a service's pid, restarts,
/// uptime). The cluster section is the daemon's to add.
nlohmann::json status_json(const discovery::RuleEngine& rules,
                           const supervisor::Supervisor& supervisor);
/// Every rule's state as the console shows it: "firing" once its event is raised, "pending"
/// while its condition holds but its `for` / `times within` is not met yet, else "armed".
/// /metrics' amata_rule_state reads the same.
std::vector<std::string_view> rule_states(const discovery::RuleEngine& rules);
/// rules: every rule armed / pending (with time or checks left) / firing, with its last edge.
Outcome rules_view(const discovery::RuleEngine& rules);
/// explain RULE: the condition tree with every sub-expression's value, the temporal status,
/// and the reason in words. RULE is an expanded rule's name or the rule as written.
Outcome explain_view(const discovery::RuleEngine& rules, std::string_view rule);
/// events: this node's events and actions (or, with filter.cluster, the cluster history),
/// oldest first, the newest `filter.limit` that pass the filter.
Outcome events_view(store::EventStore& store, const EventFilter& filter);

}  // namespace amata::console
