// How amatad runs and stops: the loop, its signals, a clean shutdown, systemd's status line.
#include "engine/daemon/daemon.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include "engine/console/console_server.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/remote_node.h"
#include "engine/daemon/systemd_job.h"
#include "engine/metrics/metrics_server.h"

namespace amata::daemon {

Daemon::~Daemon() {
  *alive_ = false;
  notifier_.stop_watchdog();  // declared before the loop, so it would outlive it
  // Leaving with nothing of the cluster's running here (a start that failed, a handover of
  // ordinary services only): nothing a reset would protect, so no reset. Otherwise the
  // device stays armed, for the next amatad to feed.
  if (watchdog_ && !(cluster_ && cluster_->runs_clustered())) {
    watchdog_->disarm();
    watchdog_.reset();
  }
  drop_reload();
  cluster_.reset();  // leaves the cluster group while the supervisor exists
  remote_node_.reset();
  console_.reset();
  metrics_server_.reset();
  runtime_.reset();   // probes first: they reference the loop
  channels_.reset();  // deliveries still out are abandoned (logged by their absence of records)
  actions_.reset();   // before what actions act on
  supervisor_.reset();
  hooks_.reset();
  jobs_.reset();
}

int Daemon::run() {
  (void)notifier_.ready();
  update_status();
  notifier_.start_watchdog(*loop_);
  release_compiler_pages();  // the policy was compiled before the loop started
  spdlog::info("amatad ready: state {}, hooks {}", options_.state_dir, options_.hooks_dir);
  if (Status s = loop_->run(); !s) {
    spdlog::critical("event loop failed: {}", s.error().message);
    return 1;
  }
  return exit_code_;
}

void Daemon::on_signal(const signalfd_siginfo& info) {
  int sig = static_cast<int>(info.ssi_signo);
  if (sig == SIGHUP) {
    if (shutting_down_) return;
    spdlog::info("SIGHUP: reloading {}", runtime_->file);
    if (!reload_policy(std::nullopt, nullptr)) reload_again_ = true;  // after the one running
    return;
  }
  if (sig == SIGUSR2 && !shutting_down_) {
    // A handover (an upgrade, `systemctl kill -s USR2 amatad`): exit at once and leave every
    // service to the next amatad, which adopts them; under systemd Restart= starts it.
    spdlog::info("SIGUSR2: handing the services over to the next amatad");
    options_.leave_running = true;
    shutdown();
    return;
  }
  if (shutting_down_) {
    spdlog::warn("second {}: leaving services running and exiting now", sigabbrev_np(sig));
    supervisor_->release_all();
    loop_->stop();
    return;
  }
  if (sig == SIGTERM && restart_requested()) {
    // `systemctl restart amatad` restarts amatad, not the node's services: hand them over
    // to the amatad systemd starts next, as SIGUSR2 does. `systemctl stop` stops them.
    spdlog::info("SIGTERM for a systemctl restart: handing the services over to the next amatad");
    options_.leave_running = true;
    shutdown();
    return;
  }
  spdlog::info("SIG{}: shutting down", sigabbrev_np(sig));
  shutdown();
}

bool Daemon::restart_requested() const {
  if (!notifier_.enabled()) return false;  // not started by systemd: no job to ask about
  auto job = own_unit_job_type(std::chrono::seconds(1));
  if (!job) {
    spdlog::warn("cannot ask systemd why amatad is stopped ({}): stopping the services",
                 job.error().message);
    return false;
  }
  return *job == "restart";
}

void Daemon::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  (void)notifier_.stopping();
  runtime_->probes.reset();  // no more samples, no more rules
  runtime_->rules->stop();
  if (options_.leave_running) {
    spdlog::info("leaving services running for the next amatad to adopt");
    supervisor_->release_all();
    loop_->stop();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  supervisor_->stop_all([this, alive](bool, const std::string&) {
    if (alive.expired()) return;
    spdlog::info("all services stopped");
    // Nothing of the cluster's runs here any more: the watchdog may stop counting. (Left
    // running for the next amatad, the services keep it armed: that one must feed it.)
    if (watchdog_) {
      watchdog_->disarm();
      watchdog_.reset();
      spdlog::info("watchdog: disarmed (magic close)");
    }
    loop_->stop();
  });
}

void Daemon::update_status() {
  if (status_pending_) return;
  status_pending_ = true;
  std::weak_ptr<bool> alive = alive_;
  loop_->add_timer_after(base::Clock::duration::zero(), [this, alive] {
    if (alive.expired()) return;
    status_pending_ = false;
    write_status();
  });
}

void Daemon::write_status() {
  int running = 0, total = 0;
  std::string down;
  for (const auto& st : supervisor_->statuses()) {
    ++total;
    if (st.state == supervisor::ServiceState::kRunning) {
      ++running;
    } else if (st.state == supervisor::ServiceState::kGaveUp) {
      down += (down.empty() ? "" : ", ") + st.name + " gave up";
    }
  }
  std::string text = fmt::format("{}/{} services running", running, total);
  if (!down.empty()) text += "; " + down;
  (void)notifier_.status(text);
}

std::string Daemon::object_name(int object) const {
  const auto& objects = policy().tables().objects;
  if (object < 0 || static_cast<std::size_t>(object) >= objects.size()) return "";
  return objects[static_cast<std::size_t>(object)].name;
}

}  // namespace amata::daemon
