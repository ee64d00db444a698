// The pages of the web view, rendered on the server from the console's JSON results
// (docs/console.md) so they work without JavaScript. Pure: the results in, a Page out; the
// console calls live in web_view.cc.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/web/html.h"

namespace amata::web {

/// The last hour of the overview's restart sparklines, in slices of two minutes.
inline constexpr std::int64_t kSparklineWindowMs = std::int64_t{3600} * 1000;
inline constexpr int kSparklineBuckets = 30;

/// `/`: every object with its kind, state, restarts, uptime and key attributes, and the rules
/// firing or pending on it (`rules` is the console's `rules` result; it may be null). `recent`
/// (an `events` result of the last hour, or null) draws each service's restarts as a
/// sparkline.
/// With `csrf` (an operator logged in), each service gets restart, stop and start buttons.
Page overview_page(const nlohmann::json& status, const nlohmann::json& rules,
                   const nlohmann::json& recent, std::int64_t now_unix_ms,
                   std::string_view csrf = {});
/// How many restart actions on `object` the events (an `events` result) hold in each of
/// `buckets` equal slices of the `window_ms` before `now`, oldest first: the overview's
/// sparklines and the object page's restart chart count alike.
std::vector<int> restart_counts(const nlohmann::json& events, std::string_view object,
                                std::int64_t now_unix_ms, std::int64_t window_ms, int buckets);
/// An inline SVG bar per slice of the `window_ms` before `now`: how many restart actions on
/// `object` the events hold in each. amatad keeps no attribute history the console could
/// give, but its event store has every restart.
std::string restart_sparkline(const nlohmann::json& events, std::string_view object,
                              std::int64_t now_unix_ms, std::int64_t window_ms = kSparklineWindowMs,
                              int buckets = kSparklineBuckets);
/// `/rules`: each rule armed, pending (time or checks left) or firing, linked to its explain.
Page rules_page(const nlohmann::json& rules, std::int64_t now_unix_ms);
/// `/rules/NAME`: the console's `explain`, the condition as a tree of sub-expressions with
/// their values now.
Page explain_page(const nlohmann::json& explain);

/// What `/events` was asked for (its query parameters), kept in the filter form and in the
/// live stream's address.
struct EventQuery {
  std::string object;
  std::string event;
  int limit = 200;
};
/// `/events`: the history, newest first, a filter form, and the address of the live stream
/// that web.js follows.
Page events_page(const nlohmann::json& events, const EventQuery& query);
/// One row of the events table: the page renders its history with it and the stream sends
/// new events as it, so both look the same and only the server writes HTML.
std::string event_row(const nlohmann::json& event);
/// `/cluster`: peers, quorum, owners; nullopt when the status has no cluster part.
std::optional<Page> cluster_page(const nlohmann::json& status, std::int64_t now_unix_ms);

Page not_found_page(std::string_view path);
/// amatad's console did not answer (or refused): the HTTP side runs on, and says why.
Page unavailable_page(std::string_view why);

}  // namespace amata::web
