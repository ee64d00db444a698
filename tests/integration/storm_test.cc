// A restart storm: half of 100 web services killed at once, the other half health-checked
// every 500 ms with 500 ms timeouts all through it. Each death must be restarted exactly once,
// and a loop busy with fifty restarts must never be mistaken for fifty sick services.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

constexpr int kServices = 100;
constexpr int kKilled = 50;

/// Ports nobody listens on now: bound to port 0 together, then released together.
std::vector<int> free_ports(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ports.push_back(ntohs(addr.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return ports;
}

bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

TEST(Storm, EachDeathIsRestartedOnceAndABusyLoopIsNeverASickService) {
  Amatad a;
  const std::vector<int> ports = free_ports(kServices);
  std::string policy = "policy storm\n";
  for (int i = 0; i < kServices; ++i) {
    const std::string name = "web" + std::to_string(i);
    const std::string port = std::to_string(ports[static_cast<std::size_t>(i)]);
    // Python's http.server, as operators run it: real start-up CPU, a real listener.
    policy += "service " + name + " {\n  start \"/bin/sh\" \"-c\" \"echo $$ > @DIR@/" + name +
              ".pid.tmp && mv @DIR@/" + name + ".pid.tmp @DIR@/" + name +
              ".pid; exec /usr/bin/python3 -m http.server " + port +
              " --bind 127.0.0.1 --directory @DIR@\"" +
              "\n  stop TERM then KILL after 2s\n  health tcp \"127.0.0.1:" + port +
              "\" every 500ms timeout 500ms\n  grace 20s\n}\n";
  }
  policy +=
      "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
      "discover sick(s: service) when s.health.failed for 2 checks raise ServiceSick(s)\n"
      "recover ServiceDown(s) { restart s }\n"
      "recover ServiceSick(s) { restart s }\n";
  a.write_policy(policy);
  a.start();
  auto all_accept = [&] {
    for (int port : ports) {
      if (!accepts(port)) return false;
    }
    return true;
  };
  ASSERT_TRUE(Amatad::wait_for(all_accept, 120)) << a.log();
  // Past grace for the half that will not be killed: their health now counts.
  std::map<std::string, pid_t> before;
  for (int i = 0; i < kServices; ++i) {
    const std::string name = "web" + std::to_string(i);
    before[name] = a.service_pid(name);
    ASSERT_GT(before[name], 0);
  }
  sleep(21);

  for (int i = 0; i < kKilled; ++i) ASSERT_EQ(kill(before["web" + std::to_string(i)], SIGKILL), 0);
  std::string status;
  EXPECT_EQ(a.ctl({"status"}, status), 0) << "the console must answer during the storm";
  for (int i = 0; i < kKilled; ++i) {
    const std::string name = "web" + std::to_string(i);
    EXPECT_GT(a.wait_new_pid(name, before[name], 60), 0) << name << "\n" << a.log();
  }
  ASSERT_TRUE(Amatad::wait_for(all_accept, 60)) << a.log();
  // Long enough for a false "sick" (2 failed checks, 500 ms apart) to have shown.
  sleep(3);

  std::map<std::string, int> restarts;
  for (const auto& action : a.actions()) {
    if (action.kind == "restart") restarts[action.object]++;
  }
  for (int i = 0; i < kServices; ++i) {
    const std::string name = "web" + std::to_string(i);
    EXPECT_EQ(restarts[name], i < kKilled ? 1 : 0) << name << " (killed: " << (i < kKilled) << ")";
    if (i >= kKilled) {
      EXPECT_EQ(a.service_pid(name), before[name]) << name;
    }
  }
  for (const auto& event : a.events()) EXPECT_NE(event.event, "ServiceSick") << event.values;
  EXPECT_EQ(a.stop(15, 60), 0);
}

}  // namespace
}  // namespace amata::itest
