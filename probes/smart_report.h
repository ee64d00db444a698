// What `smartctl --json --all DEVICE` says about a disk's health: the few values a rule
// needs, out of a report of hundreds of fields (ATA attribute tables, NVMe health logs, SCSI
// error counters, self-test logs). The layout is smartmontools' JSON format version 1
// (smartctl 7.0 and later); tests/fixtures/smartctl holds real outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace amata::probes {

/// One smartctl report. Every field is absent when smartctl did not print it: an NVMe disk
/// has no ATA attributes, a disk smartctl could not open has nothing but `exit_status` and
/// `messages`.
struct SmartReport {
  std::optional<bool> passed;                     // smart_status.passed: the disk's own verdict
  std::optional<double> temperature;              // temperature.current, °C
  std::optional<std::uint64_t> reallocated;       // ATA attribute 5 (Reallocated_Sector_Ct)
  std::optional<std::uint64_t> pending;           // ATA attribute 197 (Current_Pending_Sector)
  std::optional<std::uint64_t> uncorrectable;     // ATA attribute 198 (Offline_Uncorrectable)
  std::optional<std::uint64_t> media_errors;      // NVMe health log: media and integrity errors
  std::optional<double> percentage_used;          // NVMe: rated endurance used, may exceed 100
  std::optional<double> available_spare;          // NVMe: spare capacity left, percent
  std::optional<std::uint64_t> critical_warning;  // NVMe: critical warning bits
  std::optional<double> power_on_seconds;         // power_on_time.hours and .minutes
  std::optional<int> exit_status;                 // smartctl.exit_status (a bit mask, below)
  std::string messages;  // smartctl.messages[].string joined with "; " (empty: none)

  /// True when the report carries any health value at all (not merely smartctl's status).
  bool has_smart_data() const;
};

/// smartctl's exit status bits (smartctl(8), "RETURN VALUES"). Bits 0 and 1 mean the output
/// holds no device data; bit 2 that some of it could not be read; bits 3 to 7 are findings
/// about the disk, reported with complete data.
inline constexpr int kSmartctlBadCommandLine = 1 << 0;
inline constexpr int kSmartctlOpenFailed = 1 << 1;
inline constexpr int kSmartctlCommandFailed = 1 << 2;
inline constexpr int kSmartctlDiskFailing = 1 << 3;

/// Parses smartctl's JSON output; nullopt when `text` is not a JSON object. Never throws.
std::optional<SmartReport> parse_smartctl_json(std::string_view text);

/// The count an ATA attribute's raw field holds, from smartctl's `raw.value` and
/// `raw.string`. The raw field is 48 bits, and some drives pack more than the count into it
/// (a Reallocated_Sector_Ct whose upper bytes hold other counters): smartctl's drive database
/// knows those layouts and prints them as "2725 (151 234 0)", the count first, while
/// raw.value stays the whole 48-bit field (167031278144165 for that one). So when the
/// string is one integer, alone or followed by " (...)", that integer is the count;
/// otherwise (a plain raw48 attribute whose string is the same number, or an unusual format)
/// raw.value is.
std::optional<std::uint64_t> ata_raw_count(std::optional<std::uint64_t> raw_value,
                                           std::string_view raw_string);

}  // namespace amata::probes
