// The checker's output: a policy with every name resolved, every constant folded, every
// literal normalised to its catalog base unit (seconds, bytes, percent, bytes per second,
// per second) and every enum member replaced by its catalog ordinal. The backend (rule IR,
// interpreter, JIT) and the engine read only this; they never see the syntax tree.
//
// Indices are stable: object id = index in `objects`, event id = index in `events`.
// Ranges point back into the sources (for `amatactl explain` and runtime diagnostics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/actions.h"
#include "catalog/catalog.h"
#include "catalog/object_spec.h"
#include "compiler/ast/ast.h"

namespace amata::check {

/// Something a rule refers to: a parameter of the rule (bound per object when a kind-wide
/// rule is expanded) or one fixed declared object.
struct ObjectRef {
  enum class Base : std::uint8_t { kParameter, kObject };
  Base base = Base::kObject;
  int index = 0;                              // parameter index or object id
  catalog::Kind kind = catalog::Kind::kNode;  // the kind of whatever it names
};

/// A resolved attribute read: `s.health.failed` on parameter 0 of kind service.
struct AttrRef {
  ObjectRef object;
  std::string attribute;  // exactly as in the catalog ("health.failed", "perf.time")
  catalog::Type type;
};

/// A typed expression node. Every node carries its catalog type (comparisons, and/or/not and
/// regex matches are bool; arithmetic keeps the dimension of its operands).
struct TypedExpr {
  enum class Op : std::uint8_t {
    // leaves
    kNumber,  // `number`, already in base units
    kBool,    // `boolean`
    kString,  // `string`
    kEnum,    // `enum_ordinal` of type.enum_type
    kAttr,    // `attr`
    // arithmetic (operands: 1 for kNeg, 2 otherwise)
    kNeg,
    kAdd,
    kSub,
    kMul,
    kDiv,
    // comparisons (2 operands of one type; kLt.. only on numbers)
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    // logic
    kNot,
    kAnd,
    kOr,
    // regex match of operands[0] (a string) against `string` (RE2 syntax, validated)
    kMatch,
    kNotMatch,
    // window functions over operands[0] (a number-typed expression, usually an attribute)
    kAvg,
    kMin,
    kMax,      // over the last `duration` seconds
    kRate,     // per-second rate of change between the last two samples
    kDelta,    // change over `duration` seconds (0: since the previous sample);
               // also `x within D` in recover conditions
    kChanged,  // bool: value differs from the previous sample
    kPredict,  // linear forecast of operands[0] `duration` seconds ahead
  };
  Op op = Op::kNumber;
  catalog::Type type;
  ast::SourceRange range;

  double number = 0;     // kNumber
  bool boolean = false;  // kBool
  std::string string;    // kString: the value; kMatch/kNotMatch: the pattern
  int enum_ordinal = 0;  // kEnum
  AttrRef attr;          // kAttr
  double duration = 0;   // kAvg/kMin/kMax/kDelta: window; kPredict: horizon (seconds)
  std::vector<TypedExpr> operands;
};

/// A parameter of a rule or an event.
struct Parameter {
  std::string name;
  catalog::Kind kind = catalog::Kind::kNode;
  ast::SourceRange range;
};

/// How long a condition must hold before the rule's event rises.
struct Temporal {
  enum class Kind : std::uint8_t {
    kNone,         // fires as soon as the condition is true
    kForDuration,  // true continuously for `duration` seconds
    kForChecks,    // true on `count` consecutive evaluations of the object's probe
    kTimesWithin,  // became true (rising edges) `count` times within `duration` seconds
  };
  Kind kind = Kind::kNone;
  double duration = 0;
  int count = 0;
  /// `clear after D`: once risen, the event clears only when the condition has been false
  /// for D seconds in a row (0: as soon as the qualifier is no longer met).
  double clear_after = 0;
};

/// A declared or inferred event.
struct Event {
  std::string name;
  std::vector<Parameter> params;  // names from the declaration, or from the first raise
  bool notify_only = false;       // no recover rule expected (no W-warning)
  bool declared = false;          // false: inferred from a raise
  ast::SourceRange range;         // declaration, or the first raise
};

/// `discover NAME[(params)] when COND [temporal] [clear after D] raise EVENT(args)`.
/// A rule with parameters applies to every object of each parameter's kind (the backend
/// expands it); `args` refer to those parameters or to fixed objects.
struct DiscoverRule {
  std::string name;
  std::vector<Parameter> params;
  TypedExpr condition;  // type bool
  Temporal temporal;
  int event = 0;                // index into CheckedPolicy::events
  std::vector<ObjectRef> args;  // one per event parameter, kinds match
  ast::SourceRange range;
};

/// One word of a `run` argv.
struct RunArg {
  enum class Kind : std::uint8_t {
    kLiteral,     // `text`
    kObjectName,  // the name of `object` (x.name)
    kAttribute,   // the current value of `attr`, formatted as text
  };
  Kind kind = Kind::kLiteral;
  std::string text;
  ObjectRef object;
  AttrRef attr;
};

struct Action;
using ActionList = std::vector<Action>;

/// One statement of a recover body: an action, or a `when` branch.
struct Action {
  enum class Kind : std::uint8_t { kAction, kWhen };
  Kind kind = Kind::kAction;
  catalog::ActionKind action = catalog::ActionKind::kRestart;  // kAction
  ast::SourceRange range;

  ObjectRef target;                   // restart/start/stop/monitor/unmonitor/signal/failover
  int signal = 0;                     // kSignal: the signal number
  std::vector<RunArg> argv;           // kRun
  std::string channel;                // kNotify
  std::string message;                // kNotify
  double duration = 0;                // kWait: seconds
  int event = 0;                      // kRaise: index into events
  std::vector<ObjectRef> event_args;  // kRaise
  std::optional<ObjectRef> peer;      // kFailover: the peer to hand over to (nullopt: any)

  /// kRestart: delay before the n-th consecutive restart doubles from min up to max
  /// (nullopt: `backoff none`, restart at once every time).
  struct Backoff {
    double min = 0, max = 0;  // seconds
  };
  std::optional<Backoff> backoff;
  /// kRestart: give up (the action fails) after `count` restarts within `window` seconds
  /// (nullopt: `limit none`, never give up).
  struct Limit {
    int count = 0;
    double window = 0;
  };
  std::optional<Limit> limit;
  /// kRestart: the policy named no backoff or no limit, and these are kDefaultBackoff and
  /// kDefaultLimit.
  bool default_backoff = false, default_limit = false;

  TypedExpr condition;  // kWhen, type bool
  ActionList then_body, else_body;
};

/// The restart policy of a `restart` that names none, as systemd has RestartSec and
/// StartLimitBurst. A bare `restart s` of a program that exits at once restarted it 11,541
/// times in 30 s. With these, restarts wait 0, 0.1, 0.2, ... 25.6 s (doubling up to 30 s), so
/// a service that cannot stay up is given up on about a minute after it began failing, ten
/// tries later; one that fails now and then (fewer than ten times in ten minutes) is
/// restarted for ever, and a run longer than 30 s resets the doubling.
inline constexpr Action::Backoff kDefaultBackoff{0.1, 30};
inline constexpr Action::Limit kDefaultLimit{10, 600};

/// `recover EVENT(params) { body }`: what to do when EVENT rises.
struct RecoverRule {
  int event = 0;  // index into events
  std::string event_name;
  std::vector<Parameter> params;  // bound by position to the event's arguments
  ActionList body;
  ast::SourceRange range;
};

/// A named constant as declared (already folded into every use; kept for dumps and docs).
struct Constant {
  std::string name;
  TypedExpr value;  // a literal
  ast::SourceRange range;
};

/// The whole checked policy.
struct CheckedPolicy {
  std::string name;                             // from `policy NAME` (empty if absent)
  std::vector<catalog::ObjectSpec> objects;     // index = object id
  std::vector<ast::SourceRange> object_ranges;  // parallel to objects
  std::vector<Constant> constants;
  std::vector<Event> events;  // index = event id
  std::vector<DiscoverRule> discover;
  std::vector<RecoverRule> recover;
  std::optional<catalog::ClusterSpec> cluster;  // the policy's cluster declaration, if any
  std::vector<catalog::ChannelSpec> channels;   // `channel` declarations, in source order

  /// The id of the object named `name`, or -1.
  int find_object(std::string_view name) const;
  /// The id of the event named `name`, or -1.
  int find_event(std::string_view name) const;
};

}  // namespace amata::check
