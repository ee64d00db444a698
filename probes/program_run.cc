#include "probes/program_run.h"

#include <utility>

#include "base/clock.h"

namespace amata::probes {

ProgramRun::ProgramRun(base::EventLoop& loop, std::vector<std::string> argv, std::size_t max_output)
    : loop_(loop), max_output_(max_output) {
  spec_.argv = std::move(argv);
  spec_.env = base::current_environment();
  spec_.capture_stdout = true;
}

Status ProgramRun::start(double timeout_s, Done done) {
  if (job_) return {};
  auto started = base::Job::start(
      loop_, spec_, base::from_seconds(timeout_s),
      [this, done = std::move(done)](const base::Job::Outcome& outcome) {
        auto finished = std::move(job_);  // ends with this callback
        done(outcome);
      },
      max_output_);
  if (!started) return started.error();
  job_ = std::move(*started);
  return {};
}

}  // namespace amata::probes
