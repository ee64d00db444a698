// The metric store: the current value of every slot a compiled policy reads, laid out as its
// Samples, plus the latest value of every attribute reported (for the console). Probes write
// into it through probes::MeasurementSink, and so does the supervisor's adapter for what only
// amatad knows of its own services (alive, pid, exit, restarts); the rule engine hands
// samples() to discover(). It stores; it never overrides or interprets a value.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "compiler/ir/compiled_policy.h"
#include "probes/probe.h"

namespace amata::discovery {

class MetricStore : public probes::MeasurementSink {
 public:
  /// Called when an event-driven attribute of `object` changed, or a periodic sample of it
  /// completed: the engine schedules a discovery pass.
  using ChangeCallback = std::function<void(int object, bool event_driven)>;
  using NoticeCallback = std::function<void(int object, std::string_view message)>;

  MetricStore(const ir::PolicyTables& tables, ChangeCallback on_change, NoticeCallback on_notice);

  void set_number(int object, std::string_view attribute, double value) override;
  void set_string(int object, std::string_view attribute, std::string_view value) override;
  void changed(int object) override;
  void sampled(int object) override;
  void health_checked(int object) override;
  void notice(int object, std::string_view message) override;

  /// The samples for discover() and recover(), valid until the next write.
  ir::Samples samples() const;
  /// The latest value of every numeric attribute of `object` ever written (NaN: unknown).
  const std::map<std::string, double, std::less<>>& numbers_of(int object) const;
  const std::map<std::string, std::string, std::less<>>& strings_of(int object) const;
  /// The slots of the given objects as {"web.alive": 0, ...} JSON text: what made a rule fire.
  std::string values_json(const std::vector<int>& objects) const;

 private:
  const ir::PolicyTables& tables_;
  ChangeCallback on_change_;
  NoticeCallback on_notice_;
  std::vector<double> numbers_;
  std::vector<std::string> strings_;
  std::vector<double> check_times_;
  // Per object: attribute -> slot index (numbers or strings), built from the tables.
  std::vector<std::unordered_map<std::string, int>> number_slot_, string_slot_;
  std::vector<std::map<std::string, double, std::less<>>> latest_numbers_;
  std::vector<std::map<std::string, std::string, std::less<>>> latest_strings_;
};

}  // namespace amata::discovery
