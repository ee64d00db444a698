// The rule IR: what the language evaluates, after checking, with units normalised (seconds,
// bytes, percent), names resolved to slots and quantified rules expanded per object.
//
// Expressions live in one arena (Program::exprs) and refer to their operands by index, so a
// program is plain data: the interpreter walks it, the JIT emits one fused function from it,
// the differential tests generate and shrink it. Every value is a double: booleans are 0/1,
// enums their ordinal, and NaN means "missing" (an attribute not yet measured). Missing
// propagates: arithmetic and comparisons on NaN give NaN, `and`/`or`/`not` follow Kleene's
// three-valued logic, and a condition holds only when its value is a number other than 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "compiler/ir/compiled_policy.h"

namespace amata::ir {

enum class Op : std::uint8_t {
  kConst,  // value
  kSlot,   // the current value of number slot `slot`
  kStrEq,  // string slot `slot` == strings[str]
  kStrNe,  // string slot `slot` != strings[str]
  kMatch,  // string slot `slot` matches the RE2 regex strings[str] (search)
  kNot,    // a
  kNeg,    // a
  kAdd,
  kSub,
  kMul,
  kDiv,  // a op b
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,
  kNe,  // a op b -> 0/1, NaN if either is NaN
  kAnd,
  kOr,  // Kleene
  // Window functions over the history of number slot `slot`; `value` is the window in
  // seconds (0: the two newest points).
  kAvg,
  kMin,
  kMax,      // over the points in [now - value, now]; NaN when none
  kDelta,    // newest - oldest point in the window; NaN with fewer than 2
  kRate,     // delta / elapsed time; NaN with fewer than 2 points or no elapsed time
  kChanged,  // 1 if two consecutive points in the window differ, else 0
  kPredict,  // least-squares line over [now - value, now], evaluated at now + horizon
};
inline constexpr int kOpCount = static_cast<int>(Op::kPredict) + 1;
std::string_view op_name(Op op);
bool is_window_op(Op op);
bool is_binary_op(Op op);

/// One expression node. Operands are indices into Program::exprs, always smaller than the
/// node's own index (the arena is in evaluation order).
struct Expr {
  Op op = Op::kConst;
  int a = -1, b = -1;  // operands
  int slot = -1;       // kSlot, string ops and window ops: the slot index (see param)
  int str = -1;        // string ops: index into Program::strings
  double value = 0;    // kConst: the constant; window ops: the window in seconds
  double horizon = 0;  // kPredict: how far ahead
  // Inside recovery bodies an attribute of an event parameter has no fixed slot: `param`
  // names the parameter and strings[attr] the attribute, resolved when the body runs.
  int param = -1;
  int attr = -1;
};

/// How a rule's condition turns into "active".
enum class Temporal : std::uint8_t {
  kNone,         // active while the condition holds
  kForDuration,  // held continuously for `seconds` (now - since >= seconds)
  kForChecks,    // held at `count` consecutive ticks of the rule's `check_clock`
  kTimesWithin,  // rose `count` times within `seconds`
};
std::string_view temporal_name(Temporal t);

/// The evaluable part of one discovery rule (names and args are in PolicyTables::rules).
struct Rule {
  int cond = -1;  // index into Program::exprs
  Temporal temporal = Temporal::kNone;
  double seconds = 0;
  int count = 0;
  int check_clock = -1;  // kForChecks: the clock whose ticks are checks (-1: each call)
  /// `clear after D`: an active rule turns inactive only once its condition has been false
  /// for this many seconds in a row (0: as soon as the qualifier is no longer met).
  double clear_after = 0;
  int state_offset = 0;  // first word in PolicyState::words (laid out by finalize)
};

/// The number of state words a rule needs: [0] active flag, then per temporal qualifier:
/// kForDuration [1] since; kForChecks [1] count, [2] last check time; kTimesWithin [1] the
/// previous truth, [2] ring position, [3..3+count) the times of the last `count` rises;
/// then, with `clear after`, one word: since when the condition has been false while the
/// rule was active (NaN: it has not).
int state_words(const Rule& rule);
/// The index of the `clear after` word in the rule's state block.
int clear_word(const Rule& rule);

/// An object named in a recovery body: an event parameter or a fixed object.
struct ObjectRef {
  int param = -1;   // index into the event's parameters, or -1
  int object = -1;  // fixed object id when param is -1
};

/// A piece of text in a recovery action: a literal, an object's name, or a string attribute.
struct TextPiece {
  std::string literal;
  bool is_object = false;  // the name of `object` (or its string attribute if attribute set)
  ObjectRef object;
  std::string attribute;
};
using Text = std::vector<TextPiece>;

/// One statement of a recovery body.
struct Stmt {
  enum class Kind : std::uint8_t { kAction, kWhen };
  Kind kind = Kind::kAction;
  // kAction
  ActionKind action = ActionKind::kRestart;
  ObjectRef target;
  ObjectRef failover_service;  // kFailover: the service to move (`target`: the peer, if any)
  int signal = 0;
  std::vector<Text> argv;  // kRun
  std::string channel;     // kNotify
  Text message;            // kNotify
  double seconds = 0;      // kWait
  double backoff_initial = 0, backoff_max = 0;
  int limit = 0;
  double limit_window = 0;
  int raise_event = -1;  // kRaise
  std::vector<ObjectRef> raise_args;
  // kWhen
  int cond = -1;
  std::vector<Stmt> then_body, else_body;
};

/// `recover EVENT(params) { body }`.
struct Recovery {
  int event = -1;
  std::vector<std::string> params;
  std::vector<Stmt> body;
};

/// A whole compiled policy in IR form.
struct Program {
  PolicyTables tables;
  std::vector<Expr> exprs;
  std::vector<Rule> rules;           // parallel to tables.rules
  std::vector<std::string> strings;  // literals, regexes, attribute names
  std::vector<Recovery> recoveries;  // EventInfo::recovery indexes this

  /// Adds an expression and returns its index.
  int add(const Expr& e) {
    exprs.push_back(e);
    return static_cast<int>(exprs.size()) - 1;
  }
  int add_string(std::string s);
};

/// Lays out rule state, computes slot history needs and slot counts. Call once after
/// building a program and before compiling it.
void finalize(Program& program);
/// Checks every index in the program; a program that passes cannot make a back end read out
/// of bounds. Errors name the first bad node.
Status validate(const Program& program);
/// A readable listing, for `amatac build` and test failure messages.
std::string dump(const Program& program);
/// One expression as text, e.g. `(slot3 > 90) for 30s`.
std::string dump_expr(const Program& program, int expr);

}  // namespace amata::ir
