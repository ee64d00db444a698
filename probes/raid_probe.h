// The probe of an MD software RAID array, from SYS/block/<array>/md/ (md.rst): its state, how
// degraded it is, its failed members and the progress of a resync, recovery or check.
//
// The member list changes while amatad runs (a spare is added, a failed disk removed), so the
// md/ directory is listed at every poll, with getdents64 into a stack buffer; the array-wide
// files stay open. An array that is not assembled yet (or was stopped) is unknown, said once,
// and looked for again at every poll.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class RaidProbe : public Probe {
 public:
  static Result<std::unique_ptr<RaidProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx);
  ~RaidProbe() override;
  void poll() override;
  /// The array's md/ directory once found; empty while it is not.
  const std::string& source() const { return source_; }

 private:
  RaidProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  bool resolve();
  void forget();
  void write_unknown();
  /// Members whose md/dev-*/state has `faulty`; nullopt when md/ cannot be listed.
  std::optional<int> count_failed_members();

  ProbeContext& ctx_;
  std::string source_;
  bool noticed_ = false;
  int md_fd_ = -1;
  ProcFile array_state_, degraded_, raid_disks_, sync_action_, sync_completed_, mismatch_cnt_;
};

}  // namespace amata::probes
