// The probes: the objects of the cluster space, measured through procfs, sysfs, netlink,
// sockets and external programs, and written into a MeasurementSink.
//
// How the engine uses this:
//
//   auto probes = ProbeSet::create(loop, sink, ProbeOptions{});   // once
//   for (int i = 0; i < objects.size(); ++i) probes->add(i, objects[i]);
//   probes->start();          // every probe polls now, then every spec.every seconds
//                             // (one timerfd for the whole set; health checks keep their
//                             // own interval)
//   ... loop.run() ...
//
// All work happens in callbacks of the one EventLoop. Nothing blocks: procfs/sysfs reads of
// a few KB are done in place; connects, HTTP, ICMP and check programs are non-blocking fds on
// the loop with loop timers as timeouts. Event-driven attributes (process death, link
// carrier/operstate, mtu) are written as soon as the kernel reports them and followed by
// MeasurementSink::changed(object), so the engine can run a discovery pass at once.
//
// Values written are in the catalog's base units (bytes, seconds, percent 0..100); bools are
// 0/1 and enums their catalog ordinal. An attribute that cannot be measured right now (cpu %
// before a second sample, rss of a dead process) is written as NaN.
//
// Supervised children (services amatad starts itself): the ENGINE forks, holds the pidfd,
// watches it on the loop and reaps the child (waitid(P_PIDFD, ..., WEXITED)); it is the one
// writer of a service's alive, pid, exit_code, exit_signal and restarts. It tells the probe
// which pid to measure through ProbeSet::follow(object, pid) (0 when the child has ended).
// The probe never waits on or closes the engine's pidfd, so the exit status is read exactly
// once, by the engine, and there is no race between two reapers. A service with a `pidfile`
// or `match` (a forking daemon) has the process found there measured.
//
// Foreign processes (kind process, or service found by pidfile/match): death is watched
// through pidfd_open() on the loop, and exits/execs are also seen through the netlink proc
// connector (one socket for all probes), which also supplies the exit code and signal and
// lets a `match` probe adopt a matching process the moment it execs. When the proc connector
// is refused (no CAP_NET_ADMIN, or inside a new network namespace) the probes fall back to
// finding processes by polling at their period and say so once through
// MeasurementSink::notice(); the exit status then comes from the pidfd (PIDFD_GET_INFO,
// Linux 6.15+) once the process's parent has reaped it. Without pidfds (pre-5.3 kernels)
// deaths are found by polling, also said once.
//
// Reaping: the engine must reap only its own children, by pid or pidfd (waitid(P_PIDFD) or
// waitpid(pid)), never waitpid(-1), and must not set SIGCHLD to SIG_IGN: check programs are
// children of the daemon too, and the check probe reaps them itself through their pidfds.
//
// Not filled here: a service's alive, pid, exit_code, exit_signal and restarts (the
// supervisor's), and kind peer, which has no probe (the cluster layer fills member/quorate/
// node_id/name/since).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/event_loop.h"
#include "base/exit_status.h"
#include "base/result.h"
#include "catalog/object_spec.h"

namespace amata::probes {

/// Where probes write measurements; the engine's metric store implements it.
class MeasurementSink {
 public:
  virtual ~MeasurementSink() = default;
  /// A number, bool (0/1) or enum ordinal in base units; NaN means "unknown now".
  virtual void set_number(int object, std::string_view attribute, double value) = 0;
  /// A string attribute (process state letter, check output).
  virtual void set_string(int object, std::string_view attribute, std::string_view value) = 0;
  /// An event-driven attribute of `object` changed (death, carrier): run discovery now.
  virtual void changed(int object) = 0;
  /// A periodic sample of `object` is complete (for `for N checks` counting).
  virtual void sampled(int /*object*/) {}
  /// A health check of `object` has a result (for `for N checks` on its health.* results).
  virtual void health_checked(int /*object*/) {}
  /// One line the operator should see in the log (a fallback to polling, a probe that cannot
  /// work as asked). Library code never prints; the engine logs this.
  virtual void notice(int /*object*/, std::string_view /*message*/) {}
};

/// Where the probes look; tests point the roots at recorded fixture trees.
struct ProbeOptions {
  std::string proc_root = "/proc";  /// procfs mount
  std::string sys_root = "/sys";    /// sysfs mount
  bool use_proc_connector = true;   /// try the netlink proc connector (else poll for processes)
  bool use_rtnetlink = true;        /// watch links through RTNLGRP_LINK (else poll operstate)
};

/// The probe of one declared object.
class Probe {
 public:
  virtual ~Probe() = default;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  /// Index of the object in the policy's object table (the sink's `object`).
  int object() const { return object_; }
  const catalog::ObjectSpec& spec() const { return spec_; }

  /// Takes one sample now: synchronous reads fill the sink before returning; asynchronous
  /// work (connect, HTTP, ICMP, a check program) starts and writes when it completes.
  virtual void poll() = 0;
  /// True while asynchronous work started by poll() is still in flight.
  virtual bool busy() const { return false; }

 protected:
  Probe(int object, const catalog::ObjectSpec& spec) : object_(object), spec_(spec) {}

 private:
  int object_;
  catalog::ObjectSpec spec_;
};

class ProcessProbe;
struct ProbeShared;  // the shared listeners (proc connector, rtnetlink, curl multi); internal

/// All probes of one policy, sharing one proc-connector socket, one rtnetlink socket and one
/// curl multi handle, all on one EventLoop. Destroy it before the loop.
class ProbeSet {
 public:
  static Result<std::unique_ptr<ProbeSet>> create(base::EventLoop& loop, MeasurementSink& sink,
                                                  ProbeOptions options = {});
  ~ProbeSet();
  ProbeSet(const ProbeSet&) = delete;
  ProbeSet& operator=(const ProbeSet&) = delete;

  /// Creates the probe of object `object` (its index in the policy's object table). Kind peer
  /// gets no probe and succeeds. Errors: a spec the probe cannot use (bad regex, no target).
  Status add(int object, const catalog::ObjectSpec& spec);
  /// Polls every probe now, then each at its own `every` period, on loop timers.
  void start();
  /// Polls every probe once now, without scheduling (amatad --once, tests, benchmarks).
  void poll_all();
  /// True while any probe has asynchronous work in flight.
  bool busy() const;

  /// The engine started (or adopted) `pid` as the child of service `object`, or (pid 0)
  /// reaped it. The engine keeps the pidfd and reaps; the probe measures /proc/PID (cpu, rss,
  /// threads...) from now on, or writes those as unknown. An error when `object` is not a
  /// service of this set.
  Status follow(int object, pid_t pid);
  /// The engine asked for a new process of service `object`: its health checks count only
  /// after the service's grace, from now (and again from its start, follow()).
  Status starting(int object);

  /// The probe of `object`, or nullptr (peer, or never added).
  Probe* find(int object) const;
  std::size_t size() const { return probes_.size(); }

 private:
  ProbeSet(base::EventLoop& loop, MeasurementSink& sink, ProbeOptions options);
  /// Opens the shared listener the first probe of its kind needs; says once when it cannot.
  void use_proc_connector(int object);
  void use_link_monitor(int object);
  /// Polls every probe that is due and re-arms the timerfd for the next one.
  void on_tick();
  void arm();

  base::EventLoop& loop_;
  MeasurementSink& sink_;
  ProbeOptions options_;
  std::unique_ptr<ProbeShared> shared_;
  std::vector<std::unique_ptr<Probe>> probes_;
  std::unordered_map<int, ProcessProbe*> services_;  // object -> its probe, for follow()
  // One timerfd for all periodic polls: due_[i] is probe i's next poll (CLOCK_MONOTONIC
  // seconds). Steady-state scheduling allocates nothing, unlike one loop timer per poll.
  std::vector<double> due_;
  int timer_fd_ = -1;
  bool started_ = false;
};

}  // namespace amata::probes
