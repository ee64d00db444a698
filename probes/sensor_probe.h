// The probe of a hardware sensor: one input of an hwmon chip (a temperature, fan, voltage,
// current or power reading with its limits and alarms), or a thermal zone with its trip
// points, read through ProbeOptions::sys_root.
//
// Chips are found by their `name` (and, for NAME@DEV, the basename of their `device` link),
// never by hwmonN, which changes between boots. Hardware can appear after amatad starts (a
// module loaded late, a hot-plugged drive) or go away: until the input is found its
// attributes are unknown, said once through MeasurementSink::notice(), and every poll looks
// again. Once found, the value files stay open and each poll is a pread per file.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class SensorProbe : public Probe {
 public:
  static Result<std::unique_ptr<SensorProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx);
  void poll() override;
  /// The directory the input's files were found in; empty while it is not found.
  const std::string& source() const { return source_; }

  /// The numeric attributes, in the order they are written; alarm is computed apart.
  enum Reading : std::uint8_t {
    kTemp,
    kTempMax,
    kTempCrit,
    kFan,
    kFanMin,
    kVolts,
    kVoltsMin,
    kVoltsMax,
    kCurrent,
    kCurrentMax,
    kPower,
    kPowerMax,
    kFault,
    kReadingCount
  };

 private:
  SensorProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  /// Looks for the chip input or the thermal zone; true when found and its files are open.
  bool resolve();
  bool resolve_hwmon();
  bool resolve_zone();
  bool open_hwmon_input(const std::string& dir, const std::string& stem);
  /// Closes everything: the hardware went away, the next poll looks for it again.
  void forget();
  void notice_once(const std::string& message);
  void write_unknown();
  double zone_max();

  ProbeContext& ctx_;
  std::string source_;        // directory of the input's files or of the zone
  std::string primary_path_;  // the input's value file: gone means the hardware went away
  std::string label_;
  bool label_written_ = false;
  bool noticed_ = false;
  Reading primary_ = kTemp;
  std::array<ProcFile, kReadingCount> files_;
  std::array<ProcFile, 5> alarms_;  // X_alarm, X_max_alarm, X_crit_alarm, X_min_alarm, ...
  struct Trip {
    ProcFile temp;
    bool hot = false;  // else passive
  };
  std::vector<Trip> max_trips_;  // a zone's hot and passive trip points
  ProcFile crit_trip_;           // a zone's critical trip point
};

}  // namespace amata::probes
