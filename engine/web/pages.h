// The pages of the web view, rendered on the server from the console's JSON results
// (docs/console.md) so they work without JavaScript. Pure: the results in, a Page out; the
// console calls live in web_view.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/web/html.h"

namespace amata::web {

/// The last hour of the overview's restart sparklines, in slices of two minutes.
inline constexpr std::int64_t kSparklineWindowMs = std::int64_t{3600} * 1000;
inline constexpr int kSparklineBuckets = 30;

/// The overview's attribute sparklines: the last half hour (180 points of 10 s), long enough
/// to see a trend, short enough that the one `history` of a page load stays small.
inline constexpr std::int64_t kAttributeSparkMs = std::int64_t{30} * 60 * 1000;
/// While amatad has kept less than the half hour, the sparklines span what it has, but at
/// least this: a young history is not a sliver at the right, and every row shares one span.
inline constexpr std::int64_t kShortestSparkMs = std::int64_t{2} * 60 * 1000;

/// `/`: every object with its kind, state, restarts, uptime and key attributes, and the rules
/// firing or pending on it (`rules` is the console's `rules` result; it may be null). `recent`
/// (an `events` result of the last hour, or null) draws each service's restarts as a
/// sparkline; `history` (the batch `history` result, or null) each key attribute's last
/// half hour as a line beside its value.
/// With `csrf` (an operator logged in), each service gets restart, stop and start buttons.
Page overview_page(const nlohmann::json& status, const nlohmann::json& rules,
                   const nlohmann::json& recent, const nlohmann::json& history,
                   std::int64_t now_unix_ms, std::string_view csrf = {});
/// The attributes the overview shows for the objects of `status` (their kinds' key
/// attributes), at most `limit`, in first-seen order: what it asks `history` for.
std::vector<std::string> overview_attribute_names(const nlohmann::json& status, std::size_t limit);
/// An inline SVG line of `points` (a console series) from `from_ms` to `to_ms`, coloured as
/// the row's `tone`; its title (what a pointer or a screen reader gets) is `what`, the span
/// and the lowest and highest value, as `label_of` writes them. Empty when no value falls in
/// the span.
std::string attribute_sparkline(const nlohmann::json& points, std::int64_t from_ms,
                                std::int64_t to_ms, std::string_view what, Tone tone,
                                const std::function<std::string(double)>& label_of = nullptr);
/// How many restart actions on `object` the events (an `events` result) hold in each of
/// `buckets` equal slices of the `window_ms` before `now`, oldest first: the overview's
/// sparklines and the object page's restart chart count alike.
std::vector<int> restart_counts(const nlohmann::json& events, std::string_view object,
                                std::int64_t now_unix_ms, std::int64_t window_ms, int buckets);
/// An inline SVG bar per slice of the `window_ms` before `now`: how many restart actions on
/// `object` the events hold in each (from the event store, which has every restart; the
/// attribute history keeps only values).
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
