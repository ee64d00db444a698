// The probe of a network interface: carrier, operstate and mtu as rtnetlink events (or
// polled from sysfs when rtnetlink is unavailable); counters and their rates polled from
// /sys/class/net/IF/statistics (files kept open), or from the last rtnetlink announcement
// when sysfs does not show the link (another network namespace).
#pragma once

#include <memory>
#include <optional>

#include "probes/link_monitor.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/procfs.h"

namespace amata::probes {

class InterfaceProbe : public Probe, public LinkListener {
 public:
  static Result<std::unique_ptr<InterfaceProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                        ProbeContext& ctx);
  ~InterfaceProbe() override;
  void poll() override;
  void on_link(const LinkState& state) override;

 private:
  InterfaceProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  bool open_sysfs();
  std::optional<LinkCounters> read_sysfs_counters();
  void write_state(int carrier, int operstate, double mtu, bool notify);

  ProbeContext& ctx_;
  ProcFile counters_[8];
  ProcFile operstate_file_, carrier_file_, mtu_file_;
  bool sysfs_open_ = false;
  int last_carrier_ = -1, last_operstate_ = -1;
  double last_mtu_ = -1;
  bool have_prev_ = false;
  double prev_time_ = 0;
  LinkCounters prev_;
};

}  // namespace amata::probes
