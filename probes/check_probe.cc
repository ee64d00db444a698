#include "probes/check_probe.h"

namespace amata::probes {
namespace {

/// Plugins print a line or two; more than this is cut (and read off so the plugin never
/// blocks on a full pipe).
constexpr std::size_t kMaxOutput = std::size_t{64} * 1024;

}  // namespace

Result<std::unique_ptr<CheckProbe>> CheckProbe::create(int object, const catalog::ObjectSpec& spec,
                                                       ProbeContext& ctx) {
  if (spec.command.empty() || spec.command.front().empty()) {
    return Error{"object " + spec.name + ": check needs a command"};
  }
  // The convention is read from stdout alone (as Nagios does); stderr chatter must not end
  // up in the status line or the perfdata (ProgramRun sends it to /dev/null).
  return std::unique_ptr<CheckProbe>(new CheckProbe(object, spec, ctx));
}

CheckProbe::CheckProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
    : Probe(object, spec), ctx_(ctx), run_(ctx.loop, spec.command, kMaxOutput) {}

void CheckProbe::poll() {
  Status started =
      run_.start(spec().timeout, [this](const base::Job::Outcome& outcome) { report(outcome); });
  if (started) return;
  write(3, false, 0, "run " + run_.program() + ": " + started.error().message);
  ctx_.sink.sampled(object());
}

void CheckProbe::report(const base::Job::Outcome& outcome) {
  const base::ExitStatus& status = outcome.status;
  const double seconds = outcome.duration_ms / 1000.0;
  if (outcome.timed_out) {
    write(3, true, seconds, "timed out after " + std::to_string(spec().timeout) + " s");
  } else if (!outcome.start_failure.empty()) {
    write(3, false, seconds, "run " + run_.program() + ": " + outcome.start_failure);
  } else if (!status.known) {
    // Someone else reaped it (SIGCHLD set to SIG_IGN, or a waitpid(-1) elsewhere).
    write(3, false, seconds, "exit status lost: the plugin was reaped elsewhere");
  } else if (status.signaled) {
    write(3, false, seconds, "killed by signal " + std::to_string(status.signal));
  } else {
    PluginOutput parsed = parse_plugin_output(outcome.output);
    write(status.exit_code, false, seconds, parsed.text);
    std::string name;
    for (const auto& p : parsed.perf) {
      name.assign(catalog::kPerfdataPrefix);
      name += p.label;
      ctx_.sink.set_number(object(), name, p.value);
    }
  }
  ctx_.sink.sampled(object());
}

void CheckProbe::write(int exit_code, bool timed_out, double duration_s,
                       const std::string& output) {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  sink.set_number(o, "exit_code", exit_code);
  sink.set_number(o, "status", plugin_status(exit_code));
  sink.set_number(o, "duration", duration_s);
  sink.set_number(o, "timed_out", timed_out ? 1 : 0);
  sink.set_string(o, "output", output);
}

}  // namespace amata::probes
