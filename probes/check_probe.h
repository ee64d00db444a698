// The probe of a `check`: runs an external program (argv, no shell) in its own process group
// with a timeout, reads its output through a non-blocking pipe and its exit through a pidfd,
// all on the loop, and interprets both by the Nagios plugin convention.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/job.h"
#include "probes/perfdata.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/program_run.h"

namespace amata::probes {

class CheckProbe : public Probe {
 public:
  static Result<std::unique_ptr<CheckProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                    ProbeContext& ctx);
  /// Starts the program unless the previous run is still going.
  void poll() override;
  bool busy() const override { return run_.busy(); }

 private:
  CheckProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx);
  /// Writes what the plugin's run says, by the Nagios convention, then the sample is done.
  void report(const base::Job::Outcome& outcome);
  void write(int exit_code, bool timed_out, double duration_s, const std::string& output);

  ProbeContext& ctx_;
  ProgramRun run_;  // the plugin
};

}  // namespace amata::probes
