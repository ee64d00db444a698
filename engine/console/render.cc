#include "engine/console/render.h"

#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <set>
#include <span>

#include "catalog/catalog.h"
#include "engine/console/console_backend.h"

namespace amata::console {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kGreen = "\x1b[32m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kReset = "\x1b[0m";
// What needs an operator's eye without being a failure: a cluster not connected or not
// quorate, nodes disagreeing on the configuration, a node leaving.
constexpr std::string_view kWarning = kYellow;

std::string paint(const RenderStyle& style, std::string_view colour, std::string_view text) {
  if (!style.colour || colour.empty()) return std::string(text);
  return fmt::format("{}{}{}", colour, text, kReset);
}

// Colours by meaning, not by exact word: the daemon's states are free text.
std::string_view state_colour(std::string_view state) {
  static constexpr std::string_view kBad[] = {"failed", "firing",      "down",  "dead",
                                              "error",  "unreachable", "raised"};
  static constexpr std::string_view kBusy[] = {"pending",     "starting", "stopping", "restarting",
                                               "unmonitored", "degraded", "unknown"};
  static constexpr std::string_view kGood[] = {"running", "armed",   "up",       "ok",
                                               "healthy", "cleared", "reachable"};
  for (auto s : kBad)
    if (state == s) return kRed;
  for (auto s : kBusy)
    if (state == s) return kYellow;
  for (auto s : kGood)
    if (state == s) return kGreen;
  return {};
}

std::string str(const Json& object, const char* key, std::string_view fallback = "-") {
  if (!object.is_object()) return std::string(fallback);
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string(fallback);
  if (it->is_string()) return it->get<std::string>();
  return it->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::int64_t> millis(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  // A time from another process: one beyond int64 is no time at all (converting a double
  // that large would be undefined, an unsigned one would wrap).
  if (it->is_number_unsigned()) {
    const auto value = it->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(value);
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  const double value = it->get<double>();
  if (!(std::fabs(value) < 9.2e18)) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

std::string scalar(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_null()) return "-";
  if (value.is_number_float()) {
    // Whole numbers (byte counts, pids) in full; fractions to four significant digits.
    double d = value.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
      return fmt::format("{}", static_cast<std::int64_t>(d));
    }
    return fmt::format("{:.4g}", d);
  }
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The few attributes of each kind worth a column in `amatactl status`; --json has them all.
std::span<const std::string_view> key_attributes(std::string_view kind) {
  static constexpr std::string_view kNode[] = {"cpu", "load1", "mem", "swap"};
  static constexpr std::string_view kProcess[] = {"cpu", "rss", "threads", "fds", "uptime"};
  static constexpr std::string_view kInterface[] = {"carrier", "operstate", "rx_rate", "tx_rate",
                                                    "error_rate"};
  static constexpr std::string_view kFilesystem[] = {"used", "free", "inodes", "busy"};
  static constexpr std::string_view kHost[] = {"reachable", "latency"};
  static constexpr std::string_view kCheck[] = {"status", "exit_code", "duration"};
  static constexpr std::string_view kPeer[] = {"member", "quorate"};
  // A sensor shows what its input measures; the others are unknown and left out of the row.
  static constexpr std::string_view kSensor[] = {"temp", "fan", "volts", "power", "alarm"};
  static constexpr std::string_view kEcc[] = {"ce_count", "ue_count"};
  static constexpr std::string_view kDisk[] = {"healthy", "temp", "reallocated", "pending",
                                               "error"};
  static constexpr std::string_view kRaid[] = {"state", "degraded", "sync_action",
                                               "sync_completed"};
  static constexpr std::string_view kUnit[] = {"active_state", "sub_state", "restarts", "main_pid",
                                               "memory"};
  if (kind == "node") return kNode;
  if (kind == "service" || kind == "process") return kProcess;
  if (kind == "interface") return kInterface;
  if (kind == "filesystem") return kFilesystem;
  if (kind == "host") return kHost;
  if (kind == "check") return kCheck;
  if (kind == "peer") return kPeer;
  if (kind == "sensor") return kSensor;
  if (kind == "ecc") return kEcc;
  if (kind == "disk") return kDisk;
  if (kind == "raid") return kRaid;
  if (kind == "unit") return kUnit;
  return {};
}

std::string trimmed(double v, std::string_view suffix) {
  std::string text = fmt::format("{:.1f}", v);
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text + std::string(suffix);
}

std::string bytes_text(double v, std::string_view per) {
  static constexpr std::string_view kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t u = 0;
  while (std::fabs(v) >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  return trimmed(v, std::string(kUnits[u]) + std::string(per));
}

// A number in the unit the catalog gives the attribute ("3.2%", "12MiB", "3m20s").
std::string attribute_text(std::string_view kind, std::string_view name, const Json& value) {
  if (!value.is_number()) return scalar(value);
  auto parsed_kind = catalog::kind_from_name(kind);
  const catalog::Attribute* attribute =
      parsed_kind ? catalog::find_attribute(*parsed_kind, name) : nullptr;
  if (attribute && attribute->type.kind == catalog::ValueKind::kEnum) {
    // Samples hold an enum's ordinal; people read its member (`active_state=failed`).
    const auto members = catalog::enum_members(attribute->type.enum_type);
    const double ordinal = value.get<double>();
    if (ordinal >= 0 && ordinal < static_cast<double>(members.size()) &&
        ordinal == std::floor(ordinal)) {
      return std::string(members[static_cast<std::size_t>(ordinal)]);
    }
    return scalar(value);
  }
  if (!attribute || attribute->type.kind != catalog::ValueKind::kNumber) return scalar(value);
  double v = value.get<double>();
  if (!std::isfinite(v)) return scalar(value);
  switch (attribute->type.dimension) {
    case catalog::Dimension::kPercent:
      return trimmed(v, "%");
    case catalog::Dimension::kBytes:
      return bytes_text(v, "");
    case catalog::Dimension::kBytesPerSecond:
      return bytes_text(v, "/s");
    case catalog::Dimension::kPerSecond:
      return trimmed(v, "/s");
    case catalog::Dimension::kDuration:
      return short_duration(static_cast<std::int64_t>(std::llround(v * 1000)));
    case catalog::Dimension::kTemperature:
    case catalog::Dimension::kVoltage:
    case catalog::Dimension::kCurrent:
    case catalog::Dimension::kPower:
    case catalog::Dimension::kRotation:
      return trimmed(v, catalog::base_unit_suffix(attribute->type.dimension));
    case catalog::Dimension::kCount:
      break;
  }
  return scalar(value);
}

std::size_t display_width(std::string_view s) {
  std::size_t width = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {  // skip an SGR sequence: ESC [ ... m
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((c & 0xC0) != 0x80) ++width;  // count UTF-8 lead bytes only
  }
  return width;
}

std::string utc_clock(std::int64_t unix_ms) {
  time_t seconds = static_cast<time_t>(unix_ms / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}Z", parts.tm_year + 1900,
                     parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                     static_cast<int>(((unix_ms % 1000) + 1000) % 1000));
}

const Json& array_field(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  if (it == object.end() || !it->is_array()) return kEmpty;
  return *it;
}

const Json& object_field(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  if (it == object.end() || !it->is_object()) return kEmpty;
  return *it;
}

std::optional<bool> flag(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

// Node or service names of a list, `separator` apart; `empty` when there are none.
std::string joined(const Json& names, std::string_view separator, std::string_view empty = "-") {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += separator;
    out += scalar(name);
  }
  return out.empty() ? std::string(empty) : out;
}

bool is_membership(const Json& record) {
  return is_cluster_record(record) && str(record, "type", "") == "membership";
}

std::string event_message(const Json& record) {
  std::string message = str(record, "message", "");
  if (message.empty() && is_membership(record)) {
    return membership_message(object_field(record, "data"));
  }
  return message;
}

// The node that published a cluster record; "-" for membership changes, which no node
// publishes.
std::string publishing_node(const Json& record) {
  std::string node = str(record, "node", "");
  return node.empty() ? str(record, "node_id") : node;
}

// Membership changes stand out from the events around them; a departure in the warning colour.
std::string_view type_colour(const Json& record) {
  if (!is_membership(record)) return state_colour(str(record, "type"));
  return array_field(object_field(record, "data"), "left").empty() ? kBold : kWarning;
}

std::string render_cluster(const Json& cluster, const RenderStyle& style) {
  std::string out = "cluster";
  if (auto name = str(cluster, "name", ""); !name.empty()) out += " " + name;
  if (auto group = str(cluster, "group", ""); !group.empty()) out += " (group " + group + ")";
  std::vector<std::string> conditions;
  for (const char* condition : {"connected", "quorate", "synced"}) {
    auto holds = flag(cluster, condition);
    if (!holds) continue;
    conditions.push_back(*holds ? std::string(condition)
                                : paint(style, kWarning, std::string("not ") + condition));
  }
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    out += (i == 0 ? ": " : ", ") + conditions[i];
  }
  const Json& local = object_field(cluster, "local_node");
  if (auto name = str(local, "name", ""); !name.empty()) {
    out += "; this node " + name;
    if (auto id = str(local, "id", ""); !id.empty()) out += " (id " + id + ")";
  }
  out += "\n";

  if (const Json& mismatch = array_field(cluster, "config_mismatch"); !mismatch.empty()) {
    out += paint(style, kWarning,
                 fmt::format("warning: {} {} a different cluster configuration; reload every node "
                             "with the same policy",
                             joined(mismatch, ", "), mismatch.size() == 1 ? "runs" : "run"));
    out += "\n";
  }

  std::vector<std::vector<std::string>> peers;
  peers.push_back({paint(style, kBold, "NODE"), paint(style, kBold, "ID"),
                   paint(style, kBold, "MEMBER"), paint(style, kBold, "AMATAD"),
                   paint(style, kBold, "SINCE"), paint(style, kBold, "RUNS")});
  for (const auto& peer : array_field(cluster, "peers")) {
    std::string member = "-";
    if (auto is_member = flag(peer, "member")) {
      member = *is_member ? "yes" : paint(style, kWarning, "no");
    }
    // A member node whose amatad is not in the group runs nothing the cluster places.
    std::string amatad = "-";
    if (auto in_group = flag(peer, "amatad")) {
      amatad = *in_group ? "yes" : paint(style, kWarning, "no");
    }
    peers.push_back({str(peer, "name"), str(peer, "id"), member, amatad,
                     relative_time(style.now_unix_ms, millis(peer, "since_unix_ms")),
                     joined(array_field(peer, "runs"), ",")});
  }
  if (peers.size() > 1) out += format_table(peers);

  std::vector<std::vector<std::string>> services;
  services.push_back({paint(style, kBold, "SERVICE"), paint(style, kBold, "OWNER"),
                      paint(style, kBold, "HOLDERS"), paint(style, kBold, "HERE")});
  for (const auto& service : array_field(cluster, "services")) {
    std::string here = str(service, "here");
    services.push_back({str(service, "name"), str(service, "owner"),
                        joined(array_field(service, "holders"), ","),
                        paint(style, state_colour(here), here)});
  }
  if (services.size() > 1) out += format_table(services);

  // Remote nodes: the heartbeat's age and round trip (exact on the member serving each, as
  // that member last reported them on the others).
  std::vector<std::vector<std::string>> remotes;
  remotes.push_back({paint(style, kBold, "REMOTE"), paint(style, kBold, "MEMBER"),
                     paint(style, kBold, "VIA"), paint(style, kBold, "SINCE"),
                     paint(style, kBold, "EVENTS"), paint(style, kBold, "HEARTBEAT"),
                     paint(style, kBold, "RTT")});
  for (const auto& node : array_field(cluster, "remote_nodes")) {
    std::string member = "-";
    if (auto is_member = flag(node, "member")) {
      member = *is_member ? "yes" : paint(style, kWarning, "no");
    }
    const auto age = millis(node, "heartbeat_age_ms");
    std::string rtt = "-";
    if (const auto it = node.find("rtt_ms"); it != node.end() && it->is_number()) {
      rtt = fmt::format("{:.1f}ms", it->get<double>());
    }
    remotes.push_back({str(node, "name"), member, str(node, "via"),
                       relative_time(style.now_unix_ms, millis(node, "since_unix_ms")),
                       str(node, "events"), age ? fmt::format("{}ms ago", *age) : "-", rtt});
  }
  if (remotes.size() > 1) out += format_table(remotes);
  return out;
}

// A remote node's clustered services (docs/console.md): which the ring placed here, and what
// is left of the lease they run on. Nothing when it has none.
std::string render_remote_services(const Json& services, const RenderStyle& style) {
  if (!services.is_object()) return "";
  const auto names = [&services](const char* key) {
    std::set<std::string> out;
    if (const auto it = services.find(key); it != services.end() && it->is_array())
      for (const auto& n : *it)
        if (n.is_string()) out.insert(n.get<std::string>());
    return out;
  };
  const std::set<std::string> clustered = names("clustered");
  if (clustered.empty()) return "";
  const std::set<std::string> placed = names("placed");
  const std::set<std::string> gave_up = names("gave_up");
  std::string list;
  for (const auto& name : clustered) {
    list += (list.empty() ? "" : ", ") + name + " " +
            (placed.count(name)    ? "placed here"
             : gave_up.count(name) ? "gave up"
                                   : "standby");
  }
  std::string lease = "no lease";
  if (const auto it = services.find("lease_ms"); it != services.end() && it->is_number_integer()) {
    const auto left = it->get<std::int64_t>();
    lease =
        left > 0 ? fmt::format("lease {}ms left", left) : paint(style, kWarning, "lease ran out");
  }
  return "clustered services: " + list + "; " + lease + "\n";
}

// A remote node's link to the ring, in one line.
std::string render_remote(const Json& remote, const RenderStyle& style) {
  std::string out = "remote node " + str(remote, "node") + " of cluster " + str(remote, "cluster");
  const std::string to = str(remote, "attached_to", "");
  const std::string since = relative_time(style.now_unix_ms, millis(remote, "since_unix_ms"));
  if (to.empty() || to == "-") {
    out += ": " + paint(style, kWarning, "not attached") + " (since " + since + ")";
  } else {
    out += ": attached to " + to + " (since " + since + ")";
  }
  out += fmt::format("; {} event(s) sent, {} acknowledged, {} waiting, {} dropped",
                     str(remote, "published"), str(remote, "acked"), str(remote, "buffered"),
                     str(remote, "dropped"));
  if (const auto it = remote.find("rtt_ms"); it != remote.end() && it->is_number()) {
    out += fmt::format("; heartbeat round trip {:.1f}ms", it->get<double>());
  }
  out += "\n";
  if (const auto why = str(remote, "last_error", ""); !why.empty() && (to.empty() || to == "-")) {
    out += paint(style, kWarning, "last error: " + why) + "\n";
  }
  if (const auto it = remote.is_object() ? remote.find("services") : remote.end();
      it != remote.end())
    out += render_remote_services(*it, style);
  return out;
}

void explain_node(const Json& node, const RenderStyle& style, int depth, std::string& out) {
  if (!node.is_object()) return;
  if (depth > 64) {  // the tree comes from another process: bound the recursion
    out += fmt::format("{:{}}...\n", "", depth * 2);
    return;
  }
  std::string value = node.contains("value") ? scalar(node["value"]) : "-";
  if (auto unit = str(node, "unit", ""); !unit.empty() && value != "-") value += unit;
  std::string_view colour;
  if (node.contains("value") && node["value"].is_boolean()) {
    colour = node["value"].get<bool>() ? kGreen : kDim;
  }
  out += fmt::format("{:{}}{}  = {}", "", depth * 2, str(node, "text", "?"),
                     paint(style, colour, value));
  if (auto note = str(node, "note", ""); !note.empty()) {
    out += "  " + paint(style, kDim, "(" + note + ")");
  }
  out += '\n';
  for (const auto& child : array_field(node, "children")) {
    explain_node(child, style, depth + 1, out);
  }
}

/// The diagnostics of a reload: amatad's own rendering when it sent one, else a line each.
std::string render_diagnostics(const Json& holder, const char* key) {
  if (auto rendered = str(holder, "rendered", ""); !rendered.empty()) {
    return rendered.back() == '\n' ? rendered : rendered + '\n';
  }
  std::string out;
  for (const auto& d : array_field(holder, key)) {
    out += fmt::format("{}:{}:{}: {}: {}", str(d, "file", "?"), str(d, "line", "?"),
                       str(d, "column", "?"), str(d, "severity", "error"), str(d, "message", ""));
    if (auto code = str(d, "code", ""); !code.empty()) out += " [" + code + "]";
    out += '\n';
  }
  return out;
}

// What a <window> pauses: the object, or the whole node.
std::string window_target(const Json& window) {
  auto object = window.is_object() ? window.find("object") : window.end();
  if (window.is_object() && object != window.end() && object->is_string()) {
    return object->get<std::string>();
  }
  return "the node";
}

// "until 2026-12-05 01:00:00Z (in 29m)"
std::string window_until(const Json& window, const RenderStyle& style) {
  auto until = millis(window, "until_unix_ms");
  if (!until) return "until ?";
  return fmt::format("until {} ({})", utc_clock(*until).substr(0, 19) + "Z",
                     relative_time(style.now_unix_ms, until));
}

// "web in maintenance until 2026-12-05 01:00:00Z (in 29m), set by uid 0 3m ago: kernel upgrade"
std::string window_line(const Json& window, const RenderStyle& style) {
  return fmt::format("{} {} {}, set by uid {} {}: {}\n", window_target(window),
                     paint(style, kWarning, "in maintenance"), window_until(window, style),
                     str(window, "uid", "?"),
                     relative_time(style.now_unix_ms, millis(window, "set_unix_ms")),
                     str(window, "reason", ""));
}

}  // namespace

std::string short_duration(std::int64_t ms) {
  if (ms < 0) ms = -ms;
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 10'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  std::int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string utc_time(std::int64_t unix_ms) {
  return utc_clock(unix_ms);
}

std::vector<std::pair<std::string, std::string>> key_attribute_texts(const Json& object) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!object.is_object()) return out;
  auto it = object.find("attributes");
  if (it == object.end() || !it->is_object()) return out;
  const std::string kind = str(object, "kind");
  auto keys = key_attributes(kind);
  if (keys.empty()) {  // a kind this amatactl does not know: the first few
    std::size_t shown = 0;
    for (const auto& [name, value] : it->items()) {
      if (shown++ == 6) break;
      out.emplace_back(name, attribute_text(kind, name, value));
    }
  }
  for (auto name : keys) {
    auto value = it->find(std::string(name));
    if (value != it->end() && !value->is_null()) {
      out.emplace_back(std::string(name), attribute_text(kind, name, *value));
    }
  }
  return out;
}

std::string attribute_value_text(std::string_view kind, std::string_view name, const Json& value) {
  return attribute_text(kind, name, value);
}

std::string relative_time(std::int64_t now_unix_ms, std::optional<std::int64_t> then_unix_ms) {
  if (!then_unix_ms || *then_unix_ms <= 0) return "-";
  std::int64_t delta = now_unix_ms - *then_unix_ms;
  bool future = delta < 0;
  std::int64_t s = (future ? -delta : delta) / 1000;
  std::string amount;
  if (s < 1) return future ? "now" : "just now";
  if (s < 60) {
    amount = fmt::format("{}s", s);
  } else if (s < 3600) {
    amount = fmt::format("{}m", s / 60);
  } else if (s < 86400) {
    amount = fmt::format("{}h", s / 3600);
  } else {
    amount = fmt::format("{}d", s / 86400);
  }
  return future ? "in " + amount : amount + " ago";
}

std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(widths[c] - display_width(row[c]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string render_status(const Json& result, const RenderStyle& style) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({paint(style, kBold, "OBJECT"), paint(style, kBold, "KIND"),
                  paint(style, kBold, "STATE"), paint(style, kBold, "SINCE"),
                  paint(style, kBold, "RESTARTS"), paint(style, kBold, "ATTRIBUTES")});
  for (const auto& object : array_field(result, "objects")) {
    std::string state = str(object, "state");
    auto monitored = object.is_object() ? object.find("monitored") : object.end();
    if (object.is_object() && monitored != object.end() && monitored->is_boolean() &&
        !monitored->get<bool>() && state != "unmonitored" && state != "standby" &&
        state != "not-here") {  // a clustered service the cluster holds back
      state += " (unmonitored)";
    }
    std::string attributes;
    auto add = [&](std::string_view name, const std::string& text) {
      if (!attributes.empty()) attributes += ' ';
      attributes += std::string(name) + "=" + text;
    };
    if (object.is_object()) {
      if (auto pid = object.find("pid"); pid != object.end() && pid->is_number()) {
        add("pid", scalar(*pid));
      }
    }
    for (const auto& [name, text] : key_attribute_texts(object)) add(name, text);
    if (object.is_object() && object.contains("maintenance")) state += " (maintenance)";
    rows.push_back({str(object, "name"), str(object, "kind"),
                    paint(style, state_colour(str(object, "state")), state),
                    relative_time(style.now_unix_ms, millis(object, "since_unix_ms")),
                    str(object, "restarts", "0"), attributes});
  }
  std::string out;
  if (auto policy = str(result, "policy", ""); !policy.empty()) out += "policy " + policy + "\n";
  out += rows.size() == 1 ? "no objects\n" : format_table(rows);
  // The windows that pause recovery: the node's, then each object's own.
  if (const Json& node = object_field(result, "maintenance"); !node.empty()) {
    out += "\n" + window_line(node, style);
  }
  bool first = object_field(result, "maintenance").empty();
  for (const auto& object : array_field(result, "objects")) {
    const Json& window = object_field(object, "maintenance");
    if (window.empty() || window_target(window) == "the node") continue;
    out += (first ? "\n" : "") + window_line(window, style);
    first = false;
  }
  if (result.is_object()) {
    if (auto it = result.find("cluster"); it != result.end() && it->is_object()) {
      out += "\n" + render_cluster(*it, style);
    }
    if (auto it = result.find("remote"); it != result.end() && it->is_object()) {
      out += "\n" + render_remote(*it, style);
    }
  }
  return out;
}

std::string render_rules(const Json& result, const RenderStyle& style) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({paint(style, kBold, "RULE"), paint(style, kBold, "STATE"),
                  paint(style, kBold, "DETAIL"), paint(style, kBold, "LAST EDGE")});
  for (const auto& rule : array_field(result, "rules")) {
    std::string state = str(rule, "state");
    std::string detail;
    if (auto left = millis(rule, "pending_left_ms"); left && state == "pending") {
      detail = short_duration(*left) + " left";
    } else if (auto clears = millis(rule, "clearing_left_ms"); clears && state == "firing") {
      detail = "clears in " + short_duration(*clears);
    }
    std::string edge = "-";
    if (rule.is_object()) {
      if (auto it = rule.find("last_edge"); it != rule.end() && it->is_object()) {
        edge = str(*it, "edge") + " " + relative_time(style.now_unix_ms, millis(*it, "at_unix_ms"));
      }
    }
    rows.push_back({str(rule, "name"), paint(style, state_colour(state), state), detail, edge});
  }
  if (rows.size() == 1) return "no rules\n";
  return format_table(rows);
}

std::string render_events(const Json& result, const RenderStyle& style) {
  const Json& events = array_field(result, "events");
  // The cluster log gets a NODE column; this node's own history keeps its narrower table.
  const bool cluster = std::any_of(events.begin(), events.end(),
                                   [](const Json& event) { return is_cluster_record(event); });
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {paint(style, kBold, "WHEN")};
  if (cluster) header.push_back(paint(style, kBold, "NODE"));
  for (const char* column : {"TYPE", "EVENT", "OBJECT", "MESSAGE"}) {
    header.push_back(paint(style, kBold, column));
  }
  rows.push_back(std::move(header));
  for (const auto& event : events) {
    std::vector<std::string> row = {relative_time(style.now_unix_ms, millis(event, "at_unix_ms"))};
    if (cluster) row.push_back(publishing_node(event));
    row.push_back(paint(style, type_colour(event), str(event, "type")));
    row.push_back(str(event, "event"));
    row.push_back(str(event, "object"));
    row.push_back(event_message(event));
    rows.push_back(std::move(row));
  }
  if (rows.size() == 1) return "no events\n";
  return format_table(rows);
}

std::string render_event_line(const Json& event, const RenderStyle& style) {
  std::string line = utc_clock(millis(event, "at_unix_ms").value_or(0));
  if (is_cluster_record(event)) line += "  " + publishing_node(event);
  line += fmt::format("  {}  {}  {}", paint(style, type_colour(event), str(event, "type")),
                      str(event, "event"), str(event, "object"));
  if (auto message = event_message(event); !message.empty()) line += "  " + message;
  return line + "\n";
}

std::string render_explain(const Json& result, const RenderStyle& style) {
  std::string state = str(result, "state");
  std::string out =
      fmt::format("rule {}: {}\n", str(result, "rule"), paint(style, state_colour(state), state));
  if (auto reason = str(result, "reason", ""); !reason.empty()) out += reason + "\n";
  if (result.is_object() && result.contains("condition")) {
    out += "\n";
    explain_node(result["condition"], style, 1, out);
  }
  return out;
}

std::string render_control(const Json& result, const RenderStyle& style) {
  if (auto outcome = str(result, "outcome", ""); !outcome.empty()) {
    // A waited action: how it ended, not that it was accepted.
    std::string out = fmt::format("{} {}: {}", str(result, "verb"), str(result, "object"),
                                  paint(style, outcome == "ok" ? kGreen : kRed, outcome));
    if (auto detail = str(result, "detail", ""); !detail.empty()) out += " (" + detail + ")";
    if (auto took = millis(result, "duration_ms")) out += " in " + short_duration(*took);
    return out + "\n";
  }
  std::string out = fmt::format("{} {}: {}", str(result, "verb"), str(result, "object"),
                                paint(style, kGreen, "accepted"));
  if (auto message = str(result, "message", ""); !message.empty()) out += " (" + message + ")";
  return out + "\n";
}

std::string render_reload(const Json& result, const RenderStyle& style) {
  std::string out =
      fmt::format("{} policy {}", paint(style, kGreen, "reloaded"), str(result, "policy"));
  if (auto file = str(result, "file", ""); !file.empty()) out += " from " + file;
  if (result.is_object() && result.contains("objects")) {
    out += fmt::format(" ({} objects, {} rules)", str(result, "objects"), str(result, "rules"));
  }
  out += "\n";
  out += render_diagnostics(result, "warnings");
  return out;
}

std::string render_version(const Json& result, const RenderStyle& /*style*/) {
  std::string out = fmt::format("amatad {} (console protocol {})\n", str(result, "amatad"),
                                str(result, "protocol"));
  if (auto commit = str(result, "commit", ""); !commit.empty()) out += "commit " + commit + "\n";
  if (auto policy = str(result, "policy", ""); !policy.empty()) out += "policy " + policy + "\n";
  if (auto backend = str(result, "backend", ""); !backend.empty()) {
    out += "backend " + backend + "\n";
  }
  return out;
}

std::string render_maintenance(const Json& result, const RenderStyle& style) {
  const Json& windows = array_field(result, "windows");
  if (windows.empty()) return "no maintenance windows\n";
  std::string out;
  for (const auto& window : windows) out += window_line(window, style);
  return out;
}

std::string render_maintenance_change(const Json& result, bool started, const RenderStyle& style) {
  const Json& window = object_field(result, "window");
  if (!started) return "maintenance of " + window_target(window) + " ended\n";
  std::string out =
      fmt::format("maintenance of {} {}: recovery and hooks paused{}\n", window_target(window),
                  window_until(window, style),
                  flag(result, "replaced").value_or(false) ? " (replaces the window before)" : "");
  return out;
}

std::string render_names(const Json& result, std::string_view what) {
  std::set<std::string> names;
  const char* list = what == "objects" ? "objects" : "rules";
  if (auto it = result.find(list); result.is_object() && it != result.end() && it->is_array()) {
    for (const Json& item : *it) {
      if (auto name = str(item, "name", ""); !name.empty()) names.insert(name);
      if (what == "rules") {
        if (auto rule = str(item, "rule", ""); !rule.empty()) names.insert(rule);
      }
    }
  }
  std::string out;
  for (const std::string& name : names) out += name + "\n";
  return out;
}

std::string render_error(const Json& error, const RenderStyle& style) {
  std::string out = fmt::format("{}: {}\n", paint(style, kRed, "error"), str(error, "message"));
  if (error.is_object()) {
    if (auto it = error.find("details"); it != error.end() && it->is_object()) {
      out += render_diagnostics(*it, "diagnostics");
    }
  }
  return out;
}

}  // namespace amata::console
