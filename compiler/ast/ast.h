// The syntax tree of a .amata policy, exactly as written: names are unresolved, numbers keep
// their unit suffix as spelled, and every node carries a byte-offset SourceRange. The parser
// (compiler/parse) builds it; the checker (compiler/check) resolves it into a CheckedPolicy.
//
// Nodes are small tagged structs (a kind enum plus the fields that kind uses) rather than a
// variant per node type: the tree is walked by few passes and this keeps them short. Depth is
// bounded by the parser (kMaxExprDepth), so recursive walks over a tree it built are safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/actions.h"

namespace amata::ast {

/// Identifies one loaded source file in a source::SourceManager.
using FileId = std::uint32_t;
/// A FileId that names no file (a diagnostic about a file that could not be read).
inline constexpr FileId kNoFile = 0xffffffffu;

/// A half-open byte range [begin, end) in one file; line:column is computed only on output.
struct SourceRange {
  FileId file = 0;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

/// The deepest expression tree the parser hands out; deeper input is a diagnostic.
inline constexpr int kMaxExprDepth = 256;

/// A name as written, with where it was written.
struct Name {
  std::string text;
  SourceRange range;
};

// --- Expressions ---------------------------------------------------------------------------

enum class ExprKind : std::uint8_t {
  kNumber,  // 90%, 2GiB, 100ms, 3 (number + unit suffix as written)
  kString,  // "text" (escapes already decoded)
  kBool,    // true, false
  kPath,    // a name or a dotted path: cpu_high, up, s.alive, s.health.failed
  kUnary,   // -x, not x
  kBinary,  // x + y, x > y, x and y, x =~ "re"
  kCall,    // avg(x, 5min), rate(x), predict(x, 1h), ...
  kWithin,  // s.restarts within 5min  (the increase of a counter over a window)
  kError,   // placeholder for a part that did not parse (never reaches the checker's output)
};

enum class UnaryOp : std::uint8_t { kNeg, kNot };

enum class BinaryOp : std::uint8_t {
  kOr,
  kAnd,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMatch,
  kNotMatch,  // =~ and !~ (right side: a regex string)
  kAdd,
  kSub,
  kMul,
  kDiv,
};

/// The spelling of an operator, for dumps and diagnostics ("and", ">=", "=~").
const char* binary_op_spelling(BinaryOp op);
const char* unary_op_spelling(UnaryOp op);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::kError;
  SourceRange range;

  double number = 0;       // kNumber: the digits as a double
  std::string unit;        // kNumber: suffix as written ("", "%", "GiB", "MB/s")
  std::string text;        // kString: decoded value; kCall: function name
  bool boolean = false;    // kBool
  std::vector<Name> path;  // kPath: one or more dotted components
  UnaryOp unary_op = UnaryOp::kNeg;
  BinaryOp binary_op = BinaryOp::kAdd;
  SourceRange op_range;       // kUnary/kBinary: where the operator is
  std::vector<ExprPtr> args;  // kUnary: 1, kBinary: 2, kCall: n, kWithin: {counter, window}
};

// --- Object declarations -------------------------------------------------------------------

/// One word after a setting's name: `"/usr/bin/web"`, `5s`, `TERM`, `tcp`.
struct SettingArg {
  enum class Kind : std::uint8_t { kString, kNumber, kWord };
  Kind kind = Kind::kWord;
  SourceRange range;
  std::string text;   // kString: decoded value; kWord: the word; kNumber: the unit suffix
  double number = 0;  // kNumber
};

/// A line inside an object's braces: `start "/usr/bin/web" "--port" "8080"`.
/// Setting names and their arguments are interpreted per kind by the checker.
struct Setting {
  Name name;
  std::vector<SettingArg> args;
  SourceRange range;
};

/// `service web { ... }`: the kind is a name so the checker can suggest a correction.
struct ObjectDecl {
  Name kind;
  Name name;
  std::vector<Setting> settings;
  SourceRange range;
  /// The body had a syntax error: the name is declared (so uses of it do not cascade into
  /// more errors) but its settings are not checked.
  bool incomplete = false;
};

// --- Declarations --------------------------------------------------------------------------

struct PolicyDecl {
  Name name;
  SourceRange range;
};

/// `include "other.amata"`; the parser records it, the driver loads the file.
struct IncludeDecl {
  std::string path;
  SourceRange path_range;
  SourceRange range;
};

/// `let cpu_high = 90%`
struct LetDecl {
  Name name;
  ExprPtr value;  // null when `incomplete`
  SourceRange range;
  /// The value had a syntax error: the name is declared, its uses are not errors.
  bool incomplete = false;
};

/// A typed parameter: `s: service`.
struct Param {
  Name name;
  Name kind;
};

/// `event ServiceDown(s: service) [notify_only]`
struct EventDecl {
  Name name;
  std::vector<Param> params;
  bool notify_only = false;
  SourceRange range;
};

/// `raise ServiceDown(s)`: arguments are names (rule parameters or declared objects).
struct RaiseClause {
  Name event;
  std::vector<Name> args;
  SourceRange range;
};

/// How long a condition must hold before the rule fires.
struct Temporal {
  enum class Kind : std::uint8_t {
    kNone,
    kForDuration,  // for 30s | for grace
    kForChecks,    // for 3 checks
    kTimesWithin,  // 3 times within 5min
  };
  Kind kind = Kind::kNone;
  ExprPtr value;   // kForDuration: a duration; kForChecks: the count; kTimesWithin: the count
  ExprPtr window;  // kTimesWithin: the duration
  SourceRange range;
};

/// `discover NAME[(params)] when COND [temporal] [clear after D] raise EVENT(args)`
struct DiscoverRule {
  Name name;
  std::vector<Param> params;  // empty: a rule on named objects
  ExprPtr condition;
  Temporal temporal;
  ExprPtr clear_after;  // `clear after D`: null when absent
  RaiseClause raise;
  SourceRange range;
};

// --- Recovery ------------------------------------------------------------------------------

/// One word of `run`: a string, or an interpolation `x.name` / `x.ATTRIBUTE`.
struct RunArg {
  bool is_ref = false;
  std::string text;        // literal value when !is_ref
  std::vector<Name> path;  // is_ref: object/parameter name then field
  SourceRange range;
};

struct Action;

/// A `{ ... }` list of actions.
using ActionList = std::vector<Action>;

/// One statement of a recover body: an action, or a `when` branch.
struct Action {
  enum class Kind : std::uint8_t {
    kAction,  // `action` says which
    kWhen,    // when COND { ... } [else { ... } | else when ...]
  };
  Kind kind = Kind::kAction;
  catalog::ActionKind action = catalog::ActionKind::kRestart;  // kAction
  SourceRange range;

  Name target;                // restart/start/stop/monitor/unmonitor/signal/failover
  Name signal;                // kSignal: HUP, SIGHUP, USR1, ...
  std::vector<RunArg> argv;   // kRun
  std::string channel;        // kNotify
  SourceRange channel_range;  // kNotify: the channel's string
  std::string message;        // kNotify (empty: a default message)
  ExprPtr duration;           // kWait
  RaiseClause raise;          // kRaise
  Name peer;                  // kFailover: optional (empty text when absent)

  // kRestart options: `backoff MIN .. MAX` or `backoff none`, `limit N within DURATION` or
  // `limit none`. Neither given: the checker applies the default restart policy.
  ExprPtr backoff_min, backoff_max;
  ExprPtr limit_count, limit_window;
  bool backoff_none = false, limit_none = false;

  // kWhen
  ExprPtr condition;
  std::unique_ptr<ActionList> then_body;
  std::unique_ptr<ActionList> else_body;  // null when there is no else
};

/// `recover EVENT(a, b) { actions }`
struct RecoverRule {
  Name event;
  std::vector<Name> params;
  ActionList body;
  SourceRange range;
};

// --- Files ---------------------------------------------------------------------------------

/// One top-level statement; exactly one member is set, according to kind.
struct Statement {
  enum class Kind : std::uint8_t { kPolicy, kInclude, kLet, kEvent, kObject, kDiscover, kRecover };
  Kind kind = Kind::kPolicy;
  std::unique_ptr<PolicyDecl> policy;
  std::unique_ptr<IncludeDecl> include;
  std::unique_ptr<LetDecl> let;
  std::unique_ptr<EventDecl> event;
  std::unique_ptr<ObjectDecl> object;
  std::unique_ptr<DiscoverRule> discover;
  std::unique_ptr<RecoverRule> recover;
};

/// The statements of one source file, in order. Statements that failed to parse are
/// absent (their diagnostics are in the engine).
struct File {
  FileId file = 0;
  std::vector<Statement> statements;
};

/// A whole policy: the root file and every file it includes (transitively), root first.
struct Program {
  std::vector<File> files;
};

}  // namespace amata::ast
