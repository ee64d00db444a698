#include "probes/once.h"

#include <chrono>
#include <cmath>
#include <map>

namespace amata::probes {
namespace {

/// Keeps the latest value of every attribute, by object.
class CollectingSink : public MeasurementSink {
 public:
  explicit CollectingSink(std::size_t objects) : numbers_(objects), strings_(objects) {}
  void set_number(int object, std::string_view attribute, double value) override {
    numbers_.at(static_cast<std::size_t>(object))[std::string(attribute)] = value;
  }
  void set_string(int object, std::string_view attribute, std::string_view value) override {
    strings_.at(static_cast<std::size_t>(object))[std::string(attribute)] = std::string(value);
  }
  void changed(int) override {}
  void notice(int object, std::string_view message) override {
    notices_.push_back(std::to_string(object) + ": " + std::string(message));
  }

  std::vector<std::map<std::string, double>> numbers_;
  std::vector<std::map<std::string, std::string>> strings_;
  std::vector<std::string> notices_;
};

nlohmann::json render_number(catalog::Kind kind, const std::string& name, double value) {
  const catalog::Attribute* attr = catalog::find_attribute(kind, name);
  if (attr != nullptr && attr->type.kind == catalog::ValueKind::kBool) return value != 0;
  if (attr != nullptr && attr->type.kind == catalog::ValueKind::kEnum) {
    auto members = catalog::enum_members(attr->type.enum_type);
    auto ordinal = static_cast<std::size_t>(value);
    if (value >= 0 && ordinal < members.size()) return std::string(members[ordinal]);
  }
  return value;
}

}  // namespace

Result<nlohmann::json> probe_once(std::span<const catalog::ObjectSpec> objects,
                                  const OnceOptions& options) {
  auto loop = base::EventLoop::create();
  if (!loop) return loop.error();
  CollectingSink sink(objects.size());
  auto set = ProbeSet::create(**loop, sink, options.probe);
  if (!set) return set.error();
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (Status s = (*set)->add(static_cast<int>(i), objects[i]); !s) return s.error();
  }
  // First sample, then let the loop run (netlink dumps, connects, checks) until the second.
  (*set)->poll_all();
  auto second = base::Clock::now() + base::from_seconds(options.interval);
  while (base::Clock::now() < second) {
    if (Status s = (*loop)->run_once(second - base::Clock::now()); !s) return s.error();
  }
  (*set)->poll_all();
  auto deadline = base::Clock::now() + base::from_seconds(options.max_wait);
  while ((*set)->busy() && base::Clock::now() < deadline) {
    if (Status s = (*loop)->run_once(deadline - base::Clock::now()); !s) return s.error();
  }
  // Anything that arrived while the last probes finished (netlink events) is taken too.
  (void)(*loop)->run_once(std::chrono::milliseconds(0));

  nlohmann::json out;
  out["objects"] = nlohmann::json::object();
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const catalog::ObjectSpec& spec = objects[i];
    nlohmann::json attrs = nlohmann::json::object();
    for (const auto& [name, value] : sink.numbers_[i]) {
      if (std::isnan(value)) continue;
      attrs[name] = render_number(spec.kind, name, value);
    }
    for (const auto& [name, value] : sink.strings_[i]) attrs[name] = value;
    out["objects"][spec.name] = {{"kind", std::string(catalog::kind_name(spec.kind))},
                                 {"attrs", std::move(attrs)}};
  }
  nlohmann::json notices = nlohmann::json::array();
  for (const auto& n : sink.notices_) {
    // Name the object rather than its index.
    std::size_t colon = n.find(':');
    std::size_t index = std::stoul(n.substr(0, colon));
    std::string name = index < objects.size() ? objects[index].name : n.substr(0, colon);
    notices.push_back(name + n.substr(colon));
  }
  out["notices"] = std::move(notices);
  (*set).reset();  // the probes before the loop they are registered with
  return out;
}

}  // namespace amata::probes
