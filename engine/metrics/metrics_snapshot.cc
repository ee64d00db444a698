#include "engine/metrics/metrics_snapshot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string_view>

namespace amata::metrics {
namespace {

// Go's strconv.ParseFloat accepts what fmt's shortest round-trip form produces; the special
// values have their own spellings in the exposition format.
std::string value_text(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value) {
    out_ += name;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, val] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += fmt::format("{}=\"{}\"", key, escape_label_value(val));
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value_text(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

DurationHistogram DurationHistogram::recovery_default() {
  DurationHistogram h;
  h.bounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  h.buckets.assign(h.bounds.size() + 1, 0);
  return h;
}

void DurationHistogram::observe(double seconds) {
  if (std::isnan(seconds)) return;
  if (buckets.size() != bounds.size() + 1) buckets.resize(bounds.size() + 1, 0);
  auto it = std::lower_bound(bounds.begin(), bounds.end(), seconds);
  ++buckets[static_cast<std::size_t>(it - bounds.begin())];
  sum += seconds;
  ++count;
}

std::string render_exposition(const MetricsSnapshot& s) {
  Writer w;
  w.family("amata_build_info", "gauge", "amatad's version and running policy (always 1).");
  w.sample("amata_build_info", {{"version", s.version}, {"policy", s.policy}}, 1);
  w.family("amata_start_time_seconds", "gauge", "When amatad started, Unix seconds.");
  w.sample("amata_start_time_seconds", {}, s.started_unix_seconds);
  w.family("amata_reloads_total", "counter", "Policy reloads attempted, by result.");
  w.sample(
      "amata_reloads_total", {{"result", "ok"}},
      static_cast<double>(s.reloads_total - std::min(s.reloads_total, s.reload_failures_total)));
  w.sample("amata_reloads_total", {{"result", "rejected"}},
           static_cast<double>(s.reload_failures_total));
  w.family("amata_console_clients", "gauge", "Clients connected to the console socket.");
  w.sample("amata_console_clients", {}, static_cast<double>(s.console_clients));
  w.family("amata_store_degraded", "gauge",
           "1 while the event store cannot write and keeps records in memory.");
  w.sample("amata_store_degraded", {}, s.store_degraded ? 1 : 0);
  w.family("amata_store_pending_records", "gauge", "Records waiting to be written.");
  w.sample("amata_store_pending_records", {}, static_cast<double>(s.store_pending));
  w.family("amata_store_dropped_records_total", "counter",
           "Records lost because the event store could not write them.");
  w.sample("amata_store_dropped_records_total", {}, static_cast<double>(s.store_dropped_total));

  w.family("amata_object_state", "gauge",
           "The state of each object: 1 on the series labelled with its current state.");
  for (const auto& o : s.objects) {
    w.sample("amata_object_state", {{"object", o.name}, {"kind", o.kind}, {"state", o.state}}, 1);
  }
  w.family("amata_object_monitored", "gauge", "1 when amatad acts on the object's faults.");
  for (const auto& o : s.objects) {
    w.sample("amata_object_monitored", {{"object", o.name}, {"kind", o.kind}}, o.monitored ? 1 : 0);
  }
  w.family("amata_object_restarts_total", "counter", "Restarts of the object by amatad.");
  for (const auto& o : s.objects) {
    w.sample("amata_object_restarts_total", {{"object", o.name}, {"kind", o.kind}},
             static_cast<double>(o.restarts));
  }
  w.family("amata_attribute", "gauge",
           "The latest sample of every numeric attribute, in the catalog's base unit.");
  for (const auto& o : s.objects) {
    for (const auto& [attribute, value] : o.attributes) {
      if (std::isnan(value)) continue;  // not measured yet: absent, not a fake number
      w.sample("amata_attribute", {{"object", o.name}, {"kind", o.kind}, {"attribute", attribute}},
               value);
    }
  }

  static constexpr std::string_view kRuleStates[] = {"armed", "pending", "firing"};
  w.family("amata_rule_state", "gauge", "Each rule's state: 1 on its current state, else 0.");
  for (const auto& r : s.rules) {
    for (auto state : kRuleStates) {
      w.sample("amata_rule_state", {{"rule", r.name}, {"state", state}}, r.state == state ? 1 : 0);
    }
  }
  w.family("amata_rule_rises_total", "counter", "Rising edges of each rule.");
  for (const auto& r : s.rules) {
    w.sample("amata_rule_rises_total", {{"rule", r.name}}, static_cast<double>(r.rises));
  }
  w.family("amata_events_total", "counter", "Fault events raised, by event name.");
  for (const auto& [event, count] : s.events_total) {
    w.sample("amata_events_total", {{"event", event}}, static_cast<double>(count));
  }
  w.family("amata_actions_total", "counter", "Recovery actions finished, by action and outcome.");
  for (const auto& a : s.actions_total) {
    w.sample("amata_actions_total", {{"action", a.action}, {"outcome", a.outcome}},
             static_cast<double>(a.count));
  }

  const auto& h = s.recovery_seconds;
  w.family("amata_recovery_duration_seconds", "histogram",
           "From a fault event's raise to its clear: how long recovery took.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += i < h.buckets.size() ? h.buckets[i] : 0;
    w.sample("amata_recovery_duration_seconds_bucket", {{"le", value_text(h.bounds[i])}},
             static_cast<double>(cumulative));
  }
  w.sample("amata_recovery_duration_seconds_bucket", {{"le", "+Inf"}},
           static_cast<double>(h.count));
  w.sample("amata_recovery_duration_seconds_sum", {}, h.sum);
  w.sample("amata_recovery_duration_seconds_count", {}, static_cast<double>(h.count));
  return w.take();
}

}  // namespace amata::metrics
