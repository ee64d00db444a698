#include "probes/disk_probe.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>

namespace amata::probes {
namespace {

/// `smartctl --json --all` of an ATA disk with a long error log is some 40 KB, `-x` over
/// 100 KB; more than this is not smartctl's JSON (and is read off and dropped, so the
/// program never blocks on a full pipe).
constexpr std::size_t kMaxOutput = std::size_t{1024} * 1024;

/// Where Debian puts smartctl: amatad started without /usr/sbin in its PATH still finds it.
const char* const kFallbackSmartctl = "/usr/sbin/smartctl";

/// The PATH of a process started without one (as spawn.cc resolves it).
constexpr std::string_view kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

double value(std::optional<double> v) {
  return v ? *v : kUnknown;
}
double value(std::optional<std::uint64_t> v) {
  return v ? static_cast<double>(*v) : kUnknown;
}
double value(std::optional<bool> v) {
  return v ? (*v ? 1.0 : 0.0) : kUnknown;
}

/// Seconds as the policy wrote them: "10", "2.5" (not std::to_string's "10.000000").
std::string seconds_text(double seconds) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, seconds);
  return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

/// Why a report that parsed is not usable as it stands ("" when it is).
std::string report_problem(const SmartReport& r, int exit_status) {
  auto with_messages = [&r](const std::string& what) {
    return r.messages.empty() ? what : what + ": " + r.messages;
  };
  // smartctl found nothing to read: its messages say why ("Unknown USB bridge", "Unable to
  // detect device type", "open device ... failed: Permission denied").
  if ((exit_status & (kSmartctlBadCommandLine | kSmartctlOpenFailed)) != 0) {
    if (!r.messages.empty()) return r.messages;
    return (exit_status & kSmartctlBadCommandLine) != 0 ? "smartctl rejected its command line"
                                                        : "smartctl could not open the device";
  }
  if (!r.has_smart_data()) return with_messages("no SMART data");
  // Part of the data could not be read: what was read is still written.
  if ((exit_status & kSmartctlCommandFailed) != 0) {
    return with_messages("some SMART commands failed");
  }
  return "";
}

}  // namespace

std::optional<std::string> find_program(std::string_view name, std::string_view path_list,
                                        const std::string& fallback) {
  while (true) {
    std::size_t colon = path_list.find(':');
    std::string_view dir = path_list.substr(0, colon);
    if (!dir.empty()) {
      std::string candidate(dir);
      candidate += '/';
      candidate += name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (colon == std::string_view::npos) break;
    path_list.remove_prefix(colon + 1);
  }
  if (!fallback.empty() && access(fallback.c_str(), X_OK) == 0) return fallback;
  return std::nullopt;
}

Result<std::unique_ptr<DiskProbe>> DiskProbe::create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx) {
  std::vector<std::string> argv;
  if (!spec.command.empty()) {
    if (spec.command.front().empty()) return Error{"object " + spec.name + ": empty command"};
    argv = spec.command;
  } else {
    if (spec.device.empty()) return Error{"object " + spec.name + ": disk needs a device"};
    const char* path = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read only
    auto smartctl =
        find_program("smartctl", path != nullptr ? path : kDefaultPath, kFallbackSmartctl);
    if (!smartctl) {
      return Error{"object " + spec.name +
                   ": smartctl not found in PATH or /usr/sbin (install smartmontools)"};
    }
    // --json=c: one line, the smallest output to read; --all: health, attributes and logs
    // of every device type (ATA, NVMe, SCSI) in one run; --nocheck=standby: a disk spun down
    // stays down (smartctl then exits 2 and says so: its values are unknown until it wakes).
    argv = {*smartctl, "--json=c", "--all", "--nocheck=standby", spec.device};
  }
  // The report is stdout's JSON alone; smartctl's stderr is not part of it.
  return std::unique_ptr<DiskProbe>(new DiskProbe(object, spec, ctx, std::move(argv)));
}

DiskProbe::DiskProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx,
                     std::vector<std::string> argv)
    : Probe(object, spec), ctx_(ctx), run_(ctx.loop, std::move(argv), kMaxOutput) {}

void DiskProbe::poll() {
  Status started =
      run_.start(spec().timeout, [this](const base::Job::Outcome& outcome) { report(outcome); });
  if (started) return;
  write(nullptr, std::nullopt, false, "run " + run_.program() + ": " + started.error().message);
  ctx_.sink.sampled(object());
}

void DiskProbe::report(const base::Job::Outcome& outcome) {
  const base::ExitStatus& status = outcome.status;
  if (outcome.timed_out) {
    write(nullptr, std::nullopt, true,
          run_.program() + " timed out after " + seconds_text(spec().timeout) + " s");
  } else if (!outcome.start_failure.empty()) {
    write(nullptr, std::nullopt, false, "run " + run_.program() + ": " + outcome.start_failure);
  } else if (!status.known) {
    // Someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1) elsewhere).
    write(nullptr, std::nullopt, false, "exit status lost: smartctl was reaped elsewhere");
  } else if (status.signaled) {
    write(nullptr, std::nullopt, false,
          run_.program() + " killed by signal " + std::to_string(status.signal));
  } else if (auto parsed = parse_smartctl_json(outcome.output)) {
    // smartctl records its own exit status in the JSON; that survives a wrapper (a test's
    // cat, a container runtime) that does not pass the exit code on.
    const int exit_status = parsed->exit_status.value_or(status.exit_code);
    std::string problem = report_problem(*parsed, exit_status);
    const bool unusable = (exit_status & (kSmartctlBadCommandLine | kSmartctlOpenFailed)) != 0;
    write(unusable ? nullptr : &*parsed, exit_status, false, problem);
  } else {
    std::string why = outcome.output.size() >= kMaxOutput ? " (output too long)" : "";
    // smartctl before 7.0 has no --json: it rejects the option and exits 1.
    if ((status.exit_code & kSmartctlBadCommandLine) != 0) why += "; --json needs smartctl 7.0+";
    write(nullptr, status.exit_code, false,
          run_.program() + " printed no JSON report, exit status " +
              std::to_string(status.exit_code) + why);
  }
  ctx_.sink.sampled(object());
}

void DiskProbe::write(const SmartReport* report, std::optional<int> exit_status, bool timed_out,
                      const std::string& error) {
  const SmartReport nothing;  // every value unknown
  const SmartReport& r = report != nullptr ? *report : nothing;
  MeasurementSink& sink = ctx_.sink;
  const int o = object();
  sink.set_number(o, "healthy", value(r.passed));
  sink.set_number(o, "temp", value(r.temperature));
  sink.set_number(o, "reallocated", value(r.reallocated));
  sink.set_number(o, "pending", value(r.pending));
  sink.set_number(o, "uncorrectable", value(r.uncorrectable));
  sink.set_number(o, "media_errors", value(r.media_errors));
  sink.set_number(o, "percentage_used", value(r.percentage_used));
  sink.set_number(o, "spare", value(r.available_spare));
  sink.set_number(o, "critical_warning", value(r.critical_warning));
  sink.set_number(o, "power_on", value(r.power_on_seconds));
  sink.set_number(o, "exit_status", exit_status ? *exit_status : kUnknown);
  sink.set_number(o, "timed_out", timed_out ? 1 : 0);
  sink.set_string(o, "error", error);
}

}  // namespace amata::probes
