// The probe of a mounted filesystem: space and inodes through statvfs, and the I/O of its
// block device from /proc/diskstats (the device found through /proc/self/mountinfo).
#pragma once

#include <memory>
#include <string>

#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class FilesystemProbe : public Probe {
 public:
  static Result<std::unique_ptr<FilesystemProbe>> create(int object,
                                                         const catalog::ObjectSpec& spec,
                                                         ProbeContext& ctx);
  void poll() override;
  /// The block device found for the mount ("vda1"), empty when it has none (tmpfs, overlay).
  const std::string& device() const { return device_; }

 private:
  FilesystemProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  void resolve_device();

  ProbeContext& ctx_;
  std::string path_;
  std::string device_;
  unsigned major_ = 0, minor_ = 0;
  bool resolved_ = false;
  ProcFile diskstats_;
  bool have_prev_ = false;
  double prev_time_ = 0;
  DiskStats prev_;
};

}  // namespace amata::probes
