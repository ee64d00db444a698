// The HTML vocabulary of the web view (docs/web.md): escaping, links, the colour of a state
// and the page around every view. Pure functions, so the rendering is tested without a server.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace amata::web {

/// Text made safe inside an element or a quoted attribute: & < > " ' escaped. Every name,
/// message and value comes from a policy or an event, so every one goes through here.
std::string escape(std::string_view text);
/// One path segment or query value, percent-encoded (rule names hold `[` `]`, names may hold
/// anything a policy allows).
std::string url_component(std::string_view text);

/// How a state reads at a glance; its CSS class is the colour.
enum class Tone { kGood, kWarn, kBad, kIdle };
/// "green", "amber", "red", "grey".
std::string_view tone_class(Tone tone);
/// By meaning, as amatactl colours them: running/armed/monitored are good, pending, starting,
/// backoff and unmonitored want a look, failed/gave-up/firing are bad, a clustered service
/// another node runs (standby, not-here) is idle. Unknown words are idle, never good.
Tone state_tone(std::string_view state);

/// Where a plot sits in an SVG, in the SVG's own units.
struct PlotBox {
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;
};
/// A console series ([[t_ms, value | null], ...], docs/console.md) between `from_ms` and
/// `to_ms`, scaled into `box` from its lowest to its highest value: the object page's charts
/// and the overview's sparklines draw alike.
struct SeriesShape {
  std::string path;  // the `d` of the line: broken where a value is null or not finite
  std::string dots;  // <circle class="dot">: a value between two gaps has no line to be on
  double low = 0;    // the lowest and highest value drawn (a flat line sits in the middle)
  double high = 0;
  bool empty() const { return path.empty(); }  // no value in the span
};
SeriesShape series_shape(const nlohmann::json& points, std::int64_t from_ms, std::int64_t to_ms,
                         const PlotBox& box, double dot_radius);

/// The sections in the navigation bar; the current one is marked.
enum class Section { kOverview, kRules, kEvents, kCluster, kNone };

struct Page {
  std::string title;
  Section section = Section::kNone;
  std::string body;  // HTML, already escaped
  /// Reload every N seconds (0: never): the pages that work without JavaScript stay fresh;
  /// the events page streams instead.
  int refresh_seconds = 0;
  /// Where the page was rendered from, shown in the header ("policy demo").
  std::string policy;
  /// The header's right end when control is on (web_view.cc): a log-in link, or who is
  /// logged in and a log-out button. Empty: the read-only view.
  std::string account;
  /// What the footer tells the reader the page can do.
  enum class Access : std::uint8_t {
    kReadOnly,   // control is off
    kLoggedOut,  // control is on, nobody logged in
    kLoggedIn,
  };
  Access access = Access::kReadOnly;
};

/// The whole document: head (the compiled-in stylesheet and script), navigation, body.
std::string render_page(const Page& page);

}  // namespace amata::web
