// What every probe of a ProbeSet shares: the loop, the sink, the options and the listeners
// (proc connector, rtnetlink, curl multi, systemd bus), any of which may be missing. Internal
// to probes/.
#pragma once

#include <memory>

#include "base/clock.h"
#include "base/event_loop.h"
#include "probes/probe.h"

namespace amata::probes {

class ProcConnector;
class LinkMonitor;
class CurlMulti;
class SystemdBus;

struct ProbeContext {
  base::EventLoop& loop;
  MeasurementSink& sink;
  ProbeOptions options;
  ProcConnector* proc_connector = nullptr;  // null: not available, processes are polled
  LinkMonitor* link_monitor = nullptr;      // null: not available, links are polled
  CurlMulti* curl = nullptr;                // null until an HTTP check needs it
  bool periodic = false;                    // ProbeSet::start() ran: probes keep own timers
  std::unique_ptr<CurlMulti>* curl_owner = nullptr;
  SystemdBus* systemd = nullptr;  // null until a unit probe needs it
  std::unique_ptr<SystemdBus>* systemd_owner = nullptr;

  /// The curl multi handle, created on first use.
  Result<CurlMulti*> get_curl();
  /// The connection to systemd every unit probe shares, opened on first use.
  Result<SystemdBus*> get_systemd();
};

/// Attribute writers that keep the sink's vocabulary in one place.
inline constexpr double kUnknown = __builtin_nan("");

}  // namespace amata::probes
