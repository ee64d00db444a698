// The recent past of the metric slots that window functions, changed() and predict() read.
//
// One MetricHistory per running policy (inside PolicyState). discover() records the current
// samples before it evaluates, so every back end and `amatac eval` see the same points; the
// window functions themselves live in compiler/ir/runtime.h and read this structure.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace amata::ir {

/// One recorded value of a slot.
struct HistoryPoint {
  double t = 0;
  double v = 0;
};

/// A time-ordered ring of the points of one slot.
class HistorySeries {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// The i-th point, oldest first.
  const HistoryPoint& operator[](std::size_t i) const { return ring_[(head_ + i) % ring_.size()]; }
  const HistoryPoint& back() const { return (*this)[size_ - 1]; }

  /// Appends (t, v); a point at the same time as the newest replaces it. Drops points older
  /// than `t - horizon` but always keeps the two newest (changed() and rate need a previous
  /// value even when samples are further apart than the window).
  void push(double t, double v, double horizon);
  void clear() { size_ = head_ = 0; }

 private:
  void pop_front();
  std::vector<HistoryPoint> ring_;
  std::size_t head_ = 0, size_ = 0;
};

/// Histories of every number slot that needs one.
class MetricHistory {
 public:
  MetricHistory() = default;
  /// horizons[slot] > 0 or keep[slot]: the slot is recorded and kept that many seconds.
  MetricHistory(std::vector<double> horizons, std::vector<bool> keep);

  /// Records the current samples at time `now`. NaN (missing) values are not recorded, and
  /// a `now` older than a slot's newest point is ignored for that slot (time never goes
  /// back in the history).
  void record(double now, std::span<const double> numbers);
  /// The points of a number slot (empty when the slot keeps no history).
  const HistorySeries& series(int slot) const { return series_[static_cast<std::size_t>(slot)]; }
  std::size_t slot_count() const { return series_.size(); }
  void clear();

 private:
  std::vector<double> horizons_;
  std::vector<int> recorded_;  // slots that keep history
  std::vector<HistorySeries> series_;
};

}  // namespace amata::ir
