// What systemd is doing to amatad's own unit, asked over the system bus (sd-bus). amatad asks
// once, when SIGTERM arrives: a `systemctl restart amatad` stops it with a "restart" job
// queued, a `systemctl stop` (or a shutdown) with a "stop" job, and only the second should
// stop the services it supervises.
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace amata::daemon {

/// The type of the job systemd has queued for the unit this process belongs to: "restart",
/// "stop", "start", ...; "" when the unit has no job. An error when there is no system bus,
/// no systemd, or no answer within `timeout` (the caller then keeps its default).
Result<std::string> own_unit_job_type(std::chrono::milliseconds timeout);

}  // namespace amata::daemon
