// The attribute catalog: every object kind, its attributes, their types and units.
//
// This is the single source of truth read by the checker (names, types, units), the probes
// (which slots to fill) and the docs (docs/language.md is tested against it). It is a leaf:
// it depends on nothing but the standard library, so probes can use it without pulling in
// the rest of the compiler.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace amata::catalog {

/// The built-in kinds of object an operator can declare.
enum class Kind : std::uint8_t {
  kNode,        // this machine
  kService,     // a program amatad starts and supervises
  kProcess,     // a foreign process amatad watches (pidfile or command-line match)
  kInterface,   // a network interface
  kFilesystem,  // a mounted filesystem and its block device
  kHost,        // a remote host reached over the network
  kCheck,       // an external program following the Nagios plugin convention
  kPeer,        // another node of the cluster
  kSensor,      // a hardware sensor: an hwmon input or a thermal zone
  kEcc,         // the ECC error counts of an EDAC memory controller (or one of its DIMMs)
  kDisk,        // a disk's SMART health, read with smartctl
  kRaid,        // an MD software RAID array
  kUnit,        // a systemd unit: systemd runs it, amatad watches it and asks systemd to act
};
inline constexpr int kKindCount = 13;

/// The physical dimension of a numeric value. Values are stored normalised to the base unit
/// named here, so `5min` is 300 (seconds) and `2GiB` is 2147483648 (bytes).
enum class Dimension : std::uint8_t {
  kCount,           // a plain number (load average, pid, number of threads)
  kPercent,         // 0..100
  kBytes,           // base unit: byte
  kDuration,        // base unit: second
  kBytesPerSecond,  // base unit: byte per second
  kPerSecond,       // events (packets, errors) per second
  kTemperature,     // base unit: degree Celsius
  kVoltage,         // base unit: volt
  kCurrent,         // base unit: ampere
  kPower,           // base unit: watt
  kRotation,        // base unit: revolution per minute (fans)
};

/// The enumerations attributes can take; each has a fixed, ordered set of members.
enum class EnumType : std::uint8_t {
  kLinkState,    // carrier: down, up
  kOperState,    // operstate, RFC 2863 order
  kCheckStatus,  // Nagios plugin convention: ok, warning, critical, unknown
  kMdState,      // an MD array's array_state, in the kernel's order
  kSyncAction,   // an MD array's sync_action: idle, resync, recover, check, repair, ...
  kUnitState,    // a systemd unit's ActiveState
};

enum class ValueKind : std::uint8_t { kNumber, kBool, kString, kEnum };

/// The type of an attribute value.
struct Type {
  ValueKind kind = ValueKind::kNumber;
  Dimension dimension = Dimension::kCount;    // meaningful for kNumber
  EnumType enum_type = EnumType::kLinkState;  // meaningful for kEnum

  static constexpr Type number(Dimension d) {
    return {ValueKind::kNumber, d, EnumType::kLinkState};
  }
  static constexpr Type boolean() {
    return {ValueKind::kBool, Dimension::kCount, EnumType::kLinkState};
  }
  static constexpr Type string() {
    return {ValueKind::kString, Dimension::kCount, EnumType::kLinkState};
  }
  static constexpr Type enumeration(EnumType e) { return {ValueKind::kEnum, Dimension::kCount, e}; }
  friend constexpr bool operator==(const Type& a, const Type& b) {
    if (a.kind != b.kind) return false;
    if (a.kind == ValueKind::kNumber) return a.dimension == b.dimension;
    if (a.kind == ValueKind::kEnum) return a.enum_type == b.enum_type;
    return true;
  }
};

/// One attribute of a kind, as a probe fills it and a rule reads it.
struct Attribute {
  std::string_view name;  // as written after the dot: `s.alive`, `s.health.failed`
  Type type;
  std::string_view description;  // one line, for docs and `amatactl explain`
  bool event_driven = false;     // updated by an event (pidfd, netlink), not only by polling
};

/// A unit suffix a literal may carry, and how it scales to its dimension's base unit.
struct Unit {
  std::string_view suffix;  // "ms", "GiB", "%", "/s", "B/s", "MB/s"
  Dimension dimension;
  double scale;  // literal * scale = value in base units
};

// --- Kinds ---------------------------------------------------------------------------------

std::string_view kind_name(Kind kind);
std::optional<Kind> kind_from_name(std::string_view name);
std::span<const Kind> all_kinds();
std::string_view kind_description(Kind kind);

// --- Attributes ----------------------------------------------------------------------------

std::span<const Attribute> attributes(Kind kind);
const Attribute* find_attribute(Kind kind, std::string_view name);

/// A `check` object's perfdata labels become attributes `perf.LABEL`, unknown until the
/// program runs; their unit comes from the perfdata UOM. Only checks have open attributes.
inline constexpr std::string_view kPerfdataPrefix = "perf.";
bool has_perfdata_attributes(Kind kind);

// --- Types, units, enums -------------------------------------------------------------------

std::string_view dimension_name(Dimension d);    // "percent", "bytes", ...
std::string_view base_unit_suffix(Dimension d);  // "%", "B", "s", "B/s", "/s", ""
std::span<const Unit> units();
const Unit* find_unit(std::string_view suffix);

std::string_view enum_type_name(EnumType e);
std::span<const std::string_view> enum_members(EnumType e);
/// The ordinal of a member (its numeric value in samples), or nullopt.
std::optional<int> enum_ordinal(EnumType e, std::string_view member);
/// Every enum type that has a member spelled `member` (`down` is both a link state and an
/// operstate); the checker uses the comparison's other side to choose.
std::span<const EnumType> all_enum_types();

std::string_view value_kind_name(ValueKind k);
/// "percent", "bytes", "bool", "string", "link state", ... for diagnostics.
std::string type_name(const Type& t);

}  // namespace amata::catalog
