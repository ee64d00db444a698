// What /metrics publishes: a snapshot of every object, rule and counter, handed to the
// metrics server's thread once a second (it renders and serves; the loop never waits on it).
#include <spdlog/spdlog.h>

#include <cmath>

#include "base/clock.h"
#include "base/version.h"
#include "engine/console/console_server.h"
#include "engine/console/console_view.h"
#include "engine/daemon/daemon.h"
#include "engine/metrics/metrics_server.h"
#include "engine/web/web_view.h"

namespace amata::daemon {

void Daemon::start_metrics() {
  if (options_.metrics_listen.empty()) return;
  metrics::Extension extension;
  if (options_.web && !options_.socket_path.empty()) {
    // The view asks the console socket for everything, as amatactl would: pages and streams
    // run on the HTTP threads and never on this loop.
    web::WebOptions web_options{.socket_path = options_.socket_path};
    if (!options_.web_token_file.empty()) {
      // Checked at start (tools/amatad): a file that went bad since leaves the view read-only.
      if (auto operators = web::read_token_file(options_.web_token_file)) {
        web_options.operators = std::move(*operators);
        spdlog::info("web view: {} operator(s) may log in and restart, start and stop",
                     web_options.operators.size());
      } else {
        spdlog::error("--web-token: {}; the web view is read-only", operators.error().message);
      }
    }
    const web::WebView view(std::move(web_options));
    extension.mount = [view](httplib::Server& http) { view.mount(http); };
    extension.stop = [view] { view.stop(); };
    extension.long_workers = web::kMaxStreams;
  } else if (options_.web) {
    spdlog::error("--web: no console socket (--socket is empty), so no web view");
  }
  auto server = metrics::MetricsServer::start(options_.metrics_listen, std::move(extension));
  if (!server) {
    spdlog::error("/metrics on {}: {}", options_.metrics_listen, server.error().message);
    return;
  }
  metrics_server_ = std::move(*server);
  spdlog::info("metrics on {}:{}", metrics_server_->host(), metrics_server_->port());
  const bool web = options_.web && !options_.socket_path.empty();
  if (web) {
    const std::string& host = metrics_server_->host();
    const bool v6 = host.find(':') != std::string::npos;  // a URL brackets an IPv6 address
    spdlog::info("web view on http://{}{}{}:{}/", v6 ? "[" : "", host, v6 ? "]" : "",
                 metrics_server_->port());
  }
  if (metrics_server_->reachable_from_network() && web) {
    spdlog::warn(
        "the web view and /metrics on {}:{} are reachable from the network and have no "
        "authentication: they show every object, rule, explanation and event of this node to "
        "anyone who connects; bind them to 127.0.0.1 or guard the port with a firewall",
        metrics_server_->host(), metrics_server_->port());
  } else if (metrics_server_->reachable_from_network()) {
    spdlog::warn(
        "/metrics on {}:{} is reachable from the network and has no authentication: "
        "it names every object, rule and event of this node; bind it to 127.0.0.1 "
        "or guard the port with a firewall",
        metrics_server_->host(), metrics_server_->port());
  }
  publish_metrics();
}

void Daemon::publish_metrics() {
  if (!metrics_server_) return;
  metrics::MetricsSnapshot snap;
  snap.version = std::string(base::version());
  const discovery::RuleEngine& rules = *runtime_->rules;
  const auto& tables = rules.policy().tables();
  snap.policy = tables.name;
  snap.started_unix_seconds = started_unix_;
  snap.reloads_total = reloads_total_;
  snap.reload_failures_total = reload_failures_total_;
  for (std::size_t i = 0; i < tables.objects.size(); ++i) {
    metrics::ObjectMetrics o;
    o.name = tables.objects[i].name;
    o.kind = std::string(catalog::kind_name(tables.objects[i].kind));
    if (auto st = supervisor_->status(static_cast<int>(i))) {
      o.state = std::string(supervisor::service_state_name(st->state));
      o.monitored = st->monitored;
      o.restarts = static_cast<std::uint64_t>(st->restarts);
    } else {
      o.monitored = rules.monitored(static_cast<int>(i));
      o.state = o.monitored ? "monitored" : "unmonitored";
    }
    for (const auto& [attr, v] : rules.metrics().numbers_of(static_cast<int>(i))) {
      if (!std::isnan(v)) o.attributes.emplace_back(attr, v);
    }
    snap.objects.push_back(std::move(o));
  }
  const std::vector<std::string_view> states = console::rule_states(rules);
  for (std::size_t r = 0; r < tables.rules.size(); ++r) {
    snap.rules.push_back(
        {tables.rules[r].name, std::string(states[r]), rules.rule(static_cast<int>(r)).rises});
  }
  for (const auto& [name, n] : events_total_) snap.events_total.emplace_back(name, n);
  for (const auto& [key, n] : actions_total_)
    snap.actions_total.push_back({key.first, key.second, n});
  for (double d : runtime_->rules->take_recovery_durations()) recovery_histogram_.observe(d);
  snap.recovery_seconds = recovery_histogram_;
  snap.console_clients = console_ ? console_->client_count() : 0;
  snap.store_degraded = store_->degraded();
  snap.store_pending = store_->pending();
  snap.store_dropped_total = store_->dropped();
  metrics_server_->publish(std::move(snap));
  // Scrapers see data at most a second old; rendering happens on the server's thread.
  std::weak_ptr<bool> alive = alive_;
  loop_->add_timer(base::next_tick(base::Clock::now(), std::chrono::seconds(1)), [this, alive] {
    if (!alive.expired()) publish_metrics();
  });
}

void Daemon::count_action(const std::string& kind, const std::string& outcome) {
  actions_total_[{kind, outcome}]++;
}

}  // namespace amata::daemon
