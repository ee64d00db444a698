#include "engine/console/render.h"

#include <gtest/gtest.h>

#include <limits>

#include "engine/console/ctl.h"
#include "engine/console/test_backend.h"

namespace amata::console {
namespace {

using Json = nlohmann::json;
constexpr std::int64_t kNow = 1764081600000;  // 2025-11-25T14:40:00Z

TEST(RelativeTime, PicksTheLargestWholeUnit) {
  EXPECT_EQ(relative_time(kNow, kNow - 400), "just now");
  EXPECT_EQ(relative_time(kNow, kNow - 3'000), "3s ago");
  EXPECT_EQ(relative_time(kNow, kNow - 59'999), "59s ago");
  EXPECT_EQ(relative_time(kNow, kNow - 180'000), "3m ago");
  EXPECT_EQ(relative_time(kNow, kNow - 7'200'000), "2h ago");
  EXPECT_EQ(relative_time(kNow, kNow - 4 * 86'400'000LL), "4d ago");
  EXPECT_EQ(relative_time(kNow, kNow + 5'000), "in 5s");
  EXPECT_EQ(relative_time(kNow, std::nullopt), "-");
}

TEST(ShortDuration, ReadsNaturally) {
  EXPECT_EQ(short_duration(850), "850ms");
  EXPECT_EQ(short_duration(1200), "1.2s");
  EXPECT_EQ(short_duration(42'000), "42s");
  EXPECT_EQ(short_duration(200'000), "3m20s");
  EXPECT_EQ(short_duration(7'500'000), "2h05m");
}

TEST(FormatTable, AlignsColumnsIgnoringColourCodes) {
  std::string table = format_table({{"A", "BB", "C"}, {"\x1b[31mlonger\x1b[0m", "x", ""}});
  EXPECT_EQ(table,
            "A       BB  C\n"
            "\x1b[31mlonger\x1b[0m  x\n");
}

TEST(RenderVersion, ShowsCommitPolicyAndBackendWhenGiven) {
  const Json result = {{"amatad", "0.1.0"},
                       {"commit", "6bf0c2c1a2b3"},
                       {"protocol", 1},
                       {"policy", "web_node"},
                       {"backend", "jit"}};
  EXPECT_EQ(render_version(result, RenderStyle{}),
            "amatad 0.1.0 (console protocol 1)\ncommit 6bf0c2c1a2b3\npolicy web_node\n"
            "backend jit\n");
  EXPECT_EQ(render_version({{"amatad", "0.1.0"}, {"protocol", 1}}, RenderStyle{}),
            "amatad 0.1.0 (console protocol 1)\n");
}

// Times come from another process: one beyond int64 must not be converted (undefined; the
// console fuzzer found 1.76e23 under UBSan) but read as no time, like a missing one.
TEST(RenderTimes, ATimeBeyondInt64IsNoTime) {
  const RenderStyle style{false, kNow};
  const Json base = {{"type", "raised"}, {"event", "ServiceDown"}, {"object", "web"}};
  Json huge = base;
  huge["at_unix_ms"] = 1.76406e23;
  Json far_past = base;
  far_past["at_unix_ms"] = -1.0e300;
  Json wrapping = base;
  wrapping["at_unix_ms"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(render_event_line(huge, style), render_event_line(base, style));
  EXPECT_EQ(render_event_line(far_past, style), render_event_line(base, style));
  EXPECT_EQ(render_event_line(wrapping, style), render_event_line(base, style));
  Json exact = base;
  exact["at_unix_ms"] = kNow;
  EXPECT_NE(render_event_line(exact, style), render_event_line(base, style));
}

TEST(RenderNames, ObjectsAndRulesBothWaysSortedOnce) {
  const Json status = {{"objects", {{{"name", "web"}}, {{"name", "self"}}, {{"kind", "x"}}}}};
  EXPECT_EQ(render_names(status, "objects"), "self\nweb\n");
  const Json rules = {{"rules",
                       {{{"name", "down[web]"}, {"rule", "down"}},
                        {{"name", "down[db]"}, {"rule", "down"}},
                        {{"name", "busy"}, {"rule", "busy"}}}}};
  EXPECT_EQ(render_names(rules, "rules"), "busy\ndown\ndown[db]\ndown[web]\n");
  EXPECT_EQ(render_names(Json::array(), "rules"), "") << "an odd reply is no names";
}

Json status_result() {
  return Json{
      {"policy", "web_node"},
      {"objects",
       {{{"name", "web"},
         {"kind", "service"},
         {"state", "running"},
         {"monitored", true},
         {"since_unix_ms", kNow - 180'000},
         {"restarts", 2},
         {"pid", 4242},
         {"attributes", {{"cpu", 3.25}, {"rss", 12582912.0}, {"uptime", 200.0}, {"children", 1}}}},
        {{"name", "uplink"},
         {"kind", "interface"},
         {"state", "down"},
         {"monitored", false},
         {"since_unix_ms", kNow - 7'200'000},
         {"restarts", 0},
         {"attributes", {{"carrier", "down"}, {"rx_rate", 1536.0}, {"rx_bytes", 9}}}}}}};
}

TEST(RenderStatus, IsAnAlignedTableWithRelativeTimes) {
  EXPECT_EQ(render_status(status_result(), RenderStyle{false, kNow}),
            "policy web_node\n"
            "OBJECT  KIND       STATE               SINCE   RESTARTS  ATTRIBUTES\n"
            "web     service    running             3m ago  2         pid=4242 cpu=3.2% rss=12MiB "
            "uptime=3m20s\n"
            "uplink  interface  down (unmonitored)  2h ago  0         carrier=down "
            "rx_rate=1.5KiB/s\n");
}

TEST(RenderStatus, EnumsByNameAndHardwareInTheirUnits) {
  const Json status = {
      {"policy", "hw"},
      {"objects",
       {{{"name", "sshd"},
         {"kind", "unit"},
         {"state", "monitored"},
         {"attributes", {{"active_state", 5}, {"sub_state", "failed"}, {"restarts", 3}}}},
        {{"name", "cpu"},
         {"kind", "sensor"},
         {"state", "monitored"},
         {"attributes", {{"temp", 71.5}, {"fan", nullptr}, {"alarm", 0}}}},
        {{"name", "md0"},
         {"kind", "raid"},
         {"state", "monitored"},
         {"attributes", {{"state", 99}, {"sync_action", 2}}}}}}};
  const std::string out = render_status(status, RenderStyle{false, kNow});
  EXPECT_NE(out.find("active_state=failed sub_state=failed restarts=3"), std::string::npos) << out;
  EXPECT_NE(out.find("temp=71.5C alarm=0"), std::string::npos) << out;
  // An ordinal this amatactl does not know stays a number rather than a wrong name.
  EXPECT_NE(out.find("state=99 sync_action=recovery"), std::string::npos) << out;
}

TEST(RenderStatus, ColoursOnlyWhenAsked) {
  std::string plain = render_status(status_result(), RenderStyle{false, kNow});
  std::string coloured = render_status(status_result(), RenderStyle{true, kNow});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[32mrunning\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[31mdown (unmonitored)\x1b[0m"), std::string::npos);
}

// A clustered service the cluster holds back is unmonitored here, but not by an operator:
// its state says why, without the "(unmonitored)" of a service left alone.
TEST(RenderStatus, AClusteredServiceNotRunHereIsStandbyOrNotHere) {
  Json status = {{"objects",
                  {{{"name", "web"},
                    {"kind", "service"},
                    {"state", "standby"},
                    {"monitored", false},
                    {"restarts", 0},
                    {"attributes", Json::object()}},
                   {{"name", "db"},
                    {"kind", "service"},
                    {"state", "not-here"},
                    {"monitored", false},
                    {"restarts", 0},
                    {"attributes", Json::object()}}}}};
  EXPECT_EQ(render_status(status, RenderStyle{false, kNow}),
            "OBJECT  KIND     STATE     SINCE  RESTARTS  ATTRIBUTES\n"
            "web     service  standby   -      0\n"
            "db      service  not-here  -      0\n");
}

TEST(RenderStatus, AClusterSectionFollowsTheObjects) {
  Json status = status_result();
  status["objects"].erase(1);
  status["cluster"] = testing::make_cluster_status(kNow);
  EXPECT_EQ(render_status(status, RenderStyle{false, kNow}),
            "policy web_node\n"
            "OBJECT  KIND     STATE    SINCE   RESTARTS  ATTRIBUTES\n"
            "web     service  running  3m ago  2         pid=4242 cpu=3.2% rss=12MiB uptime=3m20s\n"
            "\n"
            "cluster demo (group amata-demo): connected, quorate, synced; this node n1 (id 1)\n"
            "NODE  ID  MEMBER  AMATAD  SINCE    RUNS\n"
            "n1    1   yes     yes     3m ago   web\n"
            "n2    2   yes     yes     3m ago   -\n"
            "n3    3   no      no      12s ago  -\n"
            "SERVICE  OWNER  HOLDERS  HERE\n"
            "web      n1     n1       running\n");
  // Without a cluster (a policy that declares none) there is no section at all.
  EXPECT_EQ(render_status(status_result(), RenderStyle{false, kNow}).find("cluster"),
            std::string::npos);
}

TEST(RenderStatus, ClusterTroubleIsPaintedInTheWarningColour) {
  Json status = {{"objects", Json::array()}, {"cluster", testing::make_cluster_status(kNow)}};
  Json& cluster = status["cluster"];
  cluster["connected"] = false;
  cluster["quorate"] = false;
  cluster["config_mismatch"] = {"n3"};
  cluster["services"][0]["owner"] = nullptr;
  cluster["services"][0]["holders"] = Json::array();
  cluster["services"][0]["here"] = "stopped";
  std::string plain = render_status(status, RenderStyle{false, kNow});
  EXPECT_NE(plain.find("no objects\n\ncluster demo (group amata-demo): not connected, not quorate, "
                       "synced; this node n1 (id 1)\n"
                       "warning: n3 runs a different cluster configuration; reload every node "
                       "with the same policy\n"
                       "NODE  ID"),
            std::string::npos)
      << plain;
  EXPECT_NE(plain.find("web      -      -        stopped\n"), std::string::npos) << plain;
  std::string coloured = render_status(status, RenderStyle{true, kNow});
  EXPECT_NE(coloured.find(": \x1b[33mnot connected\x1b[0m, \x1b[33mnot quorate\x1b[0m, synced;"),
            std::string::npos)
      << coloured;
  EXPECT_NE(coloured.find("\x1b[33mwarning: n3 runs a different cluster configuration; reload "
                          "every node with the same policy\x1b[0m\n"),
            std::string::npos)
      << coloured;
  EXPECT_NE(coloured.find("\x1b[33mno\x1b[0m"), std::string::npos) << "n3 is not a member";

  cluster["config_mismatch"] = {"n2", "n3"};
  EXPECT_NE(render_status(status, RenderStyle{false, kNow})
                .find("warning: n2, n3 run a different cluster configuration"),
            std::string::npos);
}

TEST(RenderStatus, RemoteNodesFollowTheServicesWithTheHeartbeatWhereServed) {
  Json status = {{"objects", Json::array()}, {"cluster", testing::make_cluster_status(kNow)}};
  status["cluster"]["remote_nodes"] = {{{"name", "c4"},
                                        {"member", true},
                                        {"via", "n1"},
                                        {"since_unix_ms", kNow - 180000},
                                        {"events", 12},
                                        {"here", true},
                                        {"heartbeat_age_ms", 230},
                                        {"rtt_ms", 0.42}},
                                       {{"name", "c5"},
                                        {"member", false},
                                        {"via", "n2"},
                                        {"since_unix_ms", kNow - 12000},
                                        {"events", 3},
                                        {"here", false}}};
  const std::string out = render_status(status, RenderStyle{false, kNow});
  EXPECT_NE(out.find("REMOTE  MEMBER  VIA  SINCE    EVENTS  HEARTBEAT  RTT\n"
                     "c4      yes     n1   3m ago   12      230ms ago  0.4ms\n"
                     "c5      no      n2   12s ago  3       -          -\n"),
            std::string::npos)
      << out;
  EXPECT_NE(render_status(status, RenderStyle{true, kNow}).find("\x1b[33mno\x1b[0m"),
            std::string::npos);
}

TEST(RenderStatus, ARemoteNodeSaysWhereItIsAttachedOrWhyNot) {
  Json status = {{"objects", Json::array()},
                 {"remote",
                  {{"cluster", "demo"},
                   {"node", "c4"},
                   {"attached_to", "n1"},
                   {"since_unix_ms", kNow - 180000},
                   {"published", 12},
                   {"acked", 12},
                   {"buffered", 0},
                   {"dropped", 0},
                   {"rtt_ms", 0.42}}}};
  EXPECT_EQ(render_status(status, RenderStyle{false, kNow}),
            "no objects\n\nremote node c4 of cluster demo: attached to n1 (since 3m ago); 12 "
            "event(s) sent, 12 acknowledged, 0 waiting, 0 dropped; heartbeat round trip 0.4ms\n");
  status["remote"]["attached_to"] = nullptr;
  status["remote"]["buffered"] = 5;
  status["remote"]["last_error"] = "n1: connect: Connection refused";
  status["remote"].erase("rtt_ms");
  EXPECT_EQ(render_status(status, RenderStyle{false, kNow}),
            "no objects\n\nremote node c4 of cluster demo: not attached (since 3m ago); 12 "
            "event(s) sent, 12 acknowledged, 5 waiting, 0 dropped\n"
            "last error: n1: connect: Connection refused\n");
  status["remote"]["services"] = {{"clustered", {"db", "web"}},
                                  {"placed", {"db"}},
                                  {"gave_up", Json::array()},
                                  {"lease_ms", 840}};
  EXPECT_NE(render_status(status, RenderStyle{false, kNow})
                .find("clustered services: db placed here, web standby; lease 840ms left\n"),
            std::string::npos);
  status["remote"]["services"]["lease_ms"] = -20;
  EXPECT_NE(render_status(status, RenderStyle{false, kNow}).find("; lease ran out\n"),
            std::string::npos);
  for (const Json& odd : {Json::object(), Json{{"attached_to", 3}, {"rtt_ms", "x"}},
                          Json{{"services", {{"clustered", "db"}, {"lease_ms", "x"}}}},
                          Json{{"services", {{"clustered", {1, "db"}}, {"placed", 7}}}}}) {
    Json s = {{"objects", Json::array()}, {"remote", odd}};
    EXPECT_NO_THROW((void)render_status(s, RenderStyle{true, kNow})) << odd.dump();
  }
}

TEST(RenderStatus, OddClusterJsonNeverThrows) {
  const Json odd_clusters[] = {
      Json::object(),
      Json{{"name", 7}, {"connected", "yes"}, {"local_node", "n1"}, {"config_mismatch", "n3"}},
      Json{{"peers", {1, nullptr, Json::array(), {{"runs", "web"}, {"member", 1}}}},
           {"services", {"web", {{"holders", {1, {{"a", 2}}}}, {"here", 3}}}}},
      Json{{"config_mismatch", {nullptr, {{"node", "n3"}}}}, {"local_node", {{"id", "x"}}}},
  };
  for (const auto& cluster : odd_clusters) {
    Json status = {{"objects", Json::array()}, {"cluster", cluster}};
    std::string out;
    EXPECT_NO_THROW(out = render_status(status, RenderStyle{true, kNow})) << cluster.dump();
    EXPECT_NE(out.find("cluster"), std::string::npos) << cluster.dump();
  }
  Json empty = {{"objects", Json::array()}, {"cluster", Json::object()}};
  EXPECT_EQ(render_status(empty, RenderStyle{false, kNow}), "no objects\n\ncluster\n");
  Json not_an_object = {{"objects", Json::array()}, {"cluster", "demo"}};
  EXPECT_EQ(render_status(not_an_object, RenderStyle{false, kNow}), "no objects\n");
}

TEST(RenderRules, ShowsTimeLeftAndLastEdge) {
  Json rules = {{"rules",
                 {{{"name", "hot"},
                   {"state", "pending"},
                   {"pending_left_ms", 18'000},
                   {"last_edge", nullptr}},
                  {{"name", "down(web)"},
                   {"state", "firing"},
                   {"last_edge", {{"edge", "rise"}, {"at_unix_ms", kNow - 5'000}}}}}}};
  EXPECT_EQ(render_rules(rules, RenderStyle{false, kNow}),
            "RULE       STATE    DETAIL    LAST EDGE\n"
            "hot        pending  18s left  -\n"
            "down(web)  firing             rise 5s ago\n");
}

TEST(RenderEvents, OneRowPerEventAndAStreamLineWithUtcTime) {
  Json event = {{"id", 1},          {"at_unix_ms", kNow - 60'000},
                {"type", "raised"}, {"event", "ServiceDown"},
                {"object", "web"},  {"message", "web exited 1"}};
  EXPECT_EQ(render_events({{"events", {event}}}, RenderStyle{false, kNow}),
            "WHEN    TYPE    EVENT        OBJECT  MESSAGE\n"
            "1m ago  raised  ServiceDown  web     web exited 1\n");
  EXPECT_EQ(render_event_line(event, RenderStyle{false, kNow}),
            "2025-11-25 14:39:00.000Z  raised  ServiceDown  web  web exited 1\n");
  EXPECT_EQ(render_events({{"events", Json::array()}}, RenderStyle{}), "no events\n");
}

TEST(RenderEvents, TheClusterLogHasANodeColumnAndMembershipStandsOut) {
  Json raised = testing::make_cluster_event(42, "n2", "web");
  raised["at_unix_ms"] = kNow - 60'000;
  raised["message"] = "web exited 1";
  Json membership = testing::make_membership_event(43, "n3", "node down");
  membership["at_unix_ms"] = kNow - 12'000;
  EXPECT_EQ(render_events({{"events", {raised, membership}}}, RenderStyle{false, kNow}),
            "WHEN     NODE  TYPE        EVENT        OBJECT  MESSAGE\n"
            "1m ago   n2    raised      ServiceDown  web     web exited 1\n"
            "12s ago  -     membership  -            -       members n1 n2; left n3 (node down)\n");
  EXPECT_EQ(render_event_line(raised, RenderStyle{false, kNow}),
            "2025-11-25 14:39:00.000Z  n2  raised  ServiceDown  web  web exited 1\n");
  EXPECT_EQ(render_event_line(membership, RenderStyle{false, kNow}),
            "2025-11-25 14:39:48.000Z  -  membership  -  -  members n1 n2; left n3 (node down)\n");
  // A departure is painted as a warning, a join only in bold.
  EXPECT_NE(render_event_line(membership, RenderStyle{true, kNow}).find("\x1b[33mmembership"),
            std::string::npos);
  Json joined = membership;
  joined["data"]["left"] = Json::array();
  joined["data"]["joined"] = {"n3"};
  joined["data"]["members"] = {"n1", "n2", "n3"};
  joined.erase("message");
  EXPECT_EQ(render_event_line(joined, RenderStyle{true, kNow}),
            "2025-11-25 14:39:48.000Z  -  \x1b[1mmembership\x1b[0m  -  -  members n1 n2 n3; "
            "joined n3\n");
}

TEST(RenderEvents, MembershipWithoutAMessageIsSummarisedFromItsData) {
  Json membership = testing::make_membership_event(43, "n3", "amatad died");
  membership.erase("message");
  membership["data"]["left"].push_back({{"node", "n4"}, {"reason", "leave"}});
  EXPECT_EQ(render_event_line(membership, RenderStyle{false, kNow}).substr(26),
            "-  membership  -  -  members n1 n2; left n3 (amatad died), n4 (leave)\n");
  // Odd data: no crash, still a line.
  membership["data"] = {{"members", "n1"}, {"left", {7, nullptr}}};
  EXPECT_NO_THROW(render_event_line(membership, RenderStyle{true, kNow}));
  membership["data"] = 3;
  EXPECT_EQ(render_event_line(membership, RenderStyle{false, kNow}).substr(26),
            "-  membership  -  -  members -\n");
}

TEST(RenderEvents, LocalRecordsKeepTheirNarrowTable) {
  // A local record beside a type the cluster also uses: no NODE column, no scope needed.
  Json local = {{"id", 1}, {"at_unix_ms", kNow - 1'000}, {"type", "membership"}};
  EXPECT_EQ(render_events({{"events", {local}}}, RenderStyle{false, kNow}),
            "WHEN    TYPE        EVENT  OBJECT  MESSAGE\n"
            "1s ago  membership  -      -\n");
}

TEST(RenderExplain, PrintsTheExpressionTreeWithValues) {
  Json explain = {{"rule", "hot"},
                  {"state", "pending"},
                  {"reason", "true for 12s of the required 30s"},
                  {"condition",
                   {{"text", "self.cpu > cpu_high"},
                    {"value", true},
                    {"note", "for 30s: true since 12s"},
                    {"children",
                     {{{"text", "self.cpu"}, {"value", 95.5}, {"unit", "%"}},
                      {{"text", "cpu_high"}, {"value", 90}, {"unit", "%"}}}}}}};
  EXPECT_EQ(render_explain(explain, RenderStyle{false, kNow}),
            "rule hot: pending\n"
            "true for 12s of the required 30s\n"
            "\n"
            "  self.cpu > cpu_high  = true  (for 30s: true since 12s)\n"
            "    self.cpu  = 95.5%\n"
            "    cpu_high  = 90%\n");
}

TEST(RenderError, IncludesDiagnostics) {
  Json error = {{"code", "policy_rejected"},
                {"message", "the new policy has 1 error"},
                {"details",
                 {{"diagnostics",
                   {{{"severity", "error"},
                     {"file", "bad.amata"},
                     {"line", 3},
                     {"column", 7},
                     {"message", "unknown attribute 'cpux'"}}}}}}};
  EXPECT_EQ(render_error(error, RenderStyle{}),
            "error: the new policy has 1 error\n"
            "bad.amata:3:7: error: unknown attribute 'cpux'\n");
}

TEST(ParseSince, DurationsAndUtcTimes) {
  EXPECT_EQ(*parse_since("10m", kNow), kNow - 600'000);
  EXPECT_EQ(*parse_since("2h", kNow), kNow - 7'200'000);
  EXPECT_EQ(*parse_since("1d", kNow), kNow - 86'400'000);
  EXPECT_EQ(*parse_since("500ms", kNow), kNow - 500);
  EXPECT_EQ(*parse_since("2025-11-25T14:40:00Z", kNow), kNow);
  EXPECT_EQ(*parse_since("2025-11-25 14:40:00", kNow), kNow);
  EXPECT_EQ(*parse_since("2025-11-25", kNow), kNow - (14 * 60 + 40) * 60'000LL);
  for (const char* bad : {"", "10", "5x", "m", "2025-13-01", "yesterday", "2025-11-25T25:00:00"}) {
    EXPECT_FALSE(parse_since(bad, kNow).ok()) << bad;
  }
}

TEST(ParseDuration, UnitsFromMillisecondsToDaysAndNothingElse) {
  EXPECT_EQ(*parse_duration_ms("500ms"), 500);
  EXPECT_EQ(*parse_duration_ms("30s"), 30'000);
  EXPECT_EQ(*parse_duration_ms("30m"), 1'800'000);
  EXPECT_EQ(*parse_duration_ms("30min"), 1'800'000);
  EXPECT_EQ(*parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(*parse_duration_ms("1d"), 86'400'000);
  EXPECT_EQ(*parse_duration_ms("0s"), 0);
  for (const char* bad :
       {"", "30", "m", "-5m", "1.5h", "5x", "2 h", "99999999999999999999s", "9999999999d"}) {
    EXPECT_FALSE(parse_duration_ms(bad).ok()) << bad;
  }
}

TEST(RenderControl, AWaitedActionShowsItsOutcomeNotItsAcceptance) {
  const Json ok = {{"object", "web"}, {"verb", "restart"},    {"accepted", true},
                   {"outcome", "ok"}, {"detail", "pid 4243"}, {"duration_ms", 1012}};
  EXPECT_EQ(render_control(ok, RenderStyle{}), "restart web: ok (pid 4243) in 1.0s\n");
  Json failed = ok;
  failed["outcome"] = "failed";
  failed["detail"] = "pid 4244 ended 0.01 s after its start: exited 3";
  failed["duration_ms"] = 12;
  EXPECT_EQ(render_control(failed, RenderStyle{true, 0}),
            "restart web: \x1b[31mfailed\x1b[0m (pid 4244 ended 0.01 s after its start: "
            "exited 3) in 12ms\n");
  EXPECT_EQ(render_control({{"object", "web"}, {"verb", "stop"}, {"message", "stop scheduled"}},
                           RenderStyle{}),
            "stop web: accepted (stop scheduled)\n");
}

TEST(RenderStatus, MaintenanceMarksTheObjectsItCoversAndListsTheWindows) {
  const Json web_window = {{"object", "web"},
                           {"uid", 0},
                           {"set_unix_ms", kNow - 180'000},
                           {"until_unix_ms", kNow + 1'620'000},
                           {"reason", "kernel upgrade"}};
  const Json node_window = {{"object", nullptr},
                            {"uid", 1000},
                            {"set_unix_ms", kNow - 60'000},
                            {"until_unix_ms", kNow + 3'600'000},
                            {"reason", "rack move"}};
  Json result = {
      {"policy", "p"},
      {"objects",
       {{{"name", "web"},
         {"kind", "service"},
         {"state", "running"},
         {"monitored", true},
         {"maintenance", web_window}},
        {{"name", "db"}, {"kind", "service"}, {"state", "stopped"}, {"monitored", true}}}}};
  EXPECT_EQ(render_status(result, RenderStyle{false, kNow}),
            "policy p\n"
            "OBJECT  KIND     STATE                  SINCE  RESTARTS  ATTRIBUTES\n"
            "web     service  running (maintenance)  -      0\n"
            "db      service  stopped                -      0\n"
            "\n"
            "web in maintenance until 2025-11-25 15:07:00Z (in 27m), set by uid 0 3m ago: "
            "kernel upgrade\n");
  result["maintenance"] = node_window;
  result["objects"][1]["maintenance"] = node_window;
  const std::string text = render_status(result, RenderStyle{false, kNow});
  EXPECT_NE(text.find("db      service  stopped (maintenance)"), std::string::npos) << text;
  EXPECT_NE(text.find("\nthe node in maintenance until 2025-11-25 15:40:00Z (in 1h), set by uid "
                      "1000 1m ago: rack move\nweb in maintenance"),
            std::string::npos)
      << text;
}

TEST(RenderMaintenance, ListsWindowsAndSaysWhatChanged) {
  EXPECT_EQ(render_maintenance({{"windows", Json::array()}}, RenderStyle{false, kNow}),
            "no maintenance windows\n");
  const Json window = {{"object", "web"},
                       {"uid", 0},
                       {"set_unix_ms", kNow},
                       {"until_unix_ms", kNow + 1'800'000},
                       {"reason", "kernel upgrade"}};
  EXPECT_EQ(render_maintenance({{"windows", {window}}}, RenderStyle{false, kNow}),
            "web in maintenance until 2025-11-25 15:10:00Z (in 30m), set by uid 0 just now: "
            "kernel upgrade\n");
  EXPECT_EQ(render_maintenance_change({{"window", window}, {"replaced", true}}, true,
                                      RenderStyle{false, kNow}),
            "maintenance of web until 2025-11-25 15:10:00Z (in 30m): recovery and hooks paused "
            "(replaces the window before)\n");
  EXPECT_EQ(render_maintenance_change({{"window", window}}, false, RenderStyle{false, kNow}),
            "maintenance of web ended\n");
  // Odd JSON from another process never throws.
  EXPECT_EQ(render_maintenance({{"windows", {1, "x", nullptr}}}, RenderStyle{false, kNow}).empty(),
            false);
}

}  // namespace
}  // namespace amata::console
