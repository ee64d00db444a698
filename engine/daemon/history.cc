// The hour of attribute history behind the console's `history` (docs/console.md) and the web
// view's charts: every 10 s, one timer walks the latest value of each numeric attribute (the
// metric store's, as `status` shows them) into discovery::AttributeHistory. The samples' own
// path does no work for it, so a probe's rate costs nothing here; each step costs one pass
// over the attributes and no allocation once every attribute has its ring.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/daemon/daemon.h"

namespace amata::daemon {

void Daemon::record_history() {
  const std::int64_t now = base::to_unix_ms(base::unix_now());
  const discovery::MetricStore& metrics = runtime_->rules->metrics();
  const auto& objects = policy().tables().objects;
  std::size_t recorded = 0;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const auto& numbers = metrics.numbers_of(static_cast<int>(i));
    if (numbers.empty()) continue;
    ++recorded;
    for (const auto& [attribute, value] : numbers) {
      history_.record(objects[i].name, attribute, value, now);
    }
  }
  // A reload removed or renamed objects: their history goes, so memory follows the policy.
  if (history_.object_count() != recorded) {
    std::vector<std::string> keep;
    keep.reserve(objects.size());
    for (const auto& object : objects) keep.push_back(object.name);
    history_.retain(keep);
  }
  // On the 10 s tick of the loop's clock, with the probes and the metrics of that instant
  // (base::next_tick): no wake-up of its own. The point is named by the wall clock's step; a
  // tick within a few milliseconds of a step's end may land in the next one (a gap, never a
  // wrong value).
  std::weak_ptr<bool> alive = alive_;
  const auto step = std::chrono::milliseconds(discovery::AttributeHistory::kStepMs);
  loop_->add_timer(base::next_tick(base::Clock::now(), step), [this, alive] {
    if (!alive.expired()) record_history();
  });
}

namespace {

// One object's series as the console answers them (`attribute` and `since` applied). With a
// budget (the batch form), whole series only while they fit: false when one did not.
bool add_series(const discovery::AttributeHistory::Attributes& attributes,
                const console::HistoryRequest& request, nlohmann::json& out,
                std::size_t* budget = nullptr) {
  const auto& wanted = request.attributes;
  for (const auto& [name, ring] : attributes) {
    if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      continue;
    }
    const auto points = ring.points(request.since_unix_ms.value_or(0));
    if (budget) {
      if (points.size() > *budget) return false;
      *budget -= points.size();
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : points) {
      list.push_back({p.t_ms, std::isfinite(p.value) ? nlohmann::json(p.value) : nlohmann::json()});
    }
    out[name] = std::move(list);
  }
  return true;
}

}  // namespace

console::Outcome Daemon::history(const console::HistoryRequest& request) {
  const auto& objects = policy().tables().objects;
  if (request.object.empty()) {
    // The batch form (the web view's overview, once per page): every object's series in the
    // policy's order, at most kMaxBatchPoints points, so a large policy cannot make one reply
    // (built and sent on the loop) unbounded. Objects without matching history are left out.
    nlohmann::json all = nlohmann::json::object();
    std::size_t budget = console::HistoryRequest::kMaxBatchPoints;
    bool truncated = false;
    for (const auto& object : objects) {
      const auto* attributes = history_.find(object.name);
      if (!attributes) continue;
      nlohmann::json series = nlohmann::json::object();
      truncated = !add_series(*attributes, request, series, &budget);
      if (!series.empty()) all[object.name] = std::move(series);
      if (truncated) break;
    }
    nlohmann::json result = {{"step_ms", discovery::AttributeHistory::kStepMs},
                             {"objects", std::move(all)}};
    if (truncated) result["truncated"] = true;
    return console::Outcome::success(std::move(result));
  }
  if (policy().tables().find_object(request.object) < 0) {
    return console::Outcome::failure("unknown_object", "no object named " + request.object);
  }
  nlohmann::json series = nlohmann::json::object();
  if (const auto* attributes = history_.find(request.object)) {
    add_series(*attributes, request, series);
  }
  return console::Outcome::success({{"object", request.object},
                                    {"step_ms", discovery::AttributeHistory::kStepMs},
                                    {"series", std::move(series)}});
}

}  // namespace amata::daemon
