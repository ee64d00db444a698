#include "engine/web/pages.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <vector>

#include "engine/console/render.h"
#include "engine/web/control_routes.h"
#include "engine/web/object_page.h"

namespace amata::web {
namespace {

using Json = nlohmann::json;

// The explain tree comes from another process: bound the recursion as amatactl does.
constexpr int kMaxTreeDepth = 64;

const Json& field(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text(const Json& value, std::string_view fallback = "-") {
  if (value.is_null()) return std::string(fallback);
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string str(const Json& object, const char* key, std::string_view fallback = "-") {
  return text(field(object, key), fallback);
}

std::optional<std::int64_t> millis(const Json& object, const char* key) {
  const Json& value = field(object, key);
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float() && std::fabs(value.get<double>()) < 9.2e18) {
    return static_cast<std::int64_t>(value.get<double>());
  }
  return std::nullopt;
}

const Json& array(const Json& object, const char* key) {
  static const Json kEmpty = Json::array();
  const Json& value = field(object, key);
  return value.is_array() ? value : kEmpty;
}

std::string badge(std::string_view state, std::string_view label = {}) {
  return fmt::format(R"(<span class="badge {}">{}</span>)", tone_class(state_tone(state)),
                     escape(label.empty() ? state : label));
}

// Whole numbers in full, fractions to four significant digits ("9.464", not 9.46392381300393).
std::string number_text(const Json& value) {
  if (!value.is_number_float()) return text(value);
  const double d = value.get<double>();
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
    return fmt::format("{}", static_cast<std::int64_t>(d));
  }
  return fmt::format("{:.4g}", d);
}

// A value of the explain tree: booleans coloured, numbers trimmed, null "not measured".
std::string value_html(const Json& value) {
  if (value.is_boolean()) {
    return value.get<bool>() ? R"(<span class="value true">true</span>)"
                             : R"(<span class="value false">false</span>)";
  }
  if (value.is_null()) return R"(<span class="value missing">not measured</span>)";
  return R"(<span class="value">)" + escape(number_text(value)) + "</span>";
}

void tree_node(const Json& node, int depth, std::string& out) {
  if (!node.is_object()) return;
  if (depth > kMaxTreeDepth) {
    out += "<li>…</li>";
    return;
  }
  const Json& value = field(node, "value");
  std::string_view held = value.is_boolean() ? (value.get<bool>() ? " holds" : " fails") : "";
  out += fmt::format(R"(<li class="node{}"><code>{}</code>)", held, escape(str(node, "text", "?")));
  out += " = " + value_html(value);
  if (auto note = str(node, "note", ""); !note.empty()) {
    out += R"( <span class="note">)" + escape(note) + "</span>";
  }
  const Json& children = array(node, "children");
  if (!children.empty()) {
    out += "<ul>";
    for (const auto& child : children) tree_node(child, depth + 1, out);
    out += "</ul>";
  }
  out += "</li>";
}

std::string rule_detail(const Json& rule) {
  const std::string state = str(rule, "state");
  if (state == "pending") {
    if (auto left = millis(rule, "pending_left_ms")) {
      return console::short_duration(*left) + " left";
    }
    if (auto checks = millis(rule, "pending_checks_left")) {
      return fmt::format("{} check{} left", *checks, *checks == 1 ? "" : "s");
    }
    return "qualifier not met yet";
  }
  if (auto clears = millis(rule, "clearing_left_ms"); clears && state == "firing") {
    return "clears in " + console::short_duration(*clears);
  }
  return "";
}

std::string rule_link(const Json& rule) {
  const std::string name = str(rule, "name", "?");
  return fmt::format(R"(<a href="/rules/{}">{}</a>)", url_component(name), escape(name));
}

std::string object_link(const std::string& name) {
  return fmt::format(R"(<a href="/events?object={}">{}</a>)", url_component(name), escape(name));
}

}  // namespace

std::vector<int> restart_counts(const Json& events, std::string_view object,
                                std::int64_t now_unix_ms, std::int64_t window_ms, int buckets) {
  if (buckets <= 0 || window_ms <= 0) return {};
  std::vector<int> counts(static_cast<std::size_t>(buckets), 0);
  const std::int64_t start = now_unix_ms - window_ms;
  for (const auto& event : array(events, "events")) {
    if (str(event, "type") != "action" || str(event, "object", "") != object ||
        str(field(event, "data"), "kind") != "restart") {
      continue;
    }
    const auto at = millis(event, "at_unix_ms");
    if (!at || *at < start || *at > now_unix_ms) continue;
    auto slot = static_cast<std::size_t>((*at - start) * buckets / window_ms);
    counts[std::min(slot, counts.size() - 1)]++;
  }
  return counts;
}

std::string restart_sparkline(const Json& events, std::string_view object, std::int64_t now_unix_ms,
                              std::int64_t window_ms, int buckets) {
  if (buckets <= 0 || window_ms <= 0) return "";
  const std::vector<int> counts = restart_counts(events, object, now_unix_ms, window_ms, buckets);
  int total = 0;
  for (int n : counts) total += n;
  const int peak = std::max(1, *std::max_element(counts.begin(), counts.end()));
  constexpr int kBarWidth = 3;
  constexpr int kHeight = 16;
  std::string bars;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    // An empty slice is a thin baseline, so the line reads as "nothing" rather than "no data".
    const int h = counts[i] == 0 ? 1 : std::max(3, counts[i] * kHeight / peak);
    bars += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}"{}/>)",
                        static_cast<int>(i) * kBarWidth, kHeight - h, kBarWidth - 1, h,
                        counts[i] == 0 ? R"( class="none")" : "");
  }
  return fmt::format(
      R"(<svg class="spark" width="{0}" height="{1}" viewBox="0 0 {0} {1}" role="img">)"
      R"(<title>{2} restart{3} in the last {4} min</title>{5}</svg>)",
      buckets * kBarWidth, kHeight, total, total == 1 ? "" : "s", window_ms / 60000, bars);
}

std::vector<std::string> overview_attribute_names(const Json& status, std::size_t limit) {
  std::vector<std::string> names;
  for (const auto& object : array(status, "objects")) {
    for (const auto& [name, value] : console::key_attribute_texts(object)) {
      if (names.size() == limit) return names;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  return names;
}

std::string attribute_sparkline(const Json& points, std::int64_t from_ms, std::int64_t to_ms,
                                std::string_view what, Tone tone,
                                const std::function<std::string(double)>& label_of) {
  constexpr int kWidth = 64;
  constexpr int kHeight = 16;
  // A margin of a pixel or two, so the stroke and a lone point's dot are not cut off.
  const SeriesShape shape =
      series_shape(points, from_ms, to_ms, {1, 2, kWidth - 2, kHeight - 4}, 1.5);
  if (shape.empty()) return "";
  const auto label = [&](double v) { return label_of ? label_of(v) : number_text(Json(v)); };
  std::string title =
      fmt::format("{}, last {} min: {}", what,
                  std::max<std::int64_t>(1, (to_ms - from_ms + 30000) / 60000), label(shape.low));
  if (shape.high > shape.low) title += " to " + label(shape.high);
  return fmt::format(
      R"(<svg class="spark line {0}" width="{1}" height="{2}" viewBox="0 0 {1} {2}" role="img">)"
      R"(<title>{3}</title><path d="{4}"/>{5}</svg>)",
      tone_class(tone), kWidth, kHeight, escape(title), shape.path, shape.dots);
}

Page overview_page(const Json& status, const Json& rules, const Json& recent, const Json& history,
                   std::int64_t now_unix_ms, std::string_view csrf) {
  // The rules that say something about each object: a non-service object has no state of its
  // own beyond "monitored", so a firing rule on it is what turns its row red.
  std::map<std::string, std::vector<const Json*>> active;
  for (const auto& rule : array(rules, "rules")) {
    const std::string state = str(rule, "state");
    if (state == "firing" || state == "pending") active[str(rule, "object", "")].push_back(&rule);
  }
  // One span for every sparkline, so rows compare: the half hour, or while amatad has kept
  // less, from its oldest point (but at least kShortestSparkMs).
  const Json& kept_history = field(history, "objects");
  std::int64_t oldest = now_unix_ms;
  if (kept_history.is_object()) {
    for (const auto& [object, series] : kept_history.items()) {
      if (!series.is_object()) continue;
      for (const auto& [attribute, points] : series.items()) {
        if (points.is_array() && !points.empty() && points[0].is_array() && !points[0].empty() &&
            points[0][0].is_number_integer()) {
          oldest = std::min(oldest, points[0][0].get<std::int64_t>());
        }
      }
    }
  }
  const std::int64_t spark_from =
      std::max(now_unix_ms - kAttributeSparkMs, std::min(oldest, now_unix_ms - kShortestSparkMs));
  std::map<Tone, int> counts;
  std::string rows;
  for (const auto& object : array(status, "objects")) {
    const std::string name = str(object, "name", "?");
    const std::string state = str(object, "state");
    Tone tone = state_tone(state);
    std::string rule_cells;
    for (const Json* rule : active[name]) {
      const bool firing = str(*rule, "state") == "firing";
      if (firing) tone = Tone::kBad;
      if (!firing && tone == Tone::kGood) tone = Tone::kWarn;
      rule_cells += rule_link(*rule) + " " + badge(str(*rule, "state")) + " ";
    }
    if (field(object, "maintenance").is_object()) {
      rule_cells += R"(<span class="badge amber">maintenance</span>)";
    }
    counts[tone]++;
    std::string uptime = "-";
    if (auto since = millis(object, "since_unix_ms")) {
      uptime = console::short_duration(std::max<std::int64_t>(0, now_unix_ms - *since));
    }
    // Only services restart; the sparkline only where there are restart records to read.
    std::string restarts = escape(str(object, "restarts", "-"));
    if (field(object, "restarts").is_number() && recent.is_object()) {
      restarts = restart_sparkline(recent, name, now_unix_ms) + " " + restarts;
    }
    std::string attributes;
    if (const Json& pid = field(object, "pid"); pid.is_number()) {
      attributes +=
          fmt::format(R"(<span class="attr">pid <b data-pid="{0}">{0}</b></span> )", text(pid));
    }
    // Each key attribute with its last half hour beside it, where amatad has kept some.
    const std::string kind = str(object, "kind");
    const Json& kept = field(kept_history, name.c_str());
    for (const auto& [attr, value] : console::key_attribute_texts(object)) {
      const std::string& attribute = attr;  // a lambda may not capture a structured binding
      const std::string spark = attribute_sparkline(
          field(kept, attr.c_str()), spark_from, now_unix_ms, attr + " of " + name, tone,
          [&](double v) { return console::attribute_value_text(kind, attribute, Json(v)); });
      attributes += fmt::format(R"(<span class="attr">{} <b>{}</b>{}</span> )", escape(attr),
                                escape(value), spark.empty() ? "" : " " + spark);
    }
    // Services amatad runs (they have restarts) get the buttons, when someone logged in.
    const bool controls = !csrf.empty() && field(object, "restarts").is_number();
    const std::string control_cell =
        csrf.empty() ? "" : "<td>" + (controls ? control_forms(name, csrf) : "") + "</td>";
    rows += fmt::format(
        "<tr class=\"{}\" data-object=\"{}\"><td><span class=\"dot {}\"></span>{}</td><td>{}</td>"
        "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td>{}"
        "</tr>\n",
        tone_class(tone), escape(name), tone_class(tone), object_page_link(name),
        escape(str(object, "kind")), badge(state), restarts, escape(uptime), attributes, rule_cells,
        control_cell);
  }
  Page page;
  page.title = "Overview";
  page.section = Section::kOverview;
  page.refresh_seconds = 5;
  page.policy = str(status, "policy", "");
  std::string summary;
  for (Tone t : {Tone::kBad, Tone::kWarn, Tone::kGood, Tone::kIdle}) {
    if (counts[t] == 0) continue;
    summary += fmt::format(R"(<span class="badge {}">{} {}</span> )", tone_class(t), counts[t],
                           tone_class(t));
  }
  if (rows.empty()) {
    page.body = "<p>This policy has no objects.</p>\n";
    return page;
  }
  page.body = "<p class=\"summary\">" + summary + "</p>\n" +
              "<table class=\"objects\"><thead><tr><th>object</th><th>kind</th><th>state</th>"
              "<th>restarts</th><th>uptime</th><th>attributes</th><th>rules</th>" +
              (csrf.empty() ? std::string() : std::string("<th>control</th>")) +
              "</tr></thead>"
              "<tbody>\n" +
              rows + "</tbody></table>\n";
  if (field(status, "cluster").is_object()) {
    page.body +=
        R"(<p>This node is part of a cluster: <a href="/cluster">peers and owners</a>.</p>)";
  }
  return page;
}

Page rules_page(const Json& rules, std::int64_t now_unix_ms) {
  std::string rows;
  for (const auto& rule : array(rules, "rules")) {
    const std::string state = str(rule, "state");
    std::string edge = "-";
    if (const Json& last = field(rule, "last_edge"); last.is_object()) {
      edge =
          str(last, "edge") + " " + console::relative_time(now_unix_ms, millis(last, "at_unix_ms"));
    }
    const std::string object = str(rule, "object", "");
    rows += fmt::format(
        "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        tone_class(state_tone(state)), rule_link(rule),
        object.empty() ? std::string("-") : object_link(object), badge(state),
        escape(rule_detail(rule)), escape(edge));
  }
  Page page;
  page.title = "Rules";
  page.section = Section::kRules;
  page.refresh_seconds = 5;
  if (rows.empty()) {
    page.body = "<p>This policy has no rules.</p>\n";
    return page;
  }
  page.body =
      "<table class=\"rules\"><thead><tr><th>rule</th><th>object</th><th>state</th><th>detail</th>"
      "<th>last edge</th></tr></thead><tbody>\n" +
      rows + "</tbody></table>\n";
  return page;
}

Page explain_page(const Json& explain) {
  Page page;
  page.title = "Rule " + str(explain, "rule", "?");
  page.section = Section::kRules;
  page.refresh_seconds = 5;
  const std::string state = str(explain, "state");
  std::string body = "<p>" + badge(state) + " " + escape(str(explain, "reason", "")) + "</p>\n";
  if (const Json& condition = field(explain, "condition"); condition.is_object()) {
    body += "<h2>Condition</h2>\n<ul class=\"tree\">";
    tree_node(condition, 0, body);
    body += "</ul>\n";
  }
  if (const Json& temporal = field(explain, "temporal"); temporal.is_object()) {
    body += "<h2>Qualifier</h2>\n<dl class=\"temporal\">";
    for (const auto& [key, value] : temporal.items()) {
      body += "<dt>" + escape(key) + "</dt><dd>" + escape(number_text(value)) + "</dd>";
    }
    body += "</dl>\n";
  }
  body += R"(<p><a href="/rules">all rules</a></p>)";
  page.body = std::move(body);
  return page;
}

std::string event_row(const Json& event) {
  const std::string type = str(event, "type");
  // The event's own outcome colours an action record (ok, failed, skipped).
  std::string tone_word = type;
  if (const Json& data = field(event, "data"); data.is_object() && type == "action") {
    const std::string outcome = str(data, "outcome", "");
    tone_word = outcome == "ok" ? "ok" : outcome == "failed" ? "failed" : "pending";
  }
  const auto at = millis(event, "at_unix_ms");
  const std::string object = str(event, "object", "");
  return fmt::format(
      "<tr data-id=\"{}\"><td class=\"when\"><time>{}</time></td><td>{}</td><td>{}</td>"
      "<td>{}</td><td>{}</td></tr>",
      escape(str(event, "id", "")), at ? escape(console::utc_time(*at)) : "-",
      badge(tone_word, type), escape(str(event, "event")),
      object.empty() ? std::string("-") : object_link(object), escape(str(event, "message", "")));
}

Page events_page(const Json& events, const EventQuery& query) {
  const Json& list = array(events, "events");
  std::string rows;
  std::int64_t newest_at = 0;
  // The console answers oldest first; a timeline reads newest first.
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    rows += event_row(*it) + "\n";
    newest_at = std::max(newest_at, millis(*it, "at_unix_ms").value_or(0));
  }
  // The stream starts with the history since the newest event shown (inclusive), so nothing
  // that happened while the page loaded is lost; web.js drops the rows it already has.
  std::string stream = fmt::format("/events/stream?since={}", newest_at);
  if (!query.object.empty()) stream += "&object=" + url_component(query.object);
  if (!query.event.empty()) stream += "&event=" + url_component(query.event);
  Page page;
  page.title = "Events";
  page.section = Section::kEvents;
  page.body = fmt::format(
      "<form class=\"filter\" method=\"get\" action=\"/events\">"
      "<label>object <input name=\"object\" value=\"{}\"></label> "
      "<label>event <input name=\"event\" value=\"{}\"></label> "
      "<label>newest <input name=\"limit\" type=\"number\" min=\"1\" max=\"10000\" value=\"{}\">"
      "</label> <button type=\"submit\">filter</button></form>\n"
      "<p class=\"live\" id=\"live\">reload the page for new events (live updates need "
      "JavaScript)</p>\n"
      "<table class=\"events\"><thead><tr><th>when (UTC)</th><th>type</th><th>event</th>"
      "<th>object</th><th>message</th></tr></thead>"
      "<tbody id=\"timeline\" data-stream=\"{}\">\n{}</tbody></table>\n",
      escape(query.object), escape(query.event), query.limit, escape(stream), rows);
  if (list.empty()) page.body += R"(<p id="no-events">No events match.</p>)";
  return page;
}

std::optional<Page> cluster_page(const Json& status, std::int64_t now_unix_ms) {
  const Json& cluster = field(status, "cluster");
  if (!cluster.is_object()) return std::nullopt;
  auto flag = [&](const char* key, std::string_view yes, std::string_view no) {
    const Json& value = field(cluster, key);
    const bool on = value.is_boolean() && value.get<bool>();
    return fmt::format(R"(<span class="badge {}">{}</span>)",
                       tone_class(on ? Tone::kGood : Tone::kWarn), on ? yes : no);
  };
  const Json& local = field(cluster, "local_node");
  std::string body = fmt::format(
      "<p>cluster <b>{}</b> (group {}); this node <b>{}</b> (id {})</p>\n<p>{} {} {}</p>\n",
      escape(str(cluster, "name")), escape(str(cluster, "group")), escape(str(local, "name")),
      escape(str(local, "id")), flag("connected", "connected", "not connected"),
      flag("quorate", "quorate", "not quorate"), flag("synced", "synced", "not synced"));
  if (const Json& mismatch = array(cluster, "config_mismatch"); !mismatch.empty()) {
    std::string names;
    for (const auto& n : mismatch) names += (names.empty() ? "" : ", ") + escape(text(n));
    body += "<p class=\"warning\">" + names +
            " run a different cluster configuration; reload every node with the same "
            "policy</p>\n";
  }
  auto yes_no = [](const Json& object, const char* key) {
    const Json& value = field(object, key);
    return value.is_boolean() && value.get<bool>();
  };
  auto names = [](const Json& list) {
    std::string out;
    for (const auto& n : list) out += (out.empty() ? "" : ", ") + escape(text(n));
    return out.empty() ? std::string("-") : out;
  };
  body +=
      "<h2>Peers</h2>\n<table class=\"peers\"><thead><tr><th>node</th><th>id</th><th>member</th>"
      "<th>amatad</th><th>since</th><th>runs</th></tr></thead><tbody>\n";
  for (const auto& peer : array(cluster, "peers")) {
    const bool member = yes_no(peer, "member");
    body += fmt::format(
        "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escape(str(peer, "name")), yes_no(peer, "local") ? " (this node)" : "",
        escape(str(peer, "id")), badge(member ? "up" : "down", member ? "yes" : "no"),
        badge(yes_no(peer, "amatad") ? "up" : "down", yes_no(peer, "amatad") ? "yes" : "no"),
        escape(console::relative_time(now_unix_ms, millis(peer, "since_unix_ms"))),
        names(array(peer, "runs")));
  }
  body +=
      "</tbody></table>\n<h2>Services</h2>\n<table class=\"services\"><thead><tr><th>service</th>"
      "<th>owner</th><th>holders</th><th>here</th></tr></thead><tbody>\n";
  for (const auto& service : array(cluster, "services")) {
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        escape(str(service, "name")), escape(str(service, "owner", "none")),
                        names(array(service, "holders")), badge(str(service, "here")));
  }
  body += "</tbody></table>\n";
  Page page;
  page.title = "Cluster";
  page.section = Section::kCluster;
  page.refresh_seconds = 5;
  page.policy = str(status, "policy", "");
  page.body = std::move(body);
  return page;
}

Page not_found_page(std::string_view path) {
  Page page;
  page.title = "Not found";
  page.body = "<p>Nothing here: <code>" + escape(path) +
              R"(</code>. The view has <a href="/">the overview</a>, <a href="/rules">rules</a>, )"
              R"(<a href="/events">events</a> and <a href="/cluster">the cluster</a>.</p>)";
  return page;
}

Page unavailable_page(std::string_view why) {
  Page page;
  page.title = "amatad did not answer";
  page.refresh_seconds = 5;
  page.body =
      "<p>The web view asks amatad's console socket for everything it shows, and that "
      "failed: <code>" +
      escape(why) + "</code>. This page retries every 5 s.</p>";
  return page;
}

}  // namespace amata::web
