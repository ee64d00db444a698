// The probe of this machine: CPU from /proc/stat deltas, load, memory, swap, uptime, process
// count and open file handles, from files opened once and re-read with pread.
#pragma once

#include <memory>

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

 private:
  NodeProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}

  ProbeContext& ctx_;
  int proc_fd_ = -1;
  ProcFile stat_, meminfo_, loadavg_, uptime_, file_nr_;
  bool have_prev_ = false;
  CpuTimes prev_;
};

}  // namespace amata::probes
