// The proc connector's socket filter against the kernel's own events: real children exec
// and exit, and a listener hears what it asked for and nothing else.
#include "probes/proc_connector.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "probes/test_loop.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

class RecordingListener : public ProcEventListener {
 public:
  void add_interest(ProcInterest& interest) const override {
    interest.execs = interest.execs || want.execs;
    interest.exits.insert(interest.exits.end(), want.exits.begin(), want.exits.end());
  }
  void on_exec(pid_t pid) override { execs.push_back(pid); }
  void on_exit(pid_t pid, int /*wait_status*/) override { exits.push_back(pid); }
  void on_events_lost() override {}

  bool heard_exec(pid_t pid) const { return std::ranges::count(execs, pid) > 0; }
  bool heard_exit(pid_t pid) const { return std::ranges::count(exits, pid) > 0; }

  ProcInterest want;
  std::vector<pid_t> execs;
  std::vector<pid_t> exits;
};

/// Starts `sleep 60` and returns once it has exec'd: the write end of a close-on-exec pipe
/// closes at the exec, and the read returns then.
pid_t spawn_sleep_after_exec() {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sleep", "sleep", "60", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ends[1]);
  char byte;
  while (read(ends[0], &byte, 1) < 0 && errno == EINTR) {
  }
  close(ends[0]);
  return pid;
}

class ProcConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    auto connector = ProcConnector::create(*loop_);
    if (!connector) GTEST_SKIP() << "no proc connector here: " << connector.error().message;
    connector_ = std::move(*connector);
    connector_->add_listener(&listener_);
  }
  void TearDown() override {
    for (pid_t pid : children_) end_child(pid);
    if (connector_) connector_->remove_listener(&listener_);
  }

  pid_t start_child() {
    pid_t pid = spawn_sleep_after_exec();
    EXPECT_GT(pid, 0);
    children_.push_back(pid);
    return pid;
  }
  /// Kills and reaps a child this test started.
  void end_child(pid_t pid) {
    if (std::ranges::count(children_, pid) == 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::erase(children_, pid);
  }

  template <typename Pred>
  bool run_until(Pred done) {
    return run_loop_until(*loop_, done);
  }
  /// Runs the loop a little longer, for anything that should not come.
  void run_a_while() {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(loop_->run_once(50ms));
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<ProcConnector> connector_;
  RecordingListener listener_;
  std::vector<pid_t> children_;
};

TEST_F(ProcConnectorTest, TheExitOfAProcessNobodyWatchesNeverWakesTheListener) {
  const pid_t watched = start_child();
  const pid_t other = start_child();
  listener_.want.exits = {watched};
  connector_->interest_changed();
  EXPECT_GT(connector_->filter_length(), 0u);

  end_child(other);  // first, so that its exit would come before the watched one's
  end_child(watched);
  ASSERT_TRUE(run_until([&] { return listener_.heard_exit(watched); }));
  run_a_while();
  EXPECT_EQ(listener_.exits, std::vector<pid_t>{watched});
  EXPECT_TRUE(listener_.execs.empty()) << "nobody asked for execs";
}

TEST_F(ProcConnectorTest, ExecsComeThroughOnlyOnceAListenerAsksForThem) {
  const pid_t before = start_child();
  run_a_while();
  listener_.want.execs = true;
  connector_->interest_changed();
  const pid_t after = start_child();

  ASSERT_TRUE(run_until([&] { return listener_.heard_exec(after); }));
  EXPECT_FALSE(listener_.heard_exec(before));
  EXPECT_TRUE(listener_.exits.empty()) << "nobody asked for exits";
}

TEST_F(ProcConnectorTest, ALeftListenerStopsBeingHeardFor) {
  const pid_t watched = start_child();
  listener_.want.exits = {watched};
  connector_->interest_changed();
  RecordingListener other;
  other.want.execs = true;
  connector_->add_listener(&other);
  connector_->remove_listener(&listener_);

  end_child(watched);
  const pid_t started = start_child();
  ASSERT_TRUE(run_until([&] { return other.heard_exec(started); }));
  run_a_while();
  EXPECT_FALSE(other.heard_exit(watched)) << "its only watcher had left";
  connector_->remove_listener(&other);
  connector_->add_listener(&listener_);  // for TearDown
}

TEST_F(ProcConnectorTest, BeyondTheFilterLimitEveryExitComesThrough) {
  // Pids above the kernel's limit (at most 2^22) that no process can have.
  for (std::size_t i = 0; i <= ProcConnector::kMaxFilteredExits; ++i) {
    listener_.want.exits.push_back(static_cast<pid_t>((1 << 22) + 1 + i));
  }
  connector_->interest_changed();
  EXPECT_GT(connector_->filter_length(), 0u);
  EXPECT_LT(connector_->filter_length(), 32u) << "no test per pid past the limit";

  const pid_t unlisted = start_child();
  end_child(unlisted);
  EXPECT_TRUE(run_until([&] { return listener_.heard_exit(unlisted); }));
}

}  // namespace
}  // namespace amata::probes
