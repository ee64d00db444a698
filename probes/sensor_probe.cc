#include "probes/sensor_probe.h"

#include <cmath>
#include <optional>
#include <string_view>

#include "probes/sysfs_files.h"
#include "probes/sysfs_parse.h"

namespace amata::probes {
namespace {

constexpr std::array<const char*, SensorProbe::kReadingCount> kReadingNames = {
    "temp",      "temp_max", "temp_crit",   "fan",   "fan_min",   "volts", "volts_min",
    "volts_max", "current",  "current_max", "power", "power_max", "fault"};

/// From the file's unit to the base unit: millidegree, millivolt, milliamp, microwatt.
constexpr std::array<double, SensorProbe::kReadingCount> kScale = {
    1e-3, 1e-3, 1e-3, 1, 1, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-6, 1e-6, 1};

/// Which file of an input fills which reading: the first suffix that exists wins (power is
/// `_input` on some chips and only `_average` on others; its limit `_max` or `_cap`).
struct InputFile {
  HwmonType type;
  SensorProbe::Reading reading;
  std::array<const char*, 2> suffixes;
};
constexpr std::array<InputFile, 12> kInputFiles = {{
    {HwmonType::kTemp, SensorProbe::kTemp, {"_input", nullptr}},
    {HwmonType::kTemp, SensorProbe::kTempMax, {"_max", nullptr}},
    {HwmonType::kTemp, SensorProbe::kTempCrit, {"_crit", nullptr}},
    {HwmonType::kFan, SensorProbe::kFan, {"_input", nullptr}},
    {HwmonType::kFan, SensorProbe::kFanMin, {"_min", nullptr}},
    {HwmonType::kIn, SensorProbe::kVolts, {"_input", nullptr}},
    {HwmonType::kIn, SensorProbe::kVoltsMin, {"_min", nullptr}},
    {HwmonType::kIn, SensorProbe::kVoltsMax, {"_max", nullptr}},
    {HwmonType::kCurr, SensorProbe::kCurrent, {"_input", nullptr}},
    {HwmonType::kCurr, SensorProbe::kCurrentMax, {"_max", nullptr}},
    {HwmonType::kPower, SensorProbe::kPower, {"_input", "_average"}},
    {HwmonType::kPower, SensorProbe::kPowerMax, {"_max", "_cap"}},
}};
constexpr std::array<const char*, 5> kAlarmSuffixes = {"_alarm", "_max_alarm", "_crit_alarm",
                                                       "_min_alarm", "_lcrit_alarm"};

/// The stem ("temp2") of the input `input` names in `dir`: itself when it is a stem with a
/// value file there, else the input whose `_label` reads `input`.
std::optional<std::string> find_input(const std::string& dir, const std::string& input) {
  auto stem = parse_hwmon_name(input);
  if (stem && stem->item.empty() &&
      (path_exists(dir + "/" + input + "_input") || path_exists(dir + "/" + input + "_average"))) {
    return input;
  }
  for (const std::string& file : list_directory(dir)) {
    auto name = parse_hwmon_name(file);
    if (!name || name->item != "label") continue;
    if (read_attribute(dir + "/" + file) == input) return file.substr(0, file.size() - 6);
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<SensorProbe>> SensorProbe::create(int object,
                                                         const catalog::ObjectSpec& spec,
                                                         ProbeContext& ctx) {
  if (spec.zone.empty() && (spec.chip.empty() || spec.input.empty())) {
    return Error{"object " + spec.name + ": sensor needs a `zone`, or a `chip` and an `input`"};
  }
  std::unique_ptr<SensorProbe> p(new SensorProbe(object, spec, ctx));
  p->resolve();
  return p;
}

bool SensorProbe::resolve() {
  if (spec().zone.empty() ? resolve_hwmon() : resolve_zone()) {
    noticed_ = false;
    return true;
  }
  forget();
  if (spec().zone.empty()) {
    notice_once("sensor " + spec().name + ": no hwmon chip '" + spec().chip + "' with input '" +
                spec().input + "' under " + ctx_.options.sys_root +
                "/class/hwmon; unknown until it appears");
  } else {
    notice_once("sensor " + spec().name + ": no thermal zone of type '" + spec().zone + "' under " +
                ctx_.options.sys_root + "/class/thermal; unknown until it appears");
  }
  return false;
}

bool SensorProbe::resolve_hwmon() {
  std::string name = spec().chip, device;
  if (auto at = name.find('@'); at != std::string::npos) {
    device = name.substr(at + 1);
    name.resize(at);
  }
  const std::string class_dir = ctx_.options.sys_root + "/class/hwmon";
  std::vector<std::string> dirs, stems;
  for (const std::string& entry : list_directory(class_dir)) {
    std::string base = class_dir + "/" + entry;
    // Older drivers put name and values in the device's directory, not the class device's.
    std::string dir = base;
    auto chip_name = read_attribute(dir + "/name");
    if (!chip_name) chip_name = read_attribute((dir = base + "/device") + "/name");
    if (chip_name != name) continue;
    if (!device.empty() && link_basename(base + "/device") != device) continue;
    if (auto stem = find_input(dir, spec().input)) {
      dirs.push_back(dir);
      stems.push_back(*stem);
    }
  }
  if (dirs.empty()) return false;
  if (dirs.size() > 1) {
    // Two sockets' coretemp, or several nvme drives: the first (in hwmonN order) is a guess.
    ctx_.sink.notice(object(), "sensor " + spec().name + ": " + std::to_string(dirs.size()) +
                                   " chips '" + name + "' have input '" + spec().input +
                                   "'; using " + dirs[0] + ", name one as CHIP@DEVICE");
  }
  return open_hwmon_input(dirs[0], stems[0]);
}

bool SensorProbe::open_hwmon_input(const std::string& dir, const std::string& stem) {
  forget();
  HwmonType type = parse_hwmon_name(stem)->type;
  for (const InputFile& f : kInputFiles) {
    if (f.type != type) continue;
    for (const char* suffix : f.suffixes) {
      if (suffix == nullptr || files_[f.reading].is_open()) continue;
      std::string path = dir + "/" + stem + suffix;
      files_[f.reading] = open_attribute(path);
      bool is_value = f.reading == kTemp || f.reading == kFan || f.reading == kVolts ||
                      f.reading == kCurrent || f.reading == kPower;
      if (is_value && files_[f.reading].is_open()) {
        primary_ = f.reading;
        primary_path_ = path;
      }
    }
  }
  if (primary_path_.empty()) return false;
  std::size_t alarms = 0;
  for (const char* suffix : kAlarmSuffixes) {
    ProcFile alarm = open_attribute(dir + "/" + stem + suffix);
    if (alarm.is_open()) alarms_[alarms++] = std::move(alarm);
  }
  files_[kFault] = open_attribute(dir + "/" + stem + "_fault");
  label_ = read_attribute(dir + "/" + stem + "_label").value_or(stem);
  source_ = dir;
  return true;
}

bool SensorProbe::resolve_zone() {
  const std::string class_dir = ctx_.options.sys_root + "/class/thermal";
  std::vector<std::string> zones;
  for (const std::string& entry : list_directory(class_dir)) {
    if (entry.rfind("thermal_zone", 0) != 0) continue;
    if (read_attribute(class_dir + "/" + entry + "/type") == spec().zone) {
      zones.push_back(class_dir + "/" + entry);
    }
  }
  if (zones.empty()) return false;
  if (zones.size() > 1) {
    ctx_.sink.notice(object(), "sensor " + spec().name + ": " + std::to_string(zones.size()) +
                                   " thermal zones have type '" + spec().zone + "'; using " +
                                   zones[0]);
  }
  forget();
  const std::string& dir = zones[0];
  files_[kTemp] = open_attribute(dir + "/temp");
  if (!files_[kTemp].is_open()) return false;
  for (int i = 0;; ++i) {
    std::string trip = dir + "/trip_point_" + std::to_string(i);
    auto type = read_attribute(trip + "_type");
    if (!type) break;
    if (*type == "critical" && !crit_trip_.is_open()) {
      crit_trip_ = open_attribute(trip + "_temp");
    } else if (*type == "hot" || *type == "passive") {
      max_trips_.push_back(Trip{open_attribute(trip + "_temp"), *type == "hot"});
    }
  }
  primary_ = kTemp;
  primary_path_ = dir + "/temp";
  label_ = spec().zone;
  source_ = dir;
  return true;
}

void SensorProbe::forget() {
  for (ProcFile& f : files_) f.close();
  for (ProcFile& f : alarms_) f.close();
  max_trips_.clear();
  crit_trip_.close();
  source_.clear();
  primary_path_.clear();
  label_written_ = false;
}

void SensorProbe::notice_once(const std::string& message) {
  if (noticed_) return;
  noticed_ = true;
  ctx_.sink.notice(object(), message);
}

void SensorProbe::write_unknown() {
  for (const char* name : kReadingNames) ctx_.sink.set_number(object(), name, kUnknown);
  ctx_.sink.set_number(object(), "alarm", kUnknown);
}

double SensorProbe::zone_max() {
  // The lowest valid hot trip point, else the lowest valid passive one.
  double hot = kUnknown, passive = kUnknown;
  for (Trip& trip : max_trips_) {
    auto t = read_int(trip.temp);
    if (!t || !valid_trip_millicelsius(*t)) continue;
    double& low = trip.hot ? hot : passive;
    double celsius = static_cast<double>(*t) * 1e-3;
    if (std::isnan(low) || celsius < low) low = celsius;
  }
  return std::isnan(hot) ? passive : hot;
}

void SensorProbe::poll() {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  if (source_.empty() && !resolve()) {
    write_unknown();
    sink.sampled(o);
    return;
  }
  std::array<double, kReadingCount> values{};
  values.fill(kUnknown);
  for (std::size_t i = 0; i < kReadingCount; ++i) {
    if (auto v = read_int(files_[i])) values[i] = static_cast<double>(*v) * kScale[i];
  }
  if (std::isnan(values[primary_]) && went_away(files_[primary_], primary_path_)) {
    // The chip was unbound (module unloaded, drive pulled) or bound again: look for it again
    // from the next poll on, it may come back under another hwmonN.
    sink.notice(
        o, "sensor " + spec().name + ": " + source_ + " went away; unknown until it appears again");
    forget();
    noticed_ = true;
    write_unknown();
    sink.sampled(o);
    return;
  }
  if (!std::isnan(values[kFault])) values[kFault] = values[kFault] != 0 ? 1 : 0;
  if (!spec().zone.empty()) {
    auto crit = read_int(crit_trip_);
    if (crit && valid_trip_millicelsius(*crit))
      values[kTempCrit] = static_cast<double>(*crit) * 1e-3;
    values[kTempMax] = zone_max();
  }
  // Alarm: unknown when the chip has no alarm file (or none could be read), else any set.
  double alarm = kUnknown;
  for (ProcFile& file : alarms_) {
    auto a = read_int(file);
    if (!a) continue;
    alarm = (*a != 0 || alarm == 1) ? 1 : 0;
  }
  if (!label_written_) {
    sink.set_string(o, "label", label_);
    label_written_ = true;
  }
  for (std::size_t i = 0; i < kReadingCount; ++i) sink.set_number(o, kReadingNames[i], values[i]);
  sink.set_number(o, "alarm", alarm);
  sink.sampled(o);
}

}  // namespace amata::probes
