// The probe of a remote host: reachable and latency, by a non-blocking TCP connect to
// address:port or an ICMP echo, on the loop with a loop timer as timeout.
#pragma once

#include <memory>

#include "probes/net_checks.h"
#include "probes/probe.h"
#include "probes/probe_context.h"

namespace amata::probes {

class HostProbe : public Probe {
 public:
  /// Resolves the address now (names through the resolver, once, at setup).
  static Result<std::unique_ptr<HostProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                   ProbeContext& ctx);
  void poll() override;
  bool busy() const override { return connect_.busy() || icmp_.busy(); }

 private:
  HostProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx), connect_(ctx.loop), icmp_(ctx.loop) {}
  void report(const CheckOutcome& outcome);

  ProbeContext& ctx_;
  Endpoint endpoint_;
  ConnectCheck connect_;
  IcmpEcho icmp_;
};

}  // namespace amata::probes
