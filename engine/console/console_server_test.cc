// Tests of the console server over its real Unix socket: the loop runs on the test's main
// thread (as in amatad) and clients are threads or forked processes doing blocking I/O.
#include "engine/console/console_server.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "engine/console/client.h"
#include "engine/console/ctl.h"
#include "engine/console/test_backend.h"

namespace amata::console {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
using testing::make_cluster_event;
using testing::make_event;
using testing::make_membership_event;
using testing::RecordingBackend;

class ConsoleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amata-console-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Traversable by the unprivileged children of the permission tests.
    ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.error().message;
    loop_ = std::move(loop).value();
    config_.socket_path = dir_ + "/amatad.sock";
    config_.log = [this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(log_mutex_);
      log_.emplace_back(line);
    };
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start() {
    auto server = ConsoleServer::start(*loop_, backend_, config_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }

  /// Runs the loop until `done` holds; fails the test after 20 s.
  void pump_until(const std::function<bool()>& done,
                  const std::function<void()>& each_turn = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
      ASSERT_TRUE(loop_->run_once(5ms).ok());
      if (each_turn) each_turn();
    }
  }

  /// Runs `body` on a client thread while the loop serves it on this thread.
  void with_client_thread(const std::function<void()>& body) {
    std::atomic<bool> finished{false};
    std::thread thread([&] {
      body();
      finished = true;
    });
    pump_until([&] { return finished.load(); });
    thread.join();
  }

  ConsoleClient connect() {
    auto client = ConsoleClient::connect(config_.socket_path);
    if (!client) throw std::runtime_error(client.error().message);
    return std::move(client).value();
  }

  Json call(const std::string& cmd, const Json& args = Json::object()) {
    Json reply;
    with_client_thread([&] {
      auto client = connect();
      auto r = client.call(cmd, args);
      reply = r ? *r : Json{{"client_error", r.error().message}};
    });
    return reply;
  }

  bool logged(std::string_view fragment) {
    std::lock_guard<std::mutex> lock(log_mutex_);
    for (const auto& line : log_) {
      if (line.find(fragment) != std::string::npos) return true;
    }
    return false;
  }

  /// Forks a child that drops to `uid`/`gid` (with `groups` as supplementary groups) and
  /// returns `child()`'s value as its exit status, serving the console meanwhile.
  int as_user(uid_t uid, gid_t gid, std::vector<gid_t> groups, const std::function<int()>& child) {
    pid_t pid = fork();
    if (pid == 0) {
      if (setgroups(groups.size(), groups.data()) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        _exit(100);
      }
      if (getuid() != uid || geteuid() != uid) _exit(101);
      _exit(child());
    }
    EXPECT_GT(pid, 0);
    int status = -1;
    pump_until([&] { return waitpid(pid, &status, WNOHANG) == pid; });
    EXPECT_TRUE(WIFEXITED(status));
    return WEXITSTATUS(status);
  }

  std::string dir_;
  std::unique_ptr<base::EventLoop> loop_;
  RecordingBackend backend_;
  ConsoleConfig config_;
  std::unique_ptr<ConsoleServer> server_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(ConsoleServerTest, StatusRoundTripsOverTheSocket) {
  start();
  Json reply = call("status");
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["id"], 1);
  EXPECT_EQ(reply["result"], backend_.status_result);
  EXPECT_EQ(backend_.count("status"), 1u);
}

TEST_F(ConsoleServerTest, SocketIsCreated0660AndOwnedByTheConsoleGroup) {
  config_.group = "nogroup";
  start();
  struct stat st {};
  ASSERT_EQ(lstat(config_.socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, getgrnam("nogroup")->gr_gid);
  server_.reset();
  EXPECT_NE(access(config_.socket_path.c_str(), F_OK), 0) << "the socket is removed on shutdown";
}

TEST_F(ConsoleServerTest, UnknownGroupIsAnError) {
  config_.group = "no-such-group-amata";
  auto server = ConsoleServer::start(*loop_, backend_, config_);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().message.find("no-such-group-amata"), std::string::npos);
}

TEST_F(ConsoleServerTest, ReplacesAStaleSocketButNotALiveOneOrAFile) {
  start();
  // A second server on the same path must not steal the live socket.
  auto second = ConsoleServer::start(*loop_, backend_, config_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("another server"), std::string::npos);
  // A stale socket file (no listener) is replaced.
  std::string stale = dir_ + "/stale.sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", stale.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);
  ConsoleConfig stale_config = config_;
  stale_config.socket_path = stale;
  auto replaced = ConsoleServer::start(*loop_, backend_, stale_config);
  EXPECT_TRUE(replaced.ok());
  // A regular file is never removed.
  std::string file = dir_ + "/not-a-socket";
  std::ofstream(file) << "data";
  stale_config.socket_path = file;
  auto refused = ConsoleServer::start(*loop_, backend_, stale_config);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(std::filesystem::exists(file));
}

TEST_F(ConsoleServerTest, EveryCommandReachesTheBackend) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto rules = client.call("rules");
    EXPECT_EQ((*rules)["result"]["rules"][0]["state"], "pending");
    auto version = client.call("version");
    EXPECT_EQ((*version)["result"]["protocol"], kProtocolVersion);
    EXPECT_EQ((*version)["result"]["amatad"], "0.1.0");
    auto explain = client.call("explain", {{"rule", "hot"}});
    EXPECT_EQ((*explain)["result"]["condition"]["children"][0]["value"], 95.5);
    auto unknown_rule = client.call("explain", {{"rule", "cold"}});
    EXPECT_EQ((*unknown_rule)["error"]["code"], "unknown_rule");
    for (const char* verb : {"restart", "start", "stop", "monitor", "unmonitor"}) {
      auto reply = client.call(verb, {{"object", "web"}});
      EXPECT_EQ((*reply)["ok"], true) << verb;
      EXPECT_EQ((*reply)["result"]["verb"], verb);
    }
    auto unknown_object = client.call("restart", {{"object", "nope"}});
    EXPECT_EQ((*unknown_object)["error"]["code"], "unknown_object");
    auto no_object = client.call("restart");
    EXPECT_EQ((*no_object)["error"]["code"], "bad_request");
    auto reload = client.call("reload");
    EXPECT_EQ((*reload)["ok"], true);
    auto rejected = client.call("reload", {{"file", "bad.amata"}});
    EXPECT_EQ((*rejected)["error"]["code"], "policy_rejected");
    EXPECT_EQ((*rejected)["error"]["details"]["diagnostics"][0]["line"], 3);
  });
  EXPECT_EQ(backend_.count("restart web"), 1u);
  EXPECT_EQ(backend_.count("unmonitor web"), 1u);
  EXPECT_EQ(backend_.count("restart nope"), 1u);
  EXPECT_EQ(backend_.count("reload -"), 1u);
  EXPECT_EQ(backend_.count("reload bad.amata"), 1u);
  EXPECT_EQ(backend_.count("explain hot"), 1u);
}

TEST_F(ConsoleServerTest, AControlCommandSaysWhomItIsFor) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto reply = client.call("restart", {{"object", "web"}, {"on_behalf_of", "web:alice"}});
    EXPECT_EQ((*reply)["ok"], true);
    auto waited = client.call(
        "stop", {{"object", "web"}, {"wait", true}, {"on_behalf_of", "web:bob from 127.0.0.1"}});
    EXPECT_EQ((*waited)["ok"], true);
    // One line of printable text, at most 128 bytes: it goes into the history as it is.
    auto forged = client.call("restart", {{"object", "web"}, {"on_behalf_of", "a\nb"}});
    EXPECT_EQ((*forged)["error"]["code"], "bad_request");
    auto too_long =
        client.call("restart", {{"object", "web"}, {"on_behalf_of", std::string(129, 'x')}});
    EXPECT_EQ((*too_long)["error"]["code"], "bad_request");
    auto not_text = client.call("restart", {{"object", "web"}, {"on_behalf_of", 7}});
    EXPECT_EQ((*not_text)["error"]["code"], "bad_request");
  });
  EXPECT_EQ(backend_.count("restart web for web:alice"), 1u);
  EXPECT_EQ(backend_.count("stop --wait web for web:bob from 127.0.0.1"), 1u);
  EXPECT_EQ(backend_.count("restart web"), 0u);  // the refused ones never reached it
  EXPECT_TRUE(logged("restart web by pid")) << "logged with the uid";
  EXPECT_TRUE(logged("for web:alice"));
}

TEST_F(ConsoleServerTest, HistoryChecksItsArgumentsAndReachesTheBackend) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto all = client.call("history", {{"object", "web"}});
    ASSERT_EQ((*all)["ok"], true);
    EXPECT_EQ((*all)["result"]["object"], "web");
    EXPECT_EQ((*all)["result"]["step_ms"], 10000);
    EXPECT_EQ((*all)["result"]["series"]["cpu"][0][1], 3.2);
    EXPECT_TRUE((*all)["result"]["series"]["cpu"][1][1].is_null());
    EXPECT_EQ((*all)["result"]["series"].size(), 2u);
    auto one = client.call(
        "history", {{"object", "web"}, {"attribute", "cpu"}, {"since_unix_ms", 1764081005000}});
    ASSERT_EQ((*one)["ok"], true);
    EXPECT_EQ((*one)["result"]["series"].size(), 1u);
    EXPECT_EQ((*one)["result"]["series"]["cpu"].size(), 1u);
    auto unknown = client.call("history", {{"object", "nope"}});
    EXPECT_EQ((*unknown)["error"]["code"], "unknown_object");
    // Without an object: the batch form, every object's series under "objects".
    auto batch = client.call("history", Json::object());
    ASSERT_EQ((*batch)["ok"], true);
    EXPECT_EQ((*batch)["result"]["step_ms"], 10000);
    EXPECT_EQ((*batch)["result"]["objects"]["web"]["cpu"][0][1], 3.2);
    auto some =
        client.call("history", {{"attribute", Json::array({"rss", "mem"})}, {"since_unix_ms", 5}});
    ASSERT_EQ((*some)["ok"], true);
    EXPECT_EQ((*some)["result"]["objects"]["web"].size(), 1u);
    EXPECT_TRUE((*some)["result"]["objects"]["web"].contains("rss"));
    Json too_many = Json::array();
    for (int i = 0; i < 65; ++i) too_many.push_back("a" + std::to_string(i));
    for (const Json& args :
         {Json{{"object", ""}}, Json{{"object", 7}}, Json{{"object", "web"}, {"attribute", 1}},
          Json{{"attribute", Json::array()}}, Json{{"attribute", Json::array({"cpu", 1})}},
          Json{{"attribute", too_many}},
          Json{{"object", "web"}, {"since_unix_ms", "an hour ago"}}}) {
      auto bad = client.call("history", args);
      EXPECT_EQ((*bad)["error"]["code"], "bad_request") << args.dump();
    }
  });
  EXPECT_EQ(backend_.count("history web * -"), 1u);
  EXPECT_EQ(backend_.count("history web cpu 1764081005000"), 1u);
  EXPECT_EQ(backend_.count("history nope * -"), 1u);
  EXPECT_EQ(backend_.count("history (all) * -"), 1u);
  EXPECT_EQ(backend_.count("history (all) rss,mem 5"), 1u);
  EXPECT_EQ(backend_.calls.size(), 5u);  // the bad requests never reach it
}

TEST_F(ConsoleServerTest, GarbageGetsAnErrorReplyAndALogLineAndTheConnectionSurvives) {
  start();
  with_client_thread([&] {
    auto client = connect();
    for (const char* garbage :
         {"this is not json", "[1,2,3]", "{\"cmd\": 5}", "{\"id\": {}, \"cmd\": \"status\"}",
          "{\"cmd\": \"status\", \"args\": []}", "{\"cmd\": \"explain\", \"args\": {\"rule\": 7}}",
          "{\"cmd\": \"events\", \"args\": {\"since_unix_ms\": \"yesterday\"}}", "\xff\xfe{\"cmd\"",
          "{\"cmd\": \"selfdestruct\"}"}) {
      ASSERT_TRUE(client.send_raw(garbage).ok());
      auto reply = client.read_line();
      ASSERT_TRUE(reply.ok()) << garbage;
      EXPECT_EQ((*reply)["ok"], false) << garbage;
      std::string code = (*reply)["error"]["code"];
      EXPECT_TRUE(code == "bad_request" || code == "unknown_command") << garbage << ": " << code;
    }
    auto status = client.call("status");
    ASSERT_TRUE(status.ok());
    EXPECT_EQ((*status)["ok"], true);
  });
  EXPECT_TRUE(logged("malformed request 'this is not json'"));
  EXPECT_GE(server_->stats().bad_requests, 8u);
}

TEST_F(ConsoleServerTest, OversizedRequestIsRefusedAndTheConnectionClosed) {
  start();
  with_client_thread([&] {
    // A complete line over the limit.
    auto client = connect();
    std::string huge =
        "{\"cmd\": \"status\", \"pad\": \"" + std::string(std::size_t{70} * 1024, 'x') + "\"}";
    ASSERT_TRUE(client.send_raw(huge).ok());
    auto reply = client.read_line();
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ((*reply)["error"]["code"], "request_too_large");
    EXPECT_FALSE(client.read_line(5s).ok()) << "the server closes after the refusal";

    // A line that never ends: refused as soon as it passes the limit, not buffered forever.
    auto endless = connect();
    std::string chunk(std::size_t{16} * 1024, 'y');
    Result<Json> refusal = Error{"no reply"};
    for (int i = 0; i < 64; ++i) {
      if (send(endless.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL) < 0) break;
    }
    refusal = endless.read_line();
    ASSERT_TRUE(refusal.ok()) << refusal.error().message;
    EXPECT_EQ((*refusal)["error"]["code"], "request_too_large");
  });
  EXPECT_TRUE(logged("exceeds"));
  pump_until([&] { return server_->client_count() == 0; });
}

TEST_F(ConsoleServerTest, UnsupportedProtocolVersionIsRefused) {
  start();
  with_client_thread([&] {
    auto client = connect();
    ASSERT_TRUE(client.send_raw(R"({"id": 9, "protocol": 99, "cmd": "status"})").ok());
    auto reply = client.read_line();
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ((*reply)["id"], 9);
    EXPECT_EQ((*reply)["error"]["code"], "unsupported_protocol");
    EXPECT_EQ((*reply)["error"]["details"]["protocol"], kProtocolVersion);
  });
  EXPECT_EQ(backend_.count("status"), 0u);
}

TEST_F(ConsoleServerTest, BackendExceptionBecomesAnInternalErrorAndTheLoopCarriesOn) {
  start();
  backend_.throw_on_status = true;
  Json reply = call("status");
  EXPECT_EQ(reply["error"]["code"], "internal");
  EXPECT_TRUE(logged("status table is being rebuilt"));
  backend_.throw_on_status = false;
  EXPECT_EQ(call("status")["ok"], true);
}

TEST_F(ConsoleServerTest, RateLimitPerClient) {
  config_.request_burst = 5;
  config_.requests_per_second = 1;
  start();
  int ok = 0, limited = 0;
  with_client_thread([&] {
    auto client = connect();
    std::string batch;
    for (int i = 0; i < 30; ++i)
      batch += "{\"id\": " + std::to_string(i) + ", \"cmd\": \"version\"}\n";
    ASSERT_EQ(send(client.fd(), batch.data(), batch.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(batch.size()));
    for (int i = 0; i < 30; ++i) {
      auto reply = client.read_line();
      ASSERT_TRUE(reply.ok());
      if ((*reply)["ok"] == true)
        ++ok;
      else if ((*reply)["error"]["code"] == "rate_limited")
        ++limited;
    }
  });
  // 5 from the burst, maybe one or two refilled meanwhile; the rest refused.
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 10);
  EXPECT_EQ(ok + limited, 30);
  EXPECT_TRUE(logged("exceeds 1 requests/s"));
}

TEST_F(ConsoleServerTest, ClientsBeyondTheLimitGetAnErrorLineThenEof) {
  config_.max_clients = 4;
  config_.root_reserve = 0;  // these clients are root: no reserve for them here
  start();
  std::vector<ConsoleClient> held;
  held.reserve(4);
  for (int i = 0; i < 4; ++i) held.push_back(connect());
  pump_until([&] { return server_->client_count() == 4; });
  with_client_thread([&] {
    auto extra = connect();
    auto reply = extra.read_line();
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_TRUE((*reply)["id"].is_null());
    EXPECT_EQ((*reply)["error"]["code"], "too_many_clients");
    EXPECT_FALSE(extra.read_line(5s).ok());
  });
  EXPECT_EQ(server_->stats().refused_too_many, 1u);
  held.clear();
  pump_until([&] { return server_->client_count() == 0; });
  EXPECT_EQ(call("status")["ok"], true) << "a slot frees when a client leaves";
}

TEST_F(ConsoleServerTest, HundredConcurrentClientsWhileAFollowStreamReceivesEvents) {
  config_.max_clients = 128;
  start();
  backend_.stored_events = {make_event(1, "web"), make_event(2, "db"), make_event(3, "web")};
  constexpr int kClients = 100;
  constexpr int kCallsEach = 10;
  constexpr int kLiveEvents = 500;

  std::atomic<int> succeeded{0};
  std::atomic<int> clients_done{0};
  std::vector<std::int64_t> followed_ids;
  std::atomic<bool> follower_done{false};
  std::string follower_error;

  std::thread follower([&] {
    try {
      auto client = connect();
      auto history = client.call("events", {{"follow", true}});
      if (!history || (*history)["result"]["events"].size() != 3) {
        follower_error = "bad history";
      } else {
        for (const auto& e : (*history)["result"]["events"]) followed_ids.push_back(e["id"]);
        while (followed_ids.size() < 3 + kLiveEvents) {
          auto line = client.read_line(20s);
          if (!line) {
            follower_error = line.error().message;
            break;
          }
          if ((*line)["stream"] != "events" || (*line)["id"] != (*history)["id"]) {
            follower_error = "unexpected line " + line->dump();
            break;
          }
          followed_ids.push_back((*line)["event"]["id"]);
        }
      }
    } catch (const std::exception& e) {
      follower_error = e.what();
    }
    follower_done = true;
  });
  pump_until([&] { return server_->follower_count() == 1; });

  std::vector<std::thread> clients;
  clients.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      try {
        auto client = connect();
        for (int i = 0; i < kCallsEach; ++i) {
          auto reply = client.call(i % 2 ? "status" : "rules");
          if (reply && (*reply)["ok"] == true) ++succeeded;
        }
      } catch (const std::exception&) {
      }
      ++clients_done;
    });
  }
  // Events are published from the loop's thread, interleaved with the clients' requests.
  std::int64_t next_event = 4;
  std::size_t peak_clients = 0;
  pump_until([&] { return clients_done == kClients && follower_done; },
             [&] {
               peak_clients = std::max(peak_clients, server_->client_count());
               for (int burst = 0; burst < 5 && next_event < 4 + kLiveEvents; ++burst) {
                 const std::int64_t id = next_event++;
                 Json e = make_event(id, id % 2 ? "web" : "db");
                 backend_.stored_events.push_back(e);
                 server_->publish_event(e);
               }
             });
  for (auto& t : clients) t.join();
  follower.join();

  EXPECT_EQ(succeeded, kClients * kCallsEach);
  EXPECT_TRUE(follower_error.empty()) << follower_error;
  ASSERT_EQ(followed_ids.size(), 3u + kLiveEvents);
  for (std::size_t i = 0; i < followed_ids.size(); ++i) {
    EXPECT_EQ(followed_ids[i], static_cast<std::int64_t>(i + 1)) << "in order, none lost";
  }
  EXPECT_GT(peak_clients, 10u) << "the clients really overlapped";
  EXPECT_EQ(server_->stats().dropped_slow, 0u);
}

TEST_F(ConsoleServerTest, FollowStreamAppliesItsFilter) {
  start();
  std::vector<Json> received;
  std::atomic<bool> subscribed{false};
  std::atomic<bool> done{false};
  std::thread follower([&] {
    auto client = connect();
    auto history = client.call("events", {{"follow", true}, {"object", "web"}});
    subscribed = history.ok();
    while (received.size() < 3) {
      auto line = client.read_line(20s);
      if (!line) break;
      received.push_back((*line)["event"]);
    }
    done = true;
  });
  pump_until([&] { return server_->follower_count() == 1; });
  for (int i = 1; i <= 6; ++i) server_->publish_event(make_event(i, i % 2 ? "web" : "db"));
  pump_until([&] { return done.load(); });
  follower.join();
  ASSERT_EQ(received.size(), 3u);
  for (const auto& e : received) EXPECT_EQ(e["object"], "web");
  EXPECT_EQ(received[2]["id"], 5);
}

TEST_F(ConsoleServerTest, TheClusterArgumentChoosesTheViewAndMustBeBoolean) {
  backend_.stored_events = {make_event(1, "web")};
  backend_.cluster_log = {make_membership_event(41, "n3", "node down"),
                          make_cluster_event(42, "n2", "web")};
  start();
  with_client_thread([&] {
    auto client = connect();
    auto cluster = client.call("events", {{"cluster", true}});
    ASSERT_EQ((*cluster)["ok"], true) << cluster->dump();
    ASSERT_EQ((*cluster)["result"]["events"].size(), 2u);
    EXPECT_EQ((*cluster)["result"]["events"][0]["type"], "membership");
    EXPECT_EQ((*cluster)["result"]["events"][1]["node"], "n2");
    for (const Json& local_args : {Json{{"cluster", false}}, Json{{"cluster", nullptr}}}) {
      auto local = client.call("events", local_args);
      ASSERT_EQ((*local)["result"]["events"].size(), 1u) << local_args.dump();
      EXPECT_EQ((*local)["result"]["events"][0]["id"], 1);
    }
    for (const Json& bad : {Json("yes"), Json(1)}) {
      auto refused = client.call("events", {{"cluster", bad}});
      EXPECT_EQ((*refused)["error"]["code"], "bad_request") << bad.dump();
      EXPECT_EQ((*refused)["error"]["message"], "\"cluster\" must be boolean");
    }
  });
  ASSERT_EQ(backend_.event_filters.size(), 3u) << "the refusals never reach the backend";
  EXPECT_TRUE(backend_.event_filters[0].cluster);
  EXPECT_FALSE(backend_.event_filters[1].cluster);
  EXPECT_FALSE(backend_.event_filters[2].cluster);
}

TEST_F(ConsoleServerTest, ClusterAndLocalFollowersEachGetOnlyTheirView) {
  start();
  struct Follower {
    Json args;
    std::size_t wanted;  // how many of the published events its filter lets through
    std::vector<Json> received;
    std::thread thread;
  };
  Follower cluster{{{"follow", true}, {"cluster", true}}, 3, {}, {}};
  Follower local{{{"follow", true}}, 3, {}, {}};
  Follower cluster_web{{{"follow", true}, {"cluster", true}, {"object", "web"}}, 2, {}, {}};
  std::atomic<int> done{0};
  for (Follower* f : {&cluster, &local, &cluster_web}) {
    f->thread = std::thread([this, f, &done] {
      auto client = connect();
      auto history = client.call("events", f->args);
      while (history.ok() && f->received.size() < f->wanted) {
        auto line = client.read_line(20s);
        if (!line) break;
        f->received.push_back((*line)["event"]);
      }
      ++done;
    });
  }
  pump_until([&] { return server_->follower_count() == 3; });
  server_->publish_event(make_event(1, "web"));
  server_->publish_event(make_cluster_event(41, "n2", "web"));
  server_->publish_event(make_membership_event(42, "n3", "node down"));
  server_->publish_event(make_event(2, "db"));
  server_->publish_event(make_cluster_event(43, "n1", "web", "cleared"));
  server_->publish_event(make_event(3, "web"));
  pump_until([&] { return done.load() == 3; });
  for (Follower* f : {&cluster, &local, &cluster_web}) f->thread.join();

  ASSERT_EQ(cluster.received.size(), 3u);
  EXPECT_EQ(cluster.received[0]["id"], 41);
  EXPECT_EQ(cluster.received[1]["type"], "membership");
  EXPECT_EQ(cluster.received[2]["id"], 43);
  for (const auto& e : cluster.received) EXPECT_EQ(e.value("scope", ""), "cluster");
  ASSERT_EQ(local.received.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(local.received[i]["id"], static_cast<int>(i + 1));
    EXPECT_FALSE(local.received[i].contains("scope"));
  }
  ASSERT_EQ(cluster_web.received.size(), 2u);
  EXPECT_EQ(cluster_web.received[0]["id"], 41);
  EXPECT_EQ(cluster_web.received[1]["id"], 43);
}

TEST_F(ConsoleServerTest, StalledClientIsDroppedAndDoesNotBlockOthers) {
  config_.max_output_bytes = std::size_t{64} * 1024;
  config_.request_burst = 1e6;
  config_.requests_per_second = 1e6;
  start();
  // ~20 KB per status reply.
  for (int i = 0; i < 200; ++i) {
    backend_.status_result["objects"].push_back({{"name", "svc" + std::to_string(i)},
                                                 {"kind", "service"},
                                                 {"state", "running"},
                                                 {"attributes", {{"note", std::string(60, 'n')}}}});
  }
  // The stalled client asks for much more than any socket buffer holds and never reads.
  auto stalled = connect();
  std::string requests;
  for (int i = 0; i < 400; ++i) requests += "{\"cmd\": \"status\"}\n";
  ASSERT_EQ(send(stalled.fd(), requests.data(), requests.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(requests.size()));
  int answered = 0;
  with_client_thread([&] {
    auto client = connect();
    for (int i = 0; i < 20; ++i) {
      auto reply = client.call("version", Json::object(), 10s);
      if (reply && (*reply)["ok"] == true) ++answered;
    }
  });
  EXPECT_EQ(answered, 20);
  pump_until([&] { return server_->stats().dropped_slow == 1; });
  EXPECT_TRUE(logged("bytes unread"));
  // Its connection is gone: after draining what was sent, EOF or a reset.
  bool ended = false;
  char buffer[65536];
  for (;;) {
    ssize_t n = recv(stalled.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) continue;
    ended = n == 0 || errno != EAGAIN;
    break;
  }
  EXPECT_TRUE(ended);
}

TEST_F(ConsoleServerTest, AClosingClientThatNeverReadsIsDroppedAfterTheLinger) {
  config_.close_linger = 200ms;
  config_.max_output_bytes = std::size_t{16} * 1024 * 1024;  // so only the linger can end it
  config_.request_burst = 1e6;
  config_.requests_per_second = 1e6;
  start();
  for (int i = 0; i < 200; ++i) {
    backend_.status_result["objects"].push_back(
        {{"name", "svc" + std::to_string(i)}, {"attributes", {{"note", std::string(60, 'n')}}}});
  }
  auto silent = connect();
  // Replies it will never read, then a line too long: the refusal queues behind the replies.
  std::string requests;
  for (int i = 0; i < 100; ++i) requests += "{\"cmd\": \"status\"}\n";
  requests += std::string(std::size_t{70} * 1024, 'z') + "\n";
  std::atomic<bool> sent{false};
  std::thread writer([&] {
    send(silent.fd(), requests.data(), requests.size(), MSG_NOSIGNAL);
    sent = true;
  });
  pump_until([&] { return sent && server_->stats().bad_requests == 1; });
  writer.join();
  EXPECT_EQ(server_->client_count(), 1u) << "still draining";
  pump_until([&] { return server_->client_count() == 0; });
  EXPECT_TRUE(logged("its last reply was unread after 200 ms"));
}

/// Connects `count` raw sockets to `path` and keeps them open; returns how many connected.
int hold_connections(const std::string& path, int count, std::vector<int>& fds) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  int connected = 0;
  for (int i = 0; i < count; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) ++connected;
    fds.push_back(fd);
  }
  return connected;
}

TEST_F(ConsoleServerTest, OneUsersFloodOfIdleConnectionsLocksNobodyOut) {
  config_.others_read_only = true;  // uid 65534 may connect (and read)
  start();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t flooder = fork();
  if (flooder == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(100);
    std::vector<int> fds;
    hold_connections(config_.socket_path, 100, fds);
    [[maybe_unused]] ssize_t n = write(ready[1], "x", 1);
    pause();  // holds them until killed
    _exit(0);
  }
  ASSERT_GT(flooder, 0);
  close(ready[1]);
  char byte;
  pump_until([&] {
    pollfd p{ready[0], POLLIN, 0};
    return poll(&p, 1, 0) == 1 && read(ready[0], &byte, 1) == 1;
  });
  // Every connection has been accepted or refused.
  pump_until([&] { return server_->stats().accepted + server_->stats().refused_too_many >= 100; });
  EXPECT_EQ(server_->client_count(), config_.max_clients_per_uid);
  EXPECT_EQ(server_->stats().refused_too_many, 100 - config_.max_clients_per_uid);
  // Root gets in, and another user would too.
  EXPECT_EQ(call("status")["ok"], true);
  int other = as_user(65533, 65533, {}, [&] {
    auto client = ConsoleClient::connect(config_.socket_path);
    if (!client) return 1;
    auto reply = client->call("status");
    return reply && (*reply)["ok"] == true ? 0 : 2;
  });
  EXPECT_EQ(other, 0);
  kill(flooder, SIGKILL);
  waitpid(flooder, nullptr, 0);
  close(ready[0]);
}

TEST_F(ConsoleServerTest, RootIsAdmittedToAFullTable) {
  config_.max_clients = 3;
  config_.root_reserve = 2;
  start();
  std::vector<int> fds;
  with_client_thread([&] { EXPECT_EQ(hold_connections(config_.socket_path, 5, fds), 5); });
  pump_until([&] { return server_->client_count() == 5; });
  with_client_thread([&] {
    std::vector<int> more;
    hold_connections(config_.socket_path, 1, more);
    char buf[256];
    ssize_t n = recv(more[0], buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<std::size_t>(n)).find("too_many_clients"),
              std::string::npos);
    close(more[0]);
  });
  for (int fd : fds) close(fd);
}

TEST_F(ConsoleServerTest, IdleAndHalfSentRequestsAreClosedButFollowersStay) {
  config_.idle_timeout = 300ms;
  config_.request_timeout = 300ms;
  start();
  std::vector<int> fds;
  with_client_thread([&] { hold_connections(config_.socket_path, 2, fds); });
  // The second one begins a request and never finishes it (slowloris).
  ASSERT_EQ(send(fds[1], "{\"cmd\":", 7, 0), 7);
  std::atomic<bool> stop{false};
  std::atomic<int> follow_lines{0};
  std::thread follower([&] {
    auto client = connect();
    ASSERT_TRUE(client.send_raw(R"({"id":1,"cmd":"events","args":{"follow":true}})"));
    while (!stop) {
      if (client.read_line(100ms).ok()) ++follow_lines;
    }
  });
  pump_until([&] { return server_->stats().closed_idle == 2; });
  EXPECT_EQ(server_->client_count(), 1u);  // the follower
  for (int fd : fds) {
    char buf[512];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<std::size_t>(n)).find("\"timeout\""), std::string::npos);
    close(fd);
  }
  EXPECT_TRUE(logged("still unfinished"));
  EXPECT_TRUE(logged("no request for 300 ms"));
  stop = true;
  pump_until([&] { return follow_lines.load() >= 1; });  // the history reply
  follower.join();
}

// A reload that compiles longer than the idle timeout (a large policy, a loaded machine) is
// answered: the client waiting for it is not idle. Under ASan a 30,000-rule reload took more
// than the 30 s default and its client was closed with "no request for 30000 ms".
TEST_F(ConsoleServerTest, AClientAwaitingALongReloadIsNotClosedAsIdle) {
  config_.idle_timeout = 300ms;
  start();
  backend_.hold_reloads = true;
  std::atomic<bool> answered{false};
  Json reply;
  std::thread client_thread([&] {
    auto client = connect();
    ASSERT_TRUE(client.send_raw(R"({"id":7,"cmd":"reload"})"));
    auto line = client.read_line(10s);
    ASSERT_TRUE(line.ok()) << line.error().message;
    reply = *line;
    answered = true;
  });
  pump_until([&] { return static_cast<bool>(backend_.held_reload); });
  // Three idle timeouts pass while the policy "compiles".
  const auto until = std::chrono::steady_clock::now() + 1s;
  pump_until([&] { return std::chrono::steady_clock::now() > until; });
  EXPECT_EQ(server_->stats().closed_idle, 0u);
  backend_.held_reload(Outcome::success({{"policy", "big"}}));
  pump_until([&] { return answered.load(); });
  client_thread.join();
  EXPECT_EQ(reply["id"], 7);
  EXPECT_EQ(reply["result"]["policy"], "big") << reply.dump();
}

TEST_F(ConsoleServerTest, AWaitedRestartIsAnsweredWhenItEndsAndItsClientIsNotIdleMeanwhile) {
  config_.idle_timeout = 300ms;
  start();
  backend_.hold_waits = true;
  std::atomic<bool> answered{false};
  Json reply;
  std::thread client_thread([&] {
    auto client = connect();
    ASSERT_TRUE(client.send_raw(R"({"id":9,"cmd":"restart","args":{"object":"web","wait":true}})"));
    auto line = client.read_line(10s);
    ASSERT_TRUE(line.ok()) << line.error().message;
    reply = *line;
    answered = true;
  });
  pump_until([&] { return static_cast<bool>(backend_.held_wait); });
  // The restart "runs" for three idle timeouts: no reply yet, and the client stays.
  const auto until = std::chrono::steady_clock::now() + 1s;
  pump_until([&] { return std::chrono::steady_clock::now() > until; });
  EXPECT_FALSE(answered.load());
  EXPECT_EQ(server_->stats().closed_idle, 0u);
  EXPECT_EQ(backend_.count("restart --wait web"), 1u);
  EXPECT_EQ(backend_.count("restart web"), 0u);  // not the fire-and-forget path
  backend_.held_wait(RecordingBackend::waited_outcome(ControlVerb::kRestart, "web", false));
  pump_until([&] { return answered.load(); });
  client_thread.join();
  EXPECT_EQ(reply["id"], 9);
  EXPECT_EQ(reply["ok"], true) << reply.dump();
  EXPECT_EQ(reply["result"]["outcome"], "failed");
  EXPECT_EQ(reply["result"]["duration_ms"], 1012);
  EXPECT_TRUE(logged("restart web (waited)")) << "the waited outcome is logged";
}

TEST_F(ConsoleServerTest, WaitMustBeBooleanAndARefusedWaitIsAnsweredAtOnce) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto bad = client.call("stop", {{"object", "web"}, {"wait", "yes"}});
    EXPECT_EQ((*bad)["error"]["code"], "bad_request");
    EXPECT_EQ((*bad)["error"]["message"], "\"wait\" must be boolean");
    auto unknown = client.call("restart", {{"object", "nope"}, {"wait", true}}, 5s);
    ASSERT_TRUE(unknown.ok()) << unknown.error().message;
    EXPECT_EQ((*unknown)["error"]["code"], "unknown_object");
    auto plain = client.call("start", {{"object", "web"}, {"wait", false}});
    EXPECT_EQ((*plain)["result"]["message"], "scheduled");  // wait false: as before
    EXPECT_FALSE((*plain)["result"].contains("outcome"));
    auto done = client.call("start", {{"object", "web"}, {"wait", true}});
    EXPECT_EQ((*done)["result"]["outcome"], "ok");
  });
  EXPECT_EQ(backend_.count("start web"), 1u);
  EXPECT_EQ(backend_.count("start --wait web"), 1u);
}

TEST_F(ConsoleServerTest, MaintenanceCommandsCheckTheirArgumentsAndCarryTheCaller) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto opened = client.call("maintenance_start",
                              {{"object", "web"}, {"duration_ms", 1800000}, {"reason", "upgrade"}});
    EXPECT_EQ((*opened)["ok"], true) << opened->dump();
    EXPECT_EQ((*opened)["result"]["window"]["uid"], getuid());
    EXPECT_EQ((*opened)["result"]["replaced"], false);
    auto node = client.call("maintenance_start",
                            {{"node", true}, {"duration_ms", 60000}, {"reason", "rack move"}});
    EXPECT_TRUE((*node)["result"]["window"]["object"].is_null()) << node->dump();
    auto list = client.call("maintenance");
    EXPECT_EQ((*list)["result"]["windows"].size(), 2u) << list->dump();

    // Every malformed request is a bad_request, and reaches no backend.
    const Json bad[] = {
        {{"duration_ms", 60000}, {"reason", "no target"}},
        {{"object", "web"}, {"node", true}, {"duration_ms", 60000}, {"reason", "both"}},
        {{"object", ""}, {"duration_ms", 60000}, {"reason", "empty object"}},
        {{"node", "yes"}, {"duration_ms", 60000}, {"reason", "node not boolean"}},
        {{"object", "web"}, {"reason", "no duration"}},
        {{"object", "web"}, {"duration_ms", 0}, {"reason", "zero"}},
        {{"object", "web"}, {"duration_ms", 999}, {"reason", "under a second"}},
        {{"object", "web"}, {"duration_ms", kMaxMaintenanceMs + 1}, {"reason", "absurd"}},
        {{"object", "web"}, {"duration_ms", "30m"}, {"reason", "not a number"}},
        {{"object", "web"}, {"duration_ms", 60000}},
        {{"object", "web"}, {"duration_ms", 60000}, {"reason", "  "}},
        {{"object", "web"}, {"duration_ms", 60000}, {"reason", std::string(2000, 'x')}},
    };
    for (const Json& args : bad) {
      auto reply = client.call("maintenance_start", args);
      EXPECT_EQ((*reply)["error"]["code"], "bad_request") << args.dump();
    }
    auto unknown = client.call("maintenance_start",
                               {{"object", "nope"}, {"duration_ms", 60000}, {"reason", "x"}});
    EXPECT_EQ((*unknown)["error"]["code"], "unknown_object");

    auto ended = client.call("maintenance_end", {{"object", "web"}});
    EXPECT_EQ((*ended)["result"]["window"]["reason"], "upgrade") << ended->dump();
    auto again = client.call("maintenance_end", {{"object", "web"}});
    EXPECT_EQ((*again)["error"]["code"], "not_in_maintenance");
    auto no_target = client.call("maintenance_end");
    EXPECT_EQ((*no_target)["error"]["code"], "bad_request");
  });
  EXPECT_EQ(backend_.count("maintenance_start web 1800000 upgrade"), 1u);
  EXPECT_EQ(backend_.count("maintenance_start (node) 60000 rack move"), 1u);
  EXPECT_EQ(backend_.count("maintenance_end web"), 2u);
  EXPECT_EQ(backend_.last_caller.uid, getuid());
  EXPECT_EQ(backend_.last_caller.pid, getpid());
  EXPECT_TRUE(logged("maintenance_start web by pid"));
}

TEST_F(ConsoleServerTest, FailoverChecksItsArgumentsAndCarriesTheCaller) {
  start();
  with_client_thread([&] {
    auto client = connect();
    auto moved = client.call("failover", {{"object", "web"}, {"to", "n2"}});
    EXPECT_EQ((*moved)["ok"], true) << moved->dump();
    EXPECT_EQ((*moved)["result"]["to"], "n2");
    auto anywhere = client.call("failover", {{"object", "web"}, {"on_behalf_of", "web:alice"}});
    EXPECT_TRUE((*anywhere)["result"]["to"].is_null()) << anywhere->dump();
    auto local = client.call("failover", {{"object", "uplink"}});
    EXPECT_EQ((*local)["error"]["code"], "not_clustered") << local->dump();
    // Every malformed request is a bad_request, and reaches no backend.
    const Json bad[] = {
        Json::object(),
        {{"object", ""}},
        {{"object", 7}},
        {{"object", "web"}, {"to", ""}},
        {{"object", "web"}, {"to", 2}},
        {{"object", "web"}, {"on_behalf_of", ""}},
    };
    for (const Json& args : bad) {
      auto reply = client.call("failover", args);
      EXPECT_EQ((*reply)["error"]["code"], "bad_request") << args.dump();
    }
  });
  EXPECT_EQ(backend_.count("failover web n2"), 1u);
  EXPECT_EQ(backend_.count("failover web -"), 1u);
  EXPECT_EQ(backend_.count("failover uplink -"), 1u);
  EXPECT_EQ(backend_.calls.size(), 3u);
  EXPECT_EQ(backend_.last_caller.on_behalf_of, "");
  EXPECT_EQ(backend_.last_caller.uid, getuid());
  EXPECT_TRUE(logged("failover web to n2 by pid"));
}

TEST_F(ConsoleServerTest, AFloodOfRefusalsIsLoggedAtItsRate) {
  config_.refusal_log_per_second = 5;
  start();
  // Open to connect; SO_PEERCRED refuses the outsider every time.
  ASSERT_EQ(chmod(config_.socket_path.c_str(), 0666), 0);
  int code = as_user(65534, 65534, {}, [&] {
    std::vector<int> fds;
    hold_connections(config_.socket_path, 300, fds);
    return 0;
  });
  EXPECT_EQ(code, 0);
  pump_until([&] { return server_->stats().refused_permission >= 300; });
  int lines = 0;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    for (const auto& line : log_) lines += line.find("refused pid") != std::string::npos;
  }
  EXPECT_LE(lines, 10);
  EXPECT_GT(server_->stats().refusals_unlogged, 250u);
  // The next refusal after a pause says how many went unlogged.
  std::this_thread::sleep_for(1100ms);
  as_user(65534, 65534, {}, [&] {
    std::vector<int> fds;
    hold_connections(config_.socket_path, 1, fds);
    return 0;
  });
  pump_until([&] { return logged("more refusal(s) were not logged"); });
}

TEST_F(ConsoleServerTest, NobodyCannotConnectToA0660Socket) {
  start();
  int code = as_user(65534, 65534, {}, [&] {
    CtlCommand command;
    command.socket_path = config_.socket_path;
    command.cmd = "restart";
    command.target = "web";
    std::ostringstream out, err;
    return run_ctl(command, out, err);
  });
  EXPECT_EQ(code, kExitPermissionDenied);
  EXPECT_EQ(backend_.count("restart web"), 0u);
}

TEST_F(ConsoleServerTest, PeerCredentialsRefuseAnOutsiderEvenIfTheSocketIsOpen) {
  start();
  // An operator who loosened the socket's mode does not loosen the check: SO_PEERCRED decides.
  ASSERT_EQ(chmod(config_.socket_path.c_str(), 0666), 0);
  int code = as_user(65534, 65534, {}, [&] {
    auto client = ConsoleClient::connect(config_.socket_path);
    if (!client) return 10;
    auto reply = client->call("restart", {{"object", "web"}});
    if (!reply) return 11;
    if ((*reply)["error"]["code"] != "permission_denied") return 12;
    if (client->read_line(5s).ok()) return 13;  // closed after the refusal
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(backend_.count("restart web"), 0u);
  EXPECT_EQ(server_->stats().refused_permission, 1u);
  EXPECT_TRUE(logged("refused pid"));
}

TEST_F(ConsoleServerTest, ReadOnlyOutsiderMayReadButNotControl) {
  config_.others_read_only = true;
  start();
  struct stat st {};
  ASSERT_EQ(lstat(config_.socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  int code = as_user(65534, 65534, {}, [&] {
    auto client = ConsoleClient::connect(config_.socket_path);
    if (!client) return 10;
    auto status = client->call("status");
    if (!status || (*status)["ok"] != true) return 11;
    for (const char* verb : {"restart", "start", "stop", "monitor", "unmonitor"}) {
      auto reply = client->call(verb, {{"object", "web"}});
      if (!reply || (*reply)["error"]["code"] != "permission_denied") return 12;
    }
    auto reload = client->call("reload");
    if (!reload || (*reload)["error"]["code"] != "permission_denied") return 13;
    // Maintenance: anyone admitted may list the windows; opening or ending one is control.
    auto windows = client->call("maintenance");
    if (!windows || (*windows)["ok"] != true) return 15;
    auto history = client->call("history", {{"object", "web"}});  // a read command too
    if (!history || (*history)["ok"] != true) return 18;
    auto open = client->call("maintenance_start",
                             {{"object", "web"}, {"duration_ms", 60000}, {"reason", "x"}});
    if (!open || (*open)["error"]["code"] != "permission_denied") return 16;
    auto end = client->call("maintenance_end", {{"node", true}});
    if (!end || (*end)["error"]["code"] != "permission_denied") return 17;
    auto failover = client->call("failover", {{"object", "web"}});
    if (!failover || (*failover)["error"]["code"] != "permission_denied") return 19;
    CtlCommand command;
    command.socket_path = config_.socket_path;
    command.cmd = "restart";
    command.target = "web";
    std::ostringstream out, err;
    return run_ctl(command, out, err) == kExitPermissionDenied ? 0 : 14;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(backend_.count("status"), 1u);
  EXPECT_EQ(backend_.count("restart web"), 0u);
  EXPECT_EQ(backend_.count("reload -"), 0u);
  EXPECT_EQ(backend_.count("maintenance"), 1u);
  EXPECT_EQ(backend_.count("maintenance_end (node)"), 0u);
  EXPECT_TRUE(backend_.windows.empty());
}

TEST_F(ConsoleServerTest, MembersOfTheConsoleGroupMayControlBySupplementaryGroup) {
  config_.group = "nogroup";
  start();
  const gid_t console_gid = getgrnam("nogroup")->gr_gid;
  // Primary gid "daemon" (1); the console group only as a supplementary group.
  int code = as_user(65534, 1, {console_gid}, [&] {
    auto client = ConsoleClient::connect(config_.socket_path);
    if (!client) return 10;
    auto reply = client->call("restart", {{"object", "web"}});
    if (!reply || (*reply)["ok"] != true) return 11;
    return 0;
  });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(backend_.count("restart web"), 1u);
  // Without the membership the same user is refused.
  code = as_user(65534, 1, {}, [&] {
    bool denied = false;
    auto client = ConsoleClient::connect(config_.socket_path, &denied);
    return denied ? 0 : 20;
  });
  EXPECT_EQ(code, 0);
}

}  // namespace
}  // namespace amata::console
