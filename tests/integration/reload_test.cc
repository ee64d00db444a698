// Reloads of a running amatad through its console: compiled off the loop (recovery goes on
// meanwhile), answered with the diagnostics as data, recorded as reloads, and limited for
// callers other than root.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "engine/console/client.h"
#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

using nlohmann::json;

/// The console reply to `cmd` from a client running as `uid`/`gid` (0: as this test).
json call_as(const std::string& socket, uid_t uid, gid_t gid, const std::string& cmd,
             const json& args) {
  int pipe_fds[2];
  EXPECT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  if (child == 0) {
    close(pipe_fds[0]);
    if (uid != 0 && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
      _exit(100);
    }
    auto client = console::ConsoleClient::connect(socket);
    std::string text = client ? "" : json{{"client_error", client.error().message}}.dump();
    if (client) {
      auto reply = client->call(cmd, args, std::chrono::seconds(60));
      text = reply ? reply->dump() : json{{"client_error", reply.error().message}}.dump();
    }
    [[maybe_unused]] ssize_t n = write(pipe_fds[1], text.data(), text.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  close(pipe_fds[0]);
  waitpid(child, nullptr, 0);
  return json::parse(text, nullptr, false);
}

TEST(Reload, CompilesOffTheLoopWhileRecoveryGoesOn) {
  Amatad a;
  const std::string base = "policy small\n" + sleeper_service("web") + kRestartWhenDown;
  a.write_policy(base);
  a.start({"--backend", "jit"});
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("amatad ready"));
  // A policy large enough that compiling it takes a while (tens of thousands of rules).
  std::ostringstream big;
  big << "policy big\nnode self { every 1s }\n" << sleeper_service("web") << kRestartWhenDown;
  for (int i = 0; i < 30000; ++i) {
    big << "discover r" << i << " when self.load1 > " << i << " and self.cpu > 50% raise Hot"
        << (i % 7) << "(self)\n";
  }
  for (int i = 0; i < 7; ++i) big << "event Hot" << i << "(n: node) notify_only\n";
  a.write_policy(big.str());
  const std::string socket = a.dir() + "/amatad.sock";
  json reloaded;
  std::thread reloader([&] { reloaded = call_as(socket, 0, 0, "reload", json::object()); });
  ASSERT_TRUE(a.wait_for_log("compiling beside the running policy")) << a.log();
  // While it compiles, a death is recovered and the console answers.
  kill(web, SIGKILL);
  pid_t again = a.wait_new_pid("web", web, 20);
  ASSERT_GT(again, 0) << a.log();
  json status = call_as(socket, 0, 0, "status", json::object());
  EXPECT_EQ(status.value("ok", false), true) << status.dump();
  reloader.join();
  ASSERT_EQ(reloaded.value("ok", false), true) << reloaded.dump() << a.log();
  EXPECT_EQ(reloaded["result"]["policy"], "big");
  // The restart came before the new policy was in: the loop did not wait for the compiler.
  const std::string log = a.log();
  const auto restarted = log.find("web running (pid " + std::to_string(again));
  const auto swapped = log.find("reloaded policy big");
  ASSERT_NE(restarted, std::string::npos) << log;
  ASSERT_NE(swapped, std::string::npos) << log;
  EXPECT_LT(restarted, swapped) << log;
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Reload, ARejectedPolicyAnswersWithItsDiagnosticsAsDataAndIsStoredAsAReload) {
  Amatad a;
  ASSERT_EQ(chmod(a.dir().c_str(), 0755), 0);  // the console user must reach the socket
  a.write_policy("policy v1\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp", "--console-group", "nogroup"});
  ASSERT_GT(a.wait_new_pid("web", 0), 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("amatad ready"));
  const std::string socket = a.dir() + "/amatad.sock";
  const std::string bad = a.dir() + "/bad.amata";
  {
    std::ofstream(bad) << "policy bad\nnode self { every 1s }\ndiscover d when self.cpux > 1 "
                          "raise E(self)\n";
  }
  json reply = call_as(socket, 0, 0, "reload", {{"file", bad}});
  ASSERT_EQ(reply.value("ok", true), false) << reply.dump();
  EXPECT_EQ(reply["error"]["code"], "policy_rejected");
  const json& details = reply["error"]["details"];
  ASSERT_GE(details["diagnostics"].size(), 1u) << reply.dump();
  const json& first = details["diagnostics"][0];
  EXPECT_EQ(first["line"], 3);
  EXPECT_EQ(first["severity"], "error");
  EXPECT_FALSE(first["code"].get<std::string>().empty());
  // Root sees the source lines.
  EXPECT_NE(details["rendered"].get<std::string>().find("self.cpux > 1"), std::string::npos);

  // Stored (and shown) as a reload.
  json events = call_as(socket, 0, 0, "events", json::object());
  bool stored = false;
  for (const auto& e : events["result"]["events"]) {
    stored |= e.value("type", "") == "reload" &&
              e.value("message", "") == "reload of " + bad + " rejected: the policy has errors";
  }
  EXPECT_TRUE(stored) << events.dump(1);

  // A console user (the console group) may not name a file...
  json named = call_as(socket, 65534, 65534, "reload", {{"file", "/etc/shadow"}});
  EXPECT_EQ(named["error"]["code"], "permission_denied") << named.dump();
  // ...and sees no source lines of the running policy's file.
  a.write_policy(
      "policy v2\nnode self { every 1s }\ndiscover d when self.cpux > 1 raise "
      "E(self)\n");
  json own = call_as(socket, 65534, 65534, "reload", json::object());
  ASSERT_EQ(own["error"]["code"], "policy_rejected") << own.dump();
  const std::string rendered = own["error"]["details"]["rendered"];
  EXPECT_NE(rendered.find("error:"), std::string::npos) << rendered;
  EXPECT_EQ(rendered.find("self.cpux > 1"), std::string::npos) << rendered;
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

// The cluster's watchdog (docs/operations.md, "Self-fencing with a watchdog") with a FIFO for
// the device and no corosync: a node that runs no clustered service is safe, so amatad feeds
// it; a reload may not change it; a clean stop closes it with the magic 'V'.
TEST(Reload, TheWatchdogIsFedWhileSafeKeptAcrossReloadsAndDisarmedOnAStop) {
  Amatad a;
  const std::string device = a.dir() + "/watchdog";
  ASSERT_EQ(mkfifo(device.c_str(), 0600), 0);
  // Read-write, so amatad's open finds a reader and our reads never see an early EOF.
  int fifo = open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fifo, 0);
  auto received = [&](double seconds) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{fifo, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[64];
      ssize_t n = read(fifo, buffer, sizeof buffer);
      if (n > 0) got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
  };
  auto policy = [&](int timeout) {
    return "policy wd\ncluster wdtest { group \"amata-wdtest-" + std::to_string(getpid()) +
           "\"; watchdog \"" + device + "\"; watchdog_timeout " + std::to_string(timeout) +
           "s }\n" + sleeper_service("web") + kRestartWhenDown;
  };
  a.write_policy(policy(2));
  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("amatad ready")) << a.log();
  // Fed every 500 ms (a quarter of 2 s): several times in 2 s, and never the magic 'V'.
  const std::string fed = received(2.0);
  EXPECT_GE(fed.size(), 3U) << a.log();
  EXPECT_EQ(fed.find('V'), std::string::npos);

  const std::string other = a.dir() + "/other.amata";
  { std::ofstream(other) << policy(3); }
  json reply = call_as(a.dir() + "/amatad.sock", 0, 0, "reload", {{"file", other}});
  EXPECT_EQ(reply.value("ok", true), false) << reply.dump();
  EXPECT_NE(reply.dump().find("restart amatad"), std::string::npos) << reply.dump();
  EXPECT_GE(received(1.0).size(), 1U) << "still fed after the refused reload";

  EXPECT_EQ(a.stop(SIGTERM), 0);
  const std::string last = received(0.5);
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back(), 'V') << "a clean stop ends with the magic close";

  // A handover (SIGUSR2) leaves the services running; none of them is clustered, so nothing
  // needs the device armed either.
  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("amatad ready")) << a.log();
  const pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  EXPECT_EQ(a.stop(SIGUSR2), 0);
  const std::string handed = received(0.5);
  ASSERT_FALSE(handed.empty());
  EXPECT_EQ(handed.back(), 'V') << "no clustered service runs: disarmed";
  kill(web, SIGKILL);
  close(fifo);
}

}  // namespace
}  // namespace amata::itest
