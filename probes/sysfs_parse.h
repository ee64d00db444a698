// Parsers for the sysfs attribute files the hardware probes read (hwmon, thermal, EDAC, MD).
// All pure: they take a file's text (or name) and return nullopt on anything unexpected, so a
// driver that prints something new makes the value unknown, never a crash or a wrong number.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace amata::probes {

/// The text of a sysfs attribute without surrounding whitespace (the kernel ends it with '\n').
std::string_view trim_sysfs(std::string_view text);

/// One decimal integer, as every numeric sysfs attribute holds ("43850\n", "-273150\n").
std::optional<std::int64_t> parse_sysfs_int(std::string_view text);

// --- hwmon (Documentation/hwmon/sysfs-interface.rst) -----------------------------------------

/// The input types a sensor object can name; their files are `<type><index>_<item>`.
enum class HwmonType : std::uint8_t { kTemp, kFan, kIn, kCurr, kPower };

/// An hwmon file name split up: "temp2_input" is {kTemp, 2, "input"}, "in0" is {kIn, 0, ""}.
struct HwmonName {
  HwmonType type = HwmonType::kTemp;
  int index = 0;
  std::string_view item;  // after the first '_' ("input", "crit_alarm"); empty for a stem
};

/// Classifies an hwmon attribute file name or an input stem ("fan1"); nullopt for other
/// types (pwm, freq, intrusion), chip-wide files ("name", "update_interval") and garbage.
std::optional<HwmonName> parse_hwmon_name(std::string_view name);

/// "temp", "fan", "in", "curr", "power": the file prefix of a type.
std::string_view hwmon_type_prefix(HwmonType type);

// --- thermal (Documentation/driver-api/thermal/sysfs-api.rst) --------------------------------

/// Trip point temperatures at or below absolute zero mean "not set": the thermal core shows
/// THERMAL_TEMP_INVALID (-274000) for trips a driver registered without a temperature.
bool valid_trip_millicelsius(std::int64_t value);

// --- MD (Documentation/admin-guide/md.rst) ---------------------------------------------------

/// md/array_state as its ordinal in: clear, inactive, suspended, readonly, read_auto, clean,
/// active, write_pending, active_idle, broken (the kernel writes '-' where we write '_').
std::optional<int> md_array_state_ordinal(std::string_view text);

/// md/sync_action as its ordinal in: idle, resync, recover, check, repair, reshape, frozen.
std::optional<int> md_sync_action_ordinal(std::string_view text);

/// md/sync_completed ("1569888 / 2093056") as a percentage; nullopt for "none" (nothing
/// running), "delayed" (waiting for another array on the same disks) and garbage.
std::optional<double> parse_md_sync_completed(std::string_view text);

/// Whether an md/dev-*/state list ("faulty,write_error") has the `faulty` flag.
bool md_dev_state_faulty(std::string_view text);

}  // namespace amata::probes
