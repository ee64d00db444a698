// UnitControl against a real systemd: tests/systemd/units_test.sh boots one in namespaces and
// runs this inside it with the test units in AMATA_UNIT_SLEEP (sleeps; ExecReload=/bin/true),
// AMATA_UNIT_FAIL (Type=oneshot, exits 1) and AMATA_UNIT_SLOW (Type=oneshot, sleeps 30 s).
// Without a systemd on the system bus every case skips.
#include "engine/actions/unit_control.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include "probes/systemd_test_bus.h"

namespace amata::actions {
namespace {

using namespace std::chrono_literals;
using probes::test_unit;
using probes::TestBus;

class UnitControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestBus().has_systemd()) {
      GTEST_SKIP() << "no systemd on the system bus (tests/systemd/units_test.sh runs this in one)";
    }
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    make(90s);
  }
  void make(base::Clock::duration timeout) {
    control_.reset();
    auto c = UnitControl::create(*loop_, nullptr, timeout);
    ASSERT_TRUE(c) << c.error().message;
    control_ = std::move(*c);
  }
  /// Requests `verb` of `unit` and runs the loop until it is done (at most 20 s).
  UnitControl::Outcome run(const std::string& unit, UnitControl::Verb verb) {
    std::optional<UnitControl::Outcome> outcome;
    control_->request(unit, verb, [&](const UnitControl::Outcome& o) { outcome = o; });
    EXPECT_FALSE(outcome) << "done ran inside request()";
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (!outcome && std::chrono::steady_clock::now() < end) {
      EXPECT_TRUE(loop_->run_once(100ms));
    }
    if (!outcome) return {false, "no answer within 20 s", 0};
    EXPECT_GT(outcome->duration_ms, 0);
    EXPECT_EQ(control_->pending(), 0U);
    return *outcome;
  }

  TestBus test_bus_;
  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<UnitControl> control_;
};

TEST_F(UnitControlTest, RestartIsDoneWithANewMainProcess) {
  std::string unit = test_unit("AMATA_UNIT_SLEEP");
  if (unit.empty()) GTEST_SKIP() << "AMATA_UNIT_SLEEP not set";
  test_bus_.reset_failed(unit);
  ASSERT_TRUE(run(unit, UnitControl::Verb::kStart).ok);
  const std::uint32_t before = test_bus_.main_pid(unit);
  ASSERT_NE(before, 0U);
  auto outcome = run(unit, UnitControl::Verb::kRestart);
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(outcome.result, "done");
  EXPECT_EQ(test_bus_.active_state(unit), "active");
  EXPECT_NE(test_bus_.main_pid(unit), 0U);
  EXPECT_NE(test_bus_.main_pid(unit), before);
}

TEST_F(UnitControlTest, StopStartAndReload) {
  std::string unit = test_unit("AMATA_UNIT_SLEEP");
  if (unit.empty()) GTEST_SKIP() << "AMATA_UNIT_SLEEP not set";
  auto stopped = run(unit, UnitControl::Verb::kStop);
  EXPECT_TRUE(stopped.ok) << stopped.result;
  EXPECT_EQ(test_bus_.active_state(unit), "inactive");
  auto started = run(unit, UnitControl::Verb::kStart);
  EXPECT_TRUE(started.ok) << started.result;
  EXPECT_EQ(test_bus_.active_state(unit), "active");
  auto reloaded = run(unit, UnitControl::Verb::kReload);
  EXPECT_TRUE(reloaded.ok) << reloaded.result;
  EXPECT_EQ(reloaded.result, "done");
}

TEST_F(UnitControlTest, FailingStartIsNotOkWithTheJobResult) {
  std::string unit = test_unit("AMATA_UNIT_FAIL");
  if (unit.empty()) GTEST_SKIP() << "AMATA_UNIT_FAIL not set";
  test_bus_.reset_failed(unit);
  auto outcome = run(unit, UnitControl::Verb::kStart);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.result, "failed");
}

TEST_F(UnitControlTest, MissingUnitIsSystemdsError) {
  auto outcome =
      run("amata-no-such-unit-" + std::to_string(getpid()) + ".service", UnitControl::Verb::kStart);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.result.find("not found"), std::string::npos) << outcome.result;
}

TEST_F(UnitControlTest, BadNameFailsWithoutACall) {
  auto outcome = run("no/such unit", UnitControl::Verb::kRestart);
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.result.find("not a systemd unit name"), std::string::npos) << outcome.result;
}

TEST_F(UnitControlTest, JobOutlivingTheTimeoutFails) {
  std::string unit = test_unit("AMATA_UNIT_SLOW");
  if (unit.empty()) GTEST_SKIP() << "AMATA_UNIT_SLOW not set";
  make(1s);
  auto outcome = run(unit, UnitControl::Verb::kStart);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.result, "timeout");
  EXPECT_GE(outcome.duration_ms, 900);
  // The job is systemd's: still running, not cancelled by us. End it for the next tests.
  EXPECT_EQ(test_bus_.active_state(unit), "activating");
  EXPECT_EQ(test_bus_.stop(unit), "");
}

TEST_F(UnitControlTest, DoneMayDestroyTheControl) {
  std::string unit = test_unit("AMATA_UNIT_SLEEP");
  if (unit.empty()) GTEST_SKIP() << "AMATA_UNIT_SLEEP not set";
  bool done = false;
  control_->request(unit, UnitControl::Verb::kRestart, [&](const UnitControl::Outcome& o) {
    EXPECT_TRUE(o.ok) << o.result;
    done = true;
    control_.reset();  // from inside the JobRemoved handler, inside sd_bus_process()
  });
  const auto end = std::chrono::steady_clock::now() + 20s;
  while (!done && std::chrono::steady_clock::now() < end) EXPECT_TRUE(loop_->run_once(100ms));
  EXPECT_TRUE(done);
  EXPECT_EQ(control_, nullptr);
  // The loop carries on without the connection's fd or timers.
  EXPECT_TRUE(loop_->run_once(10ms));
}

}  // namespace
}  // namespace amata::actions
