// amatad: runs a policy — probes, discovery, recovery — on this node. Thin: options here,
// everything else in engine/daemon.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "base/file.h"
#include "base/priority.h"
#include "base/version.h"
#include "compiler/lower/policy_loader.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/last_good.h"
#include "engine/daemon/logging.h"
#include "engine/web/control.h"
#include "probes/once.h"

namespace {

int run_once(const std::string& policy_path) {
  std::string diagnostics;
  auto objects = amata::lower::load_objects(policy_path, diagnostics, isatty(STDERR_FILENO));
  std::cerr << diagnostics;
  if (!objects) return 1;
  auto result = amata::probes::probe_once(*objects);
  if (!result) {
    std::cerr << "amatad: " << result.error().message << "\n";
    return 1;
  }
  std::cout << result->dump(2) << "\n";
  return 0;
}

/// Puts amatad `levels` nice levels ahead of the services it starts, which keep the nice
/// value amatad was started with: a storm of restarted services competing for the CPU must
/// not starve the loop that restarts them, answers the console and reads the health checks.
/// Called before any thread exists (Linux's nice is per thread; threads inherit it). Returns
/// what to log once logging is set up.
std::string boost_priority(int levels) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, 0);
  if (errno != 0 || levels == 0) return "";
  const int boosted = std::max(-20, own - levels);
  if (boosted == own) return "";
  if (setpriority(PRIO_PROCESS, 0, boosted) < 0) {
    return fmt::format("--priority-boost: amatad stays at nice {} ({}; it needs CAP_SYS_NICE)", own,
                       std::strerror(errno));
  }
  amata::base::set_background_nice(own);
  return fmt::format("running at nice {}, the services it starts at nice {}", boosted, own);
}

}  // namespace

int main(int argc, char** argv) try {
  // Taken out of the environment before anything can start a child (systemd's variables are
  // for amatad, not for the services it runs).
  auto notifier = amata::daemon::SystemdNotifier::from_environment();

  CLI::App app{"amatad: keeps the services and nodes of a policy available", "amatad"};
  amata::daemon::DaemonOptions options;
  std::string log_level = "info";
  std::string backend = "jit";
  bool once = false, json = false;
  app.set_version_flag("--version", amata::base::version_line("amatad"));
  app.add_option("POLICY", options.policy_path, "the .amata policy to run")->required();
  app.add_option("--state-dir", options.state_dir, "event store, service logs")
      ->capture_default_str();
  app.add_option("--socket", options.socket_path, "console socket (empty: none)")
      ->capture_default_str();
  app.add_option("--hooks", options.hooks_dir, "hook scripts: DIR/EVENT and DIR/any")
      ->capture_default_str();
  app.add_option("--console-group", options.console_group,
                 "members of GROUP may use every console command (besides root)");
  app.add_flag("--console-read-only", options.console_read_only,
               "everyone else may use the read-only console commands");
  app.add_option("--metrics-listen", options.metrics_listen, "serve /metrics on ADDR:PORT");
  app.add_flag("--web", options.web,
               "with --metrics-listen: also serve the read-only web view there (it reads the "
               "console socket)");
  app.add_option("--web-token", options.web_token_file,
                 "with --web: operators (NAME TOKEN per line, root's, mode 600) who may log in "
                 "and restart, start and stop from the web view");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_option("--backend", backend, "rule back end")
      ->check(CLI::IsMember({"interp", "jit"}))
      ->capture_default_str();
  app.add_option("--hook-timeout", options.hook_timeout, "seconds before a hook is killed")
      ->capture_default_str();
  std::string rotate_at = "10M";
  app.add_option("--rotate-logs-at", rotate_at,
                 "rotate an output log (STATE/logs/*.log) past SIZE: 512K, 10M, 1G; 0: never")
      ->capture_default_str();
  app.add_option("--rotate-logs-keep", options.log_keep, "rotated generations of a log kept")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  int priority_boost = 10;
  app.add_option("--priority-boost", priority_boost,
                 "run N nice levels ahead of the services, hooks and checks amatad starts "
                 "(0: as they)")
      ->check(CLI::Range(0, 39))
      ->capture_default_str();
  app.add_flag("--leave-running", options.leave_running,
               "on SIGTERM leave services running for the next amatad to adopt");
  app.add_flag("--once", once, "probe every object once, print, exit");
  app.add_flag("--json", json, "with --once: JSON output (the only format)");
  CLI11_PARSE(app, argc, argv);
  (void)json;
  if (auto bytes = amata::base::parse_size(rotate_at)) {
    options.log_max_bytes = *bytes;
  } else {
    std::cerr << "amatad: --rotate-logs-at: " << bytes.error().message << "\n";
    return 2;
  }

  if (once) return run_once(options.policy_path);
  // The web view is served by the /metrics server and reads the console socket.
  if (options.web && options.metrics_listen.empty()) {
    std::cerr << "amatad: --web needs --metrics-listen ADDR:PORT (it is served there)\n";
    return 2;
  }
  if (options.web && options.socket_path.empty()) {
    std::cerr << "amatad: --web needs the console socket (--socket must not be empty)\n";
    return 2;
  }
  if (!options.web_token_file.empty()) {
    if (!options.web) {
      std::cerr << "amatad: --web-token is for the web view: add --web\n";
      return 2;
    }
    // Read now, so a token file anyone could read stops amatad before it starts anything.
    if (auto operators = amata::web::read_token_file(options.web_token_file); !operators) {
      std::cerr << "amatad: --web-token: " << operators.error().message << "\n";
      return 2;
    }
  }

  const std::string priority = boost_priority(priority_boost);
  if (auto s = amata::daemon::setup_logging(log_level); !s) {
    std::cerr << "amatad: " << s.error().message << "\n";
    return 1;
  }
  if (priority.rfind("--", 0) == 0) {
    spdlog::warn("{}", priority);
  } else if (!priority.empty()) {
    spdlog::info("{}", priority);
  }
  options.backend = backend == "jit" ? amata::lower::Backend::kJit : amata::lower::Backend::kInterp;
  auto loaded =
      amata::lower::load_policy(options.policy_path, options.backend, isatty(STDERR_FILENO));
  if (!loaded.policy && loaded.errors > 0 && options.backend == amata::lower::Backend::kJit &&
      loaded.diagnostics.find("error[") == std::string::npos) {
    // Not a policy mistake but the JIT itself failing: the interpreter runs the same rules.
    auto interp = amata::lower::load_policy(options.policy_path, amata::lower::Backend::kInterp);
    if (interp.policy) {
      spdlog::warn("JIT unavailable ({}), using the interpreter", loaded.diagnostics);
      loaded = std::move(interp);
      options.backend = amata::lower::Backend::kInterp;
    }
  }
  if (!loaded.policy) {
    amata::daemon::print_diagnostics(loaded.diagnostics, true);
    // A restart must not leave the node unsupervised for a broken edit: run the last policy
    // that loaded, if amatad kept one, and say so loudly.
    auto kept = amata::daemon::last_good_copy(options.state_dir, options.policy_path);
    if (!kept) return 1;
    auto fallback = amata::lower::load_policy(*kept, options.backend);
    if (!fallback.policy) {
      spdlog::error("the last policy that loaded ({}) does not load either", *kept);
      return 1;
    }
    spdlog::error(
        "{} has errors: running the last policy that loaded ({}) instead; fix the "
        "file, then reload",
        options.policy_path, *kept);
    fallback.file = options.policy_path;  // what a reload reads
    fallback.sources.clear();             // the kept copy is what runs: nothing new to keep
    loaded = std::move(fallback);
  }
  amata::daemon::print_diagnostics(loaded.diagnostics, false);

  auto daemon = amata::daemon::Daemon::create(options, std::move(loaded), std::move(notifier));
  if (!daemon) {
    spdlog::critical("{}", daemon.error().message);
    return 1;
  }
  return (*daemon)->run();
} catch (const std::exception& e) {
  // Out of memory or the like outside the loop, which catches its callbacks' exceptions.
  spdlog::critical("amatad: {}", e.what());
  return 1;
}
