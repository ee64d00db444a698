#include "engine/web/html.h"

#include <fmt/format.h>

#include <array>
#include <utility>

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
      page.account.empty()
          ? "read-only view of amatad's console; nothing here changes the daemon"
          : "restart, start and stop go to amatad's console in the name of who logged in; "
            "the history keeps it");
}

}  // namespace amata::web
