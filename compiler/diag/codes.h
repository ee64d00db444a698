// Every diagnostic code amatac can emit, with a one-line summary. Codes are stable: tests,
// scripts and docs/language.md (tested against this table) refer to them.
// E0xxx: files and limits; E01xx: syntax; E02xx: names; E03xx: types and units;
// E04xx: events and actions; W02xx: warnings.
#pragma once

#include <span>
#include <string_view>

namespace amata::diag {

struct CodeInfo {
  std::string_view code;
  std::string_view summary;
};

// clang-format off
inline constexpr CodeInfo kCodes[] = {
    {"E0001", "a policy or included file cannot be read"},
    {"E0002", "include cycle"},
    {"E0003", "nesting too deep (parentheses, when blocks, includes)"},
    {"E0004", "expression too large"},
    {"E0005", "policy too large (too many statements)"},
    {"E0100", "syntax error"},
    {"E0101", "malformed string literal"},
    {"E0102", "expected a declaration"},
    {"E0200", "unknown kind"},
    {"E0201", "duplicate definition"},
    {"E0202", "unknown name"},
    {"E0203", "unknown attribute for this kind"},
    {"E0204", "unknown unit"},
    {"E0205", "unknown setting for this kind"},
    {"E0206", "invalid setting value"},
    {"E0207", "missing required setting"},
    {"E0208", "unknown function"},
    {"E0209", "unknown signal"},
    {"E0210", "dependency on an unknown object or a non-service"},
    {"E0211", "dependency cycle"},
    {"E0212", "a policy has at most one 'policy' name"},
    {"E0213", "a policy declares at most one cluster"},
    {"E0300", "incompatible units or types in a comparison or arithmetic"},
    {"E0301", "operand of the wrong type for this operator"},
    {"E0302", "a condition must be a boolean"},
    {"E0303", "a duration was expected"},
    {"E0304", "a positive whole count was expected"},
    {"E0305", "invalid regular expression"},
    {"E0306", "wrong arguments to a function"},
    {"E0307", "unknown enum member or enum of another type"},
    {"E0308", "a constant must be a literal expression"},
    {"E0309", "division by zero in a constant"},
    {"E0400", "wrong number of event arguments"},
    {"E0401", "event argument of the wrong kind"},
    {"E0402", "recover parameters do not match the event"},
    {"E0403", "action not valid for this kind of object"},
    {"E0404", "backoff minimum exceeds its maximum"},
    {"E0405", "an object argument was expected"},
    {"E0406", "failover of a service that is not clustered"},
    {"E0407", "clustered service or failover without a cluster declaration"},
    {"W0201", "event raised but never recovered"},
    {"W0202", "recover rule for an event that is never raised"},
    {"W0203", "constant defined but never used"},
    {"W0204", "rule over a kind that has no declared objects"},
};
// clang-format on

/// The summary of `code`, or "" if it is not a known code.
constexpr std::string_view code_summary(std::string_view code) {
  for (const auto& c : kCodes) {
    if (c.code == code) return c.summary;
  }
  return {};
}

}  // namespace amata::diag
