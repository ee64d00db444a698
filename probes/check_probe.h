// The probe of a `check`: runs an external program (argv, no shell) in its own process group
// with a timeout, reads its output through a non-blocking pipe and its exit through a pidfd,
// all on the loop, and interprets both by the Nagios plugin convention.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "probes/perfdata.h"
#include "probes/probe.h"
#include "probes/probe_context.h"

namespace amata::probes {

class CheckProbe : public Probe {
 public:
  static Result<std::unique_ptr<CheckProbe>> create(int object, const catalog::ObjectSpec& spec,
                                                    ProbeContext& ctx);
  ~CheckProbe() override;
  /// Starts the program unless the previous run is still going.
  void poll() override;
  bool busy() const override { return pid_ > 0; }

 private:
  CheckProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
      : Probe(object, spec), ctx_(ctx) {}
  Status spawn();
  void on_output();
  void on_exit();
  void on_timeout();
  void finish(int exit_code, bool timed_out, const std::string& failure);
  void cleanup();

  ProbeContext& ctx_;
  std::vector<char*> argv_;  // points into spec().command
  pid_t pid_ = 0;
  int pidfd_ = -1;
  int out_fd_ = -1;
  engine::EventLoop::TimerId timer_ = 0;
  bool timed_out_ = false;
  double started_ = 0;
  std::string output_;  // reserved once; plugins print little
};

}  // namespace amata::probes
