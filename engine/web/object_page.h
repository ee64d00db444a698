// `/objects/NAME` (docs/web.md): one object's status and how its numeric attributes moved
// over the last hour, as server-rendered SVG charts (no script, no inline style: the page's
// Content-Security-Policy allows neither). Pure: the console's results in, a Page out.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/web/html.h"

namespace amata::web {

/// The charts' span: the hour amatad keeps (discovery::AttributeHistory).
inline constexpr std::int64_t kChartWindowMs = std::int64_t{3600} * 1000;
/// The shortest span of an attribute chart: while amatad has kept less than an hour, its
/// charts span what it has, but at least this.
inline constexpr std::int64_t kShortestChartMs = std::int64_t{5} * 60 * 1000;
/// The restart chart's bars: one a minute.
inline constexpr int kRestartBars = 60;

/// `<a href="/objects/NAME">NAME</a>`, escaped and percent-encoded.
std::string object_page_link(std::string_view name);

/// The page: `object` is the object's entry of the console's `status` result, `history` the
/// result of `history` for it (null: no charts, said so), `recent` the `events` of its last
/// hour (null: no restart chart). Services (an object with "restarts") get a restart chart.
Page object_page(const nlohmann::json& object, const nlohmann::json& history,
                 const nlohmann::json& recent, std::int64_t now_unix_ms, std::string_view policy);

/// An inline SVG line chart of `points` ([[t_ms, value | null], ...], the console's series)
/// from `from_ms` to `to_ms`: the line (broken where a value is null or not finite; a lone
/// point is a dot), the lowest and highest value on the left (as `label_of` writes them) and
/// the span's ends in UTC below. No points: an empty frame that says so.
std::string line_chart(std::string_view title, const nlohmann::json& points, std::int64_t from_ms,
                       std::int64_t to_ms,
                       const std::function<std::string(double)>& label_of = nullptr);

/// A bar chart of `counts`, equal slices of `from_ms`..`to_ms`, with the highest count and
/// the span's ends as labels.
std::string bar_chart(std::string_view title, const std::vector<int>& counts, std::int64_t from_ms,
                      std::int64_t to_ms);

}  // namespace amata::web
