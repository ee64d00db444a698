// The HTML vocabulary of the web view (docs/web.md): escaping, links, the colour of a state
// and the page around every view. Pure functions, so the rendering is tested without a server.
#pragma once

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
};

/// The whole document: head (the compiled-in stylesheet and script), navigation, body.
std::string render_page(const Page& page);

}  // namespace amata::web
