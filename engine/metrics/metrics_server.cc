#include "engine/metrics/metrics_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <charconv>

#include "base/priority.h"
#include "engine/metrics/http_gate.h"

namespace amata::metrics {
namespace {

constexpr std::size_t kWorkers = 8;
constexpr int kTimeoutSeconds = 1;

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

Result<std::pair<std::string, int>> parse_listen_address(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Error{"--metrics-listen: '" + text + "' is not HOST:PORT"};
  }
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']') return Error{"--metrics-listen: '" + text + "' has an unclosed '['"};
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port < 0 || port > 65535) {
    return Error{"--metrics-listen: bad port in '" + text + "'"};
  }
  return std::make_pair(host, port);
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen,
                                                            Extension extension) {
  auto address = parse_listen_address(listen);
  if (!address) return address.error();
  std::unique_ptr<MetricsServer> server(new MetricsServer());
  // Every connection waits in the gate until its whole request is there, so workers only
  // ever serve; the gate bounds what idle, slow and oversized clients can hold.
  GateLimits limits;
  limits.workers = kWorkers + extension.long_workers;
  limits.io_timeout = std::chrono::seconds(kTimeoutSeconds);
  server->http_ = std::make_unique<GatedServer>(limits);
  auto& http = *server->http_;
  // httplib's default adds SO_REUSEPORT: a second amatad would then share the port and the
  // kernel would split scrapes between the two. SO_REUSEADDR alone allows a quick restart.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // The kernel hands a connection over once it carries data, or after this second: a
    // flood of idle connections reaches the gate slowly, not at once.
    int seconds = kTimeoutSeconds;
    setsockopt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds);
  });
  MetricsServer* self = server.get();
  http.Get("/metrics", [self](const httplib::Request&, httplib::Response& response) {
    auto snapshot = self->current();
    if (!snapshot) {
      response.status = 503;
      response.set_content("amatad has not published metrics yet\n", "text/plain");
      return;
    }
    response.set_content(
        render_exposition(*snapshot) + render_gate_counters(self->http_->counters()),
        "text/plain; version=0.0.4; charset=utf-8");
  });
  if (extension.mount) {
    extension.mount(http);
  } else {
    http.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("amatad: see /metrics\n", "text/plain");
    });
  }
  server->stop_extension_ = std::move(extension.stop);

  const auto& [host, port] = *address;
  int bound = port;
  if (port == 0) {
    bound = http.bind_to_any_port(host);
    if (bound < 0) return Error{"metrics: cannot bind " + listen};
  } else if (!http.bind_to_port(host, port)) {
    return Error{"metrics: cannot bind " + listen + " (in use, or not a local address)"};
  }
  if (!http.deepen_backlog()) return Error{"metrics: cannot listen on " + listen};
  server->host_ = host;
  server->port_ = bound;
  server->public_ = !is_loopback(host);
  server->thread_ = std::thread([self] {
    // Behind the loop, as every other thread of amatad's: the workers this thread starts
    // inherit its nice, so a client that makes them work (1 MB of headers) competes with the
    // services, not with recovery. Measured before: restarts 4-7x slower under such clients.
    base::move_this_thread_to_background();
    self->http_->listen_after_bind();
  });
  // httplib's stop() does nothing until the serving thread has begun: a server destroyed
  // right after it started would otherwise wait in join() for ever.
  for (int i = 0; i < 5000 && !http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server;
}

MetricsServer::~MetricsServer() {
  if (stop_extension_) stop_extension_();
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
  if (http_) http_->close_gate();
}

void MetricsServer::publish(MetricsSnapshot snapshot) {
  auto fresh = std::make_shared<const MetricsSnapshot>(std::move(snapshot));
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_ = std::move(fresh);  // the old one dies with its last reader
}

std::shared_ptr<const MetricsSnapshot> MetricsServer::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

}  // namespace amata::metrics
