// The program a probe runs at each poll — a check plugin, smartctl — with the parts every such
// probe needs: argv without a shell, amatad's environment, stdout captured (stderr is not part
// of what the program reports), at most one run at a time, killed at its deadline. All on the
// loop; nothing waits for the program.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/job.h"
#include "base/result.h"

namespace amata::probes {

class ProgramRun {
 public:
  using Done = std::function<void(const base::Job::Outcome& outcome)>;

  /// `argv` is run at each start(); `max_output` bytes of stdout are kept.
  ProgramRun(base::EventLoop& loop, std::vector<std::string> argv, std::size_t max_output);

  /// Starts the program with a deadline of `timeout_s` seconds, unless a run is still going
  /// (then nothing happens: its deadline will end it). `done` runs once, from the loop, when
  /// the program has ended and been reaped. An error when it could not be started.
  Status start(double timeout_s, Done done);
  bool busy() const { return job_ != nullptr; }
  const std::string& program() const { return spec_.argv.front(); }
  std::size_t max_output() const { return max_output_; }

 private:
  base::EventLoop& loop_;
  base::SpawnSpec spec_;
  std::size_t max_output_;
  std::unique_ptr<base::Job> job_;  // the program while it runs (destroying it kills it)
};

}  // namespace amata::probes
