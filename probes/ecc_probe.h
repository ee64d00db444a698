// The probe of an EDAC memory controller (SYS/devices/system/edac/mc/mcN): its corrected and
// uncorrected error counts and its size, or those of one DIMM of it.
//
// A DIMM is named by its directory ("dimm3", "rank5") or its `dimm_label`. Controllers that
// identify DIMMs (skx_edac, i10nm_edac) show one dimmN per DIMM; csrow-based ones
// (amd64_edac, ie31200_edac) show one rankN per chip select and channel, so a label names
// every rank of its DIMM and the counts and sizes of those ranks are added up. Until the
// controller (or DIMM) is found the attributes are unknown, said once, and looked for again
// at every poll (EDAC drivers are often loaded late).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class EccProbe : public Probe {
 public:
  static Result<std::unique_ptr<EccProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                  ProbeContext& ctx);
  void poll() override;
  /// The controller's directory once found; empty while it is not.
  const std::string& source() const { return source_; }
  /// How many dimm*/rank* directories the DIMM was found in (0 without `dimm`).
  std::size_t ranks() const { return ranks_.size(); }

 private:
  EccProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  bool resolve();
  void forget();
  void write(double ce, double ue, double ce_noinfo, double ue_noinfo, double size);

  ProbeContext& ctx_;
  std::string source_;
  bool noticed_ = false;
  ProcFile ce_, ue_, ce_noinfo_, ue_noinfo_, size_mb_;
  struct Rank {
    ProcFile ce, ue, size_mb;
  };
  std::vector<Rank> ranks_;
};

}  // namespace amata::probes
