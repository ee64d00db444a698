#include "engine/daemon/cluster_glue.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace amata::daemon {
namespace {

/// A fence agent that hangs must not hold a failover for ever.
constexpr auto kFenceTimeout = std::chrono::seconds(60);

}  // namespace

cluster::ClusterConfig ClusterGlue::config_of(const catalog::ClusterSpec& spec,
                                              const std::vector<catalog::ObjectSpec>& objects) {
  cluster::ClusterConfig config;
  config.group = spec.group;
  config.on_quorum_loss = spec.on_quorum_loss == catalog::ClusterSpec::QuorumLoss::kFreeze
                              ? cluster::QuorumLossPolicy::kFreeze
                              : cluster::QuorumLossPolicy::kStop;
  config.fence.argv = spec.fence;
  if (!spec.watchdog.empty()) config.watchdog_timeout = std::chrono::seconds(spec.watchdog_timeout);
  config.remote_timeout = std::chrono::milliseconds(spec.remote_timeout_ms);
  for (const auto& o : objects) {
    if (o.kind == catalog::Kind::kPeer && o.node_id && !o.peer_name.empty()) {
      config.node_names[*o.node_id] = o.peer_name;
    }
    if (o.kind != catalog::Kind::kService || !o.clustered) continue;
    config.services.push_back(cluster::ServicePlacement{
        o.name, {}, o.only_preferred, !spec.fence.empty() || !spec.watchdog.empty(), o.failback});
    if (!o.prefer.empty()) config.preferred_names[o.name] = o.prefer;
  }
  return config;
}

Result<ClusterGlue::Services> ClusterGlue::services_of(
    const std::vector<catalog::ObjectSpec>& objects, const supervisor::Supervisor& supervisor) {
  Services services;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& o = objects[i];
    if (o.kind != catalog::Kind::kService) continue;
    const int object = static_cast<int>(i);
    services.objects[o.name] = object;
    if (!o.clustered) continue;
    if (!supervisor.has(object)) return Error{"clustered service " + o.name + " is not supervised"};
    services.clustered.insert(o.name);
  }
  return services;
}

Result<std::unique_ptr<ClusterGlue>> ClusterGlue::create(
    base::EventLoop& loop, const catalog::ClusterSpec& spec,
    const std::vector<catalog::ObjectSpec>& objects, supervisor::Supervisor& supervisor,
    Callbacks callbacks) {
  auto services = services_of(objects, supervisor);
  if (!services) return services.error();
  std::unique_ptr<ClusterGlue> glue(
      new ClusterGlue(loop, supervisor, std::move(callbacks), std::move(*services)));
  // Boot (start_all) skips unmonitored services: the cluster decides where they run. A copy
  // already running here (adopted) stays supervised; the manager adopts it.
  glue->hold_back();
  cluster::ClusterCallbacks cb;
  ClusterGlue* self = glue.get();
  cb.on_peers = [self](const std::vector<cluster::PeerView>&) {
    if (self->remote_) self->remote_->check_serving();
    if (self->callbacks_.on_peers) self->callbacks_.on_peers(self->peers());
  };
  cb.on_bus = [self](const cluster::BusMessage& m) {
    if (self->remote_) self->remote_->on_bus(m);
    if (self->callbacks_.on_bus) self->callbacks_.on_bus(m);
  };
  cb.on_status = [self](const std::string& from, const nlohmann::json& body) {
    if (self->remote_) self->remote_->on_status(from, body);
  };
  cb.on_log = [self](bool warning, std::string_view message) {
    if (self->callbacks_.on_log) self->callbacks_.on_log(warning, message);
  };
  cb.on_place = [self](const std::string& node, const std::set<std::string>& run,
                       std::chrono::milliseconds lease, std::optional<std::uint64_t> at,
                       std::uint64_t n) {
    if (self->remote_) self->remote_->place(node, run, lease, at, n);
  };
  cb.heartbeat_at = [self](const std::string& node) -> std::optional<std::uint64_t> {
    return self->remote_ ? self->remote_->heartbeat_at(node) : std::nullopt;
  };
  glue->manager_ = cluster::ClusterManager::create(loop, config_of(spec, objects), *glue, cb);
  if (!glue->manager_) return Error{"cannot create the cluster manager"};
  auto remote = RemoteRing::create(loop, spec, glue->ring_access());
  if (!remote) return remote.error();
  glue->remote_ = std::move(*remote);
  glue->tick_peers();
  return glue;
}

ClusterGlue::ClusterGlue(base::EventLoop& loop, supervisor::Supervisor& supervisor,
                         Callbacks callbacks, Services services)
    : loop_(loop),
      supervisor_(supervisor),
      callbacks_(std::move(callbacks)),
      services_(std::move(services)) {}

ClusterGlue::~ClusterGlue() {
  if (peer_timer_ != 0) loop_.cancel_timer(peer_timer_);
  remote_.reset();   // closes the remote nodes' links while the bus they publish on exists
  manager_.reset();  // leaves the group cleanly while the supervisor still exists
}

RemoteRing::RingAccess ClusterGlue::ring_access() {
  return RemoteRing::RingAccess{
      [this](nlohmann::json body) { return manager_->publish(std::move(body)); },
      [this](nlohmann::json body) { return manager_->publish_status(std::move(body)); },
      [this] { return manager_->node_name(manager_->status().local_node); },
      [this]() -> std::optional<std::string> {
        const cluster::ClusterStatus st = manager_->status();
        if (!st.connected) return std::string("not connected to Corosync");
        if (!st.quorate) return manager_->node_name(st.local_node) + " has no quorum";
        return std::nullopt;
      },
      [this](const std::string& name) {
        for (const auto& p : manager_->peers()) {
          if (p.name == name) return true;
        }
        return false;
      },
      [this](bool warning, std::string_view message) {
        if (callbacks_.on_log) callbacks_.on_log(warning, message);
      },
      [this](const std::string& node, const std::string& epoch,
             const cluster::RemoteReport& report) { manager_->remote_report(node, epoch, report); },
      [this](const std::string& node, const std::string& epoch, base::Clock::time_point last) {
        manager_->remote_detached(node, epoch, last);
      },
  };
}

std::vector<cluster::PeerView> ClusterGlue::peers() const {
  std::vector<cluster::PeerView> all = manager_->peers();
  if (remote_) {
    for (auto& p : remote_->peers(manager_->status().quorate)) all.push_back(std::move(p));
  }
  return all;
}

nlohmann::json ClusterGlue::remote_nodes_json(base::Clock::time_point now, double now_unix) const {
  return remote_ ? remote_->status_json(now, now_unix) : nlohmann::json::array();
}

void ClusterGlue::tick_peers() {
  // `since` grows with time, not only on changes: refresh the peers once a second.
  std::weak_ptr<bool> alive = alive_;
  peer_timer_ = loop_.add_timer_after(std::chrono::seconds(1), [this, alive] {
    if (alive.expired()) return;
    peer_timer_ = 0;
    if (callbacks_.on_peers) callbacks_.on_peers(peers());
    tick_peers();
  });
}

Status ClusterGlue::failover(const std::string& service, std::optional<std::string> peer_node) {
  if (!places(service)) return Error{service + " is not a clustered service"};
  return manager_->request_failover(service, std::move(peer_node));
}

Status ClusterGlue::reconfigure(const catalog::ClusterSpec& spec,
                                const std::vector<catalog::ObjectSpec>& objects) {
  auto services = services_of(objects, supervisor_);
  if (!services) return services.error();
  // The manager may ask about the new clustered services at once: they must be known first.
  Services before = std::exchange(services_, std::move(*services));
  if (Status s = manager_->reconfigure(config_of(spec, objects)); !s) {
    services_ = std::move(before);
    return s;
  }
  if (Status s = remote_->reconfigure(spec); !s) {
    if (callbacks_.on_log) callbacks_.on_log(true, "remote nodes: " + s.error().message);
  }
  // Services no longer clustered are ordinary ones again.
  for (const auto& name : before.clustered) {
    if (places(name)) continue;
    supervisor_.set_cluster_hold(object_of(name), false);
    supervisor_.monitor(object_of(name));
  }
  hold_back();
  return {};
}

void ClusterGlue::release() {
  for (const auto& name : services_.clustered) {
    supervisor_.set_cluster_hold(object_of(name), false);
    supervisor_.monitor(object_of(name));
  }
  services_.clustered.clear();
}

void ClusterGlue::hold_back() {
  std::set<std::string> here;
  if (manager_) here = manager_->status().running_here;
  for (const auto& name : services_.clustered) {
    if (here.count(name) || is_running(name)) continue;
    supervisor_.unmonitor(object_of(name));
    supervisor_.set_cluster_hold(object_of(name), true);
  }
}

void ClusterGlue::gave_up(const std::string& service) {
  if (places(service)) manager_->service_gave_up(service);
}

Status ClusterGlue::publish(nlohmann::json event) {
  return manager_->publish(std::move(event));
}

void ClusterGlue::report(const std::string& kind, const std::string& object, bool ok,
                         const std::string& detail, base::Clock::time_point started,
                         double requested_unix) {
  if (!callbacks_.on_action) return;
  double ms = std::chrono::duration<double, std::milli>(base::Clock::now() - started).count();
  callbacks_.on_action(
      store::ActionRecord{0, requested_unix, 0, kind, object, ok ? "ok" : "failed", detail, ms});
}

void ClusterGlue::start_clustered(const std::string& name, const std::string& reason) {
  std::weak_ptr<bool> alive = alive_;
  const auto started = base::Clock::now();
  const double requested = base::unix_now();
  const int object = object_of(name);
  supervisor_.set_cluster_hold(object, false);
  supervisor_.monitor(object);
  supervisor_.start(object, [this, alive, object, name, reason, started, requested](
                                bool ok, const std::string& detail) {
    if (alive.expired()) return;
    report("start", name, ok, reason + "; " + detail, started, requested);
    if (ok) {
      manager_->service_started(name);
      return;
    }
    if (callbacks_.on_log)
      callbacks_.on_log(true, "cluster: start of " + name + " failed: " + detail);
    supervisor_.unmonitor(object);
    supervisor_.set_cluster_hold(object, true);
    manager_->service_gave_up(name);
  });
}

void ClusterGlue::stop_clustered(const std::string& name, const std::string& reason) {
  std::weak_ptr<bool> alive = alive_;
  const auto started = base::Clock::now();
  const double requested = base::unix_now();
  const int object = object_of(name);
  supervisor_.unmonitor(object);  // stopped on purpose: its death is not a fault
  supervisor_.set_cluster_hold(object, true);
  supervisor_.stop(object, [this, alive, name, reason, started, requested](
                               bool ok, const std::string& detail) {
    if (alive.expired()) return;
    report("stop", name, ok, reason + (detail.empty() ? "" : "; " + detail), started, requested);
    if (!ok && callbacks_.on_log) {
      callbacks_.on_log(true, "cluster: stop of " + name + ": " + detail);
    }
    manager_->service_stopped(name);
  });
}

int ClusterGlue::object_of(const std::string& name) const {
  auto it = services_.objects.find(name);
  return it == services_.objects.end() ? -1 : it->second;
}

bool ClusterGlue::runs_clustered() const {
  for (const auto& name : services_.clustered) {
    auto st = supervisor_.status(object_of(name));
    if (st && (st->pid > 0 || st->state == supervisor::ServiceState::kStarting)) return true;
  }
  return false;
}

bool ClusterGlue::is_running(const std::string& name) const {
  auto st = supervisor_.status(object_of(name));
  return st && st->held_running();
}

void ClusterGlue::run_fence(const std::string& victim, const std::vector<std::string>& argv,
                            const std::string& stdin_text,
                            std::function<void(bool ok, std::string detail)> done_fencing) {
  // Every outcome of a fence is an action of this node, stored and published like a restart.
  auto done = [this, alive = std::weak_ptr<bool>(alive_), victim, started = base::Clock::now(),
               requested = base::unix_now(),
               done_fencing = std::move(done_fencing)](bool ok, std::string detail) {
    if (!alive.expired()) report("fence", victim, ok, detail, started, requested);
    done_fencing(ok, std::move(detail));
  };
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    done(false, "no fence agent (an absolute path) configured");
    return;
  }
  // Fence agents read their options on stdin (key=value lines).
  base::SpawnSpec spec;
  spec.argv = argv;
  spec.env = base::current_environment();
  spec.stdin_text = stdin_text;
  auto pid = std::make_shared<pid_t>(0);
  auto job =
      base::Job::start(loop_, spec, kFenceTimeout, [this, pid, done](const base::Job::Outcome& o) {
        auto finished = std::move(fences_[*pid]);
        fences_.erase(*pid);
        done(o.ok(), o.describe());
      });
  if (!job) {
    done(false, job.error().message);
    return;
  }
  *pid = (*job)->pid();
  fences_[*pid] = std::move(*job);
}

void ClusterGlue::write_peers(const std::vector<cluster::PeerView>& peers,
                              const ir::PolicyTables& tables, discovery::MetricStore& metrics) {
  const auto now = base::Clock::now();
  bool quorate = false;
  for (const auto& p : peers) {
    if (p.local) quorate = p.quorate;
  }
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    const catalog::ObjectSpec& spec = tables.objects[i];
    if (spec.kind != catalog::Kind::kPeer) continue;
    const cluster::PeerView* view = nullptr;
    for (const auto& p : peers) {
      if (spec.node_id ? p.node_id == *spec.node_id : p.name == spec.peer_name) view = &p;
    }
    const int object = static_cast<int>(i);
    metrics.set_number(object, "member", view && view->member ? 1 : 0);
    metrics.set_number(object, "quorate", quorate ? 1 : 0);
    if (view) {
      metrics.set_number(object, "node_id", view->node_id);
      metrics.set_string(object, "name", view->name.empty() ? spec.peer_name : view->name);
      metrics.set_number(object, "since", std::chrono::duration<double>(now - view->since).count());
    } else {
      if (spec.node_id) metrics.set_number(object, "node_id", *spec.node_id);
      metrics.set_string(object, "name", spec.peer_name);
    }
    metrics.changed(object);
  }
}

}  // namespace amata::daemon
