// The one promise an HA tool must keep: a service never runs twice. amatad is killed at random
// points of a restart — before the spawn, between the spawn and its record in the event
// store, after — hundreds of times, and each new amatad must end up with exactly one copy.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <random>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

using namespace std::chrono;

TEST(NoDoubleCopies, AmatadKilledAtRandomPointsOfARestartNeverLeavesTwo) {
  Amatad a;
  // A unique command line: the copies are counted from /proc, as an operator would.
  const std::vector<std::string> argv = {"/bin/sleep", "86400." + std::to_string(getpid())};
  a.write_policy("policy nodouble\nservice web {\n  start \"" + argv[0] + "\" \"" + argv[1] +
                 "\"\n  stop TERM then KILL after 1s\n}\n"
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { restart s }\n");
  std::mt19937 random(static_cast<unsigned>(getpid()));
  std::uniform_int_distribution<int> delay_us(0, 4000);
  const int kTrials = 200;
  int doubled = 0, none = 0;
  std::vector<pid_t> copies;
  auto settled = [&] {
    copies = processes_running(argv);
    return copies.size() == 1;
  };
  a.start({"--backend", "interp"});
  ASSERT_TRUE(Amatad::wait_for(settled, 10)) << a.log();
  for (int trial = 0; trial < kTrials; ++trial) {
    ASSERT_EQ(kill(copies.front(), SIGKILL), 0);
    usleep(static_cast<useconds_t>(delay_us(random)));
    a.kill9();
    a.start({"--backend", "interp"});
    if (!Amatad::wait_for(settled, 10)) {
      (copies.empty() ? none : doubled)++;
      ADD_FAILURE() << "trial " << trial << ": " << copies.size() << " copies\n" << a.log();
      for (pid_t p : copies) a.track(p);
      break;
    }
    // Whatever the new amatad does next (adopt, or start one), a second copy must not follow.
    for (auto until = steady_clock::now() + milliseconds(100); steady_clock::now() < until;) {
      if (processes_running(argv).size() > 1) {
        doubled++;
        ADD_FAILURE() << "trial " << trial << ": a second copy appeared\n" << a.log();
        break;
      }
      usleep(5000);
    }
    if (doubled) break;
  }
  for (pid_t p : processes_running(argv)) a.track(p);
  EXPECT_EQ(doubled, 0);
  EXPECT_EQ(none, 0);
}

}  // namespace
}  // namespace amata::itest
