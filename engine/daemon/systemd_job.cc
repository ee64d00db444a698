#include "engine/daemon/systemd_job.h"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

namespace amata::daemon {
namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";

struct BusUnref {
  void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
struct MessageUnref {
  void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

/// The error of a failed sd-bus call `what`: the bus's own message when it sent one.
Error bus_error(const char* what, int r, sd_bus_error* e) {
  std::string message = std::string(what) + ": " +
                        (sd_bus_error_is_set(e) && e->message ? e->message : std::strerror(-r));
  sd_bus_error_free(e);
  return Error{message};
}

/// systemd's own socket when root may use it (as systemctl does: it needs no D-Bus daemon,
/// which a minimal server may not run), else the system bus.
Result<sd_bus*> open_systemd_bus() {
  sd_bus* bus = nullptr;
  if (geteuid() == 0 && sd_bus_new(&bus) >= 0) {
    if (sd_bus_set_address(bus, "unix:path=/run/systemd/private") >= 0 && sd_bus_start(bus) >= 0) {
      return bus;
    }
    sd_bus_flush_close_unref(bus);
    bus = nullptr;
  }
  if (int r = sd_bus_open_system(&bus); r < 0) {
    return Error{std::string("no systemd bus: ") + std::strerror(-r)};
  }
  return bus;
}

}  // namespace

Result<std::string> own_unit_job_type(std::chrono::milliseconds timeout) {
  auto opened = open_systemd_bus();
  if (!opened) return opened.error();
  std::unique_ptr<sd_bus, BusUnref> bus(*opened);
  sd_bus_set_method_call_timeout(bus.get(), static_cast<std::uint64_t>(timeout.count()) * 1000);

  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message* reply = nullptr;
  int r = sd_bus_call_method(bus.get(), kSystemd, "/org/freedesktop/systemd1",
                             "org.freedesktop.systemd1.Manager", "GetUnitByPID", &e, &reply, "u",
                             static_cast<std::uint32_t>(getpid()));
  if (r < 0) return bus_error("GetUnitByPID", r, &e);
  Message unit_reply(reply);
  const char* unit = nullptr;
  if (r = sd_bus_message_read(unit_reply.get(), "o", &unit); r < 0) {
    return bus_error("GetUnitByPID reply", r, &e);
  }

  reply = nullptr;
  r = sd_bus_get_property(bus.get(), kSystemd, unit, "org.freedesktop.systemd1.Unit", "Job", &e,
                          &reply, "(uo)");
  if (r < 0) return bus_error("Unit.Job", r, &e);
  Message job_reply(reply);
  std::uint32_t job_id = 0;
  const char* job = nullptr;
  if (r = sd_bus_message_read(job_reply.get(), "(uo)", &job_id, &job); r < 0) {
    return bus_error("Unit.Job reply", r, &e);
  }
  if (job_id == 0) return std::string();

  char* type = nullptr;
  r = sd_bus_get_property_string(bus.get(), kSystemd, job, "org.freedesktop.systemd1.Job",
                                 "JobType", &e, &type);
  if (r < 0) return bus_error("Job.JobType", r, &e);
  std::string out(type);
  free(type);  // NOLINT(cppcoreguidelines-no-malloc): sd-bus hands over a malloc'd string
  return out;
}

}  // namespace amata::daemon
