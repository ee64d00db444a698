// amatactl end to end: run_ctl and the real amatactl binary against a live console server
// whose loop runs on this thread, checking output and the documented exit codes.
#include "engine/console/ctl.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "engine/console/client.h"
#include "engine/console/console_server.h"
#include "engine/console/test_backend.h"

namespace amata::console {
namespace {

using namespace std::chrono_literals;
using testing::make_cluster_event;
using testing::make_event;
using testing::make_membership_event;
using testing::RecordingBackend;
using Json = nlohmann::json;

struct CtlRun {
  int code = -1;
  std::string out, err;
};

class CtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amata-ctl-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(loop).value();
    ConsoleConfig config;
    config.socket_path = dir_ + "/amatad.sock";
    config.log = [](LogLevel, std::string_view) {};
    auto server = ConsoleServer::start(*loop_, backend_, config);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void pump_until(const std::function<bool()>& done,
                  const std::function<void()>& each_turn = nullptr) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
      ASSERT_TRUE(loop_->run_once(5ms).ok());
      if (each_turn) each_turn();
    }
  }

  CtlCommand command(const std::string& cmd, const std::string& target = "") {
    CtlCommand c;
    c.socket_path = server_->socket_path();
    c.cmd = cmd;
    c.target = target;
    return c;
  }

  /// Runs `c` on a thread while the loop serves it; `meanwhile` (e.g. publishing events to a
  /// --follow stream) runs on the loop's thread first.
  CtlRun ctl(const CtlCommand& c, const std::function<void()>& meanwhile = {}) {
    CtlRun run;
    std::atomic<bool> done{false};
    std::thread thread([&] {
      std::ostringstream out, err;
      run.code = run_ctl(c, out, err);
      run.out = out.str();
      run.err = err.str();
      done = true;
    });
    if (meanwhile) meanwhile();
    pump_until([&] { return done.load(); });
    thread.join();
    return run;
  }

  /// Runs the amatactl binary with `args`, serving the socket meanwhile.
  CtlRun amatactl(std::vector<std::string> args) {
    int out_pipe[2], err_pipe[2];
    EXPECT_EQ(pipe(out_pipe), 0);
    EXPECT_EQ(pipe(err_pipe), 0);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out_pipe[1], 1);
      dup2(err_pipe[1], 2);
      std::vector<char*> argv;
      static std::string binary = AMATACTL_BINARY;
      argv.push_back(binary.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    CtlRun run;
    std::atomic<bool> done{false};
    // Drain both pipes on a thread so the child never blocks on a full pipe.
    std::thread reader([&] {
      char buffer[4096];
      for (int fd : {out_pipe[0], err_pipe[0]}) {
        std::string& into = fd == out_pipe[0] ? run.out : run.err;
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0) into.append(buffer, n);
        close(fd);
      }
      done = true;
    });
    int status = 0;
    pump_until([&] { return done.load(); });
    reader.join();
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
  }

  std::string dir_;
  std::unique_ptr<base::EventLoop> loop_;
  RecordingBackend backend_;
  std::unique_ptr<ConsoleServer> server_;
};

TEST_F(CtlTest, StatusForHumansAndForScripts) {
  CtlRun human = ctl(command("status"));
  EXPECT_EQ(human.code, kExitOk) << human.err;
  EXPECT_EQ(human.out.rfind("policy web_node\nOBJECT  KIND", 0), 0u) << human.out;
  EXPECT_NE(human.out.find("web     service"), std::string::npos) << human.out;
  EXPECT_EQ(human.out.find('\x1b'), std::string::npos);

  CtlCommand json = command("status");
  json.json = true;
  CtlRun scripted = ctl(json);
  EXPECT_EQ(scripted.code, kExitOk);
  EXPECT_EQ(Json::parse(scripted.out), backend_.status_result);
}

TEST_F(CtlTest, ExitCodesScriptsCanRelyOn) {
  EXPECT_EQ(ctl(command("restart", "web")).code, kExitOk);
  EXPECT_EQ(backend_.count("restart web"), 1u);

  CtlRun unknown = ctl(command("restart", "nope"));
  EXPECT_EQ(unknown.code, kExitRefused);
  EXPECT_NE(unknown.err.find("no object named nope"), std::string::npos) << unknown.err;

  CtlRun rejected = ctl(command("reload", "bad.amata"));
  EXPECT_EQ(rejected.code, kExitRefused);
  EXPECT_NE(rejected.err.find("bad.amata:3:7: error: unknown attribute 'cpux'"), std::string::npos)
      << rejected.err;

  EXPECT_EQ(ctl(command("explain")).code, kExitUsage);
  EXPECT_EQ(ctl(command("frobnicate")).code, kExitUsage);
  CtlCommand bad_since = command("events");
  bad_since.since = "fortnight";
  EXPECT_EQ(ctl(bad_since).code, kExitUsage);

  CtlCommand nowhere = command("status");
  nowhere.socket_path = dir_ + "/absent.sock";
  CtlRun absent = ctl(nowhere);
  EXPECT_EQ(absent.code, kExitCannotConnect);
  EXPECT_NE(absent.err.find("cannot reach amatad"), std::string::npos);
}

TEST_F(CtlTest, EventsFiltersAndFollows) {
  backend_.stored_events = {make_event(1, "web"), make_event(2, "db")};
  CtlCommand filtered = command("events");
  filtered.object = "db";
  filtered.since = "1h";
  filtered.json = true;
  CtlRun history = ctl(filtered);
  ASSERT_EQ(history.code, kExitOk) << history.err;
  Json events = Json::parse(history.out)["events"];
  ASSERT_EQ(events.size(), 0u) << "the canned events are older than an hour";
  filtered.since.reset();
  history = ctl(filtered);
  events = Json::parse(history.out)["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["object"], "db");

  CtlCommand follow = command("events");
  follow.follow = true;
  follow.object = "web";
  follow.follow_limit = 2;
  CtlRun streamed = ctl(follow, [&] {
    pump_until([&] { return server_->follower_count() == 1; });
    for (int id = 3; id <= 6; ++id) server_->publish_event(make_event(id, id % 2 ? "web" : "db"));
  });
  EXPECT_EQ(streamed.code, kExitOk);
  EXPECT_NE(streamed.out.find("event 1"), std::string::npos) << "history first";
  EXPECT_NE(streamed.out.find("ServiceDown  web  event 3\n"), std::string::npos) << streamed.out;
  EXPECT_NE(streamed.out.find("ServiceDown  web  event 5\n"), std::string::npos) << streamed.out;
  EXPECT_EQ(streamed.out.find("event 4"), std::string::npos) << "db events are filtered out";
}

TEST_F(CtlTest, EventsClusterReadsAndFollowsTheClusterLog) {
  backend_.stored_events = {make_event(1, "web")};
  backend_.cluster_log = {make_membership_event(41, "n3", "node down"),
                          make_cluster_event(42, "n2", "web"), make_cluster_event(43, "n2", "db")};
  CtlCommand scripted = command("events");
  scripted.cluster = true;
  scripted.json = true;
  CtlRun history = ctl(scripted);
  ASSERT_EQ(history.code, kExitOk) << history.err;
  EXPECT_EQ(Json::parse(history.out)["events"], Json(backend_.cluster_log));
  ASSERT_FALSE(backend_.event_filters.empty());
  EXPECT_TRUE(backend_.event_filters.back().cluster);

  scripted.object = "db";
  history = ctl(scripted);
  Json events = Json::parse(history.out)["events"];
  ASSERT_EQ(events.size(), 1u) << "--object applies inside the cluster view";
  EXPECT_EQ(events[0]["id"], 43);

  CtlCommand human = command("events");
  human.cluster = true;
  CtlRun table = ctl(human);
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("NODE  TYPE        EVENT        OBJECT  MESSAGE\n"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("  -     membership  -            -       members n1 n2; left n3 (node "
                           "down)\n"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("  n2    raised      ServiceDown  web     n2 event 42\n"),
            std::string::npos)
      << table.out;

  // The local view is untouched by the cluster log, and keeps its narrow table.
  CtlRun local = ctl(command("events"));
  EXPECT_EQ(local.out.find("NODE"), std::string::npos) << local.out;
  EXPECT_NE(local.out.find("event 1\n"), std::string::npos) << local.out;
  EXPECT_FALSE(backend_.event_filters.back().cluster);

  CtlCommand follow = command("events");
  follow.cluster = true;
  follow.follow = true;
  follow.follow_limit = 3;
  CtlRun streamed = ctl(follow, [&] {
    pump_until([&] { return server_->follower_count() == 1; });
    server_->publish_event(make_event(2, "web"));
    server_->publish_event(make_cluster_event(44, "n1", "web", "action"));
    server_->publish_event(make_event(3, "web"));
    server_->publish_event(make_membership_event(45, "n2", "amatad died"));
    server_->publish_event(make_cluster_event(46, "n1", "web", "cleared"));
  });
  EXPECT_EQ(streamed.code, kExitOk) << streamed.err;
  EXPECT_NE(streamed.out.find("n2 event 43\n"), std::string::npos) << "history first";
  EXPECT_NE(streamed.out.find("Z  n1  action  ServiceDown  web  n1 event 44\n"), std::string::npos)
      << streamed.out;
  EXPECT_NE(streamed.out.find("Z  -  membership  -  -  members n1 n2; left n2 (amatad died)\n"),
            std::string::npos)
      << streamed.out;
  EXPECT_NE(streamed.out.find("Z  n1  cleared  ServiceDown  web  n1 event 46\n"), std::string::npos)
      << streamed.out;
  EXPECT_EQ(streamed.out.find("event 2"), std::string::npos) << "local events stay out";
  EXPECT_EQ(streamed.out.find("event 3"), std::string::npos) << "local events stay out";
}

TEST_F(CtlTest, StatusShowsTheClusterWhenThereIsOne) {
  CtlRun plain = ctl(command("status"));
  EXPECT_EQ(plain.out.find("cluster"), std::string::npos) << plain.out;

  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  backend_.status_result["cluster"] = testing::make_cluster_status(now);
  backend_.status_result["cluster"]["config_mismatch"] = {"n3"};
  CtlRun clustered = ctl(command("status"));
  ASSERT_EQ(clustered.code, kExitOk) << clustered.err;
  EXPECT_NE(clustered.out.find("\n\ncluster demo (group amata-demo): connected, quorate, synced; "
                               "this node n1 (id 1)\n"
                               "warning: n3 runs a different cluster configuration; reload every "
                               "node with the same policy\n"
                               "NODE  ID  MEMBER  AMATAD  SINCE"),
            std::string::npos)
      << clustered.out;
  EXPECT_NE(clustered.out.find("\nweb      n1     n1       running\n"), std::string::npos)
      << clustered.out;

  CtlCommand json = command("status");
  json.json = true;
  EXPECT_EQ(Json::parse(ctl(json).out)["cluster"], backend_.status_result["cluster"]);
}

TEST_F(CtlTest, AHungDaemonIsCannotConnectNotAHang) {
  // A listener that never accepts and never answers: the kernel completes the first connect
  // (backlog), the next one finds the backlog full.
  std::string path = dir_ + "/hung.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 0), 0);

  CtlCommand silent = command("status");
  silent.socket_path = path;
  silent.timeout = 300ms;
  CtlRun first = ctl(silent);
  EXPECT_EQ(first.code, kExitCannotConnect);
  EXPECT_NE(first.err.find("timed out"), std::string::npos) << first.err;

  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      fillers.push_back(fd);
    } else {
      close(fd);
    }
  }
  bool denied = false;
  auto blocked = ConsoleClient::connect(path, &denied, 200ms);
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.error().message.find("not accepting"), std::string::npos)
      << blocked.error().message;
  EXPECT_FALSE(denied);
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST_F(CtlTest, WaitExitsByTheOutcomeOfTheAction) {
  CtlCommand ok = command("restart", "web");
  ok.wait = true;
  CtlRun done = ctl(ok);
  EXPECT_EQ(done.code, kExitOk) << done.err;
  EXPECT_EQ(done.out, "restart web: ok (pid 4243) in 1.0s\n");
  EXPECT_EQ(backend_.count("restart --wait web"), 1u);

  CtlCommand crashing = command("start", "crasher");
  crashing.wait = true;
  CtlRun failed = ctl(crashing);
  EXPECT_EQ(failed.code, kExitActionFailed) << failed.out;
  EXPECT_NE(failed.out.find("start crasher: failed (pid 4244 exited"), std::string::npos)
      << failed.out;
  crashing.json = true;
  CtlRun scripted = ctl(crashing);
  EXPECT_EQ(scripted.code, kExitActionFailed);
  EXPECT_EQ(Json::parse(scripted.out)["outcome"], "failed");

  CtlCommand unknown = command("stop", "nope");
  unknown.wait = true;
  EXPECT_EQ(ctl(unknown).code, kExitRefused);

  CtlCommand not_a_wait = command("monitor", "web");
  not_a_wait.wait = true;
  EXPECT_EQ(ctl(not_a_wait).code, kExitUsage);
}

TEST_F(CtlTest, WaitGivesUpAfterItsTimeoutWithItsOwnExitCode) {
  backend_.hold_waits = true;
  CtlCommand slow = command("restart", "web");
  slow.wait = true;
  slow.wait_timeout = 1s;
  CtlRun run = ctl(slow);
  EXPECT_EQ(run.code, kExitWaitTimedOut) << run.err;
  EXPECT_NE(run.err.find("restart web has not ended after 1.0s"), std::string::npos) << run.err;
  ASSERT_TRUE(static_cast<bool>(backend_.held_wait));
  // The answer that comes after the client left goes nowhere, and the server carries on.
  backend_.held_wait(RecordingBackend::waited_outcome(ControlVerb::kRestart, "web", true));
  EXPECT_EQ(ctl(command("status")).code, kExitOk);
}

TEST_F(CtlTest, FailoverNamesTheServiceAndWhereTo) {
  CtlCommand to = command("failover", "web");
  to.to = "c5";
  CtlRun moved = ctl(to);
  EXPECT_EQ(moved.code, kExitOk) << moved.err;
  EXPECT_EQ(backend_.count("failover web c5"), 1u);
  EXPECT_EQ(moved.out, "failover web: accepted (asked of the cluster)\n");
  EXPECT_EQ(ctl(command("failover", "web")).code, kExitOk);
  EXPECT_EQ(backend_.count("failover web -"), 1u);
  CtlRun refused = ctl(command("failover", "uplink"));
  EXPECT_EQ(refused.code, kExitRefused);
  EXPECT_NE(refused.err.find("web is the clustered one"), std::string::npos) << refused.err;
  CtlRun binary = amatactl({"--socket", server_->socket_path(), "failover", "web", "--to", "n3"});
  EXPECT_EQ(binary.code, kExitOk) << binary.err;
  EXPECT_EQ(backend_.count("failover web n3"), 1u);
}

TEST_F(CtlTest, MaintenanceOpensListsAndEndsWindowsAndRefusesNonsenseAsUsage) {
  CtlRun none = ctl(command("maintenance"));
  EXPECT_EQ(none.code, kExitOk) << none.err;
  EXPECT_EQ(none.out, "no maintenance windows\n");

  CtlCommand open = command("maintenance", "web");
  open.for_duration = "30m";
  open.reason = "kernel upgrade";
  CtlRun opened = ctl(open);
  EXPECT_EQ(opened.code, kExitOk) << opened.err;
  EXPECT_EQ(backend_.count("maintenance_start web 1800000 kernel upgrade"), 1u);
  EXPECT_NE(opened.out.find("maintenance of web until "), std::string::npos) << opened.out;
  EXPECT_NE(opened.out.find("recovery and hooks paused"), std::string::npos) << opened.out;

  CtlCommand node = command("maintenance");
  node.node = true;
  node.for_duration = "2h";
  node.reason = "rack move";
  EXPECT_EQ(ctl(node).code, kExitOk);
  CtlRun listed = ctl(command("maintenance"));
  EXPECT_NE(listed.out.find("the node in maintenance until"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(": rack move\n"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("web in maintenance until"), std::string::npos) << listed.out;

  CtlCommand end = command("maintenance", "web");
  end.end = true;
  CtlRun ended = ctl(end);
  EXPECT_EQ(ended.code, kExitOk) << ended.err;
  EXPECT_EQ(ended.out, "maintenance of web ended\n");
  CtlRun again = ctl(end);
  EXPECT_EQ(again.code, kExitRefused);
  EXPECT_NE(again.err.find("web is not in maintenance"), std::string::npos) << again.err;

  CtlCommand unknown = command("maintenance", "nope");
  unknown.for_duration = "10m";
  unknown.reason = "x";
  EXPECT_EQ(ctl(unknown).code, kExitRefused);

  // Nonsense never reaches amatad: exit 2.
  const std::size_t calls = backend_.calls.size();
  auto usage = [&](const CtlCommand& c) { return ctl(c).code; };
  CtlCommand no_for = command("maintenance", "web");
  no_for.reason = "x";
  EXPECT_EQ(usage(no_for), kExitUsage);
  CtlCommand no_reason = command("maintenance", "web");
  no_reason.for_duration = "10m";
  EXPECT_EQ(usage(no_reason), kExitUsage);
  CtlCommand blank_reason = no_reason;
  blank_reason.reason = " ";
  EXPECT_EQ(usage(blank_reason), kExitUsage);
  for (const char* duration : {"0s", "0m", "500ms", "8d", "forever", "30", "-5m", "99999999999d"}) {
    CtlCommand bad = command("maintenance", "web");
    bad.for_duration = duration;
    bad.reason = "x";
    EXPECT_EQ(usage(bad), kExitUsage) << duration;
  }
  CtlCommand both = command("maintenance", "web");
  both.node = true;
  both.end = true;
  EXPECT_EQ(usage(both), kExitUsage);
  CtlCommand end_with_for = command("maintenance", "web");
  end_with_for.end = true;
  end_with_for.for_duration = "1h";
  EXPECT_EQ(usage(end_with_for), kExitUsage);
  CtlCommand end_nothing = command("maintenance");
  end_nothing.end = true;
  EXPECT_EQ(usage(end_nothing), kExitUsage);
  CtlCommand elsewhere = command("status");
  elsewhere.node = true;
  EXPECT_EQ(usage(elsewhere), kExitUsage);
  EXPECT_EQ(backend_.calls.size(), calls);
}

TEST_F(CtlTest, TheAmatactlBinary) {
  CtlRun status = amatactl({"--socket", server_->socket_path(), "--json", "status"});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(Json::parse(status.out), backend_.status_result);

  // Global options may also follow the subcommand.
  CtlRun version = amatactl({"version", "--socket", server_->socket_path()});
  EXPECT_EQ(version.code, 0) << version.err;
  EXPECT_EQ(version.out, "amatad 0.1.0 (console protocol 1)\npolicy web_node\n");

  CtlRun restart = amatactl({"--socket", server_->socket_path(), "restart", "web"});
  EXPECT_EQ(restart.code, 0);
  EXPECT_EQ(restart.out, "restart web: accepted (scheduled)\n");
  CtlRun waited =
      amatactl({"--socket", server_->socket_path(), "restart", "--wait", "--timeout", "30", "web"});
  EXPECT_EQ(waited.code, 0) << waited.err;
  EXPECT_EQ(waited.out, "restart web: ok (pid 4243) in 1.0s\n");
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "stop", "--wait", "crasher"}).code, 5);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "stop", "--timeout", "3", "web"}).code, 2)
      << "--timeout needs --wait";
  EXPECT_EQ(
      amatactl({"--socket", server_->socket_path(), "stop", "--wait", "--timeout", "0", "web"})
          .code,
      2);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "monitor", "--wait", "web"}).code, 2)
      << "monitor has no --wait";

  backend_.cluster_log = {make_cluster_event(42, "n2", "web")};
  CtlRun cluster = amatactl({"--socket", server_->socket_path(), "events", "--cluster", "--json"});
  EXPECT_EQ(cluster.code, 0) << cluster.err;
  EXPECT_EQ(Json::parse(cluster.out)["events"][0]["node"], "n2");
  ASSERT_FALSE(backend_.event_filters.empty());
  EXPECT_TRUE(backend_.event_filters.back().cluster);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "status", "--cluster"}).code, 2)
      << "--cluster belongs to events";

  // What the bash completion reads: names only, sorted, over status and rules.
  CtlRun objects = amatactl({"--socket", server_->socket_path(), "names", "objects"});
  EXPECT_EQ(objects.code, 0) << objects.err;
  EXPECT_EQ(objects.out, "uplink\nweb\n");
  CtlRun rules = amatactl({"--socket", server_->socket_path(), "names", "rules"});
  EXPECT_EQ(rules.code, 0) << rules.err;
  EXPECT_EQ(rules.out, "hot\n");
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "names", "events"}).code, 2);

  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "restart", "nope"}).code, 1);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path()}).code, 2) << "no command";
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "restart"}).code, 2) << "no object";
  CtlRun unknown = amatactl({"--socket", server_->socket_path(), "status", "web", "extra"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "amatactl: no object named 'extra'\n");

  // status OBJECT...: those objects only, in the order named.
  CtlRun some = amatactl({"--socket", server_->socket_path(), "--json", "status", "uplink"});
  EXPECT_EQ(some.code, 0) << some.err;
  Json chosen = Json::parse(some.out);
  ASSERT_EQ(chosen["objects"].size(), 1u);
  EXPECT_EQ(chosen["objects"][0]["name"], "uplink");
  // events -n: the limit goes to amatad's filter.
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "events", "-n", "5"}).code, 0);
  ASSERT_FALSE(backend_.event_filters.empty());
  EXPECT_EQ(backend_.event_filters.back().limit, 5u);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "events", "-n", "-1"}).code, 2);
  EXPECT_EQ(amatactl({"--socket", dir_ + "/absent.sock", "status"}).code, 3);
  CtlRun maintenance = amatactl({"--socket", server_->socket_path(), "maintenance", "uplink",
                                 "--for", "90m", "--reason", "new cable"});
  EXPECT_EQ(maintenance.code, 0) << maintenance.err;
  EXPECT_EQ(backend_.count("maintenance_start uplink 5400000 new cable"), 1u);
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "maintenance", "--node", "--end"}).code,
            1)
      << "the node is not in maintenance";
  EXPECT_EQ(amatactl({"--socket", server_->socket_path(), "maintenance", "uplink", "--for", "0m",
                      "--reason", "x"})
                .code,
            2);
  CtlRun help = amatactl({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("unmonitor"), std::string::npos);
}

}  // namespace
}  // namespace amata::console
