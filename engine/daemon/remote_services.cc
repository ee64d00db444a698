#include "engine/daemon/remote_services.h"

#include <csignal>
#include <utility>

namespace amata::daemon {

RemoteServices::RemoteServices(base::EventLoop& loop, supervisor::Supervisor& supervisor,
                               Report report, Log log)
    : loop_(loop), supervisor_(supervisor), report_(std::move(report)), log_(std::move(log)) {}

RemoteServices::~RemoteServices() {
  *alive_ = false;
  if (lease_timer_ != 0) loop_.cancel_timer(lease_timer_);
}

void RemoteServices::configure(const std::vector<catalog::ObjectSpec>& objects) {
  std::map<std::string, int> clustered;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& o = objects[i];
    const int object = static_cast<int>(i);
    if (o.kind == catalog::Kind::kService && o.clustered && supervisor_.has(object))
      clustered[o.name] = object;
  }
  // Services no longer clustered are ordinary ones again.
  for (const auto& [name, object] : objects_) {
    if (clustered.count(name)) continue;
    supervisor_.set_cluster_hold(object, false);
    supervisor_.monitor(object);
  }
  objects_ = std::move(clustered);
  std::erase_if(gave_up_, [this](const std::string& s) { return !objects_.count(s); });
  std::erase_if(withdrawn_, [this](const std::string& s) { return !gave_up_.count(s); });
  for (const auto& [name, object] : objects_) {
    // Placed here, or running (adopted across a restart of amatad, or a reload made it
    // clustered): it runs on the lease, and the ring, told it runs, decides.
    if (placed_.count(name) || runs(name)) continue;
    supervisor_.unmonitor(object);
    supervisor_.set_cluster_hold(object, true);
  }
  report();
}

void RemoteServices::release() {
  for (const auto& [name, object] : objects_) {
    supervisor_.set_cluster_hold(object, false);
    supervisor_.monitor(object);
  }
  objects_.clear();
}

bool RemoteServices::runs(const std::string& name) const {
  const auto st = supervisor_.status(object_of(name));
  return st && st->held_running();
}

int RemoteServices::object_of(const std::string& name) const {
  const auto it = objects_.find(name);
  return it == objects_.end() ? -1 : it->second;
}

void RemoteServices::place(const std::string& member, const std::set<std::string>& run,
                           std::uint64_t n) {
  std::set<std::string> placed;
  for (const auto& name : run)
    if (objects_.count(name)) placed.insert(name);
  // The member counts a service it took back as running here until a report says this
  // placement was applied: say so when it changed anything.
  if (placed != placed_ || applied_ == 0) applied_ = n;
  // A service this node gave up on is banned from here by its report: the ring takes it
  // away, and places it here again only after an operator's failover to this node, which is
  // the operator's "try again", as on a member. (Not any placement that has it: one decided
  // before the ring read the report, or the first after a lease ran out, still may.)
  for (const auto& name : gave_up_)
    if (!placed.count(name)) withdrawn_.insert(name);
  for (const auto& name : placed) {
    if (withdrawn_.erase(name) != 0 && gave_up_.erase(name) != 0) {
      log_(false, "remote: " + member + " placed " + name + " here again: trying it again");
    }
  }
  placed_ = std::move(placed);
  for (const auto& [name, object] : objects_) {
    // Only under a lease: past it, the ring may count this node lost at any moment.
    const bool may = placed_.count(name) != 0 && lease_until_ && base::Clock::now() < *lease_until_;
    if (may && !runs(name) && !gave_up_.count(name)) {
      log_(false, "remote: " + member + " placed " + name + " here: starting it");
      start(name);
    } else if (may && runs(name) && !supervisor_.status(object)->monitored) {
      supervisor_.set_cluster_hold(object, false);  // adopted, or its stop not yet asked
      supervisor_.monitor(object);
    } else if (!may && runs(name)) {
      stop(name, "remote: " + member + " placed " + name + " elsewhere", false);
    }
  }
  report();
}

void RemoteServices::lease(base::Clock::time_point valid_until) {
  if (lease_until_ && valid_until <= *lease_until_) return;
  lease_until_ = valid_until;
  if (lease_timer_ != 0) loop_.cancel_timer(std::exchange(lease_timer_, 0));
  std::weak_ptr<bool> alive = alive_;
  lease_timer_ = loop_.add_timer(valid_until, [this, alive] {
    if (alive.expired()) return;
    lease_timer_ = 0;
    on_lease_end();
  });
}

void RemoteServices::on_lease_end() {
  bool killed = false;
  for (const auto& [name, object] : objects_) {
    if (!runs(name)) continue;
    stop(name, "remote: the lease ran out", true);
    killed = true;
  }
  placed_.clear();
  if (killed)
    log_(true,
         "remote: the ring has not renewed this node's lease: its clustered services are "
         "killed (the ring may start them elsewhere now)");
  report();
}

void RemoteServices::gave_up(const std::string& service) {
  const int object = object_of(service);
  if (object < 0) return;
  gave_up_.insert(service);
  withdrawn_.erase(service);  // until the ring has taken it away
  supervisor_.unmonitor(object);
  supervisor_.set_cluster_hold(object, true);
  report();
}

void RemoteServices::start(const std::string& name) {
  const int object = object_of(name);
  supervisor_.set_cluster_hold(object, false);
  supervisor_.monitor(object);
  std::weak_ptr<bool> alive = alive_;
  supervisor_.start(object, [this, alive, name](bool ok, const std::string& detail) {
    if (alive.expired()) return;
    if (!ok) {
      log_(true, "remote: start of " + name + " failed: " + detail);
      gave_up(name);
      return;
    }
    report();
  });
  report();
}

void RemoteServices::stop(const std::string& name, const std::string& why, bool kill) {
  const int object = object_of(name);
  supervisor_.unmonitor(object);  // stopped on purpose: its death is not a fault
  supervisor_.set_cluster_hold(object, true);
  // Killed, not asked: past the lease another copy may start at any moment.
  if (kill) (void)supervisor_.signal(object, SIGKILL);
  log_(kill, why + (kill ? ": killing " : ": stopping ") + name);
  std::weak_ptr<bool> alive = alive_;
  supervisor_.stop(object, [this, alive](bool, const std::string&) {
    if (!alive.expired()) report();
  });
  report();
}

void RemoteServices::report() {
  // A node with no clustered service says nothing: the ring's bus carries no word for each
  // of its compute nodes. Once it has had one, it goes on reporting, if only that it has none.
  if (!report_ || (objects_.empty() && !reported_)) return;
  reported_ = true;
  std::set<std::string> running, eligible;
  for (const auto& [name, object] : objects_) {
    eligible.insert(name);
    if (has_process(name)) running.insert(name);
  }
  report_(std::move(running), gave_up_, std::move(eligible), applied_);
}

bool RemoteServices::has_process(const std::string& name) const {
  // Running, starting or backing off, or a process not yet gone (stopping): a copy.
  const auto st = supervisor_.status(object_of(name));
  return runs(name) || (st && st->pid > 0);
}

std::optional<std::string> RemoteServices::watchdog_hold_reason() const {
  if (lease_until_ && base::Clock::now() < *lease_until_) return std::nullopt;
  for (const auto& [name, object] : objects_) {
    if (has_process(name))
      return "it runs clustered service " + name + " and the ring has not renewed its lease";
  }
  return std::nullopt;
}

nlohmann::json RemoteServices::status_json(base::Clock::time_point now) const {
  nlohmann::json out = {
      {"clustered", nlohmann::json::array()}, {"placed", placed_}, {"gave_up", gave_up_}};
  for (const auto& [name, object] : objects_) out["clustered"].push_back(name);
  out["lease_ms"] =
      lease_until_
          ? nlohmann::json(
                std::chrono::duration_cast<std::chrono::milliseconds>(*lease_until_ - now).count())
          : nlohmann::json(nullptr);
  return out;
}

}  // namespace amata::daemon
