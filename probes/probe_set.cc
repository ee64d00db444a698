#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "base/clock.h"
#include "probes/check_probe.h"
#include "probes/disk_probe.h"
#include "probes/ecc_probe.h"
#include "probes/filesystem_probe.h"
#include "probes/host_probe.h"
#include "probes/interface_probe.h"
#include "probes/link_monitor.h"
#include "probes/net_checks.h"
#include "probes/node_probe.h"
#include "probes/probe.h"
#include "probes/probe_context.h"
#include "probes/proc_connector.h"
#include "probes/process_probe.h"
#include "probes/raid_probe.h"
#include "probes/sensor_probe.h"
#include "probes/systemd_bus.h"
#include "probes/unit_probe.h"

namespace amata::probes {
namespace {

/// The probe's period in seconds: 1 s unless set, never beyond what a timer can wait.
double period_of(const Probe& probe) {
  const double every = probe.spec().every;
  return every > 0 ? std::min(every, base::kMaxDelaySeconds) : 1.0;
}

/// The probe of kind P for `spec`, as a Probe.
template <typename P>
Result<std::unique_ptr<Probe>> make(int object, const catalog::ObjectSpec& spec,
                                    ProbeContext& ctx) {
  auto p = P::create(object, spec, ctx);
  if (!p) return p.error();
  return std::unique_ptr<Probe>(std::move(*p));
}

}  // namespace

/// The listeners every probe of a set shares, created when the first probe needs them.
struct ProbeShared {
  ProbeShared(base::EventLoop& loop, MeasurementSink& sink, const ProbeOptions& options)
      : ctx{loop, sink, options} {
    ctx.curl_owner = &curl;
    ctx.systemd_owner = &systemd;
  }
  // Destroyed in reverse: the probes (owned by ProbeSet) go first, then these.
  std::unique_ptr<CurlMulti> curl;
  std::unique_ptr<SystemdBus> systemd;
  std::unique_ptr<ProcConnector> proc_connector;
  std::unique_ptr<LinkMonitor> link_monitor;
  bool tried_proc_connector = false;
  bool tried_link_monitor = false;
  ProbeContext ctx;
};

Result<CurlMulti*> ProbeContext::get_curl() {
  if (curl != nullptr) return curl;
  auto multi = CurlMulti::create(loop);
  if (!multi) return multi.error();
  *curl_owner = std::move(*multi);
  curl = curl_owner->get();
  return curl;
}

Result<SystemdBus*> ProbeContext::get_systemd() {
  if (systemd != nullptr) return systemd;
  // The bus is no one object's: its notices (lost, back) are the policy's.
  auto bus =
      SystemdBus::create(loop, [this](std::string_view message) { sink.notice(-1, message); });
  if (!bus) return bus.error();
  *systemd_owner = std::move(*bus);
  systemd = systemd_owner->get();
  return systemd;
}

ProbeSet::ProbeSet(base::EventLoop& loop, MeasurementSink& sink, ProbeOptions options)
    : loop_(loop), sink_(sink), options_(std::move(options)) {}

Result<std::unique_ptr<ProbeSet>> ProbeSet::create(base::EventLoop& loop, MeasurementSink& sink,
                                                   ProbeOptions options) {
  std::unique_ptr<ProbeSet> set(new ProbeSet(loop, sink, std::move(options)));
  set->shared_ = std::make_unique<ProbeShared>(loop, sink, set->options_);
  return set;
}

ProbeSet::~ProbeSet() {
  if (timer_fd_ >= 0) {
    loop_.unwatch(timer_fd_);
    close(timer_fd_);
  }
  probes_.clear();  // before the listeners they are registered with
}

Status ProbeSet::add(int object, const catalog::ObjectSpec& spec) {
  using catalog::Kind;
  ProbeContext& ctx = shared_->ctx;
  Result<std::unique_ptr<Probe>> made = Error{"no probe"};
  switch (spec.kind) {
    case Kind::kPeer:
      return {};  // the cluster layer fills peers
    case Kind::kNode:
      made = make<NodeProbe>(object, spec, ctx);
      break;
    case Kind::kService:
    case Kind::kProcess: {
      use_proc_connector(object);
      auto p = ProcessProbe::create(object, spec, ctx);
      if (!p) return p.error();
      if (spec.kind == Kind::kService) services_[object] = p->get();
      made = std::unique_ptr<Probe>(std::move(*p));
      break;
    }
    case Kind::kInterface:
      use_link_monitor(object);
      made = make<InterfaceProbe>(object, spec, ctx);
      break;
    case Kind::kFilesystem:
      made = make<FilesystemProbe>(object, spec, ctx);
      break;
    case Kind::kHost:
      made = make<HostProbe>(object, spec, ctx);
      break;
    case Kind::kCheck:
      made = make<CheckProbe>(object, spec, ctx);
      break;
    case Kind::kSensor:
      made = make<SensorProbe>(object, spec, ctx);
      break;
    case Kind::kEcc:
      made = make<EccProbe>(object, spec, ctx);
      break;
    case Kind::kDisk:
      made = make<DiskProbe>(object, spec, ctx);
      break;
    case Kind::kRaid:
      made = make<RaidProbe>(object, spec, ctx);
      break;
    case Kind::kUnit:
      made = make<UnitProbe>(object, spec, ctx);
      break;
  }
  if (!made) return made.error();
  probes_.push_back(std::move(*made));
  due_.push_back(0);
  if (started_) {
    Probe* p = probes_.back().get();
    p->poll();
    due_.back() = base::next_tick(base::monotonic_now(), period_of(*p));
    arm();
  }
  return {};
}

void ProbeSet::use_proc_connector(int object) {
  if (shared_->tried_proc_connector) return;
  shared_->tried_proc_connector = true;
  if (!options_.use_proc_connector) {
    sink_.notice(object, "proc connector disabled: processes are found by polling");
    return;
  }
  auto pc = ProcConnector::create(loop_);
  if (!pc) {
    sink_.notice(object, "proc connector unavailable (" + pc.error().message +
                             "): processes are found by polling at each object's period; "
                             "deaths of found processes still come from pidfds");
    return;
  }
  shared_->proc_connector = std::move(*pc);
  shared_->ctx.proc_connector = shared_->proc_connector.get();
}

void ProbeSet::use_link_monitor(int object) {
  if (shared_->tried_link_monitor || !options_.use_rtnetlink) return;
  shared_->tried_link_monitor = true;
  auto lm = LinkMonitor::create(loop_);
  if (!lm) {
    sink_.notice(object, "rtnetlink unavailable (" + lm.error().message +
                             "): link state is polled from sysfs at each period");
    return;
  }
  shared_->link_monitor = std::move(*lm);
  shared_->ctx.link_monitor = shared_->link_monitor.get();
}

void ProbeSet::start() {
  if (started_) return;
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0 || !loop_.watch(timer_fd_, EPOLLIN, [this](std::uint32_t) { on_tick(); })) {
    sink_.notice(probes_.empty() ? -1 : probes_.front()->object(),
                 std::string("probe timer unavailable: ") + std::strerror(errno) +
                     "; objects are probed only on demand");
    return;
  }
  started_ = true;
  shared_->ctx.periodic = true;
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    probes_[i]->poll();
    due_[i] = base::next_tick(base::monotonic_now(), period_of(*probes_[i]));
  }
  arm();
}

void ProbeSet::on_tick() {
  std::uint64_t expirations;
  while (read(timer_fd_, &expirations, sizeof expirations) > 0) {
  }
  double now = base::monotonic_now();
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    if (due_[i] > now) continue;
    probes_[i]->poll();
    // On the period's ticks (base::next_tick): probes and health checks of one period share
    // a wake-up, periods do not drift, and after an overrun the next tick skips ahead rather
    // than bursting.
    due_[i] = base::next_tick(now, period_of(*probes_[i]));
  }
  arm();
}

void ProbeSet::arm() {
  if (due_.empty()) return;
  double next = *std::min_element(due_.begin(), due_.end());
  itimerspec spec{};
  // Deadlines are at most kMaxDelaySeconds ahead (period_of), far inside int64 nanoseconds.
  auto ns = static_cast<std::int64_t>(
      std::min(next, base::monotonic_now() + base::kMaxDelaySeconds) * 1e9);
  if (ns <= 0) ns = 1;  // 0 would disarm
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void ProbeSet::poll_all() {
  for (auto& p : probes_) p->poll();
}

bool ProbeSet::busy() const {
  for (const auto& p : probes_) {
    if (p->busy()) return true;
  }
  return false;
}

Probe* ProbeSet::find(int object) const {
  for (const auto& p : probes_) {
    if (p->object() == object) return p.get();
  }
  return nullptr;
}

Status ProbeSet::starting(int object) {
  auto it = services_.find(object);
  if (it == services_.end()) return Error{"object " + std::to_string(object) + " is not a service"};
  it->second->starting();
  return {};
}

Status ProbeSet::follow(int object, pid_t pid) {
  auto it = services_.find(object);
  if (it == services_.end()) return Error{"object " + std::to_string(object) + " is not a service"};
  it->second->follow(pid);
  return {};
}

}  // namespace amata::probes
