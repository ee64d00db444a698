#include "catalog/catalog.h"

#include <array>
#include <iterator>

namespace amata::catalog {
namespace {

using D = Dimension;
constexpr Type num(D d) {
  return Type::number(d);
}
constexpr Type kBool = Type::boolean();
constexpr Type kString = Type::string();

// Pressure stall information (/proc/pressure/*): the share of time some (or all) runnable
// tasks were stalled on the resource, averaged over 10 s, 60 s and 300 s, and the total.
#define AMATA_PSI_ATTRS(resource, what)                                                            \
  {"psi." resource ".some10", num(D::kPercent), "time some tasks stalled on " what ", 10 s"},      \
      {"psi." resource ".some60", num(D::kPercent), "time some tasks stalled on " what ", 60 s"},  \
      {"psi." resource ".some300", num(D::kPercent),                                               \
       "time some tasks stalled on " what ", 300 s"},                                              \
      {"psi." resource ".some_total", num(D::kDuration),                                           \
       "total time some tasks stalled on " what},                                                  \
      {"psi." resource ".full10", num(D::kPercent), "time all tasks stalled on " what ", 10 s"},   \
      {"psi." resource ".full60", num(D::kPercent), "time all tasks stalled on " what ", 60 s"},   \
      {"psi." resource ".full300", num(D::kPercent), "time all tasks stalled on " what ", 300 s"}, \
  {                                                                                                \
    "psi." resource ".full_total", num(D::kDuration), "total time all tasks stalled on " what      \
  }

constexpr Attribute kNodeAttrs[] = {
    {"cpu", num(D::kPercent), "CPU busy, all cores, since the previous sample"},
    {"cpu_user", num(D::kPercent), "CPU in user mode (user + nice)"},
    {"cpu_system", num(D::kPercent), "CPU in kernel mode (system + irq + softirq)"},
    {"cpu_iowait", num(D::kPercent), "CPU idle while waiting for I/O"},
    {"cpu_steal", num(D::kPercent), "CPU stolen by the hypervisor"},
    {"load1", num(D::kCount), "load average over 1 minute"},
    {"load5", num(D::kCount), "load average over 5 minutes"},
    {"load15", num(D::kCount), "load average over 15 minutes"},
    {"mem_used", num(D::kBytes), "memory in use (total - available)"},
    {"mem_available", num(D::kBytes), "memory available for new work (MemAvailable)"},
    {"mem", num(D::kPercent), "memory in use, percent of total"},
    {"swap", num(D::kPercent), "swap in use, percent of total (0 without swap)"},
    {"uptime", num(D::kDuration), "time since boot"},
    {"procs", num(D::kCount), "number of processes"},
    {"open_files", num(D::kCount), "file handles allocated system-wide"},
    {"oom_kills", num(D::kCount), "processes the kernel's OOM killer has killed since boot"},
    AMATA_PSI_ATTRS("cpu", "CPU"),
    AMATA_PSI_ATTRS("memory", "memory"),
    AMATA_PSI_ATTRS("io", "I/O"),
#undef AMATA_PSI_ATTRS
};

// Services and processes share their measurements; a service adds what supervision knows.
#define AMATA_PROCESS_ATTRS                                                                     \
  {"alive", kBool, "the process exists and is not a zombie", true},                             \
      {"pid", num(D::kCount), "process id (0 when not running)", true},                         \
      {"state", kString, "scheduler state letter from /proc/PID/stat (R, S, D, Z, ...)"},       \
      {"cpu", num(D::kPercent), "CPU used, percent of one core, since the previous sample"},    \
      {"rss", num(D::kBytes), "resident set size"},                                             \
      {"threads", num(D::kCount), "number of threads"},                                         \
      {"children", num(D::kCount), "number of direct child processes"},                         \
      {"fds", num(D::kCount), "open file descriptors"},                                         \
      {"uptime", num(D::kDuration), "time since the process started"},                          \
      {"exit_code", num(D::kCount), "exit status of the last death (-1 if killed by a signal)", \
       true},                                                                                   \
      {"exit_signal", num(D::kCount), "signal that killed it last (0 if it exited)", true},     \
      {"read_rate", num(D::kBytesPerSecond), "bytes read from storage per second"}, {           \
    "write_rate", num(D::kBytesPerSecond), "bytes written to storage per second"                \
  }

constexpr Attribute kServiceAttrs[] = {
    AMATA_PROCESS_ATTRS,
    {"restarts", num(D::kCount), "restarts amatad has made since it started the service", true},
    {"health.ok", kBool, "the last health check passed", true},
    {"health.failed", kBool, "the last health check failed", true},
    {"health.latency", num(D::kDuration), "duration of the last health check", true},
    {"oom_killed", kBool, "the kernel's OOM killer ended its last run (0 again once it runs)",
     true},
    {"oom_kills", num(D::kCount), "runs of it the OOM killer ended since amatad started", true},
};

constexpr Attribute kProcessAttrs[] = {AMATA_PROCESS_ATTRS};
#undef AMATA_PROCESS_ATTRS

constexpr Attribute kInterfaceAttrs[] = {
    {"carrier", Type::enumeration(EnumType::kLinkState), "link carrier: up or down", true},
    {"operstate", Type::enumeration(EnumType::kOperState), "RFC 2863 operational state", true},
    {"mtu", num(D::kBytes), "maximum transmission unit", true},
    {"rx_bytes", num(D::kBytes), "bytes received"},
    {"tx_bytes", num(D::kBytes), "bytes sent"},
    {"rx_packets", num(D::kCount), "packets received"},
    {"tx_packets", num(D::kCount), "packets sent"},
    {"rx_errors", num(D::kCount), "receive errors"},
    {"tx_errors", num(D::kCount), "transmit errors"},
    {"rx_drops", num(D::kCount), "received packets dropped"},
    {"tx_drops", num(D::kCount), "packets dropped on transmit"},
    {"rx_rate", num(D::kBytesPerSecond), "bytes received per second"},
    {"tx_rate", num(D::kBytesPerSecond), "bytes sent per second"},
    {"rx_packet_rate", num(D::kPerSecond), "packets received per second"},
    {"tx_packet_rate", num(D::kPerSecond), "packets sent per second"},
    {"error_rate", num(D::kPerSecond), "receive and transmit errors per second"},
    {"drop_rate", num(D::kPerSecond), "receive and transmit drops per second"},
};

constexpr Attribute kFilesystemAttrs[] = {
    {"used", num(D::kPercent), "space in use, percent of what non-root users may use"},
    {"free", num(D::kBytes), "space available to non-root users"},
    {"size", num(D::kBytes), "total size"},
    {"inodes", num(D::kPercent), "inodes in use, percent"},
    {"readonly", kBool, "mounted read-only"},
    {"read_rate", num(D::kBytesPerSecond), "bytes read from the device per second"},
    {"write_rate", num(D::kBytesPerSecond), "bytes written to the device per second"},
    {"busy", num(D::kPercent), "time the device had I/O in flight, percent (like iostat %util)"},
};

constexpr Attribute kHostAttrs[] = {
    {"reachable", kBool, "the last probe got an answer"},
    {"latency", num(D::kDuration), "round-trip time of the last successful probe"},
};

constexpr Attribute kCheckAttrs[] = {
    {"status", Type::enumeration(EnumType::kCheckStatus),
     "plugin result: ok, warning, critical, unknown"},
    {"exit_code", num(D::kCount), "the plugin's exit status"},
    {"output", kString, "first line of the plugin's output, before the perfdata"},
    {"duration", num(D::kDuration), "how long the plugin ran"},
    {"timed_out", kBool, "the plugin was killed at its timeout"},
};

constexpr Attribute kPeerAttrs[] = {
    {"member", kBool, "the node is in this partition's membership", true},
    {"quorate", kBool, "the local partition has quorum", true},
    {"node_id", num(D::kCount), "Corosync node id", true},
    {"name", kString, "node name", true},
    {"since", num(D::kDuration), "time since the membership last changed for this node", true},
};

constexpr Attribute kSensorAttrs[] = {
    {"temp", num(D::kTemperature), "temperature (a temp input or a thermal zone)"},
    {"temp_max", num(D::kTemperature),
     "the chip's high limit, or the zone's first hot or passive trip point"},
    {"temp_crit", num(D::kTemperature), "the chip's critical limit, or the zone's critical trip"},
    {"fan", num(D::kRotation), "fan speed (a fan input)"},
    {"fan_min", num(D::kRotation), "the chip's low limit for the fan"},
    {"volts", num(D::kVoltage), "voltage (an in input)"},
    {"volts_min", num(D::kVoltage), "the chip's low limit for the voltage"},
    {"volts_max", num(D::kVoltage), "the chip's high limit for the voltage"},
    {"current", num(D::kCurrent), "current (a curr input)"},
    {"current_max", num(D::kCurrent), "the chip's high limit for the current"},
    {"power", num(D::kPower), "power (a power input, or its average)"},
    {"power_max", num(D::kPower), "the chip's power limit or cap"},
    {"alarm", kBool, "the chip raises one of its alarms for this input"},
    {"fault", kBool, "the chip reports the input faulty (an open diode, a stopped fan)"},
    {"label", kString, "the input's label, as the chip names it"},
};

constexpr Attribute kEccAttrs[] = {
    {"ce_count", num(D::kCount), "corrected errors since the driver loaded"},
    {"ue_count", num(D::kCount), "uncorrected errors since the driver loaded"},
    {"ce_noinfo_count", num(D::kCount), "corrected errors not traced to a DIMM (controller only)"},
    {"ue_noinfo_count", num(D::kCount),
     "uncorrected errors not traced to a DIMM (controller only)"},
    {"size", num(D::kBytes), "memory behind the controller, or the DIMM's size"},
};

constexpr Attribute kDiskAttrs[] = {
    {"healthy", kBool, "SMART's overall self-assessment passed"},
    {"temp", num(D::kTemperature), "drive temperature"},
    {"reallocated", num(D::kCount), "reallocated sectors (ATA attribute 5)"},
    {"pending", num(D::kCount), "sectors pending reallocation (ATA attribute 197)"},
    {"uncorrectable", num(D::kCount), "offline uncorrectable sectors (ATA attribute 198)"},
    {"media_errors", num(D::kCount), "unrecovered media and data integrity errors (NVMe)"},
    {"percentage_used", num(D::kPercent), "share of rated endurance used (NVMe; may pass 100)"},
    {"spare", num(D::kPercent), "available spare capacity (NVMe)"},
    {"critical_warning", num(D::kCount),
     "the NVMe critical warning bits (0: none; 1 spare low, 2 temperature, 4 reliability, 8 "
     "read-only, 16 backup failed)"},
    {"power_on", num(D::kDuration), "time the drive has been powered on"},
    {"exit_status", num(D::kCount), "smartctl's exit status (a bit mask; 8: the disk is failing)"},
    {"timed_out", kBool, "smartctl was killed at its timeout"},
    {"error", kString, "why SMART data could not be read (empty when it was)"},
};

constexpr Attribute kRaidAttrs[] = {
    {"state", Type::enumeration(EnumType::kMdState), "the array's state (md/array_state)"},
    {"degraded", num(D::kCount), "member devices missing or failed"},
    {"disks", num(D::kCount), "member devices the array is made of (raid_disks)"},
    {"failed_disks", num(D::kCount), "members the kernel marked faulty"},
    {"sync_action", Type::enumeration(EnumType::kSyncAction),
     "what the array is doing: idle, resync, recovery, checking, repair, reshape, frozen"},
    {"sync_completed", num(D::kPercent), "progress of the running sync (unknown when idle)"},
    {"mismatches", num(D::kCount), "sectors found inconsistent by the last check or repair"},
};

constexpr Attribute kUnitAttrs[] = {
    {"active_state", Type::enumeration(EnumType::kUnitState),
     "systemd's ActiveState: inactive, active, activating, deactivating, reloading, failed, ...",
     true},
    {"sub_state", kString, "the unit type's own state (running, exited, dead, auto-restart)", true},
    {"result", kString,
     "how the service last ended: success, exit-code, signal, core-dump, watchdog, "
     "start-limit-hit, ...",
     true},
    {"restarts", num(D::kCount), "restarts systemd has made (NRestarts)", true},
    {"main_pid", num(D::kCount), "the service's main process (0 when none)", true},
    {"load_state", kString, "loaded, not-found, masked, error"},
    {"memory", num(D::kBytes), "memory of the unit's cgroup (MemoryCurrent)"},
    {"tasks", num(D::kCount), "tasks in the unit's cgroup (TasksCurrent)"},
    {"cpu", num(D::kPercent), "CPU of the unit's cgroup, percent of one core"},
};

struct KindEntry {
  Kind kind;
  std::string_view name;
  std::string_view description;
  std::span<const Attribute> attributes;
};

constexpr KindEntry kKinds[] = {
    {Kind::kNode, "node", "this machine: CPU, load, memory, uptime", kNodeAttrs},
    {Kind::kService, "service", "a program amatad starts, supervises and restarts", kServiceAttrs},
    {Kind::kProcess, "process", "a process amatad watches but does not own", kProcessAttrs},
    {Kind::kInterface, "interface", "a network interface", kInterfaceAttrs},
    {Kind::kFilesystem, "filesystem", "a mounted filesystem and its block device",
     kFilesystemAttrs},
    {Kind::kHost, "host", "a remote host, probed over the network", kHostAttrs},
    {Kind::kCheck, "check", "an external program with the Nagios plugin convention", kCheckAttrs},
    {Kind::kPeer, "peer", "another node of the cluster", kPeerAttrs},
    {Kind::kSensor, "sensor", "a hardware sensor: an hwmon input or a thermal zone", kSensorAttrs},
    {Kind::kEcc, "ecc", "ECC error counts of a memory controller or DIMM (EDAC)", kEccAttrs},
    {Kind::kDisk, "disk", "a disk's SMART health, read with smartctl", kDiskAttrs},
    {Kind::kRaid, "raid", "an MD software RAID array", kRaidAttrs},
    {Kind::kUnit, "unit", "a systemd unit, watched over D-Bus and acted on through systemd",
     kUnitAttrs},
};
static_assert(std::size(kKinds) == kKindCount);

constexpr Kind kAllKinds[] = {Kind::kNode,       Kind::kService, Kind::kProcess, Kind::kInterface,
                              Kind::kFilesystem, Kind::kHost,    Kind::kCheck,   Kind::kPeer,
                              Kind::kSensor,     Kind::kEcc,     Kind::kDisk,    Kind::kRaid,
                              Kind::kUnit};
static_assert(std::size(kAllKinds) == kKindCount);

constexpr Unit kUnits[] = {
    {"%", D::kPercent, 1},
    {"B", D::kBytes, 1},
    {"KB", D::kBytes, 1e3},
    {"MB", D::kBytes, 1e6},
    {"GB", D::kBytes, 1e9},
    {"TB", D::kBytes, 1e12},
    {"KiB", D::kBytes, 1024.0},
    {"MiB", D::kBytes, 1024.0 * 1024},
    {"GiB", D::kBytes, 1024.0 * 1024 * 1024},
    {"TiB", D::kBytes, 1024.0 * 1024 * 1024 * 1024},
    {"ms", D::kDuration, 1e-3},
    {"s", D::kDuration, 1},
    {"min", D::kDuration, 60},
    {"m", D::kDuration, 60},  // Prometheus' and systemd's spelling of minutes
    {"h", D::kDuration, 3600},
    {"d", D::kDuration, 86400},
    {"/s", D::kPerSecond, 1},
    {"/min", D::kPerSecond, 1.0 / 60},  // slow counters: `rate(mc0.ce_count, 1h) > 10/h`
    {"/h", D::kPerSecond, 1.0 / 3600},
    {"B/s", D::kBytesPerSecond, 1},
    {"KB/s", D::kBytesPerSecond, 1e3},
    {"MB/s", D::kBytesPerSecond, 1e6},
    {"GB/s", D::kBytesPerSecond, 1e9},
    {"KiB/s", D::kBytesPerSecond, 1024.0},
    {"MiB/s", D::kBytesPerSecond, 1024.0 * 1024},
    {"GiB/s", D::kBytesPerSecond, 1024.0 * 1024 * 1024},
    {"C", D::kTemperature, 1},  // degrees Celsius: `80C`
    {"V", D::kVoltage, 1},
    {"mV", D::kVoltage, 1e-3},
    {"A", D::kCurrent, 1},
    {"mA", D::kCurrent, 1e-3},
    {"W", D::kPower, 1},
    {"mW", D::kPower, 1e-3},
    {"kW", D::kPower, 1e3},
    {"rpm", D::kRotation, 1},
};

constexpr std::string_view kLinkStates[] = {"down", "up"};
// RFC 2863 / IF_OPER_* order, so the ordinal is the kernel's value.
constexpr std::string_view kOperStates[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                            "testing", "dormant",    "up"};
constexpr std::string_view kCheckStatuses[] = {"ok", "warning", "critical", "unknown"};
// The kernel's array_state words, '-' spelled '_' (md.rst); ordered as md.c lists them.
constexpr std::string_view kMdStates[] = {"clear",       "inactive", "suspended", "readonly",
                                          "read_auto",   "clean",    "active",    "write_pending",
                                          "active_idle", "broken"};
// "recover" and "check" are words of the language: the kernel's words for rebuilding onto a
// new member and for a scrub are spelled "recovery" and "checking" here.
constexpr std::string_view kSyncActions[] = {"idle",   "resync",  "recovery", "checking",
                                             "repair", "reshape", "frozen"};
// systemd's ActiveState values, stopped first, then the way up and down, then trouble.
constexpr std::string_view kUnitStates[] = {"inactive",  "active", "activating",  "deactivating",
                                            "reloading", "failed", "maintenance", "refreshing"};
constexpr EnumType kAllEnumTypes[] = {EnumType::kLinkState,   EnumType::kOperState,
                                      EnumType::kCheckStatus, EnumType::kMdState,
                                      EnumType::kSyncAction,  EnumType::kUnitState};

struct EnumEntry {
  EnumType type;
  std::string_view name;
  std::span<const std::string_view> members;
};

constexpr EnumEntry kEnums[] = {
    {EnumType::kLinkState, "link state", kLinkStates},
    {EnumType::kOperState, "operstate", kOperStates},
    {EnumType::kCheckStatus, "check status", kCheckStatuses},
    {EnumType::kMdState, "array state", kMdStates},
    {EnumType::kSyncAction, "sync action", kSyncActions},
    {EnumType::kUnitState, "unit state", kUnitStates},
};

struct DimensionEntry {
  Dimension dimension;
  std::string_view name;       // for diagnostics: "cannot compare percent with bytes"
  std::string_view base_unit;  // the suffix of the unit values are stored in
};

constexpr DimensionEntry kDimensions[] = {
    {D::kCount, "count", ""},
    {D::kPercent, "percent", "%"},
    {D::kBytes, "bytes", "B"},
    {D::kDuration, "duration", "s"},
    {D::kBytesPerSecond, "byte rate", "B/s"},
    {D::kPerSecond, "rate", "/s"},
    {D::kTemperature, "temperature", "C"},
    {D::kVoltage, "voltage", "V"},
    {D::kCurrent, "current", "A"},
    {D::kPower, "power", "W"},
    {D::kRotation, "rotation speed", "rpm"},
};

/// Each table above is indexed by its enum: entry i describes enumerator i.
template <typename Entry, std::size_t N, typename Enum>
constexpr bool indexed_by_enum(const Entry (&table)[N], Enum Entry::*key) {
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(table[i].*key) != i) return false;
  }
  return true;
}
static_assert(indexed_by_enum(kKinds, &KindEntry::kind));
static_assert(indexed_by_enum(kEnums, &EnumEntry::type) &&
              std::size(kEnums) == std::size(kAllEnumTypes));
static_assert(indexed_by_enum(kDimensions, &DimensionEntry::dimension) &&
              std::size(kDimensions) == static_cast<std::size_t>(D::kRotation) + 1);

const KindEntry& entry(Kind kind) {
  return kKinds[static_cast<int>(kind)];
}
const EnumEntry& enum_entry(EnumType e) {
  return kEnums[static_cast<std::size_t>(e)];
}
const DimensionEntry& dimension(Dimension d) {
  return kDimensions[static_cast<std::size_t>(d)];
}

}  // namespace

std::string_view kind_name(Kind kind) {
  return entry(kind).name;
}
std::string_view kind_description(Kind kind) {
  return entry(kind).description;
}
std::span<const Kind> all_kinds() {
  return kAllKinds;
}

std::optional<Kind> kind_from_name(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return std::nullopt;
}

std::span<const Attribute> attributes(Kind kind) {
  return entry(kind).attributes;
}

const Attribute* find_attribute(Kind kind, std::string_view name) {
  for (const auto& a : entry(kind).attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

bool has_perfdata_attributes(Kind kind) {
  return kind == Kind::kCheck;
}

std::string_view dimension_name(Dimension d) {
  return dimension(d).name;
}

std::string_view base_unit_suffix(Dimension d) {
  return dimension(d).base_unit;
}

std::span<const Unit> units() {
  return kUnits;
}

const Unit* find_unit(std::string_view suffix) {
  for (const auto& u : kUnits) {
    if (u.suffix == suffix) return &u;
  }
  return nullptr;
}

std::string_view enum_type_name(EnumType e) {
  return enum_entry(e).name;
}

std::span<const std::string_view> enum_members(EnumType e) {
  return enum_entry(e).members;
}

std::optional<int> enum_ordinal(EnumType e, std::string_view member) {
  auto members = enum_members(e);
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i] == member) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::span<const EnumType> all_enum_types() {
  return kAllEnumTypes;
}

std::string_view value_kind_name(ValueKind k) {
  static constexpr std::string_view kNames[] = {"number", "bool", "string", "enum"};
  static_assert(std::size(kNames) == static_cast<std::size_t>(ValueKind::kEnum) + 1);
  return kNames[static_cast<std::size_t>(k)];
}

std::string type_name(const Type& t) {
  switch (t.kind) {
    case ValueKind::kNumber:
      return std::string(dimension_name(t.dimension));
    case ValueKind::kEnum:
      return std::string(enum_type_name(t.enum_type));
    default:
      return std::string(value_kind_name(t.kind));
  }
}

}  // namespace amata::catalog
