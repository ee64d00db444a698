// The probe of this machine: CPU from /proc/stat deltas, load, memory, swap, uptime, process
// count, open file handles, pressure stalls and OOM kills, from files opened once and re-read
// with pread. Memory and I/O pressure also arm PSI triggers: a stall that crosses
// kPsiStall within kPsiWindow is read and reported at once, not at the next poll.
#pragma once

#include <memory>

#include "probes/pressure.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class NodeProbe : public Probe {
 public:
  static Result<std::unique_ptr<NodeProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx);
  ~NodeProbe() override;
  void poll() override;

  /// A trigger fires when tasks stalled this long within the window: 10 % of a second, a
  /// stall users feel, well above the noise of an idle machine.
  static constexpr std::uint32_t kPsiStallUs = 100'000, kPsiWindowUs = 1'000'000;
  /// How many PSI triggers are armed (0 on kernels without them or without the privilege).
  int psi_triggers() const;

 private:
  NodeProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  void open_pressure();
  /// Writes the psi.* attributes of every resource (unknown where the kernel has no PSI).
  void read_pressure();

  ProbeContext& ctx_;
  int proc_fd_ = -1;
  ProcFile stat_, meminfo_, loadavg_, uptime_, file_nr_, vmstat_;
  static constexpr int kResources = 3;  // cpu, memory, io
  ProcFile pressure_[kResources];
  PsiTrigger triggers_[kResources];
  bool have_prev_ = false;
  CpuTimes prev_;
};

}  // namespace amata::probes
