#include "engine/daemon/cluster_glue.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <utility>

#include "engine/daemon/metric_store.h"

extern char** environ;

namespace amata::engine {
namespace {

/// A fence agent that hangs must not hold a failover for ever.
constexpr auto kFenceTimeout = std::chrono::seconds(60);

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

cluster::ClusterConfig ClusterGlue::config_of(const catalog::ClusterSpec& spec,
                                              const std::vector<catalog::ObjectSpec>& objects) {
  cluster::ClusterConfig config;
  config.group = spec.group;
  config.on_quorum_loss = spec.on_quorum_loss == catalog::ClusterSpec::QuorumLoss::kFreeze
                              ? cluster::QuorumLossPolicy::kFreeze
                              : cluster::QuorumLossPolicy::kStop;
  config.fence.argv = spec.fence;
  for (const auto& o : objects) {
    if (o.kind == catalog::Kind::kPeer && o.node_id && !o.peer_name.empty()) {
      config.node_names[*o.node_id] = o.peer_name;
    }
    if (o.kind != catalog::Kind::kService || !o.clustered) continue;
    config.services.push_back(
        cluster::ServicePlacement{o.name, {}, o.only_preferred, !spec.fence.empty()});
    if (!o.prefer.empty()) config.preferred_names[o.name] = o.prefer;
  }
  return config;
}

Result<std::set<std::string>> ClusterGlue::clustered_of(
    const std::vector<catalog::ObjectSpec>& objects, const Supervisor& supervisor) {
  std::set<std::string> clustered;
  for (const auto& o : objects) {
    if (o.kind != catalog::Kind::kService || !o.clustered) continue;
    if (!supervisor.has(o.name)) return Error{"clustered service " + o.name + " is not supervised"};
    clustered.insert(o.name);
  }
  return clustered;
}

Result<std::unique_ptr<ClusterGlue>> ClusterGlue::create(
    EventLoop& loop, const catalog::ClusterSpec& spec,
    const std::vector<catalog::ObjectSpec>& objects, Supervisor& supervisor, Callbacks callbacks) {
  auto clustered = clustered_of(objects, supervisor);
  if (!clustered) return clustered.error();
  std::unique_ptr<ClusterGlue> glue(
      new ClusterGlue(loop, supervisor, std::move(callbacks), std::move(*clustered)));
  // Boot (start_all) skips unmonitored services: the cluster decides where they run. A copy
  // already running here (adopted) stays supervised; the manager adopts it.
  glue->hold_back();
  cluster::ClusterCallbacks cb;
  ClusterGlue* self = glue.get();
  cb.on_peers = [self](const std::vector<cluster::PeerView>& peers) {
    if (self->callbacks_.on_peers) self->callbacks_.on_peers(peers);
  };
  cb.on_bus = [self](const cluster::BusMessage& m) {
    if (self->callbacks_.on_bus) self->callbacks_.on_bus(m);
  };
  cb.on_log = [self](bool warning, std::string_view message) {
    if (self->callbacks_.on_log) self->callbacks_.on_log(warning, message);
  };
  glue->manager_ = cluster::ClusterManager::create(loop, config_of(spec, objects), *glue, cb);
  if (!glue->manager_) return Error{"cannot create the cluster manager"};
  glue->tick_peers();
  return glue;
}

ClusterGlue::ClusterGlue(EventLoop& loop, Supervisor& supervisor, Callbacks callbacks,
                         std::set<std::string> clustered)
    : loop_(loop),
      supervisor_(supervisor),
      callbacks_(std::move(callbacks)),
      clustered_(std::move(clustered)) {}

ClusterGlue::~ClusterGlue() {
  if (peer_timer_ != 0) loop_.cancel_timer(peer_timer_);
  manager_.reset();  // leaves the group cleanly while the supervisor still exists
}

void ClusterGlue::tick_peers() {
  // `since` grows with time, not only on changes: refresh the peers once a second.
  std::weak_ptr<bool> alive = alive_;
  peer_timer_ = loop_.add_timer_after(std::chrono::seconds(1), [this, alive] {
    if (alive.expired()) return;
    peer_timer_ = 0;
    if (callbacks_.on_peers) callbacks_.on_peers(manager_->peers());
    tick_peers();
  });
}

Status ClusterGlue::failover(const std::string& service, std::optional<std::string> peer_node) {
  if (!places(service)) return Error{service + " is not a clustered service"};
  return manager_->request_failover(service, std::move(peer_node));
}

Status ClusterGlue::reconfigure(const catalog::ClusterSpec& spec,
                                const std::vector<catalog::ObjectSpec>& objects) {
  auto clustered = clustered_of(objects, supervisor_);
  if (!clustered) return clustered.error();
  if (Status s = manager_->reconfigure(config_of(spec, objects)); !s) return s;
  for (const auto& name : clustered_) {
    if (!clustered->count(name) && supervisor_.has(name)) supervisor_.monitor(name);
  }
  clustered_ = std::move(*clustered);
  hold_back();
  return {};
}

void ClusterGlue::release() {
  for (const auto& name : clustered_) {
    if (supervisor_.has(name)) supervisor_.monitor(name);
  }
  clustered_.clear();
}

void ClusterGlue::hold_back() {
  std::set<std::string> here;
  if (manager_) here = manager_->status().running_here;
  for (const auto& name : clustered_) {
    if (!here.count(name) && !is_running(name)) supervisor_.unmonitor(name);
  }
}

void ClusterGlue::gave_up(const std::string& service) {
  if (places(service)) manager_->service_gave_up(service);
}

Status ClusterGlue::publish(nlohmann::json event) {
  return manager_->publish(std::move(event));
}

void ClusterGlue::report(const std::string& kind, const std::string& object, bool ok,
                         const std::string& detail, Clock::time_point started,
                         double requested_unix) {
  if (!callbacks_.on_action) return;
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  callbacks_.on_action(
      ActionRecord{0, requested_unix, 0, kind, object, ok ? "ok" : "failed", detail, ms});
}

void ClusterGlue::start_clustered(const std::string& name, const std::string& reason) {
  std::weak_ptr<bool> alive = alive_;
  const auto started = Clock::now();
  const double requested = unix_now();
  supervisor_.monitor(name);
  supervisor_.start(
      name, [this, alive, name, reason, started, requested](bool ok, const std::string& detail) {
        if (alive.expired()) return;
        report("start", name, ok, reason + "; " + detail, started, requested);
        if (ok) {
          manager_->service_started(name);
          return;
        }
        if (callbacks_.on_log)
          callbacks_.on_log(true, "cluster: start of " + name + " failed: " + detail);
        supervisor_.unmonitor(name);
        manager_->service_gave_up(name);
      });
}

void ClusterGlue::stop_clustered(const std::string& name, const std::string& reason) {
  std::weak_ptr<bool> alive = alive_;
  const auto started = Clock::now();
  const double requested = unix_now();
  supervisor_.unmonitor(name);  // stopped on purpose: its death is not a fault
  supervisor_.stop(name, [this, alive, name, reason, started, requested](
                             bool ok, const std::string& detail) {
    if (alive.expired()) return;
    report("stop", name, ok, reason + (detail.empty() ? "" : "; " + detail), started, requested);
    if (!ok && callbacks_.on_log) {
      callbacks_.on_log(true, "cluster: stop of " + name + ": " + detail);
    }
    manager_->service_stopped(name);
  });
}

bool ClusterGlue::is_running(const std::string& name) const {
  auto st = supervisor_.status(name);
  return st && (st->state == ServiceState::kRunning || st->state == ServiceState::kBackoff);
}

void ClusterGlue::run_fence(const std::string& victim, const std::vector<std::string>& argv,
                            const std::string& stdin_text,
                            std::function<void(bool ok, std::string detail)> done_fencing) {
  // Every outcome of a fence is an action of this node, stored and published like a restart.
  auto done = [this, alive = std::weak_ptr<bool>(alive_), victim, started = Clock::now(),
               requested = unix_now(),
               done_fencing = std::move(done_fencing)](bool ok, std::string detail) {
    if (!alive.expired()) report("fence", victim, ok, detail, started, requested);
    done_fencing(ok, std::move(detail));
  };
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    done(false, "no fence agent (an absolute path) configured");
    return;
  }
  // Fence agents read their options on stdin (key=value lines), so the job runner (which
  // gives children /dev/null) does not fit: spawn it with a pipe as its stdin.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    done(false, errno_text("pipe", errno));
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // amatad blocks the signals it reads via signalfd
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a timeout kills all of it
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[0]);
  if (rc != 0) {
    close(fds[1]);
    done(false, errno_text(argv[0].c_str(), rc));
    return;
  }
  // The options are a few lines, far below the pipe's capacity: this write does not block.
  std::size_t off = 0;
  while (off < stdin_text.size()) {
    ssize_t n = write(fds[1], stdin_text.data() + off, stdin_text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  close(fds[1]);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    done(false, errno_text("pidfd_open", errno));
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  auto timer = std::make_shared<EventLoop::TimerId>(0);
  *timer = loop_.add_timer_after(kFenceTimeout, [pid, alive] {
    if (!alive.expired()) kill(-pid, SIGKILL);
  });
  Status watched =
      loop_.watch(pidfd, EPOLLIN, [this, alive, pid, pidfd, timer, done](std::uint32_t) {
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) < 0 ||
            info.si_pid == 0) {
          return;
        }
        loop_.unwatch(pidfd);
        close(pidfd);
        loop_.cancel_timer(*timer);
        if (alive.expired()) return;
        const bool exited = info.si_code == CLD_EXITED;
        done(exited && info.si_status == 0,
             exited ? "exited " + std::to_string(info.si_status)
                    : "killed by signal " + std::to_string(info.si_status));
      });
  if (!watched) {
    loop_.cancel_timer(*timer);
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(pidfd);
    done(false, watched.error().message);
  }
}

void ClusterGlue::write_peers(const std::vector<cluster::PeerView>& peers,
                              const ir::PolicyTables& tables, MetricStore& metrics) {
  const auto now = Clock::now();
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

}  // namespace amata::engine
