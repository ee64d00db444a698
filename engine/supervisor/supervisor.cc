#include "engine/supervisor/supervisor.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "base/pidfd.h"
#include "base/priority.h"
#include "base/proc_stat.h"
#include "engine/supervisor/left_running.h"

namespace amata::supervisor {
namespace {

std::string held_message(const std::string& name) {
  return name +
         " is a clustered service placed on another node (or on none): only the cluster "
         "starts it here";
}

double seconds_between(base::Clock::time_point a, base::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::string_view service_state_name(ServiceState s) {
  switch (s) {
    case ServiceState::kStopped:
      return "stopped";
    case ServiceState::kStarting:
      return "starting";
    case ServiceState::kRunning:
      return "running";
    case ServiceState::kStopping:
      return "stopping";
    case ServiceState::kBackoff:
      return "backoff";
    case ServiceState::kGaveUp:
      return "gave-up";
  }
  return "?";
}

ServiceConfig ServiceConfig::from_spec(int object, const catalog::ObjectSpec& spec,
                                       const std::string& log_dir) {
  ServiceConfig c;
  c.object = object;
  c.name = spec.name;
  c.argv = spec.start;
  c.env = spec.env;
  c.user = spec.user;
  c.group = spec.group;
  c.workdir = spec.workdir.empty() ? "/" : spec.workdir;
  c.log_path = spec.log.empty() ? log_dir + "/" + spec.name + ".log" : spec.log;
  c.stop_signal = spec.stop.signal;
  c.kill_after = spec.stop.kill_after;
  c.depends = spec.depends;
  c.grace = spec.grace;
  return c;
}

/// One restart in flight: the root service and its dependants, stopped, then started again.
struct Supervisor::RestartOp {
  std::string root;
  std::vector<std::string> order;  // start order: root's dependencies first
  int pending_stops = 0;
  bool delay_elapsed = false;
};

Supervisor::Supervisor(base::EventLoop& loop, SupervisorEvents events, std::string owner)
    : loop_(loop),
      events_(std::move(events)),
      children_(loop),
      base_env_(base::current_environment()),
      owner_(std::move(owner)),
      spawner_(loop) {}

Supervisor::~Supervisor() {
  *alive_ = false;
  for (auto& [name, s] : services_) loop_.cancel_timer(s.kill_timer);
}

Supervisor::Service* Supervisor::find(const std::string& name) {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : &it->second;
}

const Supervisor::Service* Supervisor::find(const std::string& name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : &it->second;
}

Supervisor::Service* Supervisor::find(int object) {
  return const_cast<Service*>(std::as_const(*this).find(object));
}

const Supervisor::Service* Supervisor::find(int object) const {
  if (object < 0 || static_cast<std::size_t>(object) >= by_object_.size()) return nullptr;
  const Service* s = find(by_object_[static_cast<std::size_t>(object)]);
  return s && !s->removed ? s : nullptr;
}

void Supervisor::configure(const std::vector<ServiceConfig>& services) {
  std::set<std::string> names;
  by_object_.clear();
  for (const auto& config : services) {
    names.insert(config.name);
    if (config.object >= 0) {
      if (static_cast<std::size_t>(config.object) >= by_object_.size()) {
        by_object_.resize(static_cast<std::size_t>(config.object) + 1);
      }
      by_object_[static_cast<std::size_t>(config.object)] = config.name;
    }
    Service& s = services_[config.name];
    s.config = config;
    s.removed = false;
  }
  std::vector<std::string> dropped;
  for (auto& [name, s] : services_) {
    if (!names.count(name)) dropped.push_back(name);
  }
  for (const auto& name : dropped) {
    Service& s = services_[name];
    s.removed = true;
    s.config.object = -1;  // no longer an object of the running policy
    if (s.state == ServiceState::kRunning || s.state == ServiceState::kStopping ||
        s.state == ServiceState::kStarting) {
      stop_one(s, [](bool, const std::string&) {});
    } else {
      services_.erase(name);
    }
  }
}

std::vector<std::string> Supervisor::start_order() const {
  std::vector<std::string> order;
  std::set<std::string> done, visiting;
  std::function<void(const std::string&)> visit = [&](const std::string& name) {
    if (done.count(name) || visiting.count(name)) return;  // a cycle is the checker's error
    const Service* s = find(name);
    if (!s) return;
    visiting.insert(name);
    for (const auto& dep : s->config.depends) visit(dep);
    visiting.erase(name);
    done.insert(name);
    order.push_back(name);
  };
  for (const auto& [name, s] : services_) visit(name);
  return order;
}

std::vector<std::string> Supervisor::with_dependants(const std::string& root) const {
  std::set<std::string> members{root};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [name, s] : services_) {
      if (members.count(name)) continue;
      for (const auto& dep : s.config.depends) {
        if (members.count(dep)) {
          members.insert(name);
          grew = true;
          break;
        }
      }
    }
  }
  std::vector<std::string> order;
  for (const auto& name : start_order()) {
    if (members.count(name)) order.push_back(name);
  }
  return order;
}

Status Supervisor::spawn(Service& s, bool failure_is_exit) {
  if (s.cluster_held) return Error{held_message(s.config.name)};
  base::SpawnSpec spec;
  spec.argv = s.config.argv;
  spec.env = base::merge_environment(base_env_, s.config.env);
  if (!owner_.empty()) {
    // Last, so no setting of the policy can change them: the mark the next amatad finds.
    spec.env = base::merge_environment(std::move(spec.env),
                                       {{std::string(kSupervisorVariable), owner_},
                                        {std::string(kServiceVariable), s.config.name}});
  }
  spec.workdir = s.config.workdir;
  spec.user = s.config.user;
  spec.group = s.config.group;
  spec.log_path = s.config.log_path;
  spec.caller_moves_to_background = true;  // the spawner's barrier lets it go
  s.state = ServiceState::kStarting;
  s.gave_up = false;
  s.pid = 0;
  s.stop_when_started = false;
  if (events_.starting) events_.starting(s.config.object, s.config.name);
  std::weak_ptr<bool> alive = alive_;
  spawner_.spawn(std::move(spec),
                 [this, alive, name = s.config.name, failure_is_exit](Result<base::Spawned> child) {
                   if (alive.expired()) return;
                   on_spawned(name, std::move(child), failure_is_exit);
                 });
  return {};
}

void Supervisor::on_spawned(const std::string& name, Result<base::Spawned> child,
                            bool failure_is_exit) {
  Service* s = find(name);
  if (!s || s->state != ServiceState::kStarting) {
    // Cannot happen: a starting service leaves that state only here (a stop, a restart, a
    // reload all wait for this answer). Were it to, nobody would watch this process.
    if (child) base::kill_and_reap(child->pid, child->pidfd.get());
    return;
  }
  auto waiters = std::exchange(s->start_waiters, {});
  // Restarts that joined while it was starting end with this start (finish_restart).
  for (auto& done : std::exchange(s->restart_waiters, {})) waiters.push_back(std::move(done));
  s->restarting = false;
  const bool stop = std::exchange(s->stop_when_started, false);
  std::string failure;
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;
  if (!child) {
    failure = child.error().message;
  } else {
    pid = child->pid;
    start_ticks = child->start_ticks;
    Status watched =
        children_.add(std::move(*child),
                      [this, name](pid_t p, const base::ExitStatus& st) { on_exit(name, p, st); });
    if (!watched) failure = watched.error().message;
  }
  if (!failure.empty()) {
    s->state = ServiceState::kStopped;
    auto stop_waiters = std::exchange(s->stop_waiters, {});
    const bool removed = s->removed;
    if (failure_is_exit && !stop) {
      // Reported as an exit so the policy sees the service down and applies its rules.
      s->last_exit = base::ExitStatus::exited(127);
      if (events_.exited) events_.exited(s->config.object, name, 0, *s->last_exit, false);
    }
    for (auto& done : waiters) {
      if (done) done(false, "start " + name + ": " + failure);
    }
    for (auto& done : stop_waiters) {
      if (done) done(true, "not running");
    }
    if (removed) {
      Service* again = find(name);
      if (again && again->removed && again->state == ServiceState::kStopped) services_.erase(name);
    }
    return;
  }
  s->state = ServiceState::kRunning;
  s->pid = pid;
  s->adopted = false;
  s->started_at = base::Clock::now();
  // One a reload removed while it was starting is stopped at once (below), unannounced.
  if (events_.started && !s->removed) {
    events_.started(s->config.object, name, pid, start_ticks);
  }
  for (auto& done : waiters) {
    if (done) done(true, "pid " + std::to_string(pid));
  }
  if (!stop) return;
  // A stop asked while it was starting: its waiters are already with the service.
  Service* again = find(name);
  if (again && again->pid == pid && again->state == ServiceState::kRunning) {
    stop_one(*again, nullptr);
  }
}

bool Supervisor::adopt(int object, pid_t pid, std::uint64_t start_ticks) {
  Service* s = find(object);
  if (!s || s->state == ServiceState::kRunning || s->state == ServiceState::kStarting || pid <= 0) {
    return false;
  }
  auto ticks = base::process_start_time(pid);
  if (!ticks || *ticks != start_ticks) return false;  // gone, or the pid was recycled
  std::string name = s->config.name;
  Status watched = children_.adopt(
      pid, [this, name](pid_t p, const base::ExitStatus& status) { on_exit(name, p, status); });
  if (!watched) return false;
  // A previous amatad killed between holding a new process and continuing it (hold()) left
  // it stopped, at that amatad's priority. A running one keeps whatever priority it has.
  std::string stat_text;
  if (auto stat = base::read_pid_stat(pid, stat_text); stat && stat->state == 'T') {
    (void)base::move_to_background(pid);
  }
  (void)children_.signal_group(pid, SIGCONT);
  s->state = ServiceState::kRunning;
  s->pid = pid;
  s->adopted = true;
  s->started_at = base::Clock::now();
  if (events_.started) events_.started(s->config.object, name, pid, start_ticks);
  return true;
}

void Supervisor::on_exit(const std::string& name, pid_t pid, const base::ExitStatus& status) {
  Service* s = find(name);
  if (!s || s->pid != pid) return;
  bool expected = s->state == ServiceState::kStopping;
  // A service stopped because it reached its restart limit ends given up, not stopped.
  s->state = s->gave_up ? ServiceState::kGaveUp : ServiceState::kStopped;
  s->pid = 0;
  s->exited_at = base::Clock::now();
  s->last_exit = status;
  loop_.cancel_timer(s->kill_timer);
  s->kill_timer = 0;
  auto waiters = std::move(s->stop_waiters);
  s->stop_waiters.clear();
  bool removed = s->removed;
  if (events_.exited) events_.exited(s->config.object, name, pid, status, expected);
  for (auto& done : waiters) {
    if (done) done(true, status.describe());
  }
  if (removed) {
    Service* again = find(name);
    if (again && again->removed && again->pid == 0) services_.erase(name);
  }
}

void Supervisor::stop_one(Service& s, Done done) {
  if (s.state == ServiceState::kStarting) {
    // Its pid comes with the spawner's answer: the stop follows then (on_spawned).
    s.stop_waiters.push_back(std::move(done));
    s.stop_when_started = true;
    return;
  }
  if (s.state != ServiceState::kRunning && s.state != ServiceState::kStopping) {
    if (s.state == ServiceState::kBackoff) s.state = ServiceState::kStopped;
    if (done) done(true, "not running");
    return;
  }
  s.stop_waiters.push_back(std::move(done));
  if (s.state == ServiceState::kStopping) return;  // joins the stop in flight
  s.state = ServiceState::kStopping;
  pid_t pid = s.pid;
  std::string name = s.config.name;
  // A failure means the group is already gone; its pidfd reports the exit either way.
  (void)children_.signal_group(pid, s.config.stop_signal);
  // A stopped process (SIGSTOP, a debugger gone, a hung VM resumed) cannot act on a signal
  // it handles until it runs again: continue it, as systemd does, or a hung service would
  // wait out all of `kill_after` before its restart.
  if (s.config.stop_signal != SIGKILL) (void)children_.signal_group(pid, SIGCONT);
  std::weak_ptr<bool> alive = alive_;
  s.kill_timer =
      loop_.add_timer_after(base::from_seconds(s.config.kill_after), [this, alive, name, pid] {
        if (alive.expired()) return;
        Service* svc = find(name);
        if (!svc || svc->pid != pid || svc->state != ServiceState::kStopping) return;
        svc->kill_timer = 0;
        (void)children_.signal_group(pid, SIGKILL);
      });
}

void Supervisor::start(int object, Done done) {
  Service* s = find(object);
  if (!s) {
    if (done) done(false, "no service " + std::to_string(object));
    return;
  }
  const std::string name = s->config.name;
  if (s->cluster_held) {
    if (done) done(false, held_message(name));
    return;
  }
  if (s->state == ServiceState::kRunning) {
    if (done) done(true, "already running, pid " + std::to_string(s->pid));
    return;
  }
  if (s->state == ServiceState::kStarting && !s->stop_when_started && !s->restarting) {
    s->start_waiters.push_back(std::move(done));  // joins the start in flight
    return;
  }
  if (s->state == ServiceState::kStopping || s->state == ServiceState::kStarting || s->restarting) {
    if (done) done(false, "busy (" + std::string(service_state_name(s->state)) + ")");
    return;
  }
  s->monitored = true;
  clear_give_up(*s);
  // Dependencies first: anything `name` needs that is not running is started before it.
  std::set<std::string> needed{name};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& n : std::vector<std::string>(needed.begin(), needed.end())) {
      if (const Service* x = find(n)) {
        for (const auto& dep : x->config.depends) grew |= needed.insert(dep).second;
      }
    }
  }
  std::string detail;
  bool ok = true;
  for (const auto& n : start_order()) {
    if (!needed.count(n)) continue;
    Service* x = find(n);
    if (x->state == ServiceState::kRunning || x->state == ServiceState::kStopping ||
        x->state == ServiceState::kStarting) {
      continue;
    }
    if (Status st = spawn(*x, false); !st) {
      ok = false;
      detail = st.error().message;
      break;
    }
  }
  Service* started = find(name);
  if (ok && started->state == ServiceState::kStarting) {
    started->start_waiters.push_back(std::move(done));
    return;
  }
  if (ok) detail = "pid " + std::to_string(started->pid);
  if (done) done(ok, detail);
}

void Supervisor::stop(int object, Done done) {
  const Service* service = find(object);
  if (!service) {
    if (done) done(false, "no service " + std::to_string(object));
    return;
  }
  const std::string name = service->config.name;
  // Dependants stop before what they depend on, one after another.
  auto order = with_dependants(name);
  std::reverse(order.begin(), order.end());
  auto chain = std::make_shared<std::function<void(std::size_t)>>();
  std::weak_ptr<bool> alive = alive_;
  *chain = [this, alive, order, chain, done = std::move(done)](std::size_t i) {
    if (alive.expired()) return;
    if (i == order.size()) {
      auto finished = std::move(*chain);  // break the self-reference
      if (done) done(true, "stopped");
      return;
    }
    Service* s = find(order[i]);
    if (!s) return (*chain)(i + 1);
    stop_one(*s, [chain, i](bool, const std::string&) { (*chain)(i + 1); });
  };
  (*chain)(0);
}

void Supervisor::stop_all(Done done) {
  auto order = start_order();
  std::reverse(order.begin(), order.end());
  auto chain = std::make_shared<std::function<void(std::size_t)>>();
  std::weak_ptr<bool> alive = alive_;
  *chain = [this, alive, order, chain, done = std::move(done)](std::size_t i) {
    if (alive.expired()) return;
    if (i == order.size()) {
      auto finished = std::move(*chain);
      if (done) done(true, "all stopped");
      return;
    }
    Service* s = find(order[i]);
    if (!s) return (*chain)(i + 1);
    s->monitored = false;  // a stopping service must not be restarted by its own death
    stop_one(*s, [chain, i](bool, const std::string&) { (*chain)(i + 1); });
  };
  (*chain)(0);
}

void Supervisor::release_all() {
  // Every process is started and reported (so the next amatad knows it) before none is
  // watched any more.
  spawner_.finish();
  children_.release_all();
}

void Supervisor::start_all() {
  for (const auto& name : start_order()) {
    Service* s = find(name);
    if (!s || !s->monitored || s->removed) continue;
    if (s->state != ServiceState::kStopped) continue;
    if (Status st = spawn(*s, true); !st) {
      // Reported as an exit so the policy sees the service down and applies its rules.
      s->last_exit = base::ExitStatus::exited(127);
      if (events_.exited) events_.exited(s->config.object, name, 0, *s->last_exit, false);
    }
  }
}

void Supervisor::restart(int object, const RestartPolicy& policy, Done done) {
  Service* s = find(object);
  if (!s) {
    if (done) done(false, "no service " + std::to_string(object));
    return;
  }
  const std::string name = s->config.name;
  if (s->cluster_held) {
    if (done) done(false, held_message(name));
    return;
  }
  if (s->restarting) {
    s->restart_waiters.push_back(std::move(done));
    return;
  }
  if (s->state == ServiceState::kStarting && !s->stop_when_started) {
    // Its new process is on its way already (its down state is still visible to the rules
    // until the spawner answers): that start is the restart asked for.
    s->start_waiters.push_back(std::move(done));
    return;
  }
  if (!s->monitored) {
    if (done) done(false, "not monitored");
    return;
  }
  auto now = base::Clock::now();
  if (policy.window > 0) {
    while (!s->restart_times.empty() &&
           seconds_between(s->restart_times.front(), now) > policy.window) {
      s->restart_times.pop_front();
    }
  }
  if (policy.limit > 0 && static_cast<int>(s->restart_times.size()) >= policy.limit) {
    std::string reason = std::to_string(s->restart_times.size()) + " restarts";
    if (policy.window > 0)
      reason += " within " + std::to_string(static_cast<int>(policy.window)) + "s";
    reason = "gave up after " + reason;
    s->monitored = false;
    s->gave_up = true;
    if (s->state == ServiceState::kRunning) stop_one(*s, nullptr);
    if (s->state == ServiceState::kStopped) s->state = ServiceState::kGaveUp;
    if (events_.gave_up) events_.gave_up(s->config.object, name, reason);
    if (done) done(false, reason);
    return;
  }
  // A service that ran long enough since its last start is healthy again: no backoff.
  double ran = s->state == ServiceState::kRunning ? seconds_between(s->started_at, now)
                                                  : seconds_between(s->started_at, s->exited_at);
  if (ran >= std::max(s->config.grace, policy.backoff_max)) s->consecutive = 0;
  double delay = 0;
  if (policy.backoff_min > 0 && s->consecutive > 0) {
    delay = policy.backoff_min * std::pow(2.0, s->consecutive - 1);
    if (policy.backoff_max > 0) delay = std::min(delay, policy.backoff_max);
  }
  s->consecutive++;
  s->restarts++;
  s->restart_times.push_back(now);
  s->restarting = true;
  s->restart_waiters.push_back(std::move(done));

  auto op = std::make_shared<RestartOp>();
  op->root = name;
  op->order = with_dependants(name);
  op->delay_elapsed = delay <= 0;
  // Dependants go down with the root; a restart requested for one of them meanwhile (its
  // own death rule firing) joins this restart instead of starting it before its dependency.
  for (const auto& n : op->order) {
    if (Service* x = find(n)) x->restarting = true;
  }
  op->pending_stops = 1;  // held until every stop has been issued
  for (auto it = op->order.rbegin(); it != op->order.rend(); ++it) {
    Service* x = find(*it);
    if (!x) continue;
    op->pending_stops++;
    stop_one(*x, [this, op](bool, const std::string&) {
      if (--op->pending_stops == 0) finish_restart(op);
    });
  }
  if (!op->delay_elapsed) {
    std::weak_ptr<bool> alive = alive_;
    loop_.add_timer_after(base::from_seconds(delay), [this, alive, op] {
      if (alive.expired()) return;
      op->delay_elapsed = true;
      finish_restart(op);
    });
  }
  if (--op->pending_stops == 0) finish_restart(op);
}

void Supervisor::finish_restart(const std::shared_ptr<RestartOp>& op) {
  Service* root = find(op->root);
  if (op->pending_stops > 0) return;
  if (!op->delay_elapsed) {
    if (root && root->state == ServiceState::kStopped) root->state = ServiceState::kBackoff;
    return;
  }
  bool ok = true;
  std::string detail;
  if (!root || root->removed) {
    ok = false;
    detail = "service removed";
  } else if (!root->monitored) {
    ok = false;
    detail = "unmonitored during the restart";
    if (root->state == ServiceState::kBackoff) root->state = ServiceState::kStopped;
  } else {
    for (const auto& n : op->order) {
      Service* x = find(n);
      if (!x || x->removed) continue;
      if (x->state == ServiceState::kRunning || x->state == ServiceState::kStopping ||
          x->state == ServiceState::kStarting) {
        continue;
      }
      if (n != op->root && !x->monitored) continue;
      Status st = spawn(*x, false);
      if (!st) {
        x->state = ServiceState::kStopped;
        if (n == op->root) {
          ok = false;
          detail = st.error().message;
        }
      }
    }
  }
  // Each service's waiters hear how its own start went, once the spawner has answered. Until
  // then it is still restarting: a restart asked meanwhile (its rule, seeing it down) joins.
  for (const auto& n : op->order) {
    Service* x = find(n);
    if (!x) continue;
    x->restarting = ok && x->state == ServiceState::kStarting;
    auto waiters = std::exchange(x->restart_waiters, {});
    if (waiters.empty()) continue;
    const std::string prefix = x == root ? "" : "restarted with " + op->root + ", ";
    auto tell = [waiters = std::move(waiters), prefix](bool done_ok, const std::string& text) {
      for (const auto& done : waiters) {
        if (done) done(done_ok, prefix + text);
      }
    };
    if (ok && x->state == ServiceState::kStarting) {
      x->start_waiters.push_back(std::move(tell));
    } else {
      tell(ok, x == root && !ok ? detail : "pid " + std::to_string(x->pid));
    }
  }
}

Status Supervisor::signal(int object, int sig) {
  Service* s = find(object);
  if (!s) return Error{"no service " + std::to_string(object)};
  if (s->state != ServiceState::kRunning) return Error{s->config.name + " is not running"};
  return children_.signal_group(s->pid, sig);
}

void Supervisor::set_cluster_hold(int object, bool held) {
  if (Service* s = find(object)) s->cluster_held = held;
}

bool Supervisor::cluster_held(int object) const {
  const Service* s = find(object);
  return s && s->cluster_held;
}

void Supervisor::monitor(int object) {
  Service* s = find(object);
  if (!s || s->cluster_held) return;
  s->monitored = true;
  clear_give_up(*s);
}

void Supervisor::clear_give_up(Service& service) {
  if (!service.gave_up && service.state != ServiceState::kGaveUp) return;
  service.gave_up = false;
  service.consecutive = 0;
  service.restart_times.clear();
  if (service.state == ServiceState::kGaveUp) service.state = ServiceState::kStopped;
}

void Supervisor::unmonitor(int object) {
  if (Service* s = find(object)) s->monitored = false;
}

std::optional<ServiceStatus> Supervisor::status(int object) const {
  const Service* s = find(object);
  if (!s) return std::nullopt;
  return status_of(*s);
}

std::optional<ServiceStatus> Supervisor::status_of(const Service& service) const {
  const Service* s = &service;
  ServiceStatus st;
  st.object = s->config.object;
  st.name = s->config.name;
  st.state = s->state;
  st.pid = s->pid;
  st.monitored = s->monitored;
  st.adopted = s->adopted;
  st.restarting = s->restarting;
  st.restarts = s->restarts;
  st.last_exit = s->last_exit;
  if (s->state == ServiceState::kRunning) {
    st.uptime = seconds_between(s->started_at, base::Clock::now());
    st.in_grace = st.uptime < s->config.grace;
  }
  return st;
}

std::vector<ServiceStatus> Supervisor::statuses() const {
  std::vector<ServiceStatus> out;
  for (const auto& name : start_order()) {
    if (const Service* s = find(name); s && !s->removed) out.push_back(*status_of(*s));
  }
  return out;
}

}  // namespace amata::supervisor
