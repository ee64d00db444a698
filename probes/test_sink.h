// A MeasurementSink for tests: remembers the latest value of every attribute and counts
// changed() notifications. Test-only.
#pragma once

#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "probes/probe.h"

namespace amata::probes {

class TestSink : public MeasurementSink {
 public:
  void set_number(int object, std::string_view attribute, double value) override {
    std::lock_guard lock(mu_);
    numbers_[{object, std::string(attribute)}] = value;
  }
  void set_string(int object, std::string_view attribute, std::string_view value) override {
    std::lock_guard lock(mu_);
    strings_[{object, std::string(attribute)}] = std::string(value);
  }
  void changed(int object) override {
    std::lock_guard lock(mu_);
    ++changes_[object];
  }
  void health_checked(int object) override {
    std::lock_guard lock(mu_);
    ++health_checks_[object];
  }
  void notice(int object, std::string_view message) override {
    std::lock_guard lock(mu_);
    notices_.emplace_back(object, std::string(message));
  }

  /// The value, or NaN when never written.
  double number(int object, const std::string& attribute) const {
    std::lock_guard lock(mu_);
    auto it = numbers_.find({object, attribute});
    return it == numbers_.end() ? std::nan("") : it->second;
  }
  bool has(int object, const std::string& attribute) const {
    std::lock_guard lock(mu_);
    auto it = numbers_.find({object, attribute});
    return it != numbers_.end() && !std::isnan(it->second);
  }
  std::string string(int object, const std::string& attribute) const {
    std::lock_guard lock(mu_);
    auto it = strings_.find({object, attribute});
    return it == strings_.end() ? std::string() : it->second;
  }
  int changes(int object) const {
    std::lock_guard lock(mu_);
    auto it = changes_.find(object);
    return it == changes_.end() ? 0 : it->second;
  }
  int health_checks(int object) const {
    std::lock_guard lock(mu_);
    auto it = health_checks_.find(object);
    return it == health_checks_.end() ? 0 : it->second;
  }
  std::vector<std::pair<int, std::string>> notices() const {
    std::lock_guard lock(mu_);
    return notices_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<int, std::string>, double> numbers_;
  std::map<std::pair<int, std::string>, std::string> strings_;
  std::map<int, int> changes_, health_checks_;
  std::vector<std::pair<int, std::string>> notices_;
};

}  // namespace amata::probes
