// /metrics: the exposition checked by Prometheus's own promtool and by a strict parser of the
// text format written here, and the HTTP endpoint scraped over real loopback TCP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "engine/metrics/http_gate.h"
#include "engine/metrics/loopback_for_tests.h"
#include "engine/metrics/metrics_server.h"
#include "engine/metrics/metrics_snapshot.h"

namespace amata::metrics {
namespace {

using metrics::testing::tcp_connect;

MetricsSnapshot sample_snapshot() {
  MetricsSnapshot s;
  s.version = "0.1.0";
  s.policy = "web_node";
  s.started_unix_seconds = 1764081000.25;
  s.reloads_total = 3;
  s.reload_failures_total = 1;
  s.console_clients = 2;
  s.objects.push_back({"web",
                       "service",
                       "running",
                       true,
                       2,
                       {{"cpu", 3.2}, {"rss", 12582912}, {"alive", 1}, {"uptime", NAN}}});
  s.objects.push_back({"self", "node", "up", true, 0, {{"cpu", 41.5}, {"load1", 0.75}}});
  // Hostile names must come out escaped, not break the format.
  s.objects.push_back({"we\"ird\\name\nx", "check", "unknown", false, 0, {{"status", 2}}});
  s.rules.push_back({"down(web)", "armed", 4});
  s.rules.push_back({"hot", "pending", 0});
  s.events_total = {{"ServiceDown", 4}, {"Overload", 1}};
  s.actions_total = {{"restart", "ok", 3}, {"restart", "failed", 1}, {"notify", "ok", 5}};
  for (double d : {0.004, 0.02, 0.02, 0.3, 7.0, 1000.0}) s.recovery_seconds.observe(d);
  return s;
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// A strict reader of the text exposition format 0.0.4: every sample belongs to the family
// declared by the closest # TYPE, families are contiguous and declared once, names and labels
// have the allowed syntax, values parse, and histograms are cumulative and end in +Inf.
std::vector<Sample> parse_strict(const std::string& text, std::string* error) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
  std::vector<Sample> samples;
  std::set<std::string> declared;
  std::string family, type;
  auto fail = [&](const std::string& why, const std::string& line) {
    *error = why + ": " + line;
    return std::vector<Sample>{};
  };
  if (text.empty() || text.back() != '\n') return fail("must end with a newline", "");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) return fail("empty line", line);
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream fields(line.substr(7));
      fields >> family >> type;
      if (!std::regex_match(family, kName)) return fail("bad family name", line);
      if (type != "gauge" && type != "counter" && type != "histogram") return fail("type", line);
      if (!declared.insert(family).second) return fail("family declared twice", line);
      continue;
    }
    if (line[0] == '#') return fail("unknown comment", line);
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, kName)) return fail("bad metric name", line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail("label without '='", line);
        std::string key = line.substr(i, eq - i);
        if (!std::regex_match(key, kLabelName)) return fail("bad label name", line);
        if (line[eq + 1] != '"') return fail("unquoted label value", line);
        std::string value;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            char next = line[++j];
            if (next == 'n')
              value += '\n';
            else if (next == '\\' || next == '"')
              value += next;
            else
              return fail("bad escape", line);
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) return fail("unterminated label value", line);
        if (!s.labels.emplace(key, value).second) return fail("duplicate label", line);
        i = j + 1;
        if (line[i] == ',')
          ++i;
        else if (line[i] != '}')
          return fail("expected ',' or '}'", line);
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ')
      return fail("expected one space before the value", line);
    std::string value = line.substr(i + 1);
    if (value == "+Inf")
      s.value = INFINITY;
    else if (value == "-Inf")
      s.value = -INFINITY;
    else if (value == "NaN")
      s.value = NAN;
    else {
      std::size_t used = 0;
      try {
        s.value = std::stod(value, &used);
      } catch (const std::exception&) {
        return fail("value does not parse", line);
      }
      if (used != value.size()) return fail("trailing characters after the value", line);
    }
    std::string base = s.name;
    if (type == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string sfx = suffix;
        if (base.size() > sfx.size() &&
            base.compare(base.size() - sfx.size(), sfx.size(), sfx) == 0) {
          base = base.substr(0, base.size() - sfx.size());
          break;
        }
      }
    }
    if (base != family) return fail("sample outside its family's block", line);
    if (type == "counter" && s.value < 0) return fail("negative counter", line);
    samples.push_back(std::move(s));
  }
  return samples;
}

// What /metrics serves: the daemon's snapshot, then the HTTP gate's own counters.
std::string served_text() {
  GateCounters gate;
  gate.waiting = 4;
  gate.requests = 120;
  gate.timed_out = 3;
  return render_exposition(sample_snapshot()) + render_gate_counters(gate);
}

TEST(MetricsExposition, PassesTheStrictParser) {
  std::string text = served_text();
  std::string error;
  auto samples = parse_strict(text, &error);
  ASSERT_TRUE(error.empty()) << error << "\n" << text;

  auto find = [&](const std::string& name, const std::map<std::string, std::string>& labels) {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nan("");
  };
  EXPECT_EQ(find("amata_attribute", {{"object", "web"}, {"kind", "service"}, {"attribute", "cpu"}}),
            3.2);
  EXPECT_EQ(find("amata_attribute", {{"object", "web"}, {"kind", "service"}, {"attribute", "rss"}}),
            12582912);
  EXPECT_TRUE(std::isnan(
      find("amata_attribute", {{"object", "web"}, {"kind", "service"}, {"attribute", "uptime"}})))
      << "an unmeasured attribute is absent, not a made-up number";
  EXPECT_EQ(find("amata_attribute",
                 {{"object", "we\"ird\\name\nx"}, {"kind", "check"}, {"attribute", "status"}}),
            2);
  EXPECT_EQ(find("amata_rule_state", {{"rule", "hot"}, {"state", "pending"}}), 1);
  EXPECT_EQ(find("amata_rule_state", {{"rule", "hot"}, {"state", "firing"}}), 0);
  EXPECT_EQ(find("amata_events_total", {{"event", "ServiceDown"}}), 4);
  EXPECT_EQ(find("amata_actions_total", {{"action", "restart"}, {"outcome", "failed"}}), 1);
  EXPECT_EQ(find("amata_reloads_total", {{"result", "ok"}}), 2);
  EXPECT_EQ(find("amata_object_restarts_total", {{"object", "web"}, {"kind", "service"}}), 2);
  EXPECT_EQ(find("amata_http_waiting_connections", {}), 4);
  EXPECT_EQ(find("amata_http_dropped_total", {{"reason", "timeout"}}), 3);

  // The histogram: cumulative, +Inf equals the count, the sum adds up.
  double previous = 0;
  for (const auto& s : samples) {
    if (s.name != "amata_recovery_duration_seconds_bucket") continue;
    EXPECT_GE(s.value, previous) << s.labels.at("le");
    previous = s.value;
  }
  EXPECT_EQ(find("amata_recovery_duration_seconds_bucket", {{"le", "0.005"}}), 1);
  EXPECT_EQ(find("amata_recovery_duration_seconds_bucket", {{"le", "0.025"}}), 3);
  EXPECT_EQ(find("amata_recovery_duration_seconds_bucket", {{"le", "300"}}), 5);
  EXPECT_EQ(find("amata_recovery_duration_seconds_bucket", {{"le", "+Inf"}}), 6);
  EXPECT_EQ(find("amata_recovery_duration_seconds_count", {}), 6);
  EXPECT_NEAR(find("amata_recovery_duration_seconds_sum", {}), 1007.344, 1e-9);
}

TEST(MetricsExposition, TheStrictParserRejectsBrokenText) {
  std::string error;
  for (const char* broken :
       {"# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na 2\n",  // family split in two
        "# TYPE a gauge\na{x=1} 1\n",                                // unquoted label
        "# TYPE a gauge\na 1 2 3\n",                                 // trailing junk
        "# TYPE a gauge\na{x=\"\\q\"} 1\n",                          // bad escape
        "a 1\n"}) {                                                  // no TYPE
    error.clear();
    parse_strict(broken, &error);
    EXPECT_FALSE(error.empty()) << broken;
  }
}

TEST(MetricsExposition, PromtoolAcceptsIt) {
  // promtool comes from Debian's `prometheus` package (tools/setup.sh installs it).
  ASSERT_EQ(access("/usr/bin/promtool", X_OK), 0) << "install the prometheus package";
  char path[] = "/tmp/amata-metrics-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = served_text();
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::string command = std::string("/usr/bin/promtool check metrics < ") + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  int status = pclose(pipe);
  unlink(path);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings";
}

TEST(MetricsExposition, EmptySnapshotIsStillValid) {
  std::string error;
  auto samples = parse_strict(render_exposition(MetricsSnapshot{}), &error);
  EXPECT_TRUE(error.empty()) << error;
  EXPECT_FALSE(samples.empty());
}

TEST(MetricsListen, ParsesHostAndPort) {
  auto v4 = parse_listen_address("127.0.0.1:9469");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 9469);
  auto v6 = parse_listen_address("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  for (const char* bad :
       {"9469", ":9469", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "[::1:80"}) {
    EXPECT_FALSE(parse_listen_address(bad).ok()) << bad;
  }
}

TEST(MetricsServer, ServesThePublishedSnapshotOverLoopback) {
  auto server = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.error().message;
  ASSERT_GT((*server)->port(), 0);
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);

  auto before = client.Get("/metrics");
  ASSERT_TRUE(before) << httplib::to_string(before.error());
  EXPECT_EQ(before->status, 503) << "nothing published yet";

  (*server)->publish(sample_snapshot());
  auto scrape = client.Get("/metrics");
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->status, 200);
  EXPECT_EQ(scrape->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(scrape->body.rfind(render_exposition(sample_snapshot()), 0), 0U);
  // The gate counted both requests of this kept-alive connection before this one's answer.
  EXPECT_NE(scrape->body.find("\namata_http_requests_total 2\n"), std::string::npos);

  MetricsSnapshot next = sample_snapshot();
  next.objects[0].attributes[0].second = 99.5;
  (*server)->publish(std::move(next));
  auto again = client.Get("/metrics");
  ASSERT_TRUE(again);
  EXPECT_NE(
      again->body.find("amata_attribute{object=\"web\",kind=\"service\",attribute=\"cpu\"} 99.5\n"),
      std::string::npos);

  // The port is taken: a second server on it fails cleanly.
  auto clash = MetricsServer::start("127.0.0.1:" + std::to_string((*server)->port()));
  EXPECT_FALSE(clash.ok());
}

TEST(MetricsServer, IdleAndSlowConnectionsDoNotHoldUpAScrape) {
  auto server = MetricsServer::start("127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.error().message;
  (*server)->publish(sample_snapshot());
  EXPECT_FALSE((*server)->reachable_from_network());
  std::vector<int> held;
  // Thirty that never send a byte, and ten that begin a request and stall.
  for (int i = 0; i < 40; ++i) {
    int fd = tcp_connect((*server)->port());
    ASSERT_GE(fd, 0);
    if (i >= 30) {
      ASSERT_EQ(send(fd, "GET /metr", 9, 0), 9);
    }
    held.push_back(fd);
  }
  httplib::Client client("127.0.0.1", (*server)->port());
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  const auto started = std::chrono::steady_clock::now();
  auto scrape = client.Get("/metrics");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(scrape) << httplib::to_string(scrape.error());
  EXPECT_EQ(scrape->status, 200);
  // With one worker and 5 s timeouts, 8 idle connections held a scrape up for 40 s.
  EXPECT_LT(seconds, 8.0);
  for (int fd : held) close(fd);
}

TEST(MetricsServer, SaysWhenItListensBeyondLoopback) {
  auto server = MetricsServer::start("0.0.0.0:0");
  ASSERT_TRUE(server.ok()) << server.error().message;
  EXPECT_TRUE((*server)->reachable_from_network());
}

}  // namespace
}  // namespace amata::metrics
