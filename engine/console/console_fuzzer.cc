// Fuzzes the console from both ends. The server through its real socket: any bytes a local
// client may send (partial lines, bad JSON, follow requests). amatactl: its renderers on any
// JSON a server may answer, and every command of amatactl (status, rules, events and their
// follow stream, explain, the verbs, reload, version; human and --json output) run against a
// stand-in amatad whose reply is the input, so the client's reading of reply lines (ids,
// stream lines, errors with details.diagnostics and details.rendered) is fuzzed as well.
// Invariants: no crash, no sanitizer report, the loop keeps serving, amatactl exits with one
// of its documented codes.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "engine/console/client.h"
#include "engine/console/console_server.h"
#include "engine/console/ctl.h"
#include "engine/console/render.h"
#include "engine/console/test_backend.h"

namespace {

using namespace amata;
using namespace std::chrono_literals;

/// A directory of this process's own in /tmp, removed when it exits: libFuzzer ends a run with
/// exit(), and one socket directory a run must not pile up in /tmp run after run.
std::string own_temp_dir(const std::string& prefix) {
  std::string dir = "/tmp/" + prefix + "-XXXXXX";
  if (!mkdtemp(dir.data())) std::abort();
  static auto* dirs = new std::vector<std::string>;  // read at exit: never destroyed
  if (dirs->empty()) {
    std::atexit([] {
      for (const std::string& each : *dirs) {
        std::error_code ignored;
        std::filesystem::remove_all(each, ignored);
      }
    });
  }
  dirs->push_back(dir);
  return dir;
}

struct Harness {
  std::unique_ptr<base::EventLoop> loop;
  console::testing::RecordingBackend backend;
  std::unique_ptr<console::ConsoleServer> server;
  std::string path;

  Harness() {
    path = own_temp_dir("amata-console-fuzz") + "/amatad.sock";
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

// A stand-in amatad for amatactl: accepts a connection, reads the request line, answers with
// `reply` as it is, and closes. It serves on its own thread for the life of the process.
class FakeDaemon {
 public:
  FakeDaemon() {
    path_ = own_temp_dir("amata-ctl-fuzz") + "/amatad.sock";
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listen_fd_, 16) != 0) {
      std::abort();
    }
    std::thread([this] { serve(); }).detach();
  }

  const std::string& path() const { return path_; }
  void set_reply(std::string reply) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(reply);
  }

 private:
  void serve() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string request;
      char buffer[4096];
      while (request.find('\n') == std::string::npos) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, 2000) <= 0) break;
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      std::string reply;
      {
        std::lock_guard lock(mutex_);
        reply = reply_;
      }
      for (std::size_t sent = 0; sent < reply.size();) {
        ssize_t n = send(fd, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      close(fd);
    }
  }

  std::string path_;
  int listen_fd_ = -1;
  std::mutex mutex_;
  std::string reply_;
};

void fuzz_ctl(FakeDaemon& daemon, const std::uint8_t* data, std::size_t size) {
  daemon.set_reply(std::string(reinterpret_cast<const char*>(data), size));
  struct Run {
    const char* cmd;
    const char* target;
    bool json;
    bool follow;
    bool cluster;
  };
  // Every input goes through the follow stream (human and --json) and a reload; one more
  // command is picked by the input's bytes, so each input costs four connections, not twelve.
  static constexpr Run kAlways[] = {
      {"events", "", false, true, false},
      {"events", "", true, true, true},
      {"reload", "bad.amata", false, false, false},
  };
  static constexpr Run kOneOf[] = {
      {"status", "", false, false, false},      {"status", "", true, false, false},
      {"rules", "", false, false, false},       {"events", "", false, false, false},
      {"explain", "hot", false, false, false},  {"restart", "web", false, false, false},
      {"reload", "", true, false, false},       {"version", "", false, false, false},
      {"failover", "web", false, false, false},
  };
  std::uint32_t hash = 2166136261U;
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ data[i]) * 16777619U;
  std::vector<Run> runs(std::begin(kAlways), std::end(kAlways));
  runs.push_back(kOneOf[hash % std::size(kOneOf)]);
  for (const Run& run : runs) {
    console::CtlCommand command;
    command.socket_path = daemon.path();
    command.cmd = run.cmd;
    command.target = run.target;
    command.json = run.json;
    command.follow = run.follow;
    command.cluster = run.cluster;
    command.colour = true;
    command.timeout = std::chrono::seconds(5);
    command.follow_limit = 100;
    std::ostringstream out, err;
    const int code = console::run_ctl(command, out, err);
    if (code != console::kExitOk && code != console::kExitRefused &&
        code != console::kExitCannotConnect && code != console::kExitPermissionDenied) {
      std::abort();  // kExitUsage: the command line above is valid
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  static FakeDaemon& daemon = *new FakeDaemon;  // never destroyed: its thread serves to exit
  fuzz_server(harness, data, size);
  fuzz_render(data, size);
  fuzz_ctl(daemon, data, size);
  return 0;
}
