// The cluster's self-fencing (docs/operations.md, "Self-fencing with a watchdog"): amatad
// holds the policy's watchdog device open and feeds it from the loop only while its node is
// safe to keep running — it runs no clustered service, or it is in a quorate partition whose
// corosync still delivers its messages. A hung amatad (the loop does not turn), a stopped
// corosync, or a node that cannot stop its copies after losing quorum stops feeding, and
// the device resets the node before the majority, which waits twice the timeout, starts
// another copy. On a remote node it is fed while its clustered services run under a lease
// (docs/operations.md, "Remote nodes holding clustered services"): a hung amatad cannot
// kill them when the lease runs out, the device resets the node instead.
#include <spdlog/spdlog.h>

#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/remote_node.h"

namespace amata::daemon {

Status Daemon::open_watchdog(const catalog::ClusterSpec& spec) {
  if (spec.watchdog.empty()) return {};
  watchdog_settings_ = std::make_pair(spec.watchdog, spec.watchdog_timeout);
  auto device = base::WatchdogDevice::open(spec.watchdog, spec.watchdog_timeout);
  if (!device) return device.error();
  watchdog_ = std::move(*device);
  spdlog::info("watchdog: {} open, timeout {} s{}; fed every {} ms while this node is safe",
               spec.watchdog, spec.watchdog_timeout,
               watchdog_->device_timeout() ? "" : " (the device reports none)",
               spec.watchdog_timeout * 1000 / 4);
  feed_watchdog();
  return {};
}

void Daemon::feed_watchdog() {
  if (!watchdog_ || !watchdog_settings_) return;
  std::optional<std::string> held = cluster_       ? cluster_->watchdog_hold_reason()
                                    : remote_node_ ? remote_node_->watchdog_hold_reason()
                                                   : std::nullopt;
  if (held) {
    if (watchdog_held_ != *held) {
      spdlog::warn("watchdog: not fed, {}; the node resets within {} s unless that changes", *held,
                   watchdog_settings_->second);
      watchdog_held_ = *held;
    }
  } else {
    if (!watchdog_held_.empty()) spdlog::info("watchdog: fed again");
    watchdog_held_.clear();
    if (Status fed = watchdog_->feed(); !fed) spdlog::error("{}", fed.error().message);
  }
  std::weak_ptr<bool> alive = alive_;
  const auto period = std::chrono::milliseconds(watchdog_settings_->second * 1000 / 4);
  loop_->add_timer_after(period, [this, alive] {
    if (!alive.expired()) feed_watchdog();
  });
}

Status Daemon::check_watchdog_unchanged(const ir::PolicyTables& tables) const {
  if (!runtime_) return {};  // the start: open_watchdog() reads them
  std::optional<std::pair<std::string, int>> wanted;
  if (tables.cluster && !tables.cluster->watchdog.empty()) {
    wanted = std::make_pair(tables.cluster->watchdog, tables.cluster->watchdog_timeout);
  }
  if (wanted == watchdog_settings_) return {};
  return Error{
      "the cluster's watchdog and watchdog_timeout are read when amatad starts: "
      "restart amatad to change them"};
}

}  // namespace amata::daemon
