// Offline replay of a policy: trace lines in, edges and action requests out. The engine of
// `amatac eval` and `amatac test`; deterministic and identical for both back ends.
//
// A trace line is a JSON object: {"t": 12.5, "set": {"web.alive": false, "self.cpu": 93.5}}
// t in seconds, non-decreasing; attributes not set keep their last value; values in base
// units; booleans as true/false; enums as member strings or ordinals; null means missing.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"

namespace amata::lower {

/// One assignment of a trace step, resolved to a slot (slot -1: an attribute no rule reads).
struct Assignment {
  int object = -1;
  int slot = -1;        // index into numbers or strings
  bool health = false;  // a health.* attribute: setting it is a health check result
  bool is_string = false;
  double number = 0;
  std::string text;
};

/// One step of a trace.
struct ReplayStep {
  double t = 0;
  std::vector<Assignment> set;
};

/// A value as written in a trace or a test file, before it is resolved to a slot.
using RawValue = std::variant<std::monostate, bool, double, std::string>;  // monostate: null

/// Resolves `object.attribute` = value against the policy. Errors are plain messages (the
/// caller adds the location).
Result<Assignment> resolve_assignment(const ir::PolicyTables& tables, std::string_view name,
                                      const RawValue& value);

/// Parses one JSON trace line. Errors carry "LINE:COL: error: ..." prefixed by `file`.
Result<ReplayStep> parse_trace_line(const ir::PolicyTables& tables, std::string_view line,
                                    const std::string& file, int line_number);

/// One output record: an edge or an action request.
struct ReplayRecord {
  double t = 0;
  bool is_action = false;
  ir::Edge edge;             // !is_action
  ir::EventInstance event;   // !is_action: the rule's event
  ir::ActionRequest action;  // is_action
};

/// Drives a compiled policy through a trace.
class Replayer {
 public:
  explicit Replayer(std::shared_ptr<const ir::CompiledPolicy> policy);

  /// Applies a step (its t must not go back) and appends what happened: for each edge in
  /// rule order, the edge, then for a raise the actions of the event's recovery body (and
  /// of events those actions raise, up to a small depth).
  Status step(const ReplayStep& step, std::vector<ReplayRecord>& out);

  /// The JSON line of a record (`amatac eval` output).
  std::string json(const ReplayRecord& r) const;
  /// The canonical text of a record without its time (`amatac test`): "raise E(a)",
  /// "clear E(a)", "restart web", "notify pager \"text\"", ...
  std::string text(const ReplayRecord& r) const;

 private:
  void recover(double t, const ir::EventInstance& event, int depth, std::vector<ReplayRecord>& out);
  std::string object_name(int object) const;
  std::string event_text(const ir::EventInstance& e) const;

  std::shared_ptr<const ir::CompiledPolicy> policy_;
  ir::PolicyState state_;
  std::vector<double> numbers_;
  std::vector<std::string> strings_;
  std::vector<double> check_times_;
  double last_t_ = -1e300;
};

}  // namespace amata::lower
