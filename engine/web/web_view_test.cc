// The routes against a fake console (a Unix socket speaking the protocol's JSON lines with
// canned answers) and a real httplib server: what a browser gets, the 404 page, a console that
// does not answer, and the live stream with its cap.
#include "engine/web/web_view.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

namespace amata::web {
namespace {

using Json = nlohmann::json;

// A console that answers status, rules, explain and events; a follow gets its history, then
// one streamed event after 100 ms, and stays open until the client goes.
class FakeConsole {
 public:
  explicit FakeConsole(std::string path) : path_(std::move(path)) {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    unlink(path_.c_str());
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~FakeConsole() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : connections_) t.join();
    close(listen_fd_);
    unlink(path_.c_str());
  }
  FakeConsole(const FakeConsole&) = delete;
  FakeConsole& operator=(const FakeConsole&) = delete;

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (poll(&pfd, 1, 50) <= 0) continue;
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  static void send_line(int fd, const Json& value) {
    std::string line = value.dump() + "\n";
    (void)send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  }

  void serve(int fd) {
    std::string buffer;
    bool following = false;
    auto follow_at = std::chrono::steady_clock::now();
    while (!stop_) {
      pollfd pfd{fd, POLLIN, 0};
      int ready = poll(&pfd, 1, 20);
      if (following && std::chrono::steady_clock::now() > follow_at) {
        following = false;
        send_line(fd, {{"id", 1},
                       {"stream", "events"},
                       {"event",
                        {{"id", 12},
                         {"at_unix_ms", 1764900001000},
                         {"type", "cleared"},
                         {"object", "web"},
                         {"message", "ServiceDown(web) cleared\nsecond line"}}}});
      }
      if (ready <= 0) continue;
      char chunk[4096];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        Json request = Json::parse(buffer.substr(0, nl));
        buffer.erase(0, nl + 1);
        Json reply = answer(request);
        send_line(fd, reply);
        if (request["cmd"] == "events" && request["args"].value("follow", false)) {
          following = true;
          follow_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
        }
      }
    }
    close(fd);
  }

  static Json answer(const Json& request) {
    const std::string cmd = request["cmd"];
    Json ok = {{"id", request["id"]}, {"ok", true}};
    if (cmd == "status") {
      ok["result"] = Json::parse(R"({"policy": "fake", "objects": [
        {"name": "web<1>", "kind": "service", "state": "running", "monitored": true,
         "restarts": 0, "attributes": {"cpu": 2.5}}]})");
    } else if (cmd == "rules") {
      ok["result"] = Json::parse(R"({"rules": [{"name": "down[web]", "state": "armed"}]})");
    } else if (cmd == "explain" && request["args"]["rule"] == "down[web]") {
      ok["result"] = Json::parse(R"({"rule": "down[web]", "state": "armed", "reason": "no",
        "condition": {"text": "not web.alive", "value": false, "children": []}})");
    } else if (cmd == "history" && request["args"].value("object", "") == "web<1>") {
      // Two points of the last minute, whatever the time is now.
      const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      ok["result"] = {{"object", "web<1>"},
                      {"step_ms", 10000},
                      {"series", {{"cpu", {{now - 20000, 1.5}, {now - 10000, 2.5}}}}}};
    } else if (cmd == "history" && !request["args"].contains("object") &&
               request["args"].value("attribute", Json()) == Json::array({"cpu"}) &&
               request["args"].value("since_unix_ms", Json()).is_number_integer()) {
      // The overview's batch (asked for the attributes its rows show, and only the last half
      // hour): web<1>'s cpu of the last half minute.
      const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
      ok["result"] = {
          {"step_ms", 10000},
          {"asked", request["args"]},
          {"objects", {{"web<1>", {{"cpu", {{now - 20000, 1.5}, {now - 10000, 2.5}}}}}}}};
    } else if (cmd == "events") {
      ok["result"] = Json::parse(R"({"events": [
        {"id": 10, "at_unix_ms": 1764900000000, "type": "raised", "object": "web"},
        {"id": 11, "at_unix_ms": 1764900000500, "type": "action", "object": "web"}]})");
    } else {
      return {
          {"id", request["id"]},
          {"ok", false},
          {"error",
           {{"code", cmd == "explain" ? "unknown_rule" : "unknown_command"}, {"message", "no"}}}};
    }
    return ok;
  }

  std::string path_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

class WebViewTest : public ::testing::Test {
 protected:
  void start(std::size_t max_streams = kMaxStreams, bool with_console = true) {
    dir_ = std::filesystem::temp_directory_path() /
           ("web_view_test." + std::to_string(getpid()) + "." + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    const std::string socket = (dir_ / "console.sock").string();
    if (with_console) console_ = std::make_unique<FakeConsole>(socket);
    view_ = std::make_unique<WebView>(WebOptions{.socket_path = socket,
                                                 .max_streams = max_streams,
                                                 .reply_timeout = std::chrono::seconds(2)});
    server_.new_task_queue = [] { return new httplib::ThreadPool(8); };
    view_->mount(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  void TearDown() override {
    if (view_) view_->stop();
    server_.stop();
    if (thread_.joinable()) thread_.join();
    console_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(5, 0);
    return c;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<FakeConsole> console_;
  std::unique_ptr<WebView> view_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(WebViewTest, PagesComeFromTheConsoleEscaped) {
  start();
  auto c = client();
  auto overview = c.Get("/");
  ASSERT_TRUE(overview);
  EXPECT_EQ(overview->status, 200);
  EXPECT_EQ(overview->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(overview->get_header_value("Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  EXPECT_NE(overview->body.find("web&lt;1&gt;"), std::string::npos);
  EXPECT_EQ(overview->body.find("web<1>"), std::string::npos);

  auto explain = c.Get("/rules/down%5Bweb%5D");
  ASSERT_TRUE(explain);
  EXPECT_EQ(explain->status, 200);
  EXPECT_NE(explain->body.find("<code>not web.alive</code>"), std::string::npos);

  auto events = c.Get("/events?object=web&limit=5");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->status, 200);
  EXPECT_NE(events->body.find("data-stream=\"/events/stream?since=1764900000500&amp;object=web\""),
            std::string::npos);

  auto css = c.Get("/static/web.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_NE(css->body.find(".badge.red"), std::string::npos);
  auto js = c.Get("/static/web.js");
  ASSERT_TRUE(js);
  EXPECT_NE(js->body.find("EventSource"), std::string::npos);
}

TEST_F(WebViewTest, ObjectPageChartsTheHistoryAndTheOverviewLinksThere) {
  start();
  auto c = client();
  auto overview = c.Get("/");
  ASSERT_TRUE(overview);
  EXPECT_NE(overview->body.find(R"(<a href="/objects/web%3C1%3E">web&lt;1&gt;</a>)"),
            std::string::npos);
  // One batch `history` gave the row's cpu its sparkline.
  EXPECT_NE(overview->body.find(R"(cpu <b>2.5%</b> <svg class="spark line green")"),
            std::string::npos)
      << overview->body;
  auto page = c.Get("/objects/web%3C1%3E");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find(R"(<path class="line")"), std::string::npos);
  EXPECT_NE(page->body.find("restarts: 0 in the last hour"), std::string::npos);
  EXPECT_EQ(page->body.find("web<1>"), std::string::npos);
  auto unknown = c.Get("/objects/nope");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("<!DOCTYPE html>"), std::string::npos);
}

TEST_F(WebViewTest, UnknownPathsRulesAndAbsentClusterAre404Pages) {
  start();
  auto c = client();
  for (const char* path : {"/nope", "/rules/unknown", "/cluster", "/static/other.js"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("<!DOCTYPE html>"), std::string::npos) << path;
  }
  auto r = c.Get("/a%3Cb%3E");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("/a&lt;b&gt;"), std::string::npos);
}

TEST_F(WebViewTest, AConsoleThatDoesNotAnswerIsA503PageNotAHang) {
  start(kMaxStreams, /*with_console=*/false);
  auto r = client().Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("did not answer"), std::string::npos);
  auto stream = client().Get("/events/stream");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->status, 503);
  EXPECT_EQ(view_->streams(), 0u);
}

TEST_F(WebViewTest, StreamSendsTheHistoryThenLiveRowsWithTheirTimesAsIds) {
  start();
  auto c = client();
  std::string received;
  auto r = c.Get("/events/stream?since=1764900000000", [&](const char* data, std::size_t length) {
    received.append(data, length);
    return received.find("data-id=\"12\"") == std::string::npos;  // stop once the live row came
  });
  EXPECT_EQ(r.error(), httplib::Error::Canceled);
  EXPECT_NE(received.find("retry: 1000\n\n"), std::string::npos);
  EXPECT_NE(received.find("id: 1764900000500\ndata: <tr data-id=\"11\">"), std::string::npos);
  EXPECT_LT(received.find("data-id=\"11\""), received.find("data-id=\"12\""));
  // A message with a newline is two data lines, not the end of the SSE message.
  EXPECT_NE(received.find("ServiceDown(web) cleared\ndata: second line</td></tr>\n\n"),
            std::string::npos);
}

TEST_F(WebViewTest, StreamsAreCappedAndTheNextGets503) {
  start(/*max_streams=*/1);
  std::atomic<bool> open{false};
  std::atomic<bool> leave{false};
  std::thread holder([&] {
    auto c = client();
    c.Get("/events/stream", [&](const char*, std::size_t) {
      open = true;
      return !leave.load();
    });
  });
  for (int i = 0; i < 500 && !open; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(open);
  EXPECT_EQ(view_->streams(), 1u);
  auto refused = client().Get("/events/stream");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  // Pages still work while the stream holds its worker.
  auto page = client().Get("/rules");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  leave = true;
  holder.join();
  // The slot comes back once the server notices the browser left (a write fails).
  for (int i = 0; i < 1000 && view_->streams() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(view_->streams(), 0u);
}

TEST(SseMessage, SplitsEveryKindOfLineBreak) {
  EXPECT_EQ(sse_message("3", "a"), "id: 3\ndata: a\n\n");
  EXPECT_EQ(sse_message("", "a\nb\r\nc\rd"), "data: a\ndata: b\ndata: c\ndata: d\n\n");
}

}  // namespace
}  // namespace amata::web
