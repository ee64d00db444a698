// The one interface between the compiler and the engine: a compiled policy.
//
// A CompiledPolicy carries the object table, the metric-slot layout (which attribute of which
// object lives in which slot), the history each slot needs, the rule and event tables, and
// two operations:
//   discover(now, samples, state, edges)   evaluates every discovery rule once and reports
//                                          the rules whose condition rose or fell;
//   recover(event, now, samples, state, sink)
//                                          walks the recovery body of an event and hands
//                                          each action request to an ActionSink.
// Neither performs anything: the engine maps edges to events and executes actions.
//
// Back ends (compiler/interp, compiler/jit) implement discover() and must agree on every
// input. recover() is shared code (recovery bodies run once per event, not per sample), so
// both back ends request identical actions by construction.
//
// Ownership: the caller owns one PolicyState per compiled policy (rule state + metric
// history). A policy may be shared (std::shared_ptr) between the loop and an in-flight
// evaluation; a JIT policy frees its native code when the last reference goes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/regex.h"
#include "catalog/actions.h"
#include "catalog/catalog.h"
#include "catalog/object_spec.h"
#include "compiler/ir/metric_history.h"

namespace amata::ir {

struct Program;  // the rule IR (compiler/ir/ir.h); the engine never needs its inside

/// Where one attribute of one object lives in the samples.
struct SlotInfo {
  int object = 0;              // index into PolicyTables::objects
  std::string attribute;       // catalog name: "alive", "health.failed", "perf.time"
  catalog::Type type;          // numbers, bools (0/1) and enums (ordinal) are doubles
  bool is_string = false;      // true: index is into Samples::strings, else Samples::numbers
  int index = 0;               // position in Samples::numbers or Samples::strings
  double history_seconds = 0;  // how far back window functions look (0: no history kept)
  bool needs_history = false;  // a window function, changed() or predict() reads this slot
};

/// An event type declared by `raise NAME(args)` and consumed by `recover NAME(params)`.
struct EventInfo {
  std::string name;
  std::vector<catalog::Kind> params;  // kinds of the argument objects (may be empty)
  int recovery = -1;                  // index into the recovery bodies, -1: no recover rule
};

/// One discovery rule after expansion: `discover down(s: service)` over services web and db
/// gives two rules, "down[web]" and "down[db]", with args {web} and {db}.
struct RuleInfo {
  std::string name;         // "down[web]"; unquantified rules keep their plain name
  std::string source_rule;  // "down": the rule as written
  int event = -1;           // index into PolicyTables::events
  std::vector<int> args;    // object ids passed to the event, in parameter order
  std::string text;         // the condition as written, for `amatactl explain`
};

/// The tables of a compiled policy; everything the engine needs besides the two operations.
struct PolicyTables {
  std::string name;                          // `policy web_node`
  std::vector<catalog::ObjectSpec> objects;  // object id = index
  std::vector<SlotInfo> slots;               // every slot any rule or recovery body reads
  int number_slot_count = 0;                 // size of Samples::numbers
  int string_slot_count = 0;                 // size of Samples::strings
  std::vector<RuleInfo> rules;               // rule id = index; order of the source
  std::vector<EventInfo> events;             // event id = index
  int state_words = 0;                       // size of PolicyState::words
  /// `cluster NAME {...}`: the cluster this node belongs to (none: never touch Corosync).
  std::optional<catalog::ClusterSpec> cluster;
  /// `channel NAME {...}`: where `notify` delivers, by name ("console" is not among them).
  std::vector<catalog::ChannelSpec> channels;

  /// The slot of `object`.`attribute`, or nullptr when no rule reads it.
  const SlotInfo* find_slot(int object, std::string_view attribute) const;
  /// The object id named `name`, or -1.
  int find_object(std::string_view name) const;
  /// The event id named `name`, or -1.
  int find_event(std::string_view name) const;
};

/// The clocks `for N checks` counts, one time per clock in Samples::check_times: clock `o`
/// ticks at each probe round of object `o`, clock `health_clock(objects, o)` at each health
/// check result of object `o` (so `s.health.failed for 2 checks` counts health checks, not
/// the probe rounds that happen to fall between them).
constexpr int probe_clock(int object) {
  return object;
}
constexpr int health_clock(std::size_t objects, int object) {
  return static_cast<int>(objects) + object;
}
constexpr std::size_t check_clock_count(std::size_t objects) {
  return 2 * objects;
}

/// The current value of every slot, filled by the probes. Missing numbers are NaN.
struct Samples {
  std::span<const double> numbers;       // PolicyTables::number_slot_count values
  std::span<const std::string> strings;  // PolicyTables::string_slot_count values
  /// Optional, check_clock_count(objects) times (above): the latest tick of each check clock
  /// (seconds, same clock as `now`; NaN before the first). `for N checks` counts a check
  /// when its clock advances; when empty, every discover() call at a new `now` counts.
  std::span<const double> check_times;
};

/// Everything a running policy remembers between evaluations. Owned by the caller, laid out
/// by the compiler: make it with CompiledPolicy::make_state(), never resize it.
struct PolicyState {
  std::vector<double> words;  // per-rule temporal state: since-times, counters, edge flags
  MetricHistory history;      // the recent past of every slot that needs it
};

/// A rule whose condition changed: raise on the rising edge, clear on the falling edge.
struct Edge {
  int rule = 0;
  bool raise = true;
  friend bool operator==(const Edge&, const Edge&) = default;
};

/// An event occurrence: the event and the object ids bound to its parameters.
struct EventInstance {
  int event = -1;
  std::vector<int> args;
};

// The engine names actions through ir:: (the catalog defines them for every stage).
using ActionKind = catalog::ActionKind;
using catalog::action_kind_name;

/// One action a recovery body asks for; the engine's action driver carries it out.
struct ActionRequest {
  ActionKind kind = ActionKind::kRestart;
  int object = -1;                // target object id (restart/start/stop/signal/monitor/
                                  // unmonitor/failover; notify/run: the event's first arg)
  int signal = 0;                 // kSignal: signal number
  std::vector<std::string> argv;  // kRun: program and arguments, already interpolated
  std::string channel;            // kNotify: where to ("pager", a hook; "" = console only)
  std::string message;            // kNotify: the message
  double seconds = 0;             // kWait: how long
  double backoff_initial = 0;     // kRestart/kStart: first delay, doubling (0: none)
  double backoff_max = 0;         //   ... up to this delay
  int limit = 0;                  // kRestart: at most `limit` restarts (0: unlimited)
  double limit_window = 0;        //   ... within this many seconds (0: ever)
  EventInstance raised;           // kRaise: the event to raise
  int failover_service = -1;      // kFailover: the service to move (`object`: the peer or -1)
};

/// Receives the action requests of a recovery body, in body order.
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  virtual void request(const ActionRequest& action) = 0;
};

/// A policy compiled by one back end. Thread-compatible: one caller at a time per state.
class CompiledPolicy {
 public:
  virtual ~CompiledPolicy() = default;

  const PolicyTables& tables() const;
  /// The IR this policy was compiled from (shared by both back ends and `amatac build`).
  const Program& program() const { return *program_; }
  /// A fresh state: no rule active, empty history.
  PolicyState make_state() const;
  /// Records `samples` into the history, evaluates every rule at time `now` (seconds,
  /// non-decreasing) and appends the rules that rose or fell to `edges`, in rule order.
  void discover(double now, const Samples& samples, PolicyState& state,
                std::vector<Edge>& edges) const;
  /// The event a rule raises, with its argument objects.
  EventInstance event_of(int rule) const;
  /// Runs the recovery body of `event` (none: no requests) with its conditions evaluated
  /// against `samples` and the history in `state`, sending each action to `sink`.
  void recover(const EventInstance& event, double now, const Samples& samples,
               const PolicyState& state, ActionSink& sink) const;
  /// "interp" or "jit".
  virtual std::string_view backend_name() const = 0;
  /// The program's regex literals, compiled once (explain evaluates with them too).
  const std::vector<base::Regex>& regexes() const { return regexes_; }

 protected:
  /// `regexes` from compile_regexes(*program) (compiler/ir/runtime.h).
  CompiledPolicy(std::shared_ptr<const Program> program, std::vector<base::Regex> regexes);
  /// Evaluates the rules after the history has been updated.
  virtual void evaluate(double now, const Samples& samples, PolicyState& state,
                        std::vector<Edge>& edges) const = 0;

 private:
  std::shared_ptr<const Program> program_;
  std::vector<base::Regex> regexes_;
};

}  // namespace amata::ir
