// Fuzzes the console server through its real socket (any bytes a local client may send,
// including partial lines, bad JSON, follow requests) and amatactl's renderers (any JSON a
// server may answer). Invariants: no crash, no sanitizer report, the loop keeps serving.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "engine/console/client.h"
#include "engine/console/console_server.h"
#include "engine/console/render.h"
#include "engine/console/test_backend.h"

namespace {

using namespace amata;
using namespace std::chrono_literals;

struct Harness {
  std::unique_ptr<base::EventLoop> loop;
  console::testing::RecordingBackend backend;
  std::unique_ptr<console::ConsoleServer> server;
  std::string path;

  Harness() {
    char tmpl[] = "/tmp/amata-console-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    path = std::string(tmpl) + "/amatad.sock";
    loop = std::move(base::EventLoop::create()).value();
    console::ConsoleConfig config;
    config.socket_path = path;
    config.max_line_bytes = 1024;  // small, so the fuzzer reaches the limit
    config.requests_per_second = 1e9;
    config.request_burst = 1e9;
    config.log = [](console::LogLevel, std::string_view) {};
    server = std::move(console::ConsoleServer::start(*loop, backend, config)).value();
  }
};

void fuzz_server(Harness& h, const std::uint8_t* data, std::size_t size) {
  auto client = console::ConsoleClient::connect(h.path);
  if (!client) std::abort();  // the server must always accept
  int fd = client->fd();
  std::size_t sent = 0;
  // Write and serve in turns, so the server sees the input split at arbitrary points.
  for (int turn = 0; turn < 1000 && sent < size; ++turn) {
    ssize_t n =
        send(fd, data + sent, std::min<std::size_t>(size - sent, 97), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) sent += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN) break;  // the server closed (too large, bad protocol)
    (void)h.loop->run_once(0ms);
  }
  // One record of each view, so local and cluster follow streams both get to filter.
  h.server->publish_event(console::testing::make_event(1, "web"));
  h.server->publish_event(console::testing::make_cluster_event(2, "n2", "web"));
  shutdown(fd, SHUT_WR);
  char buffer[65536];
  for (int turn = 0; turn < 10000; ++turn) {
    (void)h.loop->run_once(0ms);
    ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) break;
  }
  h.backend.calls.clear();
}

void fuzz_render(const std::uint8_t* data, std::size_t size) {
  auto value = nlohmann::json::parse(data, data + size, nullptr, false);
  if (value.is_discarded()) return;
  console::RenderStyle style{true, 1764081600000};
  (void)console::render_status(value, style);
  (void)console::render_rules(value, style);
  (void)console::render_events(value, style);
  (void)console::render_event_line(value, style);
  (void)console::render_explain(value, style);
  (void)console::render_control(value, style);
  (void)console::render_reload(value, style);
  (void)console::render_version(value, style);
  (void)console::render_error(value, style);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  fuzz_server(harness, data, size);
  fuzz_render(data, size);
  return 0;
}
