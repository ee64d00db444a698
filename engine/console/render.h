// Human output of amatactl: aligned tables, relative times, optional colour. Pure functions
// from the protocol's JSON results (docs/console.md) to text, so they are tested directly.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amata::console {

/// How to render: colour only for terminals; `now_unix_ms` makes relative times testable.
struct RenderStyle {
  bool colour = false;
  std::int64_t now_unix_ms = 0;
};

/// "3s ago", "5m ago", "2h ago", "4d ago"; "in 3s" for the future; "-" when absent.
std::string relative_time(std::int64_t now_unix_ms, std::optional<std::int64_t> then_unix_ms);
/// "850ms", "1.2s", "3m20s", "2h05m".
std::string short_duration(std::int64_t milliseconds);
/// A plain table: columns padded to their widest cell (by display width, colour codes
/// excluded), two spaces apart, no trailing blanks.
/// "2026-12-05 22:10:01.123Z": an absolute time, for lines that stay on screen.
std::string utc_time(std::int64_t unix_ms);
/// A status object's key attributes (by kind: service cpu, rss, ...; the first few of a kind
/// it does not know) as name and text in the catalog's units ("cpu", "3.2%"): what the status
/// table shows, and the web view beside it.
std::vector<std::pair<std::string, std::string>> key_attribute_texts(const nlohmann::json& object);
/// One attribute's value as text in the catalog's unit for its kind ("3.2%", "12MiB", an
/// enum's member); a value the catalog does not describe as it is.
std::string attribute_value_text(std::string_view kind, std::string_view name,
                                 const nlohmann::json& value);
std::string format_table(const std::vector<std::vector<std::string>>& rows);

std::string render_status(const nlohmann::json& result, const RenderStyle& style);
std::string render_rules(const nlohmann::json& result, const RenderStyle& style);
std::string render_events(const nlohmann::json& result, const RenderStyle& style);
/// One event of a --follow stream, with an absolute UTC time (the stream is read live).
std::string render_event_line(const nlohmann::json& event, const RenderStyle& style);
std::string render_explain(const nlohmann::json& result, const RenderStyle& style);
std::string render_control(const nlohmann::json& result, const RenderStyle& style);
std::string render_reload(const nlohmann::json& result, const RenderStyle& style);
std::string render_version(const nlohmann::json& result, const RenderStyle& style);
/// `maintenance`: the windows in force, one a line: what, until when (and how long left),
/// who set it, the reason.
std::string render_maintenance(const nlohmann::json& result, const RenderStyle& style);
/// `maintenance OBJECT --for`/`--end`: the window opened (`started`) or ended.
std::string render_maintenance_change(const nlohmann::json& result, bool started,
                                      const RenderStyle& style);
/// `names objects` (of a status result) or `names rules` (of a rules result): one name a
/// line, rules both expanded ("down[web]") and as written ("down"), each once, sorted.
std::string render_names(const nlohmann::json& result, std::string_view what);
/// An error reply's "error" object: the message, then diagnostics when there are any.
std::string render_error(const nlohmann::json& error, const RenderStyle& style);

}  // namespace amata::console
