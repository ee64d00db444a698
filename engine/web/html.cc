#include "engine/web/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <utility>
#include <vector>

namespace amata::web {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string url_component(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string_view tone_class(Tone tone) {
  switch (tone) {
    case Tone::kGood:
      return "green";
    case Tone::kWarn:
      return "amber";
    case Tone::kBad:
      return "red";
    case Tone::kIdle:
      break;
  }
  return "grey";
}

Tone state_tone(std::string_view state) {
  static constexpr std::string_view kBad[] = {"failed", "gave-up", "firing", "down",
                                              "dead",   "error",   "raised", "unreachable"};
  // A monitored service is stopped only on its way back up (or down): worth a look.
  static constexpr std::string_view kWarn[] = {
      "pending", "starting",    "stopping", "stopped",  "restarting",
      "backoff", "unmonitored", "degraded", "clearing", "maintenance"};
  static constexpr std::string_view kGood[] = {"running", "armed",   "monitored", "up",
                                               "ok",      "healthy", "cleared",   "reachable"};
  for (auto s : kBad)
    if (state == s) return Tone::kBad;
  for (auto s : kWarn)
    if (state == s) return Tone::kWarn;
  for (auto s : kGood)
    if (state == s) return Tone::kGood;
  return Tone::kIdle;
}

SeriesShape series_shape(const nlohmann::json& points, std::int64_t from_ms, std::int64_t to_ms,
                         const PlotBox& box, double dot_radius) {
  struct Point {
    std::int64_t t;
    std::optional<double> v;
  };
  SeriesShape shape;
  if (!points.is_array() || to_ms <= from_ms) return shape;
  // The series comes from another process: anything but [number, number | null] is skipped.
  std::vector<Point> kept;
  double low = INFINITY;
  double high = -INFINITY;
  for (const auto& p : points) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number()) continue;
    const auto t = p[0].get<std::int64_t>();
    if (t < from_ms || t > to_ms) continue;
    std::optional<double> v;
    if (p[1].is_number() && std::isfinite(p[1].get<double>())) v = p[1].get<double>();
    if (v) {
      low = std::min(low, *v);
      high = std::max(high, *v);
    }
    kept.push_back({t, v});
  }
  if (!std::isfinite(low)) return shape;
  std::sort(kept.begin(), kept.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
  const auto x = [&](std::int64_t t) {
    return box.left +
           static_cast<double>(t - from_ms) * box.width / static_cast<double>(to_ms - from_ms);
  };
  const auto y = [&](double v) {
    if (high == low) return box.top + box.height / 2.0;
    return box.top + box.height - (v - low) * box.height / (high - low);
  };
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (!kept[i].v) continue;
    const bool starts = i == 0 || !kept[i - 1].v;
    const bool ends = i + 1 == kept.size() || !kept[i + 1].v;
    shape.path += fmt::format("{}{:.1f} {:.1f} ", starts ? "M" : "L", x(kept[i].t), y(*kept[i].v));
    if (starts && ends) {
      shape.dots += fmt::format(R"(<circle class="dot" cx="{:.1f}" cy="{:.1f}" r="{}"/>)",
                                x(kept[i].t), y(*kept[i].v), dot_radius);
    }
  }
  shape.path.pop_back();
  shape.low = low;
  shape.high = high;
  return shape;
}

std::string_view footer_text(Page::Access access) {
  switch (access) {
    case Page::Access::kLoggedOut:
      return "read-only until an operator logs in; restart, start and stop then go to amatad's "
             "console in their name";
    case Page::Access::kLoggedIn:
      return "restart, start and stop go to amatad's console in the name of who logged in; "
             "the history keeps it";
    case Page::Access::kReadOnly:
      break;
  }
  return "read-only view of amatad's console; nothing here changes the daemon";
}

std::string render_page(const Page& page) {
  static constexpr std::array<std::pair<Section, std::string_view>, 4> kNav = {{
      {Section::kOverview, "/"},
      {Section::kRules, "/rules"},
      {Section::kEvents, "/events"},
      {Section::kCluster, "/cluster"},
  }};
  static constexpr std::array<std::string_view, 4> kNames = {"overview", "rules", "events",
                                                             "cluster"};
  std::string nav;
  for (std::size_t i = 0; i < kNav.size(); ++i) {
    const bool here = kNav[i].first == page.section;
    nav += fmt::format(R"(<a href="{}"{}>{}</a>)", kNav[i].second,
                       here ? R"( aria-current="page")" : "", kNames[i]);
  }
  std::string refresh;
  if (page.refresh_seconds > 0) {
    refresh = fmt::format(R"(<meta http-equiv="refresh" content="{}">)", page.refresh_seconds);
  }
  std::string policy;
  if (!page.policy.empty())
    policy = R"(<span class="policy">policy )" + escape(page.policy) + "</span>";
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{}"
      "<title>{} · amatad</title><link rel=\"stylesheet\" href=\"/static/web.css\">"
      "<script src=\"/static/web.js\" defer></script></head>\n"
      "<body><header><span class=\"brand\">amatad</span><nav>{}</nav>{}{}</header>\n"
      "<main>\n<h1>{}</h1>\n{}</main>\n"
      "<footer>{}</footer>"
      "</body></html>\n",
      refresh, escape(page.title), nav, policy, page.account, escape(page.title), page.body,
      footer_text(page.access));
}

}  // namespace amata::web
