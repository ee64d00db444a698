// What happens on start: the state directory and the event store, the loop and its signals,
// the parts, the policy's runtime, adoption of what a previous amatad left running, the
// cluster, then every other service in dependency order.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "engine/console/console_server.h"
#include "engine/daemon/cluster_glue.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/remote_node.h"
#include "engine/metrics/metrics_server.h"
#include "engine/supervisor/left_running.h"

namespace amata::daemon {

namespace fs = std::filesystem;

Daemon::Daemon(DaemonOptions options, SystemdNotifier notifier)
    : options_(std::move(options)), notifier_(std::move(notifier)) {}

Result<std::unique_ptr<Daemon>> Daemon::create(DaemonOptions options, lower::LoadedPolicy policy,
                                               SystemdNotifier notifier) {
  if (!policy.policy) return Error{"no compiled policy"};
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options), std::move(notifier)));
  if (Status s = daemon->init(std::move(policy)); !s) return s.error();
  return daemon;
}

Status Daemon::init(lower::LoadedPolicy loaded) {
  started_unix_ = base::unix_now();
  char hostname[256] = {};
  node_name_ = gethostname(hostname, sizeof hostname - 1) == 0 ? hostname : "localhost";
  // The state holds every service's argv and the values of every event: amatad's alone.
  for (const std::string& dir : {options_.state_dir, options_.state_dir + "/logs"}) {
    std::error_code ec;
    if (fs::is_directory(dir, ec)) continue;
    fs::create_directories(fs::path(dir).parent_path(), ec);
    if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) {
      return errno_error("create state directory " + dir, errno);
    }
  }
  log_rotator_ = std::make_unique<LogRotator>(
      LogRotator::Options{options_.state_dir + "/logs", options_.log_max_bytes, options_.log_keep});
  // A peer closing a pipe or socket must be an error return, not the death of the daemon.
  // (Children get every disposition reset to default before exec.)
  signal(SIGPIPE, SIG_IGN);

  const std::string db = options_.state_dir + "/events.db";
  std::string moved_aside;
  auto store = store::EventStore::open_or_replace(db, options_.retention, moved_aside);
  if (!store) return store.error();
  store_ = std::move(*store);
  if (!moved_aside.empty()) {
    spdlog::error("event store {} was damaged: moved aside to {}; amatad goes on with a fresh one",
                  db, moved_aside);
  }

  auto loop = base::EventLoop::create();
  if (!loop) return loop.error();
  loop_ = std::move(*loop);
  loop_->set_error_handler([](std::string_view what) { spdlog::error("internal: {}", what); });
  store_->on_degraded([this](bool degraded) {
    // From the store's writer thread: acted on in the loop's.
    loop_->post([this, degraded] { on_store_degraded(degraded); });
  });
  if (Status s = loop_->watch_signals({SIGTERM, SIGINT, SIGHUP, SIGUSR2},
                                      [this](const signalfd_siginfo& i) { on_signal(i); });
      !s) {
    return s;
  }

  if (auto reports = probes::OomReports::open()) {
    oom_reports_ = std::move(*reports);
  } else {
    spdlog::warn(
        "OOM kills of services cannot be told from other SIGKILLs (oom_killed stays "
        "0): {}",
        reports.error().message);
  }
  jobs_ = std::make_unique<actions::JobRunner>(*loop_);
  hooks_ = std::make_unique<actions::HookRunner>(*jobs_, options_.hooks_dir, options_.hook_timeout,
                                                 options_.state_dir + "/logs/hooks.log");
  supervisor::SupervisorEvents events;
  events.starting = [this](int object, const std::string&) {
    // Until its process exists its health checks can only fail: its grace begins now.
    if (object >= 0 && runtime_ && runtime_->probes) (void)runtime_->probes->starting(object);
  };
  events.started = [this](int object, const std::string& name, pid_t pid, std::uint64_t ticks) {
    on_service_started(object, name, pid, ticks);
  };
  events.exited = [this](int object, const std::string& name, pid_t pid,
                         const base::ExitStatus& status,
                         bool expected) { on_service_exited(object, name, pid, status, expected); };
  events.gave_up = [this](int object, const std::string& name, const std::string& reason) {
    on_service_gave_up(object, name, reason);
  };
  // The services carry the state directory as their mark: the next amatad with this state
  // finds them even without their records (left_running.h).
  supervisor_ = std::make_unique<supervisor::Supervisor>(*loop_, events, owner());
  actions::ActionHost& host = *this;
  actions_ = std::make_unique<actions::ActionDriver>(
      *loop_, *supervisor_, *jobs_, host,
      actions::ActionDriver::Options{options_.run_timeout, options_.state_dir + "/logs/run.log"});

  auto runtime = make_runtime(loaded);
  if (!runtime) return runtime.error();
  runtime_ = std::move(*runtime);
  const auto& tables = policy().tables();
  spdlog::info("policy {} from {}: {} objects, {} rules, {} back end", tables.name, loaded.file,
               tables.objects.size(), tables.rules.size(), policy().backend_name());

  // Before anything starts: a service that fails at once in a window is not recovered.
  load_maintenance();
  configure_services(tables);
  keep_policy(loaded);
  adopt_or_forget();
  if (const auto& cluster = tables.cluster) {
    if (Status s = attach_cluster(*cluster); !s) return s;
    if (Status s = open_watchdog(*cluster); !s) return s;
  }
  supervisor_->start_all();
  runtime_->probes->start();
  start_console();
  start_metrics();
  record_history();
  return {};
}

Result<std::unique_ptr<Daemon::Runtime>> Daemon::make_runtime(const lower::LoadedPolicy& loaded) {
  auto rt = std::make_unique<Runtime>();
  rt->file = loaded.file;
  auto policy = loaded.policy;
  // A `notify` through a hook channel whose script is missing would never reach anyone:
  // refused here, at start and on reload, rather than found out when the fault comes.
  for (const auto& channel : policy->tables().channels) {
    if (channel.type != catalog::ChannelSpec::Type::kHook) continue;
    const std::string script = hooks_->dir() + "/" + channel.name;
    const auto hooks = hooks_->hooks_for(channel.name);
    if (std::find(hooks.begin(), hooks.end(), script) == hooks.end()) {
      return Error{"channel " + channel.name + " runs the hook " + script +
                   ", which is missing or not executable"};
    }
  }
  if (Status s = check_watchdog_unchanged(policy->tables()); !s) return s.error();
  rt->rules = std::make_unique<discovery::RuleEngine>(
      *loop_, policy,
      [this](const ir::EventInstance& event, const std::string& rule, bool raise) {
        on_edge(event, rule, raise);
      },
      [policy](int object, std::string_view message) {
        const auto& objects = policy->tables().objects;
        const bool known = object >= 0 && static_cast<std::size_t>(object) < objects.size();
        spdlog::warn("{}: {}", known ? objects[static_cast<std::size_t>(object)].name : "",
                     message);
      });
  auto probes = probes::ProbeSet::create(*loop_, rt->rules->metrics(), options_.probe_options);
  if (!probes) return Error{"probes: " + probes.error().message};
  rt->probes = std::move(*probes);
  const auto& objects = policy->tables().objects;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (Status s = rt->probes->add(static_cast<int>(i), objects[i]); !s) {
      return Error{"object " + objects[i].name + ": " + s.error().message};
    }
  }
  return rt;
}

void Daemon::configure_services(const ir::PolicyTables& tables) {
  std::vector<supervisor::ServiceConfig> services;
  std::vector<std::string> logs;
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    const auto& spec = tables.objects[i];
    if (spec.kind != catalog::Kind::kService || spec.start.empty()) continue;
    services.push_back(supervisor::ServiceConfig::from_spec(static_cast<int>(i), spec,
                                                            options_.state_dir + "/logs"));
    logs.push_back(services.back().log_path);
  }
  supervisor_->configure(services);
  log_rotator_->set_files(std::move(logs));
}

std::string Daemon::owner() const {
  std::error_code ec;
  auto canonical = fs::canonical(options_.state_dir, ec);
  return ec ? options_.state_dir : canonical.string();
}

void Daemon::adopt_or_forget() {
  const auto& tables = policy().tables();
  // First what the event store recorded, then every process that carries this amatad's mark:
  // one killed between starting a service and recording it (or that could not write its
  // store) left it unrecorded, and starting it again would make two.
  if (auto records = store_->processes()) {
    for (const auto& p : *records) {
      const int object = tables.find_object(p.service);
      if (supervisor_->has(object) && supervisor_->adopt(object, p.pid, p.start_ticks)) {
        spdlog::info("adopted {} (pid {}), left running by a previous amatad", p.service, p.pid);
        continue;
      }
      (void)store_->forget_process(p.service);
    }
  } else {
    spdlog::error("event store: {}; looking for services by their mark only",
                  records.error().message);
  }
  for (const auto& found : supervisor::find_left_running(owner())) {
    const int object = tables.find_object(found.service);
    if (!supervisor_->has(object)) {
      spdlog::warn("{} (pid {}) is still running but no longer in the policy: left alone",
                   found.service, found.pid);
      continue;
    }
    auto st = supervisor_->status(object);
    if (st->pid == found.pid) continue;  // adopted from its record
    if (st->state == supervisor::ServiceState::kRunning) {
      // Two copies were left running: the recorded one stays, this one goes.
      Status ended = supervisor::end_copy(found);
      spdlog::error("{}: a second copy (pid {}) was running beside pid {}: {}", found.service,
                    found.pid, st->pid, ended ? "killed" : ended.error().message);
      continue;
    }
    if (supervisor_->adopt(object, found.pid, found.start_ticks)) {
      spdlog::warn("adopted {} (pid {}), found running without a record", found.service, found.pid);
    }
  }
}

void Daemon::start_console() {
  if (options_.socket_path.empty()) return;
  std::error_code ec;
  fs::create_directories(fs::path(options_.socket_path).parent_path(), ec);
  console::ConsoleConfig config;
  config.socket_path = options_.socket_path;
  config.group = options_.console_group;
  config.others_read_only = options_.console_read_only;
  auto server = console::ConsoleServer::start(*loop_, *this, config);
  if (!server) {
    // The daemon's job is recovery; without its console it still does that job.
    spdlog::error("console socket {}: {}", options_.socket_path, server.error().message);
    return;
  }
  console_ = std::move(*server);
  spdlog::info("console on {}", options_.socket_path);
}

}  // namespace amata::daemon
