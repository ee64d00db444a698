// Every diagnostic code amatac can emit: one table, read by whatever reports a diagnostic
// (the front end, the parser, the checker), by the printers and by docs_test, which holds
// docs/language.md and tests/diagnostics/ to it. Codes are stable: tests, scripts and the
// docs refer to them. Reporting takes a Code, never a string, so a code outside the table
// cannot be emitted.
// E0xxx: files and limits; E01xx: syntax; E02xx: names; E03xx: types and units;
// E04xx: events and actions; W02xx: warnings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace amata::diag {

enum class Severity : std::uint8_t { kError, kWarning, kNote };

/// A diagnostic, by what it means. Enumerator i is row i of kCodes.
enum class Code : std::uint8_t {
  kUnreadableFile,
  kIncludeCycle,
  kNestingTooDeep,
  kExpressionTooLarge,
  kTooManyStatements,
  kSyntaxError,
  kMalformedString,
  kExpectedDeclaration,
  kUnexpectedCharacter,
  kMalformedNumber,
  kUnknownKind,
  kDuplicateDefinition,
  kUnknownName,
  kUnknownAttribute,
  kUnknownUnit,
  kUnknownSetting,
  kInvalidSettingValue,
  kMissingSetting,
  kUnknownFunction,
  kUnknownSignal,
  kBadDependency,
  kDependencyCycle,
  kSecondPolicyName,
  kSecondCluster,
  kIncompatibleUnits,
  kWrongOperandType,
  kNotABoolean,
  kExpectedDuration,
  kExpectedCount,
  kInvalidRegex,
  kWrongArguments,
  kBadEnumMember,
  kNotConstant,
  kDivisionByZero,
  kOutOfRange,
  kEventArgumentCount,
  kEventArgumentKind,
  kRecoverParameters,
  kActionNotForKind,
  kBackoffInverted,
  kObjectNotValue,
  kNotClustered,
  kNoCluster,
  kRaiseCycle,
  kUnknownChannel,
  kNeverRecovered,
  kNeverRaised,
  kUnusedConstant,
  kNoObjectsOfKind,
  kNeverRestarted,
};

struct CodeInfo {
  Code id;
  std::string_view code;     // printed as [E0201]; stable
  std::string_view name;     // short name: "duplicate-definition"
  Severity severity;         // of every diagnostic with this code
  std::string_view summary;  // one line; the heading of the code in docs/language.md
};

// clang-format off
inline constexpr CodeInfo kCodes[] = {
    {Code::kUnreadableFile,      "E0001", "unreadable-file",       Severity::kError,   "a policy or included file cannot be read"},
    {Code::kIncludeCycle,        "E0002", "include-cycle",         Severity::kError,   "include cycle"},
    {Code::kNestingTooDeep,      "E0003", "nesting-too-deep",      Severity::kError,   "nesting too deep (parentheses, when blocks, includes)"},
    {Code::kExpressionTooLarge,  "E0004", "expression-too-large",  Severity::kError,   "expression too large"},
    {Code::kTooManyStatements,   "E0005", "too-many-statements",   Severity::kError,   "policy too large (too many statements)"},
    {Code::kSyntaxError,         "E0100", "syntax-error",          Severity::kError,   "syntax error"},
    {Code::kMalformedString,     "E0101", "malformed-string",      Severity::kError,   "malformed string literal"},
    {Code::kExpectedDeclaration, "E0102", "expected-declaration",  Severity::kError,   "expected a declaration"},
    {Code::kUnexpectedCharacter, "E0103", "unexpected-character",  Severity::kError,   "a character no name or other token may hold"},
    {Code::kMalformedNumber,     "E0104", "malformed-number",      Severity::kError,   "a number that is malformed or out of range"},
    {Code::kUnknownKind,         "E0200", "unknown-kind",          Severity::kError,   "unknown kind"},
    {Code::kDuplicateDefinition, "E0201", "duplicate-definition",  Severity::kError,   "duplicate definition"},
    {Code::kUnknownName,         "E0202", "unknown-name",          Severity::kError,   "unknown name"},
    {Code::kUnknownAttribute,    "E0203", "unknown-attribute",     Severity::kError,   "unknown attribute for this kind"},
    {Code::kUnknownUnit,         "E0204", "unknown-unit",          Severity::kError,   "unknown unit"},
    {Code::kUnknownSetting,      "E0205", "unknown-setting",       Severity::kError,   "unknown setting for this kind"},
    {Code::kInvalidSettingValue, "E0206", "invalid-setting-value", Severity::kError,   "invalid setting value"},
    {Code::kMissingSetting,      "E0207", "missing-setting",       Severity::kError,   "missing required setting"},
    {Code::kUnknownFunction,     "E0208", "unknown-function",      Severity::kError,   "unknown function"},
    {Code::kUnknownSignal,       "E0209", "unknown-signal",        Severity::kError,   "unknown signal"},
    {Code::kBadDependency,       "E0210", "bad-dependency",        Severity::kError,   "dependency on an unknown object or a non-service"},
    {Code::kDependencyCycle,     "E0211", "dependency-cycle",      Severity::kError,   "dependency cycle"},
    {Code::kSecondPolicyName,    "E0212", "second-policy-name",    Severity::kError,   "a policy has at most one 'policy' name"},
    {Code::kSecondCluster,       "E0213", "second-cluster",        Severity::kError,   "a policy declares at most one cluster"},
    {Code::kIncompatibleUnits,   "E0300", "incompatible-units",    Severity::kError,   "incompatible units or types in a comparison or arithmetic"},
    {Code::kWrongOperandType,    "E0301", "wrong-operand-type",    Severity::kError,   "operand of the wrong type for this operator"},
    {Code::kNotABoolean,         "E0302", "not-a-boolean",         Severity::kError,   "a condition must be a boolean"},
    {Code::kExpectedDuration,    "E0303", "expected-duration",     Severity::kError,   "a duration was expected"},
    {Code::kExpectedCount,       "E0304", "expected-count",        Severity::kError,   "a positive whole count was expected"},
    {Code::kInvalidRegex,        "E0305", "invalid-regex",         Severity::kError,   "invalid regular expression"},
    {Code::kWrongArguments,      "E0306", "wrong-arguments",       Severity::kError,   "wrong arguments to a function"},
    {Code::kBadEnumMember,       "E0307", "bad-enum-member",       Severity::kError,   "unknown enum member or enum of another type"},
    {Code::kNotConstant,         "E0308", "not-constant",          Severity::kError,   "a constant must be a literal expression"},
    {Code::kDivisionByZero,      "E0309", "division-by-zero",      Severity::kError,   "division by zero in a constant"},
    {Code::kOutOfRange,          "E0310", "out-of-range",          Severity::kError,   "a duration outside the range its place allows"},
    {Code::kEventArgumentCount,  "E0400", "event-argument-count",  Severity::kError,   "wrong number of event arguments"},
    {Code::kEventArgumentKind,   "E0401", "event-argument-kind",   Severity::kError,   "event argument of the wrong kind"},
    {Code::kRecoverParameters,   "E0402", "recover-parameters",    Severity::kError,   "recover parameters do not match the event"},
    {Code::kActionNotForKind,    "E0403", "action-not-for-kind",   Severity::kError,   "action not valid for this kind of object"},
    {Code::kBackoffInverted,     "E0404", "backoff-inverted",      Severity::kError,   "backoff minimum exceeds its maximum"},
    {Code::kObjectNotValue,      "E0405", "object-not-value",      Severity::kError,   "an object argument was expected"},
    {Code::kNotClustered,        "E0406", "not-clustered",         Severity::kError,   "failover of a service that is not clustered"},
    {Code::kNoCluster,           "E0407", "no-cluster",            Severity::kError,   "clustered service or failover without a cluster declaration"},
    {Code::kRaiseCycle,          "E0408", "raise-cycle",           Severity::kError,   "recoveries that raise each other in a cycle"},
    {Code::kUnknownChannel,      "E0409", "unknown-channel",       Severity::kError,   "notify names a channel the policy does not declare"},
    {Code::kNeverRecovered,      "W0201", "never-recovered",       Severity::kWarning, "event raised but never recovered"},
    {Code::kNeverRaised,         "W0202", "never-raised",          Severity::kWarning, "recover rule for an event that is never raised"},
    {Code::kUnusedConstant,      "W0203", "unused-constant",       Severity::kWarning, "constant defined but never used"},
    {Code::kNoObjectsOfKind,     "W0204", "no-objects-of-kind",    Severity::kWarning, "rule over a kind that has no declared objects"},
    {Code::kNeverRestarted,      "W0205", "never-restarted",       Severity::kWarning, "a service no recover rule restarts"},
};
// clang-format on

constexpr bool rows_follow_the_enum() {
  for (std::size_t i = 0; i < std::size(kCodes); ++i) {
    if (static_cast<std::size_t>(kCodes[i].id) != i) return false;
  }
  return std::size(kCodes) == static_cast<std::size_t>(Code::kNeverRestarted) + 1;
}
static_assert(rows_follow_the_enum(), "row i of kCodes must describe Code enumerator i");

/// The row of `code`.
constexpr const CodeInfo& info(Code code) {
  return kCodes[static_cast<std::size_t>(code)];
}

/// The row of a printed code ("E0201"), or nullptr if the table has none.
constexpr const CodeInfo* find_code(std::string_view code) {
  for (const auto& c : kCodes) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

}  // namespace amata::diag
