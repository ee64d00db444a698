// Running an event loop in a test until something happened. Test-only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>

#include "base/event_loop.h"

namespace amata::probes {

/// Runs `loop` until `done()` or 10 s (generous: only a failure waits that long); returns
/// done().
template <typename Pred>
bool run_loop_until(base::EventLoop& loop, Pred done) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    EXPECT_TRUE(loop.run_once(100ms));
  }
  return done();
}

}  // namespace amata::probes
