#include <chrono>

#include "probes/check_probe.h"
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

namespace amata::probes {

/// The listeners every probe of a set shares, created when the first probe needs them.
struct ProbeShared {
  ProbeShared(engine::EventLoop& loop, MeasurementSink& sink, const ProbeOptions& options)
      : ctx{loop, sink, options} {
    ctx.curl_owner = &curl;
  }
  // Destroyed in reverse: the probes (owned by ProbeSet) go first, then these.
  std::unique_ptr<CurlMulti> curl;
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

ProbeSet::ProbeSet(engine::EventLoop& loop, MeasurementSink& sink, ProbeOptions options)
    : loop_(loop), sink_(sink), options_(std::move(options)) {}

Result<std::unique_ptr<ProbeSet>> ProbeSet::create(engine::EventLoop& loop, MeasurementSink& sink,
                                                   ProbeOptions options) {
  std::unique_ptr<ProbeSet> set(new ProbeSet(loop, sink, std::move(options)));
  set->shared_ = std::make_unique<ProbeShared>(loop, sink, set->options_);
  return set;
}

ProbeSet::~ProbeSet() {
  for (auto id : timers_) loop_.cancel_timer(id);
  probes_.clear();  // before the listeners they are registered with
}

Status ProbeSet::add(int object, const catalog::ObjectSpec& spec) {
  using catalog::Kind;
  ProbeContext& ctx = shared_->ctx;
  std::unique_ptr<Probe> probe;
  switch (spec.kind) {
    case Kind::kPeer:
      return {};  // the cluster layer fills peers
    case Kind::kNode: {
      auto p = NodeProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
    case Kind::kService:
    case Kind::kProcess: {
      if (!shared_->tried_proc_connector) {
        shared_->tried_proc_connector = true;
        if (options_.use_proc_connector) {
          auto pc = ProcConnector::create(loop_);
          if (pc) {
            shared_->proc_connector = std::move(*pc);
            ctx.proc_connector = shared_->proc_connector.get();
          } else {
            sink_.notice(object, "proc connector unavailable (" + pc.error().message +
                                     "): processes are found by polling at each object's "
                                     "period; deaths of found processes still come from pidfds");
          }
        } else {
          sink_.notice(object, "proc connector disabled: processes are found by polling");
        }
      }
      auto p = ProcessProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
    case Kind::kInterface: {
      if (!shared_->tried_link_monitor) {
        shared_->tried_link_monitor = true;
        if (options_.use_rtnetlink) {
          auto lm = LinkMonitor::create(loop_);
          if (lm) {
            shared_->link_monitor = std::move(*lm);
            ctx.link_monitor = shared_->link_monitor.get();
          } else {
            sink_.notice(object, "rtnetlink unavailable (" + lm.error().message +
                                     "): link state is polled from sysfs at each period");
          }
        }
      }
      auto p = InterfaceProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
    case Kind::kFilesystem: {
      auto p = FilesystemProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
    case Kind::kHost: {
      auto p = HostProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
    case Kind::kCheck: {
      auto p = CheckProbe::create(object, spec, ctx);
      if (!p) return p.error();
      probe = std::move(*p);
      break;
    }
  }
  probes_.push_back(std::move(probe));
  timers_.push_back(0);
  if (started_) schedule(probes_.size() - 1);
  return {};
}

void ProbeSet::schedule(std::size_t index) {
  Probe* probe = probes_[index].get();
  probe->poll();
  double every = probe->spec().every > 0 ? probe->spec().every : 1.0;
  auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(every * 1e9));
  // Re-armed from the previous deadline, not from "now", so periods do not drift.
  struct Tick {
    ProbeSet* set;
    std::size_t index;
    engine::Clock::time_point due;
    std::chrono::nanoseconds period;
    void operator()() const {
      Probe* p = set->probes_[index].get();
      p->poll();
      auto next = due + period;
      auto now = engine::Clock::now();
      if (next <= now) next = now + period;  // overran: skip, do not burst
      set->timers_[index] = set->loop_.add_timer(next, Tick{set, index, next, period});
    }
  };
  auto first = engine::Clock::now() + period;
  timers_[index] = loop_.add_timer(first, Tick{this, index, first, period});
}

void ProbeSet::start() {
  if (started_) return;
  started_ = true;
  shared_->ctx.periodic = true;
  for (std::size_t i = 0; i < probes_.size(); ++i) schedule(i);
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

Status ProbeSet::child_started(int object, pid_t pid) {
  auto* probe = dynamic_cast<ProcessProbe*>(find(object));
  if (probe == nullptr || probe->spec().kind != catalog::Kind::kService) {
    return Error{"object " + std::to_string(object) + " is not a service"};
  }
  return probe->child_started(pid);
}

void ProbeSet::child_exited(int object, ExitStatus status) {
  if (auto* probe = dynamic_cast<ProcessProbe*>(find(object))) probe->child_exited(status);
}

}  // namespace amata::probes
