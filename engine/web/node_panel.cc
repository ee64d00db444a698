#include "engine/web/node_panel.h"

#include <fmt/format.h>

#include <string_view>

#include "engine/web/html.h"

namespace amata::web {
namespace {

using Json = nlohmann::json;

/// A gauge: its label, the attribute it shows, and where it turns amber and red. The bounds
/// are where an operator starts to look (a CPU busy 70% of the time) and where the node is
/// in trouble (memory 90% used; tasks stalled a fifth of the time on a resource).
struct Gauge {
  std::string_view label;
  std::string_view attribute;
  double amber, red;
  bool percent;
};

constexpr Gauge kGauges[] = {
    {"CPU", "cpu", 70, 90, true},
    {"memory", "mem", 80, 90, true},
    {"swap", "swap", 20, 50, true},
    {"load", "load1", 1e300, 1e300, false},  // load has no bound without the core count
    {"CPU pressure", "psi.cpu.some10", 5, 20, true},
    {"memory pressure", "psi.memory.some10", 5, 20, true},
    {"I/O pressure", "psi.io.some10", 5, 20, true},
};

}  // namespace

std::string node_panel(const Json& status) {
  if (!status.is_object() || !status.contains("objects") || !status["objects"].is_array()) {
    return "";
  }
  std::string out;
  for (const auto& object : status["objects"]) {
    if (!object.is_object() || object.value("kind", "") != "node") continue;
    const Json attributes = object.value("attributes", Json::object());
    if (!attributes.is_object()) continue;
    std::string gauges;
    for (const Gauge& g : kGauges) {
      auto it = attributes.find(std::string(g.attribute));
      if (it == attributes.end() || !it->is_number()) continue;
      const double v = it->get<double>();
      const Tone tone = v >= g.red ? Tone::kBad : v >= g.amber ? Tone::kWarn : Tone::kGood;
      gauges += fmt::format(
          R"(<span class="gauge {}" title="{}"><span class="label">{}</span> <b>{}</b></span> )",
          tone_class(tone), escape(g.attribute), escape(g.label),
          g.percent ? fmt::format("{:.1f}%", v) : fmt::format("{:.2f}", v));
    }
    if (gauges.empty()) continue;
    out += fmt::format(
        "<section class=\"node\" data-node=\"{}\"><span class=\"name\">node {}</span> {}"
        "<span class=\"note\">pressure: share of the last 10 s some tasks waited</span>"
        "</section>\n",
        escape(object.value("name", "?")), escape(object.value("name", "?")), gauges);
  }
  return out;
}

}  // namespace amata::web
