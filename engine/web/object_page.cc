#include "engine/web/object_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "engine/console/render.h"
#include "engine/web/pages.h"

namespace amata::web {
namespace {

using Json = nlohmann::json;

// The chart's box: the plot inside margins for the value labels (left) and the times (below).
constexpr int kWidth = 640;
constexpr int kHeight = 150;
constexpr int kLeft = 72;
constexpr int kRight = 8;
constexpr int kTop = 10;
constexpr int kBottom = 22;
constexpr int kPlotWidth = kWidth - kLeft - kRight;
constexpr int kPlotHeight = kHeight - kTop - kBottom;

std::string text_of(const Json& object, const char* key, std::string_view fallback = "-") {
  if (!object.is_object()) return std::string(fallback);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string(fallback);
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, Json::error_handler_t::replace);
}

// "22:10 UTC": the span's ends (the page says the hour; the minutes place the line).
std::string clock_text(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:02}:{:02} UTC", tm.tm_hour, tm.tm_min);
}

std::string plain_number(double v) {
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    return fmt::format("{}", static_cast<std::int64_t>(v));
  }
  return fmt::format("{:.4g}", v);
}

// The frame every chart shares: the axes, the labels, the title for screen readers.
std::string frame(std::string_view title, const std::string& high, const std::string& low,
                  std::int64_t from_ms, std::int64_t to_ms, const std::string& inside) {
  return fmt::format(
      R"(<svg class="chart" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">)"
      R"(<title>{title}</title>)"
      R"(<line class="axis" x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>)"
      R"(<line class="axis" x1="{l}" y1="{b}" x2="{r}" y2="{b}"/>)"
      R"(<text class="label" x="{lx}" y="{ty}" text-anchor="end">{high}</text>)"
      R"(<text class="label" x="{lx}" y="{b}" text-anchor="end">{low}</text>)"
      R"(<text class="label" x="{l}" y="{xy}" text-anchor="start">{from}</text>)"
      R"(<text class="label" x="{r}" y="{xy}" text-anchor="end">{to}</text>)"
      "{inside}</svg>",
      fmt::arg("w", kWidth), fmt::arg("h", kHeight), fmt::arg("title", escape(title)),
      fmt::arg("l", kLeft), fmt::arg("t", kTop), fmt::arg("b", kTop + kPlotHeight),
      fmt::arg("r", kWidth - kRight), fmt::arg("lx", kLeft - 6), fmt::arg("ty", kTop + 8),
      fmt::arg("xy", kHeight - 6), fmt::arg("high", escape(high)), fmt::arg("low", escape(low)),
      fmt::arg("from", escape(clock_text(from_ms))), fmt::arg("to", escape(clock_text(to_ms))),
      fmt::arg("inside", inside));
}

std::string nothing_yet(std::string_view what) {
  return fmt::format(R"(<text class="empty" x="{}" y="{}" text-anchor="middle">{}</text>)",
                     kLeft + kPlotWidth / 2, kTop + kPlotHeight / 2, escape(what));
}

// The key attributes of the object's kind first (as the overview shows them), then the rest
// by name.
std::vector<std::string> chart_order(const Json& object, const Json& series) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& [name, text] : console::key_attribute_texts(object)) {
    if (series.contains(name) && seen.insert(name).second) order.push_back(name);
  }
  for (const auto& [name, points] : series.items()) {
    if (seen.insert(name).second) order.push_back(name);
  }
  return order;
}

}  // namespace

std::string object_page_link(std::string_view name) {
  return fmt::format(R"(<a href="/objects/{}">{}</a>)", url_component(name), escape(name));
}

std::string line_chart(std::string_view title, const Json& points, std::int64_t from_ms,
                       std::int64_t to_ms, const std::function<std::string(double)>& label_of) {
  const auto label = [&](double v) { return label_of ? label_of(v) : plain_number(v); };
  const SeriesShape shape =
      series_shape(points, from_ms, to_ms, {kLeft, kTop, kPlotWidth, kPlotHeight}, 2.5);
  if (shape.empty()) {
    return frame(title, "", "", from_ms, to_ms, nothing_yet("no values in this hour"));
  }
  return frame(title, label(shape.high), label(shape.low), from_ms, to_ms,
               fmt::format(R"(<path class="line" d="{}"/>)", shape.path) + shape.dots);
}

std::string bar_chart(std::string_view title, const std::vector<int>& counts, std::int64_t from_ms,
                      std::int64_t to_ms) {
  if (counts.empty()) return frame(title, "", "", from_ms, to_ms, nothing_yet("no slices"));
  const int peak = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const double slot = static_cast<double>(kPlotWidth) / static_cast<double>(counts.size());
  std::string bars;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    const double h = static_cast<double>(counts[i]) * kPlotHeight / peak;
    bars += fmt::format(R"(<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">)"
                        R"(<title>{}</title></rect>)",
                        kLeft + static_cast<double>(i) * slot + 1, kTop + kPlotHeight - h,
                        std::max(1.0, slot - 2), h, counts[i]);
  }
  if (bars.empty()) bars = nothing_yet("no restarts in this hour");
  return frame(title, std::to_string(peak), "0", from_ms, to_ms, bars);
}

Page object_page(const Json& object, const Json& history, const Json& recent,
                 std::int64_t now_unix_ms, std::string_view policy) {
  const std::string name = text_of(object, "name", "?");
  const std::string kind = text_of(object, "kind");
  const std::string state = text_of(object, "state");
  std::string uptime = "-";
  if (object.is_object() && object.contains("since_unix_ms") &&
      object["since_unix_ms"].is_number()) {
    uptime = console::short_duration(
        std::max<std::int64_t>(0, now_unix_ms - object["since_unix_ms"].get<std::int64_t>()));
  }
  Page page;
  page.title = name;
  page.section = Section::kOverview;
  page.refresh_seconds = 10;  // a new point every 10 s
  page.policy = std::string(policy);
  std::string& body = page.body;
  body += fmt::format(
      "<table class=\"objects\"><thead><tr><th>object</th><th>kind</th><th>state</th>"
      "<th>restarts</th><th>pid</th><th>uptime</th></tr></thead><tbody>\n"
      "<tr class=\"{0}\"><td><span class=\"dot {0}\"></span>{1}</td><td>{2}</td>"
      "<td><span class=\"badge {0}\">{3}</span></td><td class=\"num\">{4}</td>"
      "<td class=\"num\">{5}</td><td class=\"num\">{6}</td></tr>\n</tbody></table>\n",
      tone_class(state_tone(state)), escape(name), escape(kind), escape(state),
      escape(text_of(object, "restarts")), escape(text_of(object, "pid")), escape(uptime));
  body += fmt::format(R"(<p><a href="/events?object={}">events of {}</a></p>)"
                      "\n",
                      url_component(name), escape(name));

  const std::int64_t from = now_unix_ms - kChartWindowMs;
  const bool service = object.is_object() && object.contains("restarts") &&
                       object["restarts"].is_number() && recent.is_object();
  if (service) {
    const auto counts = restart_counts(recent, name, now_unix_ms, kChartWindowMs, kRestartBars);
    int total = 0;
    for (int n : counts) total += n;
    body += fmt::format("<h2>restarts: {} in the last hour</h2>\n", total);
    body += bar_chart("restarts of " + name + " per minute", counts, from, now_unix_ms) + "\n";
  }

  const Json* series = nullptr;
  if (history.is_object() && history.contains("series") && history["series"].is_object()) {
    series = &history["series"];
  }
  if (!series) {
    body += "<p>amatad gave no history for this object.</p>\n";
    return page;
  }
  if (series->empty()) {
    body +=
        "<p>No numeric attribute measured yet: the charts begin with the first sample "
        "(amatad keeps the last hour, from its start).</p>\n";
    return page;
  }
  // The span: the last hour, or less while amatad has kept less (it keeps the hour since its
  // start), but at least a few minutes, so a young history is not a sliver at the right.
  std::int64_t oldest = now_unix_ms;
  for (const auto& [attribute, points] : series->items()) {
    if (points.is_array() && !points.empty() && points[0].is_array() && !points[0].empty() &&
        points[0][0].is_number_integer()) {
      oldest = std::min(oldest, points[0][0].get<std::int64_t>());
    }
  }
  const std::int64_t chart_from = std::max(from, std::min(oldest, now_unix_ms - kShortestChartMs));
  if (chart_from > from) {
    body += fmt::format(R"(<p class="note">)"
                        "amatad has kept these values since {} (it keeps the "
                        "last hour, from its start).</p>\n",
                        escape(clock_text(oldest)));
  }
  for (const std::string& attribute : chart_order(object, *series)) {
    const Json& points = (*series)[attribute];
    std::string latest = "not measured";
    if (points.is_array() && !points.empty() && points.back().is_array() &&
        points.back().size() == 2 && points.back()[1].is_number()) {
      latest = console::attribute_value_text(kind, attribute, points.back()[1]);
    }
    body += fmt::format(R"(<h2>{} <span class="note">{}</span></h2>)"
                        "\n",
                        escape(attribute), escape(latest));
    body += line_chart(
                attribute + " of " + name + " over the last hour", points, chart_from, now_unix_ms,
                [&](double v) { return console::attribute_value_text(kind, attribute, v); }) +
            "\n";
  }
  return page;
}

}  // namespace amata::web
