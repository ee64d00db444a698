#include "engine/daemon/systemd_notify.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/daemon/logging.h"

namespace amata::daemon {
namespace {

/// A NOTIFY_SOCKET the test owns, as systemd would.
class NotifySocket {
 public:
  NotifySocket() {
    char tmpl[] = "/tmp/amata-notify-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/notify.sock";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    close(fd_);
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return path_; }
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) out.emplace_back(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  std::string dir_, path_;
  int fd_;
  bool ok_ = false;
};

TEST(SystemdNotifier, DisabledWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  auto n = SystemdNotifier::from_environment();
  EXPECT_FALSE(n.enabled());
  EXPECT_TRUE(n.ready());
}

TEST(SystemdNotifier, SendsReadyStatusAndWatchdogPings) {
  NotifySocket sock;
  ASSERT_TRUE(sock.ok());
  setenv("NOTIFY_SOCKET", sock.path().c_str(), 1);
  setenv("WATCHDOG_USEC", "200000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  auto n = SystemdNotifier::from_environment();
  // Taken out of the environment: services started later must not inherit them.
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr);
  ASSERT_TRUE(n.enabled());
  ASSERT_TRUE(n.watchdog_period());
  EXPECT_EQ(n.watchdog_period()->count(), 200000);

  ASSERT_TRUE(n.ready());
  ASSERT_TRUE(n.status("3 services running"));
  auto loop = base::EventLoop::create();
  ASSERT_TRUE(loop);
  n.start_watchdog(**loop);
  auto end = base::Clock::now() + std::chrono::milliseconds(550);
  while (base::Clock::now() < end) ASSERT_TRUE((*loop)->run_once(std::chrono::milliseconds(20)));
  n.stop_watchdog();  // the loop goes before the notifier
  auto messages = sock.drain();
  ASSERT_GE(messages.size(), 4u);
  EXPECT_EQ(messages[0], "READY=1");
  EXPECT_EQ(messages[1], "STATUS=3 services running");
  int pings = 0;
  for (const auto& m : messages) pings += m == "WATCHDOG=1";
  // One at once, then every 100 ms for 550 ms; allow for a loaded machine.
  EXPECT_GE(pings, 3);
}

TEST(SystemdNotifier, WatchdogForAnotherPidIsIgnored) {
  setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
  setenv("WATCHDOG_USEC", "200000", 1);
  setenv("WATCHDOG_PID", "1", 1);
  auto n = SystemdNotifier::from_environment();
  EXPECT_FALSE(n.watchdog_period());
  EXPECT_FALSE(n.ready());  // the socket does not exist: an error, not a crash
}

std::string capture_stderr(const std::function<void()>& fn) {
  char path[] = "/tmp/amata-log-XXXXXX";
  int fd = mkstemp(path);
  int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

TEST(Logging, JournalLinesCarryPriorities) {
  std::string out = capture_stderr([] {
    ASSERT_TRUE(setup_logging("debug", LogStyle::kJournal));
    spdlog::error("service web died");
    spdlog::info("restarted web");
    spdlog::debug("detail");
  });
  EXPECT_EQ(out, "<3>service web died\n<6>restarted web\n<7>detail\n");
}

// `journalctl -p err` must show a rejected reload's diagnostics, not only its first line.
TEST(Logging, EveryLineOfAJournalMessageCarriesItsPriority) {
  std::string out = capture_stderr([] {
    ASSERT_TRUE(setup_logging("info", LogStyle::kJournal));
    spdlog::error("reload rejected:\np.amata:3:1: error: x [E0206]\n 3 | y\n");
    spdlog::warn("");
  });
  EXPECT_EQ(out, "<3>reload rejected:\n<3>p.amata:3:1: error: x [E0206]\n<3> 3 | y\n<4>\n");
}

TEST(Logging, PlainLinesHaveLevelsAndRespectTheThreshold) {
  std::string out = capture_stderr([] {
    ASSERT_TRUE(setup_logging("warn", LogStyle::kPlain));
    spdlog::warn("hook slow");
    spdlog::info("hidden");
  });
  EXPECT_NE(out.find("warning hook slow"), std::string::npos) << out;
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  EXPECT_EQ(out.find("\x1b["), std::string::npos);  // no colour
  EXPECT_FALSE(setup_logging("loud"));
}

}  // namespace
}  // namespace amata::daemon
