// The last hour of every numeric attribute, for the console's `history` and the web view's
// charts (docs/console.md, docs/web.md): one point per 10 s step, in a fixed ring per
// attribute, so memory is bounded by the number of attributes, never by time or sample rate.
// Kept by object name, so a reload keeps the history of the objects it keeps; nothing
// survives a restart of amatad (it is memory only).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace amata::discovery {

class AttributeHistory {
 public:
  /// One point per step: the value the attribute had when the step was recorded (the latest
  /// sample: a real measurement, the one /metrics and `status` showed, never an average no
  /// probe took). NaN: not measured then.
  static constexpr std::int64_t kStepMs = 10'000;
  /// 360 steps of 10 s: one hour.
  static constexpr std::size_t kPoints = 360;

  struct Point {
    std::int64_t t_ms = 0;  // the start of the step, Unix milliseconds
    double value = 0;
  };

  /// One attribute's ring: 360 values and the step number each slot holds. 4,328 bytes
  /// (8 + 4 per point, and the newest step), allocated once when the attribute first
  /// appears; recording into it never allocates.
  class Series {
   public:
    Series();
    /// Puts `value` in the step of `unix_ms` (a later value of the same step replaces it).
    /// A step more than an hour before the newest means the wall clock stepped back: the
    /// ring starts again from it.
    void record(std::int64_t unix_ms, double value);
    /// The points at or after `since_unix_ms` within the hour before the newest, oldest
    /// first.
    std::vector<Point> points(std::int64_t since_unix_ms = 0) const;
    bool empty() const { return !any_; }

   private:
    std::array<double, kPoints> values_{};
    std::array<std::uint32_t, kPoints> steps_{};  // Unix time / 10 s fits until the year 3330
    std::uint32_t newest_ = 0;
    bool any_ = false;
  };
  using Attributes = std::map<std::string, Series, std::less<>>;

  /// Records one value. Once an attribute is known this is two map lookups and a store.
  void record(std::string_view object, std::string_view attribute, double value,
              std::int64_t unix_ms);
  /// The attributes of `object` with history, by name; null when it has none.
  const Attributes* find(std::string_view object) const;
  /// Forgets the objects not in `keep` (a reload removed them), so memory follows the policy.
  void retain(const std::vector<std::string>& keep);
  std::size_t object_count() const { return objects_.size(); }
  std::size_t attribute_count() const;

 private:
  std::map<std::string, Attributes, std::less<>> objects_;
};

}  // namespace amata::discovery
