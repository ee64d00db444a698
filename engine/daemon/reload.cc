// What happens on reload (SIGHUP or the console): the new policy is compiled and given its
// own probes beside the running one, and swapped in only when all of that succeeded; the
// services it keeps keep their processes, the cluster layer follows its cluster declaration.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"

namespace amata::daemon {

lower::LoadedPolicy Daemon::reload_policy(const std::optional<std::string>& file) {
  (void)notifier_.reloading();
  std::string path = file.value_or(runtime_->file);
  lower::LoadedPolicy loaded = lower::load_policy(path, options_.backend);
  store::EventRecord record{0, base::unix_now(), "", "Reload", {}, "{}", "raise"};
  if (!loaded.policy) {
    spdlog::error("reload of {} rejected, the running policy stays:\n{}", path, loaded.diagnostics);
    record.values = nlohmann::json({{"file", path}, {"ok", false}}).dump();
    record_event(record, "reload rejected");
    (void)notifier_.ready();
    update_status();
    return loaded;
  }
  auto runtime = make_runtime(loaded);
  if (!runtime) {
    spdlog::error("reload of {} failed, the running policy stays: {}", path,
                  runtime.error().message);
    loaded.policy.reset();
    loaded.errors++;
    loaded.diagnostics += runtime.error().message + "\n";
    (void)notifier_.ready();
    return loaded;
  }
  if (!loaded.diagnostics.empty()) spdlog::warn("{}", loaded.diagnostics);
  runtime_ = std::move(*runtime);  // the old probes go now; actions in flight keep their policy
  runtime_->file = path;
  const auto& tables = policy().tables();
  supervisor_->configure(service_configs(tables));
  // Services kept across the reload are still running: the new samples and probes learn so.
  for (const auto& st : supervisor_->statuses()) {
    if (st.state == supervisor::ServiceState::kRunning) write_running(st.object, st.pid);
  }
  reload_cluster();  // before start_all(): the cluster, not the reload, places its services
  supervisor_->start_all();
  runtime_->probes->start();
  spdlog::info("reloaded policy {} from {}: {} objects, {} rules", tables.name, path,
               tables.objects.size(), tables.rules.size());
  record.values = nlohmann::json({{"file", path}, {"ok", true}}).dump();
  record_event(record, "reloaded");
  (void)notifier_.ready();
  update_status();
  return loaded;
}

Status Daemon::attach_cluster(const catalog::ClusterSpec& spec) {
  // The cluster, not the boot, places the clustered services (create() holds them back).
  ClusterGlue::Callbacks cb;
  cb.on_peers = [this](const std::vector<cluster::PeerView>& peers) {
    if (runtime_) ClusterGlue::write_peers(peers, policy().tables(), runtime_->rules->metrics());
  };
  cb.on_bus = [this](const cluster::BusMessage& m) { record_cluster_entry(m); };
  cb.on_action = [this](const store::ActionRecord& a) { record_action(a, "cluster "); };
  cb.on_log = [](bool warning, std::string_view message) {
    // The cluster layer's lines say "cluster: …" themselves.
    warning ? spdlog::warn("{}", message) : spdlog::info("{}", message);
  };
  auto glue = ClusterGlue::create(*loop_, spec, policy().tables().objects, *supervisor_, cb);
  if (!glue) return Error{"cluster " + spec.name + ": " + glue.error().message};
  cluster_ = std::move(*glue);
  return {};
}

void Daemon::reload_cluster() {
  const auto& tables = policy().tables();
  const auto& spec = tables.cluster;
  if (cluster_ && (!spec || spec->group != cluster_->group())) {
    spdlog::info("cluster: leaving CPG group {}{}", cluster_->group(),
                 spec ? " for " + spec->group : " (the policy no longer declares a cluster)");
    cluster_->release();  // its services are ordinary ones now, or the new group places them
    cluster_.reset();
  }
  if (!spec) return;
  // Either way the clustered services that do not run here are held back again.
  Status s = cluster_ ? cluster_->reconfigure(*spec, tables.objects) : attach_cluster(*spec);
  if (!s) {
    // Never let start_all() run the clustered services on every node instead.
    for (std::size_t i = 0; i < tables.objects.size(); ++i) {
      const int object = static_cast<int>(i);
      auto st = supervisor_->status(object);
      if (tables.objects[i].clustered && st && !st->pid) supervisor_->unmonitor(object);
    }
    spdlog::error("cluster {}: reload: {}; its clustered services stay stopped here", spec->name,
                  s.error().message);
  }
}

}  // namespace amata::daemon
