#include "engine/web/pages.h"

#include <gtest/gtest.h>

namespace amata::web {
namespace {

using Json = nlohmann::json;

constexpr std::int64_t kNow = 1764900000000;

bool has(const std::string& html, std::string_view part) {
  return html.find(part) != std::string::npos;
}

Json status() {
  return Json::parse(R"({"policy": "demo", "objects": [
    {"name": "web", "kind": "service", "state": "running", "monitored": true, "restarts": 2,
     "pid": 4242, "since_unix_ms": 1764899880000,
     "attributes": {"cpu": 3.25, "rss": 12582912, "threads": 4}},
    {"name": "<img src=x onerror=alert(1)>", "kind": "host", "state": "monitored",
     "monitored": true, "attributes": {"reachable": true}},
    {"name": "db", "kind": "service", "state": "gave-up", "monitored": false, "restarts": 10,
     "attributes": {}}]})");
}

TEST(Pages, OverviewShowsEveryObjectWithStateColourUptimeAndAttributes) {
  Json rules = Json::parse(R"({"rules": [
    {"name": "unreachable[<img src=x onerror=alert(1)>]", "object": "<img src=x onerror=alert(1)>",
     "state": "firing", "last_edge": null}]})");
  Page page = overview_page(status(), rules, Json(), Json(), kNow);
  const std::string& html = page.body;
  EXPECT_EQ(page.policy, "demo");
  EXPECT_GT(page.refresh_seconds, 0);  // stays fresh without JavaScript
  EXPECT_TRUE(has(html, R"(<tr class="green" data-object="web">)"));
  EXPECT_TRUE(has(html, R"(<span class="badge green">running</span>)"));
  EXPECT_TRUE(has(html, "<td class=\"num\">2m00s</td>"));  // uptime from since_unix_ms
  EXPECT_TRUE(has(html, R"(data-pid="4242")"));
  EXPECT_TRUE(has(html, "cpu <b>3.2%</b>"));
  EXPECT_TRUE(has(html, "rss <b>12MiB</b>"));
  EXPECT_TRUE(has(html, R"(<tr class="red" data-object="db">)"));
  // A host is only "monitored": the firing rule on it is what makes it red.
  EXPECT_TRUE(has(html, R"(<tr class="red" data-object="&lt;img src=x onerror=alert(1)&gt;">)"));
  EXPECT_TRUE(has(html, "/rules/unreachable%5B%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E%5D"));
  EXPECT_FALSE(has(html, "<img"));
  EXPECT_TRUE(has(html, R"(<span class="badge red">2 red</span>)"));
  EXPECT_TRUE(has(html, R"(<span class="badge green">1 green</span>)"));
}

TEST(Pages, OverviewWithoutRulesStillShowsTheObjects) {
  std::string html = overview_page(status(), Json(), Json(), Json(), kNow).body;
  EXPECT_TRUE(has(html, R"(<tr class="green" data-object="&lt;img)"));
  EXPECT_TRUE(has(overview_page(Json::object(), Json(), Json(), Json(), kNow).body, "no objects"));
}

TEST(Pages, RestartSparklineCountsRestartsOfTheObjectPerSlice) {
  Json events = Json::parse(R"({"events": [
    {"type": "action", "object": "web", "at_unix_ms": 1764899999000, "data": {"kind": "restart"}},
    {"type": "action", "object": "web", "at_unix_ms": 1764899998000, "data": {"kind": "restart"}},
    {"type": "action", "object": "web", "at_unix_ms": 1764896400000, "data": {"kind": "restart"}},
    {"type": "action", "object": "web", "at_unix_ms": 1764890000000, "data": {"kind": "restart"}},
    {"type": "action", "object": "db", "at_unix_ms": 1764899999000, "data": {"kind": "restart"}},
    {"type": "notify", "object": "web", "at_unix_ms": 1764899999000, "data": {"kind": "notify"}},
    {"type": "raised", "object": "web", "at_unix_ms": 1764899999000}]})");
  std::string svg = restart_sparkline(events, "web", kNow, 3600000, 4);
  // Two in the last slice, one in the first (at its very start), none an hour and more ago.
  EXPECT_TRUE(has(svg, "<title>3 restarts in the last 60 min</title>"));
  EXPECT_TRUE(has(svg, R"(<rect x="0" y="8" width="2" height="8"/>)"));
  EXPECT_TRUE(has(svg, R"(<rect x="3" y="15" width="2" height="1" class="none"/>)"));
  EXPECT_TRUE(has(svg, R"(<rect x="9" y="0" width="2" height="16"/>)"));
  EXPECT_TRUE(has(restart_sparkline(Json(), "web", kNow), "<title>0 restarts in"));
  // The overview draws one for services only, when it has the recent events.
  std::string html = overview_page(status(), Json(), events, Json(), kNow).body;
  EXPECT_TRUE(has(html, "<td class=\"num\"><svg class=\"spark\""));
  EXPECT_TRUE(has(html, "</svg> 2</td>"));
}

TEST(Pages, OverviewDrawsEachKeyAttributesLastHalfHourBesideItsValue) {
  // The batch `history`: web's cpu over the half hour with a gap, rss one lone point, threads
  // only older than the half hour; nothing for db.
  Json history = Json::parse(R"({"step_ms": 10000, "objects": {
    "web": {"cpu": [[1764898200000, 1.0], [1764899000000, null], [1764899990000, 5.0],
                    [1764899995000, 3.0]],
            "rss": [[1764899000000, 12582912]],
            "threads": [[1764890000000, 4]]},
    "<img src=x onerror=alert(1)>": {"reachable": [[1764899990000, "x"]]}}})");
  std::string html = overview_page(status(), Json(), Json(), history, kNow).body;
  // Beside its value, in the row's colour; its title says the span and the range in units.
  EXPECT_TRUE(has(html, R"(cpu <b>3.2%</b> <svg class="spark line green" width="64")"));
  EXPECT_TRUE(has(html, "<title>cpu of web, last 30 min: 1% to 5%</title>"));
  // From the span's start (x 1) to its end (x 63), 1.0 at the bottom (y 14), 5.0 at the top
  // (y 2); the null breaks the line, so the first value is a dot of its own.
  EXPECT_TRUE(has(html, R"(<path d="M1.0 14.0 M62.7 2.0 L62.8 8.0"/>)"));
  EXPECT_TRUE(has(html, R"(<circle class="dot" cx="1.0" cy="14.0" r="1.5"/>)"));
  // A flat series sits in the middle, and its title says its one value.
  EXPECT_TRUE(has(html, R"(<circle class="dot" cx="28.6" cy="8.0" r="1.5"/>)"));
  EXPECT_TRUE(has(html, "<title>rss of web, last 30 min: 12MiB</title>"));
  // Nothing in the half hour, or nothing numeric: no sparkline, the value alone.
  EXPECT_TRUE(has(html, "threads <b>4</b></span>"));
  EXPECT_FALSE(has(html, "<img"));
  // Without the history (an older amatad, a refusal) the rows show the values alone.
  EXPECT_FALSE(has(overview_page(status(), Json(), Json(), Json(), kNow).body, "spark line"));
}

TEST(Pages, AYoungHistorySpansWhatAmatadHasKeptButAtLeastTwoMinutes) {
  Json history = Json::parse(R"({"objects": {"web": {"cpu": [[1764899940000, 2.0],
                                                               [1764899990000, 4.0]]}}})");
  std::string html = overview_page(status(), Json(), Json(), history, kNow).body;
  // From two minutes before now: the minute kept is the right half.
  EXPECT_TRUE(has(html, "<title>cpu of web, last 2 min: 2% to 4%</title>"));
  EXPECT_TRUE(has(html, R"(<path d="M32.0 14.0 L57.8 2.0"/>)"));
}

TEST(Pages, OverviewAsksHistoryForTheKeyAttributesOfItsKindsOnce) {
  EXPECT_EQ(overview_attribute_names(status(), 64),
            (std::vector<std::string>{"cpu", "rss", "threads", "reachable"}));
  EXPECT_EQ(overview_attribute_names(status(), 2), (std::vector<std::string>{"cpu", "rss"}));
  EXPECT_TRUE(overview_attribute_names(Json(), 64).empty());
}

TEST(Pages, RulesShowArmedPendingWithWhatIsLeftAndFiring) {
  Json rules = Json::parse(R"({"rules": [
    {"name": "busy", "state": "pending", "pending_left_ms": 18000, "last_edge": null},
    {"name": "sick[web]", "object": "web", "state": "pending", "pending_checks_left": 2},
    {"name": "down[web]", "object": "web", "state": "firing", "clearing_left_ms": 4000,
     "last_edge": {"edge": "rise", "at_unix_ms": 1764899997000}},
    {"name": "quiet", "state": "armed"}]})");
  std::string html = rules_page(rules, kNow).body;
  EXPECT_TRUE(has(html, "<td>18s left</td>"));
  EXPECT_TRUE(has(html, "<td>2 checks left</td>"));
  EXPECT_TRUE(has(html, "<td>clears in 4.0s</td>"));
  EXPECT_TRUE(has(html, "<td>rise 3s ago</td>"));
  EXPECT_TRUE(has(html, R"(<a href="/rules/down%5Bweb%5D">down[web]</a>)"));
  EXPECT_TRUE(has(html, R"(<tr class="red"><td><a href="/rules/down%5Bweb%5D">)"));
  EXPECT_TRUE(has(html, R"(<tr class="amber"><td><a href="/rules/busy">)"));
  EXPECT_TRUE(has(html, R"(<tr class="green"><td><a href="/rules/quiet">)"));
}

TEST(Pages, ExplainRendersTheTreeWithValuesAndWhichPartHolds) {
  Json explain = Json::parse(R"json({"rule": "sick[web]", "state": "pending", "firing": false,
    "reason": "the condition holds; 2 more checks",
    "condition": {"text": "web.alive and web.health.failed", "op": "and", "value": true,
      "note": "for 3 checks: 1 of 3",
      "children": [
        {"text": "web.alive", "value": true, "children": []},
        {"text": "(slot0 > 90)", "op": ">", "value": false,
         "children": [{"text": "web.cpu", "value": 3.25, "children": []},
                      {"text": "web.<b>", "value": null, "children": []}]}]},
    "temporal": {"kind": "for-checks", "holds": true, "active": false, "checks": 3, "held_s": 9.46392381300393}})json");
  Page page = explain_page(explain);
  const std::string& html = page.body;
  EXPECT_EQ(page.title, "Rule sick[web]");
  EXPECT_TRUE(has(html, R"(<span class="badge amber">pending</span>)"));
  EXPECT_TRUE(has(html, R"(<li class="node holds"><code>web.alive and web.health.failed</code>)"
                        R"( = <span class="value true">true</span>)"
                        R"( <span class="note">for 3 checks: 1 of 3</span><ul>)"));
  EXPECT_TRUE(has(html, R"(<li class="node fails"><code>(slot0 &gt; 90)</code> = )"
                        R"(<span class="value false">false</span><ul>)"));
  EXPECT_TRUE(has(html, R"(<code>web.cpu</code> = <span class="value">3.25</span>)"));
  EXPECT_TRUE(has(html, R"(<code>web.&lt;b&gt;</code> = <span class="value missing">)"));
  EXPECT_TRUE(has(html, "<dt>kind</dt><dd>for-checks</dd>"));
  EXPECT_TRUE(has(html, "<dt>checks</dt><dd>3</dd>"));
  EXPECT_TRUE(has(html, "<dt>held_s</dt><dd>9.464</dd>"));
}

TEST(Pages, ExplainTreeDepthIsBounded) {
  Json node = {{"text", "leaf"}, {"value", true}, {"children", Json::array()}};
  for (int i = 0; i < 200; ++i) {
    node = {{"text", "n"}, {"value", true}, {"children", Json::array({node})}};
  }
  std::string html = explain_page({{"rule", "deep"}, {"condition", node}}).body;
  EXPECT_TRUE(has(html, "<li>…</li>"));
  EXPECT_FALSE(has(html, "leaf"));
}

TEST(Pages, EventsNewestFirstWithFilterAndStreamAddress) {
  Json events = Json::parse(R"({"events": [
    {"id": 7, "at_unix_ms": 1764900000123, "type": "raised", "event": "ServiceDown",
     "object": "web", "message": "ServiceDown(web) raised by down[web]"},
    {"id": 8, "at_unix_ms": 1764900000230, "type": "action", "object": "web",
     "message": "restart web: ok <pid 4243>", "data": {"outcome": "ok"}}]})");
  EventQuery query{.object = "web&x", .event = "", .limit = 50};
  std::string html = events_page(events, query).body;
  EXPECT_LT(html.find(R"(data-id="8")"), html.find(R"(data-id="7")"));
  EXPECT_TRUE(has(html, "<time>2025-12-05 02:00:00.123Z</time>"));
  EXPECT_TRUE(has(html, R"(<span class="badge red">raised</span>)"));
  EXPECT_TRUE(has(html, R"(<span class="badge green">action</span>)"));
  EXPECT_TRUE(has(html, "restart web: ok &lt;pid 4243&gt;"));
  EXPECT_TRUE(has(html, R"(name="object" value="web&amp;x")"));
  EXPECT_TRUE(has(html, R"(value="50")"));
  EXPECT_TRUE(has(html, R"(data-stream="/events/stream?since=1764900000230&amp;object=web%26x")"));
  EXPECT_FALSE(has(html, "No events match"));
  EXPECT_TRUE(has(events_page(Json::object(), EventQuery{}).body, "No events match"));
}

TEST(Pages, ClusterOnlyWhenTheStatusHasOne) {
  EXPECT_FALSE(cluster_page(status(), kNow).has_value());
  Json with = status();
  with["cluster"] = Json::parse(R"({"name": "demo", "group": "amata-demo", "connected": true,
    "quorate": false, "synced": true, "local_node": {"id": 1, "name": "n1"},
    "config_mismatch": ["n3"],
    "peers": [{"id": 1, "name": "n1", "member": true, "amatad": true, "local": true,
               "since_unix_ms": 1764899940000, "runs": ["web"]},
              {"id": 2, "name": "n2", "member": false, "amatad": false, "runs": []}],
    "services": [{"name": "web", "owner": "n1", "holders": ["n1"], "here": "running"},
                 {"name": "db", "owner": null, "holders": [], "here": "stopped"}]})");
  auto page = cluster_page(with, kNow);
  ASSERT_TRUE(page.has_value());
  const std::string& html = page->body;
  EXPECT_TRUE(has(html, R"(<span class="badge green">connected</span>)"));
  EXPECT_TRUE(has(html, R"(<span class="badge amber">not quorate</span>)"));
  EXPECT_TRUE(has(html, "n3 run a different cluster configuration"));
  EXPECT_TRUE(has(html, "<td>n1 (this node)</td>"));
  EXPECT_TRUE(has(html, "<td>1m ago</td>"));
  EXPECT_TRUE(has(html, "<td>n2</td><td>2</td><td><span class=\"badge red\">no</span>"));
  EXPECT_TRUE(has(html, "<tr><td>db</td><td>none</td><td>-</td>"));
}

TEST(Pages, NotFoundAndUnavailableEscapeWhatTheyQuote) {
  EXPECT_TRUE(has(not_found_page("/<x>").body, "<code>/&lt;x&gt;</code>"));
  EXPECT_TRUE(has(unavailable_page("connect <s>: refused").body, "connect &lt;s&gt;: refused"));
}

}  // namespace
}  // namespace amata::web
