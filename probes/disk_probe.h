// The probe of a `disk`: its SMART health, read by running `smartctl --json=c --all
// --nocheck=standby DEVICE` (smartmontools) as a base::Job on the loop, like a check plugin:
// argv without a shell, its own process group, stdout through a non-blocking pipe, killed at
// `timeout` seconds. A disk that stalls in error recovery can hold smartctl for minutes; the loop
// never waits.
//
// Attributes written when smartctl ends (NaN: unknown):
//   healthy         bool    the disk's own SMART verdict (smart_status.passed)
//   temp            °C      temperature.current
//   reallocated     count   ATA attribute 5 raw
//   pending         count   ATA attribute 197 raw
//   uncorrectable   count   ATA attribute 198 raw
//   media_errors    count   NVMe media and data integrity errors
//   percentage_used percent NVMe endurance used (may exceed 100)
//   spare           percent NVMe available spare
//   critical_warning count NVMe critical warning bits
//   power_on        seconds power-on time
//   exit_status     count   smartctl's exit status bit mask (smartctl(8))
//   timed_out       bool    smartctl was killed at the timeout
//   error           string  empty when the report is usable; else why not
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/job.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/program_run.h"
#include "probes/smart_report.h"

namespace amata::probes {

class DiskProbe : public Probe {
 public:
  /// With `spec.command` empty, runs smartctl (found in PATH, else /usr/sbin/smartctl; an
  /// error when neither exists) on `spec.device`. A non-empty `spec.command` is the whole
  /// argv instead and must print smartctl's JSON: an operator's wrapper (sudo, a container,
  /// `-d sat` for a USB bridge) or a test's program.
  static Result<std::unique_ptr<DiskProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx);
  /// Starts smartctl unless the previous run is still going.
  void poll() override;
  bool busy() const override { return run_.busy(); }

 private:
  DiskProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx,
            std::vector<std::string> argv);
  /// Writes what the run says, then the sample is done.
  void report(const base::Job::Outcome& outcome);
  /// Writes every attribute: the report's values (all unknown without one) and `error`.
  void write(const SmartReport* report, std::optional<int> exit_status, bool timed_out,
             const std::string& error);

  ProbeContext& ctx_;
  ProgramRun run_;  // smartctl, or the command standing in for it
};

/// The first executable `name` in the ':'-separated directories of `path_list`, else
/// `fallback` when that is executable, else nullopt.
std::optional<std::string> find_program(std::string_view name, std::string_view path_list,
                                        const std::string& fallback);

}  // namespace amata::probes
