#include "engine/metrics/http_gate.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/metrics/loopback_for_tests.h"

namespace amata::metrics {
namespace {

using metrics::testing::tcp_connect;

using Verdict = RequestCheck::Verdict;
using namespace std::chrono_literals;

GateLimits small_limits() {
  GateLimits limits;
  limits.max_head_bytes = 64;
  limits.max_body_bytes = 16;
  return limits;
}

TEST(CheckRequest, WaitsForTheBlankLineThatEndsTheHead) {
  EXPECT_EQ(check_request("GET / HTTP/1.1\r\nHost: x\r\n", small_limits()).verdict,
            Verdict::kIncomplete);
  const std::string whole = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  auto check = check_request(whole, small_limits());
  EXPECT_EQ(check.verdict, Verdict::kComplete);
  EXPECT_EQ(check.bytes, whole.size());
  // Bare newlines, and blank lines before the request line, as RFC 9112 lets a server take.
  EXPECT_EQ(check_request("GET / HTTP/1.1\nHost: x\n\n", small_limits()).verdict,
            Verdict::kComplete);
  const std::string leading = "\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(check_request(leading, small_limits()).bytes, leading.size());
}

TEST(CheckRequest, WaitsForTheWholeBodyAndNoMore) {
  const std::string head = "POST /x HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n";
  EXPECT_EQ(check_request(head + "ab", small_limits()).verdict, Verdict::kIncomplete);
  auto check = check_request(head + "abcdeGET / HTTP/1.1\r\n\r\n", small_limits());
  EXPECT_EQ(check.verdict, Verdict::kComplete);
  EXPECT_EQ(check.bytes, head.size() + 5);
  // The same length twice is one length.
  EXPECT_EQ(check_request("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nz",
                          small_limits())
                .verdict,
            Verdict::kComplete);
}

TEST(CheckRequest, RefusesWhatCannotBeServed) {
  EXPECT_EQ(check_request(std::string(64, 'a'), small_limits()).verdict, Verdict::kHeadTooLarge);
  EXPECT_EQ(
      check_request("GET / HTTP/1.1\r\nX: " + std::string(60, 'a') + "\r\n\r\n", small_limits())
          .verdict,
      Verdict::kHeadTooLarge);
  EXPECT_EQ(check_request("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", small_limits()).verdict,
            Verdict::kBodyTooLarge);
  EXPECT_EQ(check_request("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", small_limits())
                .verdict,
            Verdict::kLengthRequired);
  for (const char* length : {"abc", "-1", "5 5", ""}) {
    EXPECT_EQ(
        check_request(std::string("POST / HTTP/1.1\r\nContent-Length: ") + length + "\r\n\r\n",
                      small_limits())
            .verdict,
        Verdict::kBad)
        << length;
  }
  EXPECT_EQ(check_request("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nzz",
                          small_limits())
                .verdict,
            Verdict::kBad);
}

// A gated server on 127.0.0.1 with three routes; /hold answers once the test lets it.
class Running {
 public:
  explicit Running(GateLimits limits) : server_(limits) {
    server_.Get("/hello", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("hello", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& request, httplib::Response& response) {
      response.set_content(request.body, "text/plain");
    });
    server_.Get("/hold", [this](const httplib::Request&, httplib::Response& response) {
      std::unique_lock lock(mutex_);
      held_++;
      changed_.notify_all();
      changed_.wait(lock, [this] { return released_; });
      response.set_content("held", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    EXPECT_TRUE(server_.deepen_backlog());
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Running() {
    release();
    server_.stop();
    thread_.join();
    server_.close_gate();
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  int port() const { return port_; }
  GatedServer& server() { return server_; }
  bool wait_until_held(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return held_ >= count; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  httplib::Result get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    return client.Get(path);
  }

 private:
  GatedServer server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable changed_;
  int held_ = 0;
  bool released_ = false;
};

void send_text(int fd, const std::string& text) {
  ASSERT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// What the server sends until it closes the connection (or 10 s pass).
std::string read_until_closed(int fd) {
  std::string received;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < give_up) {
    pollfd entry{fd, POLLIN, 0};
    if (poll(&entry, 1, 200) <= 0) continue;
    char chunk[4096];
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  return received;
}

int count(const std::string& text, const std::string& what) {
  int found = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) found++;
  return found;
}

TEST(GatedServer, ServesKeptAlivePipelinedAndSplitRequests) {
  Running running{GateLimits{}};
  int fd = tcp_connect(running.port());
  ASSERT_GE(fd, 0);
  // Three requests in one write, the last one asking to close; then the body of a POST that
  // arrives in two pieces.
  send_text(fd,
            "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
            "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n"
            "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\nfirst");
  std::this_thread::sleep_for(100ms);
  send_text(fd, "ish");
  send_text(fd, "GET /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::string answers = read_until_closed(fd);
  close(fd);
  EXPECT_EQ(count(answers, "HTTP/1.1 200 OK"), 4) << answers;
  EXPECT_EQ(count(answers, "hello"), 3) << answers;
  EXPECT_EQ(count(answers, "firstish"), 1) << answers;
  EXPECT_EQ(running.server().counters().requests, 4U);
}

TEST(GatedServer, IdleConnectionsDoNotKeepARequestOut) {
  GateLimits limits;
  limits.max_waiting = 32;
  Running running{limits};
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    int fd = tcp_connect(running.port());
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // The oldest make room for the newest, so the gate holds at most its bound.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (running.server().counters().evicted < 200 - 32 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(running.server().counters().evicted, 200U - 32U);
  EXPECT_LE(running.server().counters().waiting, 32U);
  auto answer = running.get("/hello");
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200);
  // An evicted connection was closed: it reads the end, not a wait.
  EXPECT_EQ(read_until_closed(idle.front()), "");
  for (int fd : idle) close(fd);
}

TEST(GatedServer, SlowClientsAreCutAtTheirDeadline) {
  GateLimits limits;
  limits.head_timeout = 1s;
  Running running{limits};
  std::vector<int> slow;
  for (int i = 0; i < 40; ++i) {
    int fd = tcp_connect(running.port());
    ASSERT_GE(fd, 0);
    send_text(fd, "GET /hello HTTP/1.1\r\n");
    slow.push_back(fd);
  }
  // A header byte from each every 100 ms: each read succeeds, so a per-read timeout (what
  // httplib has) never fires.
  std::atomic<bool> done{false};
  std::thread drip([&] {
    while (!done) {
      for (int fd : slow) send(fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(100ms);
    }
  });
  auto answer = running.get("/hello");
  std::vector<std::string> endings;
  endings.reserve(slow.size());
  for (int fd : slow) endings.push_back(read_until_closed(fd));
  done = true;
  drip.join();
  ASSERT_TRUE(answer) << httplib::to_string(answer.error());
  EXPECT_EQ(answer->status, 200);
  // Each ended by the server within read_until_closed's 10 s: a 408 it heard, or (when its
  // next byte crossed the close) a reset.
  for (const auto& ending : endings) {
    EXPECT_TRUE(ending.empty() || ending.rfind("HTTP/1.1 408", 0) == 0) << ending;
  }
  EXPECT_EQ(running.server().counters().timed_out, 40U);
  for (int fd : slow) close(fd);
}

TEST(GatedServer, AnswersWhatItWillNotServe) {
  GateLimits limits;
  limits.max_head_bytes = 1024;
  limits.max_body_bytes = 1024;
  Running running{limits};
  struct Case {
    std::string request;
    std::string status;
  };
  const std::vector<Case> cases = {
      {"GET /hello HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n", "431"},
      {"POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", "413"},
      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "411"},
      {"POST /echo HTTP/1.1\r\nContent-Length: twelve\r\n\r\n", "400"},
  };
  for (const auto& c : cases) {
    int fd = tcp_connect(running.port());
    ASSERT_GE(fd, 0);
    send_text(fd, c.request);
    std::string answer = read_until_closed(fd);
    close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + c.status, 0), 0U) << c.status << ": " << answer;
  }
  EXPECT_EQ(running.server().counters().refused, cases.size());
  EXPECT_EQ(running.server().counters().requests, 0U);
}

TEST(GatedServer, AnswersBusyWhenTheQueueIsFull) {
  GateLimits limits;
  limits.workers = 1;
  limits.max_queued = 1;
  Running running{limits};
  std::vector<int> fds;
  fds.reserve(3);
  for (int i = 0; i < 3; ++i) {
    fds.push_back(tcp_connect(running.port()));
    ASSERT_GE(fds.back(), 0);
    send_text(fds.back(), "GET /hold HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    // The first takes the only worker before the second queues and the third is refused.
    if (i == 0) {
      ASSERT_TRUE(running.wait_until_held(1));
    }
    if (i == 1) {
      while (running.server().counters().requests < 2) std::this_thread::sleep_for(1ms);
    }
  }
  EXPECT_EQ(read_until_closed(fds[2]).rfind("HTTP/1.1 503", 0), 0U);
  running.release();
  EXPECT_EQ(count(read_until_closed(fds[0]), "held"), 1);
  EXPECT_EQ(count(read_until_closed(fds[1]), "held"), 1);
  EXPECT_EQ(running.server().counters().overloaded, 1U);
  for (int fd : fds) close(fd);
}

TEST(GatedServer, CountersReadAsPrometheusText) {
  GateCounters counters;
  counters.waiting = 3;
  counters.evicted = 7;
  const std::string text = render_gate_counters(counters);
  EXPECT_NE(text.find("amata_http_waiting_connections 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("amata_http_dropped_total{reason=\"evicted\"} 7\n"), std::string::npos);
}

}  // namespace
}  // namespace amata::metrics
