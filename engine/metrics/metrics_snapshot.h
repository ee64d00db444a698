// What amatad shows to Prometheus: a plain data struct the daemon fills on its loop, and the
// text exposition format (version 0.0.4) rendered from it. Names and labels are documented in
// docs/console.md ("/metrics").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace amata::metrics {

/// One declared object and its latest numeric samples.
struct ObjectMetrics {
  std::string name;
  std::string kind;   // "service", "node", ... (catalog spelling)
  std::string state;  // free text, as in the console's status ("running", "down", ...)
  bool monitored = true;
  std::uint64_t restarts = 0;  // since amatad started
  /// Numeric attributes by catalog name, in base units (bytes, seconds, percent as 0-100);
  /// booleans as 0/1, enums left out. NaN means "not measured yet" and is skipped.
  std::vector<std::pair<std::string, double>> attributes;
};

/// One expanded rule ("down(web)") and where it stands.
struct RuleMetrics {
  std::string name;
  std::string state;        // "armed", "pending" or "firing"
  std::uint64_t rises = 0;  // rising edges since amatad started
};

/// How many actions of one kind ended one way ("restart", "ok").
struct ActionCount {
  std::string action;   // restart, start, stop, signal, run, notify, ...
  std::string outcome;  // ok, failed, timeout, skipped
  std::uint64_t count = 0;
};

/// A Prometheus histogram with fixed upper bounds (seconds).
struct DurationHistogram {
  std::vector<double> bounds;          // ascending upper bounds; +Inf is implicit
  std::vector<std::uint64_t> buckets;  // per bucket, not cumulative; size bounds.size() + 1
  double sum = 0;
  std::uint64_t count = 0;

  /// Bounds from 1 ms to 5 min: amata aims at milliseconds, the paper took seconds.
  static DurationHistogram recovery_default();
  void observe(double seconds);
};

/// Everything /metrics shows, as of one moment.
struct MetricsSnapshot {
  std::string version;  // amatad's
  std::string policy;   // the running policy's name
  double started_unix_seconds = 0;
  std::uint64_t reloads_total = 0;
  std::uint64_t reload_failures_total = 0;
  std::vector<ObjectMetrics> objects;
  std::vector<RuleMetrics> rules;
  std::vector<std::pair<std::string, std::uint64_t>> events_total;  // by event name
  std::vector<ActionCount> actions_total;
  /// From the raise of a fault event to its clear (the object is healthy again).
  DurationHistogram recovery_seconds = DurationHistogram::recovery_default();
  std::uint64_t console_clients = 0;
  /// The event store: writing (false) or keeping writes in memory (true), how many wait,
  /// how many were lost since amatad started.
  bool store_degraded = false;
  std::uint64_t store_pending = 0;
  std::uint64_t store_dropped_total = 0;
};

/// The snapshot in the Prometheus text exposition format 0.0.4.
std::string render_exposition(const MetricsSnapshot& snapshot);

/// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

}  // namespace amata::metrics
