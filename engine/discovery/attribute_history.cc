#include "engine/discovery/attribute_history.h"

#include <algorithm>
#include <limits>

namespace amata::discovery {
namespace {

// No step holds this: a slot never written.
constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

std::uint32_t step_of(std::int64_t unix_ms) {
  const std::int64_t step = std::max<std::int64_t>(0, unix_ms) / AttributeHistory::kStepMs;
  return static_cast<std::uint32_t>(std::min<std::int64_t>(step, kEmpty - 1));
}

}  // namespace

AttributeHistory::Series::Series() {
  steps_.fill(kEmpty);
}

void AttributeHistory::Series::record(std::int64_t unix_ms, double value) {
  const std::uint32_t step = step_of(unix_ms);
  // A new newest step, or the clock stepped back by more than the ring holds: in both cases
  // the slots more than an hour before the newest are no longer read.
  if (!any_ || step > newest_ || newest_ - step >= kPoints) newest_ = step;
  any_ = true;
  const std::size_t slot = step % kPoints;
  steps_[slot] = step;
  values_[slot] = value;
}

std::vector<AttributeHistory::Point> AttributeHistory::Series::points(
    std::int64_t since_unix_ms) const {
  std::vector<Point> out;
  if (!any_) return out;
  const std::uint32_t first = newest_ >= kPoints - 1 ? newest_ - (kPoints - 1) : 0;
  const std::uint32_t from = std::max(first, since_unix_ms > 0 ? step_of(since_unix_ms) : 0);
  // A point's time is its step's start, so `since` inside a step keeps that step only when
  // it starts at or after `since`.
  for (std::uint32_t step = from; step <= newest_; ++step) {
    const std::size_t slot = step % kPoints;
    if (steps_[slot] != step) continue;
    const std::int64_t t = static_cast<std::int64_t>(step) * kStepMs;
    if (t < since_unix_ms) continue;
    out.push_back({t, values_[slot]});
  }
  return out;
}

void AttributeHistory::record(std::string_view object, std::string_view attribute, double value,
                              std::int64_t unix_ms) {
  auto o = objects_.find(object);
  if (o == objects_.end()) o = objects_.emplace(std::string(object), Attributes()).first;
  auto a = o->second.find(attribute);
  if (a == o->second.end()) a = o->second.try_emplace(std::string(attribute)).first;
  a->second.record(unix_ms, value);
}

const AttributeHistory::Attributes* AttributeHistory::find(std::string_view object) const {
  auto it = objects_.find(object);
  return it == objects_.end() ? nullptr : &it->second;
}

void AttributeHistory::retain(const std::vector<std::string>& keep) {
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (std::find(keep.begin(), keep.end(), it->first) == keep.end()) {
      it = objects_.erase(it);
    } else {
      ++it;
    }
  }
}

std::size_t AttributeHistory::attribute_count() const {
  std::size_t n = 0;
  for (const auto& [name, attributes] : objects_) n += attributes.size();
  return n;
}

}  // namespace amata::discovery
