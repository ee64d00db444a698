// Health checks and host probes against servers this test starts on loopback: a TCP
// listener, a Unix socket, and a tiny HTTP responder driven by the same loop.
#include "probes/net_checks.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "probes/test_loop.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

/// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
int tcp_listener(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  listen(fd, 16);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

/// A port nobody listens on: bound (so nobody else takes it) but not listening.
int closed_port(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

/// A Unix stream socket listening at `path`; -1 when it cannot bind or listen.
int unix_listener(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/// An HTTP responder on the loop: /ok answers 200, /down 503, /hang never answers.
class HttpResponder {
 public:
  explicit HttpResponder(base::EventLoop& loop) : loop_(loop) {
    fd_ = tcp_listener(&port_);
    EXPECT_TRUE(loop_.watch(fd_, EPOLLIN, [this](std::uint32_t) { accept_one(); }));
  }
  ~HttpResponder() {
    for (auto& [fd, request] : clients_) {
      loop_.unwatch(fd);
      close(fd);
    }
    loop_.unwatch(fd_);
    close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests = 0;

 private:
  void accept_one() {
    int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;
    clients_[c] = "";
    EXPECT_TRUE(loop_.watch(c, EPOLLIN, [this, c](std::uint32_t) { on_client(c); }));
  }
  void on_client(int c) {
    char buf[2048];
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0) {
      loop_.unwatch(c);
      close(c);
      clients_.erase(c);
      return;
    }
    std::string& request = clients_[c];
    request.append(buf, static_cast<std::size_t>(n));
    if (request.find("\r\n\r\n") == std::string::npos) return;
    ++requests;
    if (request.rfind("GET /hang", 0) == 0) return;  // hold the connection, say nothing
    bool ok = request.rfind("GET /ok", 0) == 0;
    std::string body = ok ? "ok\n" : "down\n";
    std::string response = std::string(ok ? "HTTP/1.1 200 OK" : "HTTP/1.1 503 Unavailable") +
                           "\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nConnection: close\r\n\r\n" + body;
    EXPECT_EQ(write(c, response.data(), response.size()), static_cast<ssize_t>(response.size()));
    loop_.unwatch(c);
    close(c);
    clients_.erase(c);
  }

  base::EventLoop& loop_;
  int fd_ = -1;
  int port_ = 0;
  std::map<int, std::string> clients_;
};

/// An https server on 127.0.0.1 with a certificate of its own (self-signed, for the IP
/// 127.0.0.1 only), made with the openssl command: Python's http.server behind ssl, started
/// and stopped by pid. `other_ca` is a second self-signed certificate that signs nothing.
class TlsServer {
 public:
  TlsServer() {
    char tmpl[] = "/tmp/amata-tls-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    for (const char* name : {"server", "other"}) {
      const std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
          " -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1"
          " -keyout " +
          dir_ + "/" + name + ".key -out " + dir_ + "/" + name + ".pem 2>/dev/null";
      if (std::system(cmd.c_str()) != 0) return;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      const std::string script =
          "import http.server, ssl, sys\n"
          "class H(http.server.BaseHTTPRequestHandler):\n"
          "    def do_GET(self):\n"
          "        self.send_response(200); self.send_header('Content-Length', '0'); "
          "self.end_headers()\n"
          "    def log_message(self, *a): pass\n"
          "s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
          "c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
          "c.load_cert_chain(sys.argv[1], sys.argv[2])\n"
          "s.socket = c.wrap_socket(s.socket, server_side=True)\n"
          "sys.stdout.write(f'{s.server_address[1]}\\n'); sys.stdout.flush()\n"
          "s.serve_forever()\n";
      const std::string cert = dir_ + "/server.pem", key = dir_ + "/server.key";
      execl("/usr/bin/python3", "python3", "-c", script.c_str(), cert.c_str(), key.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    // Read up to the newline: with PYTHONUNBUFFERED set (as CI may have it) the port and
    // its newline come in separate writes, and closing after the first would kill the
    // server with EPIPE.
    std::string line;
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
    close(out[0]);
    port_ = std::atoi(line.c_str());
  }
  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  bool ok() const { return port_ > 0; }
  std::string url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(port_) + "/";
  }
  std::string ca() const { return dir_ + "/server.pem"; }
  std::string other_ca() const { return dir_ + "/other.pem"; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class NetChecksTest : public ::testing::Test {
 protected:
  void SetUp() override { loop_ = base::EventLoop::create().value(); }

  template <typename Pred>
  bool run_until(Pred done) {
    return run_loop_until(*loop_, done);
  }

  /// Runs one check to completion and returns its outcome.
  template <typename Check, typename... Args>
  CheckOutcome run(Check& check, Args&&... args) {
    bool done = false;
    CheckOutcome result;
    check.start(std::forward<Args>(args)..., [&](const CheckOutcome& o) {
      result = o;
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    return result;
  }

  std::unique_ptr<base::EventLoop> loop_;
};

TEST_F(NetChecksTest, TcpConnectSucceedsAndIsRefused) {
  int port = 0;
  int listener = tcp_listener(&port);
  ConnectCheck check(*loop_);
  auto ok = run(check, resolve_endpoint("127.0.0.1:" + std::to_string(port)).value(), 1.0);
  EXPECT_TRUE(ok.ok) << ok.error;
  EXPECT_GE(ok.latency, 0);
  EXPECT_LT(ok.latency, 5);
  close(listener);
  int dead_port = 0;
  int bound = closed_port(&dead_port);
  auto refused =
      run(check, resolve_endpoint("127.0.0.1:" + std::to_string(dead_port)).value(), 1.0);
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.error.find("refused"), std::string::npos) << refused.error;
  close(bound);
}

TEST_F(NetChecksTest, ALoopbackConnectIsAnsweredFromStart) {
  // The kernel finishes a loopback handshake (or its refusal) before connect() returns, so
  // the check reports from start() without a turn of the loop. Only usually: a deferred
  // softirq leaves it to the loop, so of twenty tries most, not all, must be answered at once.
  int port = 0;
  int listener = tcp_listener(&port);
  int dead_port = 0;
  int bound = closed_port(&dead_port);
  const Endpoint open = resolve_endpoint("127.0.0.1:" + std::to_string(port)).value();
  const Endpoint refused = resolve_endpoint("127.0.0.1:" + std::to_string(dead_port)).value();
  ConnectCheck check(*loop_);
  for (const Endpoint* to : {&open, &refused}) {
    int at_once = 0;
    for (int i = 0; i < 20; ++i) {
      bool done = false;
      CheckOutcome outcome;
      check.start(*to, 1.0, [&](const CheckOutcome& o) {
        outcome = o;
        done = true;
      });
      if (done) ++at_once;
      ASSERT_TRUE(run_until([&] { return done; }));
      EXPECT_EQ(outcome.ok, to == &open) << outcome.error;
      if (to == &refused) {
        EXPECT_EQ(outcome.error, "connect: Connection refused");
      }
      int accepted = accept(listener, nullptr, nullptr);  // keep the backlog empty
      if (accepted >= 0) close(accepted);
    }
    EXPECT_GE(at_once, 10) << (to == &open ? "open" : "refused");
  }
  close(bound);
  close(listener);
}

TEST_F(NetChecksTest, UnixSocketConnect) {
  std::string path = "/tmp/amata-nc-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  int fd = unix_listener(path);
  ASSERT_GE(fd, 0);
  ConnectCheck check(*loop_);
  auto ok = run(check, resolve_endpoint(path).value(), 1.0);
  EXPECT_TRUE(ok.ok) << ok.error;
  close(fd);
  unlink(path.c_str());
  auto missing = run(check, resolve_endpoint(path).value(), 1.0);
  EXPECT_FALSE(missing.ok);
}

TEST_F(NetChecksTest, HttpStatusAndTimeout) {
  HttpResponder server(*loop_);
  auto multi = CurlMulti::create(*loop_).value();
  HttpCheck check(*multi);
  auto ok = run(check, server.url("/ok"), 200, 2.0);
  EXPECT_TRUE(ok.ok) << ok.error;
  auto down = run(check, server.url("/down"), 200, 2.0);
  EXPECT_FALSE(down.ok);
  EXPECT_EQ(down.error, "HTTP status 503");
  // expect_status 0 accepts any 2xx.
  EXPECT_TRUE(run(check, server.url("/ok"), 0, 2.0).ok);
  EXPECT_FALSE(run(check, server.url("/down"), 0, 2.0).ok);
  auto hang = run(check, server.url("/hang"), 200, 0.3);
  EXPECT_FALSE(hang.ok);
  EXPECT_GE(hang.latency, 0.25);
  EXPECT_LT(hang.latency, 5);
  EXPECT_EQ(server.requests, 5);
}

// https: the server's certificate and its name are verified, against the CAs the check
// names or else the system's (which do not know this self-signed one).
TEST_F(NetChecksTest, HttpsVerifiesTheServerAgainstTheNamedCa) {
  TlsServer server;
  ASSERT_TRUE(server.ok()) << "openssl or python3 missing";
  auto multi = CurlMulti::create(*loop_).value();
  HttpCheck check(*multi);
  auto system_cas = run(check, server.url("127.0.0.1"), 200, 5.0);
  EXPECT_FALSE(system_cas.ok) << "a self-signed certificate passed the system's CAs";
  check.set_ca_file(server.ca());
  auto pinned = run(check, server.url("127.0.0.1"), 200, 5.0);
  EXPECT_TRUE(pinned.ok) << pinned.error;
  // The certificate names 127.0.0.1, not localhost: the name is checked too.
  auto wrong_name = run(check, server.url("localhost"), 200, 5.0);
  EXPECT_FALSE(wrong_name.ok);
  check.set_ca_file(server.other_ca());
  auto wrong_ca = run(check, server.url("127.0.0.1"), 200, 5.0);
  EXPECT_FALSE(wrong_ca.ok);
  EXPECT_NE(wrong_ca.error, "");
}

TEST_F(NetChecksTest, IcmpEchoToLoopback) {
  IcmpEcho echo(*loop_);
  auto ok = run(echo, resolve_host("127.0.0.1", 0).value(), 2.0);
  EXPECT_TRUE(ok.ok) << ok.error;
}

TEST_F(NetChecksTest, AnHttpAnswerThatCameWhileTheLoopWasBusyIsNotATimeout) {
  // The server answers from a thread of its own, at once, while the loop is busy for far
  // longer than the check's timeout: a storm of restarts must not make a healthy service
  // look sick (check_timeout.h).
  int port = 0;
  const int listener = tcp_listener(&port);
  int flags = fcntl(listener, F_GETFL);
  ASSERT_EQ(fcntl(listener, F_SETFL, flags & ~O_NONBLOCK), 0);
  std::thread server([listener] {
    const int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(c, response.data(), response.size());
    close(c);
  });
  auto multi = CurlMulti::create(*loop_).value();
  HttpCheck check(*multi);
  int busy[2];
  ASSERT_EQ(pipe2(busy, O_CLOEXEC | O_NONBLOCK), 0);
  ASSERT_TRUE(loop_->watch(busy[0], EPOLLIN, [&](std::uint32_t) {
    char c;
    (void)!read(busy[0], &c, 1);
    std::this_thread::sleep_for(500ms);
  }));
  bool done = false;
  CheckOutcome outcome;
  check.start("http://127.0.0.1:" + std::to_string(port) + "/", 200, 0.1,
              [&](const CheckOutcome& o) {
                outcome = o;
                done = true;
              });
  // Busy in the first turns: the loop's next look comes long after the timeout.
  ASSERT_EQ(write(busy[1], "x", 1), 1);
  loop_->add_timer_after(0s, [] {});
  EXPECT_TRUE(run_until([&] { return done; }));
  EXPECT_TRUE(outcome.ok) << outcome.error;
  server.join();
  loop_->unwatch(busy[0]);
  close(busy[0]);
  close(busy[1]);
  close(listener);
}

/// A listener that never accepts, its one-entry accept queue filled: a connect to it stays
/// in SYN_SENT (the kernel drops SYNs to a full queue), so a check can only time out.
class FullBacklog {
 public:
  FullBacklog() {
    listener_ = tcp_listener(&port_);
    listen(listener_, 0);
    for (int& filler : fillers_) {
      filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      // Non-blocking: the connect is left in progress, which is the point.
      (void)connect(filler, reinterpret_cast<const sockaddr*>(&endpoint().addr), endpoint().len);
    }
  }
  ~FullBacklog() {
    for (int filler : fillers_) close(filler);
    close(listener_);
  }
  const Endpoint& endpoint() {
    if (endpoint_.len == 0)
      endpoint_ = resolve_endpoint("127.0.0.1:" + std::to_string(port_)).value();
    return endpoint_;
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  int fillers_[2] = {-1, -1};
  Endpoint endpoint_;
};

TEST_F(NetChecksTest, ConnectTimesOut) {
  FullBacklog server;
  ConnectCheck check(*loop_);
  auto timed_out = run(check, server.endpoint(), 0.2);
  EXPECT_FALSE(timed_out.ok);
  EXPECT_EQ(timed_out.error, "connect: timed out");
  EXPECT_GE(timed_out.latency, 0.15);
  EXPECT_FALSE(check.busy());
}

TEST_F(NetChecksTest, CancelledChecksNeverReport) {
  FullBacklog server;
  ConnectCheck connect(*loop_);
  IcmpEcho echo(*loop_);
  int reports = 0;
  connect.start(server.endpoint(), 0.1, [&](const CheckOutcome&) { ++reports; });
  echo.start(resolve_host("127.0.0.1", 0).value(), 0.1, [&](const CheckOutcome&) { ++reports; });
  EXPECT_TRUE(connect.busy());
  EXPECT_TRUE(echo.busy());
  connect.cancel();
  echo.cancel();
  EXPECT_FALSE(connect.busy());
  EXPECT_FALSE(echo.busy());
  auto end = std::chrono::steady_clock::now() + 300ms;  // past both timeouts
  while (std::chrono::steady_clock::now() < end) ASSERT_TRUE(loop_->run_once(50ms));
  EXPECT_EQ(reports, 0);
}

TEST_F(NetChecksTest, TheNextCheckMayStartFromTheCallback) {
  int port = 0;
  int listener = tcp_listener(&port);
  Endpoint endpoint = resolve_endpoint("127.0.0.1:" + std::to_string(port)).value();
  ConnectCheck connect(*loop_);
  IcmpEcho echo(*loop_);
  std::vector<bool> outcomes;
  auto again = [&](auto& check, const Endpoint& to) {
    check.start(to, 2.0, [&, to](const CheckOutcome& first) {
      outcomes.push_back(first.ok);
      check.start(to, 2.0, [&](const CheckOutcome& second) { outcomes.push_back(second.ok); });
    });
  };
  again(connect, endpoint);
  again(echo, resolve_host("127.0.0.1", 0).value());
  EXPECT_TRUE(run_until([&] { return outcomes.size() == 4; }));
  EXPECT_EQ(outcomes, std::vector<bool>(4, true));
  close(listener);
}

TEST_F(NetChecksTest, EndpointParsing) {
  EXPECT_EQ(resolve_endpoint("127.0.0.1:80")->family, AF_INET);
  EXPECT_EQ(resolve_endpoint("[::1]:80")->family, AF_INET6);
  EXPECT_EQ(resolve_endpoint("/run/x.sock")->family, AF_UNIX);
  EXPECT_FALSE(resolve_endpoint("127.0.0.1"));  // no port
  EXPECT_FALSE(resolve_endpoint("127.0.0.1:99999"));
  EXPECT_FALSE(resolve_endpoint("127.0.0.1:http"));
}

TEST_F(NetChecksTest, ServiceHealthAndHostThroughProbeSet) {
  TestSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop_, sink, options).value();
  HttpResponder server(*loop_);
  int port = 0;
  int listener = tcp_listener(&port);
  std::string path = "/tmp/amata-nc-svc-" + std::to_string(getpid()) + ".sock";
  unlink(path.c_str());
  int ufd = unix_listener(path);
  ASSERT_GE(ufd, 0);

  using P = catalog::HealthCheckSpec::Protocol;
  catalog::ObjectSpec healthy;
  healthy.name = "web";
  healthy.kind = catalog::Kind::kService;
  healthy.health = {{P::kTcp, "127.0.0.1:" + std::to_string(port), 1.0, 1.0, 200},
                    {P::kUnix, path, 1.0, 1.0, 200},
                    {P::kHttp, server.url("/ok"), 1.0, 1.0, 200}};
  catalog::ObjectSpec sick = healthy;
  sick.name = "sick";
  sick.health.push_back({P::kHttp, server.url("/down"), 1.0, 1.0, 200});
  catalog::ObjectSpec host;
  host.name = "lo";
  host.kind = catalog::Kind::kHost;
  host.host = {catalog::HostProbeSpec::Method::kTcp, "127.0.0.1", port, 1.0};
  catalog::ObjectSpec ping = host;
  ping.host.method = catalog::HostProbeSpec::Method::kIcmp;
  ASSERT_TRUE(set->add(0, healthy));
  ASSERT_TRUE(set->add(1, sick));
  ASSERT_TRUE(set->add(2, host));
  ASSERT_TRUE(set->add(3, ping));
  set->poll_all();
  ASSERT_TRUE(run_until([&] { return !set->busy(); }));
  EXPECT_EQ(sink.number(0, "health.ok"), 1);
  EXPECT_EQ(sink.number(0, "health.failed"), 0);
  EXPECT_GE(sink.number(0, "health.latency"), 0);
  EXPECT_GE(sink.changes(0), 1);  // health is event-driven
  EXPECT_EQ(sink.number(1, "health.ok"), 0);
  EXPECT_EQ(sink.number(1, "health.failed"), 1);
  EXPECT_EQ(sink.number(2, "reachable"), 1);
  EXPECT_GE(sink.number(2, "latency"), 0);
  EXPECT_EQ(sink.number(3, "reachable"), 1);

  // The listener goes away: the next round fails the service and the host.
  close(listener);
  set->poll_all();
  ASSERT_TRUE(run_until([&] { return !set->busy(); }));
  EXPECT_EQ(sink.number(0, "health.failed"), 1);
  EXPECT_EQ(sink.number(2, "reachable"), 0);
  set.reset();
  close(ufd);
  unlink(path.c_str());
}

TEST_F(NetChecksTest, HealthFailuresCountOnlyAfterAServicesStartGrace) {
  TestSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop_, sink, options).value();
  int port = 0;
  close(tcp_listener(&port));  // nothing listens there now
  using P = catalog::HealthCheckSpec::Protocol;
  catalog::ObjectSpec starting;
  starting.name = "starting";
  starting.kind = catalog::Kind::kService;
  starting.grace = 60;
  starting.health = {{P::kTcp, "127.0.0.1:" + std::to_string(port), 1.0, 1.0, 200}};
  catalog::ObjectSpec started = starting;
  started.name = "started";
  started.grace = 0;
  catalog::ObjectSpec asked = starting;
  asked.name = "asked";
  ASSERT_TRUE(set->add(0, starting));
  ASSERT_TRUE(set->add(1, started));
  ASSERT_TRUE(set->add(2, asked));
  // The engine started two (this test process stands in for their child); the third is
  // asked of the spawner, its process not there yet, as in a storm's queue.
  ASSERT_TRUE(set->follow(0, getpid()));
  ASSERT_TRUE(set->follow(1, getpid()));
  ASSERT_TRUE(set->starting(2));
  set->poll_all();
  ASSERT_TRUE(run_until([&] { return !set->busy(); }));
  EXPECT_EQ(sink.number(0, "health.failed"), 0);  // still coming up: not yet a failure
  EXPECT_EQ(sink.number(0, "health.ok"), 1);
  EXPECT_EQ(sink.number(1, "health.failed"), 1);
  EXPECT_EQ(sink.number(1, "health.ok"), 0);
  EXPECT_EQ(sink.number(2, "health.failed"), 0);  // its grace runs from the request
  EXPECT_EQ(sink.number(2, "health.ok"), 1);
}

TEST_F(NetChecksTest, PeriodicHealthChecksRunOnTheirInterval) {
  TestSink sink;
  ProbeOptions options;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*loop_, sink, options).value();
  HttpResponder server(*loop_);
  catalog::ObjectSpec svc;
  svc.name = "web";
  svc.kind = catalog::Kind::kService;
  svc.every = 10;  // the process part rarely; health every 0.1 s
  svc.health = {{catalog::HealthCheckSpec::Protocol::kHttp, server.url("/ok"), 0.1, 1.0, 200}};
  ASSERT_TRUE(set->add(0, svc));
  set->start();
  ASSERT_TRUE(run_until([&] { return server.requests >= 3; }));
  EXPECT_EQ(sink.number(0, "health.ok"), 1);
  set.reset();
}

}  // namespace
}  // namespace amata::probes
