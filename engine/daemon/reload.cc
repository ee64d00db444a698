// What happens on reload (SIGHUP or the console): the new policy is read and compiled on a
// worker thread — a slow disk, a huge policy or the JIT never holds up the loop — then, on
// the loop, given its own probes beside the running one and swapped in only when all of that
// succeeded. The services it keeps keep their processes; the cluster layer follows its
// cluster declaration. One reload compiles at a time.
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>
#include <system_error>
#include <thread>

#include "base/resident_pages.h"
#include "base/unique_fd.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/last_good.h"
#include "engine/daemon/remote_node.h"

namespace amata::daemon {

/// One reload in flight: the worker writes `loaded` and then signals `ready`.
struct Daemon::Reload {
  std::string path;
  base::UniqueFd ready;  // an eventfd the loop watches
  std::thread worker;
  lower::LoadedPolicy loaded;
  std::vector<ReloadDone> done;

  ~Reload() {
    if (worker.joinable()) worker.join();
  }
};

bool Daemon::reload_policy(const std::optional<std::string>& file, ReloadDone done) {
  if (reload_) return false;
  auto reload = std::make_shared<Reload>();
  reload->path = file.value_or(runtime_->file);
  reload->ready.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  Status watched = reload->ready ? loop_->watch(reload->ready.get(), EPOLLIN,
                                                [this](std::uint32_t) { finish_reload(); })
                                 : Status(errno_error("eventfd", errno));
  if (!watched) {
    spdlog::error("reload of {}: {}", reload->path, watched.error().message);
    lower::LoadedPolicy failed;
    failed.file = reload->path;
    failed.errors = 1;
    failed.diagnostics = failed.diagnostics_brief = "reload: " + watched.error().message + "\n";
    if (done) done(failed);
    return true;
  }
  if (done) reload->done.push_back(std::move(done));
  (void)notifier_.reloading();
  spdlog::info("reloading {}: compiling beside the running policy", reload->path);
  reload_ = reload;
  // The worker touches only what it owns (its Reload) and the thread-safe compiler.
  reload->worker = std::thread([reload, backend = options_.backend] {
    reload->loaded = lower::load_policy(reload->path, backend);
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(reload->ready.get(), &one, sizeof one);
  });
  return true;
}

void Daemon::drop_reload() {
  if (!reload_) return;
  loop_->unwatch(reload_->ready.get());
  reload_.reset();  // joins the worker: its reads are bounded (regular files of limited size)
}

void Daemon::finish_reload() {
  std::shared_ptr<Reload> reload = std::move(reload_);
  loop_->unwatch(reload->ready.get());
  reload->worker.join();
  lower::LoadedPolicy& loaded = reload->loaded;
  if (!shutting_down_) swap_in(loaded);
  release_compiler_pages();
  (void)notifier_.ready();
  update_status();
  for (auto& done : reload->done) done(loaded);
  if (reload_again_ && !shutting_down_) {
    reload_again_ = false;
    spdlog::info("reloading {} again (SIGHUP during the last reload)", runtime_->file);
    (void)reload_policy(std::nullopt, nullptr);
  }
}

void Daemon::release_compiler_pages() {
  std::error_code error;
  const auto executable = std::filesystem::read_symlink("/proc/self/exe", error).string();
  auto released = base::release_file_pages([&](std::string_view path) {
    return path == executable || path.find("/libLLVM") != std::string_view::npos;
  });
  if (!released) {
    spdlog::debug("compiler pages kept: {}", released.error().message);
  } else if (released->bytes > 0) {
    // Pages used again come back from the page cache on first touch (a minor fault).
    spdlog::debug("gave back {} KiB of code pages the compile used", released->bytes / 1024);
  }
}

void Daemon::record_reload(const std::string& file, const std::string& error) {
  reloads_total_++;
  nlohmann::json values = {{"file", file}, {"ok", error.empty()}};
  if (!error.empty()) {
    reload_failures_total_++;
    values["error"] = error;
  }
  store::EventRecord record{0,  base::unix_now(), "",     store::kReloadEvent,
                            {}, values.dump(),    "raise"};
  record_event(record);
}

void Daemon::swap_in(lower::LoadedPolicy& loaded) {
  const std::string& path = loaded.file;
  if (!loaded.policy) {
    spdlog::error("reload of {} rejected, the running policy stays:\n{}", path, loaded.diagnostics);
    record_reload(path, "the policy has errors");
    return;
  }
  auto runtime = make_runtime(loaded);
  if (!runtime) {
    // The policy checked, but its probes could not be built (a socket, a netlink listener):
    // as rejected as a policy with errors.
    spdlog::error("reload of {} failed, the running policy stays: {}", path,
                  runtime.error().message);
    loaded.policy.reset();
    loaded.errors++;
    loaded.diagnostics += runtime.error().message + "\n";
    loaded.diagnostics_brief += runtime.error().message + "\n";
    record_reload(path, runtime.error().message);
    return;
  }
  if (!loaded.diagnostics.empty()) spdlog::warn("{}", loaded.diagnostics);
  runtime_ = std::move(*runtime);  // the old probes go now; actions in flight keep their policy
  runtime_->file = path;
  const auto& tables = policy().tables();
  configure_services(tables);
  // Services kept across the reload are still running: the new samples and probes learn so.
  for (const auto& st : supervisor_->statuses()) {
    if (st.state == supervisor::ServiceState::kRunning) write_running(st.object, st.pid);
  }
  reload_cluster();  // before start_all(): the cluster, not the reload, places its services
  supervisor_->start_all();
  runtime_->probes->start();
  spdlog::info("reloaded policy {} from {}: {} objects, {} rules", tables.name, path,
               tables.objects.size(), tables.rules.size());
  keep_policy(loaded);
  record_reload(path, "");
}

void Daemon::keep_policy(const lower::LoadedPolicy& loaded) {
  if (!policy_keeper_) policy_keeper_ = std::make_unique<PolicyKeeper>(options_.state_dir);
  policy_keeper_->keep(loaded);
}

Status Daemon::attach_cluster(const catalog::ClusterSpec& spec) {
  if (spec.remote_node()) {
    auto node =
        RemoteNode::create(*loop_, spec, policy().tables().objects, *supervisor_,
                           [](bool warning, std::string_view message) {
                             warning ? spdlog::warn("{}", message) : spdlog::info("{}", message);
                           });
    if (!node) return Error{"cluster " + spec.name + ": " + node.error().message};
    remote_node_ = std::move(*node);
    return {};
  }
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
  if (remote_node_ && (!spec || !remote_node_->same_settings(*spec))) {
    spdlog::info("remote: leaving cluster {}", remote_node_->cluster());
    remote_node_->release();  // its clustered services are ordinary ones now, or re-placed
    remote_node_.reset();     // events still buffered for the ring go with it
  }
  if (cluster_ && (!spec || spec->remote_node() || spec->group != cluster_->group())) {
    spdlog::info("cluster: leaving CPG group {}{}", cluster_->group(),
                 spec ? " for " + spec->group : " (the policy no longer declares a cluster)");
    cluster_->release();  // its services are ordinary ones now, or the new group places them
    cluster_.reset();
  }
  if (!spec) return;
  if (spec->remote_node()) {
    if (remote_node_) {
      remote_node_->reconfigure(tables.objects);
      return;
    }
    if (Status s = attach_cluster(*spec); !s) spdlog::error("{}", s.error().message);
    return;
  }
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
