// How often an idle ProbeSet wakes the loop: objects of one period, and their health checks,
// share the period's ticks however far apart they were added.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "probes/probe.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Runs the loop for `window` and counts its turns that slept (3 ms or more in epoll_wait
/// before something was due): each is one wake-up of an idle daemon. At a 100 ms period a
/// second holds 10 ticks; objects on clocks of their own wake it about 20 times. The bound
/// the tests allow (14) leaves room for a busy machine delaying a check's connect past 3 ms.
int wake_ups_in(base::EventLoop& loop, Clock::duration window) {
  int wakes = 0;
  const auto end = Clock::now() + window;
  for (auto now = Clock::now(); now < end; now = Clock::now()) {
    EXPECT_TRUE(loop.run_once(end - now));
    const auto after = Clock::now();
    if (after - now >= 3ms && after < end) ++wakes;
  }
  return wakes;
}

catalog::ObjectSpec node_every(const std::string& name, double every) {
  catalog::ObjectSpec node;
  node.name = name;
  node.kind = catalog::Kind::kNode;
  node.every = every;
  return node;
}

class ProbeSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    ProbeOptions options;
    options.use_proc_connector = false;
    set_ = ProbeSet::create(*loop_, sink_, options).value();
  }
  void TearDown() override {
    set_.reset();
    if (child_ > 0) {
      kill(child_, SIGKILL);
      waitpid(child_, nullptr, 0);
    }
    if (listener_ >= 0) close(listener_);
  }

  /// A listener on 127.0.0.1 that nobody accepts from (connects succeed into its backlog;
  /// requests are never answered); returns its port, 0 on failure.
  int listen_on_loopback() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener_, SOMAXCONN) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return 0;
    }
    return ntohs(addr.sin_port);
  }

  std::unique_ptr<base::EventLoop> loop_;
  TestSink sink_;
  std::unique_ptr<ProbeSet> set_;
  pid_t child_ = -1;
  int listener_ = -1;
};

TEST_F(ProbeSetTest, ObjectsOfOnePeriodAddedApartShareTheirWakeUps) {
  ASSERT_TRUE(set_->add(0, node_every("a", 0.1)));
  ASSERT_TRUE(set_->add(1, node_every("b", 0.1)));
  set_->start();
  wake_ups_in(*loop_, 37ms);  // a phase of its own, were each object on its own clock
  ASSERT_TRUE(set_->add(2, node_every("c", 0.1)));
  ASSERT_TRUE(set_->add(3, node_every("d", 0.1)));

  const int wakes = wake_ups_in(*loop_, 1s);
  EXPECT_GE(wakes, 5) << "the objects are probed every 100 ms";
  EXPECT_LE(wakes, 14) << "one wake-up a tick, not one for each phase";
  EXPECT_GE(sink_.number(3, "load1"), 0);
}

TEST_F(ProbeSetTest, HealthChecksRunOnTheTicksOfTheirPeriod) {
  // A listener nobody accepts from: a connect succeeds into its backlog.
  const int port = listen_on_loopback();
  ASSERT_GT(port, 0);

  catalog::ObjectSpec service;
  service.name = "web";
  service.kind = catalog::Kind::kService;
  service.every = 0.1;
  service.health = {{catalog::HealthCheckSpec::Protocol::kTcp, "127.0.0.1:" + std::to_string(port),
                     0.1, 1.0, 200}};
  ASSERT_TRUE(set_->add(0, service));
  ASSERT_TRUE(set_->add(1, node_every("node", 0.1)));
  set_->start();
  wake_ups_in(*loop_, 37ms);
  child_ = fork();
  if (child_ == 0) {
    for (;;) pause();
  }
  ASSERT_TRUE(set_->follow(0, child_));  // the service starts, and its checks, off the tick

  const int wakes = wake_ups_in(*loop_, 1s);
  EXPECT_EQ(sink_.number(0, "health.ok"), 1);
  EXPECT_GE(wakes, 5);
  EXPECT_LE(wakes, 14) << "the checks wake the loop on the probes' ticks, not between them";
}

// The hang benchmark's case: a service that accepts but never answers, checked every 200 ms
// with a 200 ms timeout. Each check times out at the next tick; the next check must start
// then, not a tick later (which halved the checks and made `for 2 checks` take three
// intervals).
TEST_F(ProbeSetTest, ACheckThatTimesOutAtTheNextTickIsFollowedAtOnce) {
  const int port = listen_on_loopback();
  ASSERT_GT(port, 0);

  catalog::ObjectSpec service;
  service.name = "web";
  service.kind = catalog::Kind::kService;
  service.every = 1;
  service.grace = 0;
  service.health = {{catalog::HealthCheckSpec::Protocol::kHttp,
                     "http://127.0.0.1:" + std::to_string(port) + "/", 0.2, 0.2, 200}};
  ASSERT_TRUE(set_->add(0, service));
  set_->start();
  child_ = fork();
  if (child_ == 0) {
    for (;;) pause();
  }
  ASSERT_TRUE(set_->follow(0, child_));

  wake_ups_in(*loop_, 3s);
  EXPECT_EQ(sink_.number(0, "health.failed"), 1);
  // 15 checks fit in 3 s; one every other tick would be 7 or 8.
  EXPECT_GE(sink_.health_checks(0), 11) << "a timed-out check skipped the tick it ended at";
}

}  // namespace
}  // namespace amata::probes
