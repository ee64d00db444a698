// Keeps the output logs amatad's services and jobs write bounded: every `period`, each
// `*.log` of the logs directory and each other file it is told of (a service's own `log`) is
// rotated once it is larger than `max_bytes` (base/log_rotation.h: copy, then truncate).
//
// It runs on a thread of its own, never on the loop: a stat or a copy on a stalled disk must
// not hold up recovery. A failure is logged once per file until that file rotates again.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace amata::daemon {

class LogRotator {
 public:
  struct Options {
    std::string dir;              // STATE/logs: every *.log in it
    std::uint64_t max_bytes = 0;  // 0: never rotate (then no thread runs)
    int keep = 3;                 // rotated generations kept: NAME.log.1 .. NAME.log.keep
    std::chrono::milliseconds period = std::chrono::seconds(2);
  };
  explicit LogRotator(Options options);
  ~LogRotator();
  LogRotator(const LogRotator&) = delete;
  LogRotator& operator=(const LogRotator&) = delete;

  /// Files outside the directory to rotate too (the services' own `log` paths); replaces the
  /// previous list. Called from the loop at start and after a reload.
  void set_files(std::vector<std::string> files);
  /// One pass now, on the calling thread (tests; the thread does the same every period);
  /// nothing when max_bytes is 0.
  void rotate_now();

 private:
  void run();
  std::vector<std::string> files() const;

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::string> extra_;
  std::set<std::string> failing_;  // files whose last rotation failed (logged once)
  std::thread thread_;
};

}  // namespace amata::daemon
