#include "probes/host_probe.h"

namespace amata::probes {

Result<std::unique_ptr<HostProbe>> HostProbe::create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx) {
  const auto& host = spec.host;
  if (host.address.empty()) return Error{"object " + spec.name + ": host needs an address"};
  bool tcp = host.method == catalog::HostProbeSpec::Method::kTcp;
  if (tcp && (host.port <= 0 || host.port > 65535)) {
    return Error{"object " + spec.name + ": tcp host probe needs a port"};
  }
  std::unique_ptr<HostProbe> p(new HostProbe(object, spec, ctx));
  auto endpoint = resolve_host(host.address, tcp ? host.port : 0);
  if (!endpoint) return Error{"object " + spec.name + ": " + endpoint.error().message};
  p->endpoint_ = *endpoint;
  return p;
}

void HostProbe::poll() {
  if (busy()) return;  // the previous probe has not timed out yet
  double timeout = spec().host.timeout;
  auto done = [this](const CheckOutcome& outcome) { report(outcome); };
  if (spec().host.method == catalog::HostProbeSpec::Method::kTcp) {
    connect_.start(endpoint_, timeout, done);
  } else {
    icmp_.start(endpoint_, timeout, done);
  }
}

void HostProbe::report(const CheckOutcome& outcome) {
  MeasurementSink& sink = ctx_.sink;
  sink.set_number(object(), "reachable", outcome.ok ? 1 : 0);
  // latency is that of the last successful probe: a failure leaves it as it was.
  if (outcome.ok) sink.set_number(object(), "latency", outcome.latency);
  sink.sampled(object());
}

}  // namespace amata::probes
