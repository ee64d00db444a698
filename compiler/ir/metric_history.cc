#include "compiler/ir/metric_history.h"

#include <cmath>
#include <utility>

namespace amata::ir {

void HistorySeries::pop_front() {
  head_ = (head_ + 1) % ring_.size();
  --size_;
}

void HistorySeries::push(double t, double v, double horizon) {
  if (size_ > 0 && back().t == t) {
    ring_[(head_ + size_ - 1) % ring_.size()].v = v;
    return;
  }
  // Trim before growing so a steady sample rate reaches a steady ring size.
  const double oldest_kept = t - horizon;
  while (size_ > 1 && (*this)[0].t < oldest_kept) pop_front();
  if (size_ == ring_.size()) {
    std::vector<HistoryPoint> grown;
    grown.reserve(ring_.empty() ? 4 : ring_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) grown.push_back((*this)[i]);
    grown.resize(grown.capacity());
    ring_ = std::move(grown);
    head_ = 0;
  }
  ring_[(head_ + size_) % ring_.size()] = {t, v};
  ++size_;
}

MetricHistory::MetricHistory(std::vector<double> horizons, std::vector<bool> keep)
    : horizons_(std::move(horizons)), series_(horizons_.size()) {
  for (std::size_t i = 0; i < horizons_.size(); ++i) {
    if (horizons_[i] > 0 || (i < keep.size() && keep[i])) recorded_.push_back(static_cast<int>(i));
  }
}

void MetricHistory::record(double now, std::span<const double> numbers) {
  for (int slot : recorded_) {
    const auto i = static_cast<std::size_t>(slot);
    if (i >= numbers.size()) continue;
    const double v = numbers[i];
    if (std::isnan(v)) continue;
    HistorySeries& s = series_[i];
    if (!s.empty() && now < s.back().t) continue;
    s.push(now, v, horizons_[i]);
  }
}

void MetricHistory::clear() {
  for (auto& s : series_) s.clear();
}

}  // namespace amata::ir
