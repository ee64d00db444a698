#include "engine/notify/payload.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace amata::notify {
namespace {

using json = nlohmann::json;

Notification sample() {
  Notification n;
  n.channel = "pager";
  n.event = "ServiceDown";
  n.edge = "raise";
  n.objects = {"web", "db"};
  n.message = "web is down";
  n.time = 1796510467.25;  // 2026-12-05T22:41:07.250Z
  n.event_id = 42;
  n.values = R"({"web.alive":false})";
  n.policy = "web_node";
  n.node = "n1";
  return n;
}

TEST(Payload, Rfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339(1796510467.25), "2026-12-05T22:41:07.250Z");
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  // Rounding never writes 1000 ms.
  EXPECT_EQ(rfc3339(59.9999), "1970-01-01T00:00:59.999Z");
}

TEST(Payload, WebhookCarriesEveryFieldWithTheValuesAsJson) {
  const json j = json::parse(webhook_body(sample()));
  EXPECT_EQ(j["channel"], "pager");
  EXPECT_EQ(j["event"], "ServiceDown");
  EXPECT_EQ(j["edge"], "raise");
  EXPECT_EQ(j["objects"], json::array({"web", "db"}));
  EXPECT_EQ(j["message"], "web is down");
  EXPECT_EQ(j["time"], "2026-12-05T22:41:07.250Z");
  EXPECT_EQ(j["event_id"], 42);
  EXPECT_EQ(j["node"], "n1");
  EXPECT_EQ(j["policy"], "web_node");
  EXPECT_EQ(j["values"]["web.alive"], false);
}

TEST(Payload, BytesThatAreNotUtf8NeverBreakTheJson) {
  Notification n = sample();
  n.message = std::string("bad \xff\xfe byte");
  n.values = "not json";
  const json j = json::parse(webhook_body(n));
  EXPECT_EQ(j["message"], "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  EXPECT_EQ(j["values"], "not json");
}

TEST(Payload, AlertHasLabelsStartAndEndOnlyWhenResolved) {
  const json firing = json::parse(alertmanager_body(sample()));
  ASSERT_TRUE(firing.is_array());
  ASSERT_EQ(firing.size(), 1U);
  const json& a = firing[0];
  EXPECT_EQ(a["labels"]["alertname"], "ServiceDown");
  EXPECT_EQ(a["labels"]["object"], "web");
  EXPECT_EQ(a["labels"]["objects"], "web db");
  EXPECT_EQ(a["labels"]["node"], "n1");
  EXPECT_EQ(a["annotations"]["summary"], "web is down");
  EXPECT_EQ(a["startsAt"], "2026-12-05T22:41:07.250Z");
  EXPECT_FALSE(a.contains("endsAt"));

  const json resolved = json::parse(alertmanager_body(sample(), 1796510500.0));
  EXPECT_EQ(resolved[0]["endsAt"], "2026-12-05T22:41:40.000Z");
  EXPECT_EQ(resolved[0]["labels"], a["labels"]);
}

TEST(Payload, TheAlertKeyIgnoresWhatChangesBetweenRaiseAndClear) {
  Notification clear = sample();
  clear.edge = "clear";
  clear.message = "";
  clear.time += 30;
  clear.event_id = 43;
  EXPECT_EQ(alert_key(sample()), alert_key(clear));
  clear.objects = {"db"};
  EXPECT_NE(alert_key(sample()), alert_key(clear));
}

TEST(Payload, MailHeadersCannotBeInjected) {
  Notification n = sample();
  n.message = "down\r\nBcc: victim@example.org";
  const std::string text =
      mail_text(n, "amata@n1", {"ops@example.org", "b@example.org"}, 1796510467.0);
  const std::string headers = text.substr(0, text.find("\r\n\r\n"));
  EXPECT_EQ(headers.find("\r\nBcc:"), std::string::npos);
  EXPECT_NE(headers.find("Subject: [amata] ServiceDown(web, db) on n1: down  Bcc: victim"),
            std::string::npos);
  EXPECT_NE(headers.find("To: ops@example.org, b@example.org"), std::string::npos);
  EXPECT_NE(headers.find("From: amata@n1"), std::string::npos);
  EXPECT_NE(headers.find("Date: Sat, 05 Dec 2026 22:41:07 +0000"), std::string::npos);
  // Every line of the body ends in CRLF, none in a bare LF.
  const std::string body = text.substr(text.find("\r\n\r\n") + 4);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\n') {
      ASSERT_GT(i, 0U);
      EXPECT_EQ(body[i - 1], '\r');
    }
  }
  EXPECT_NE(body.find("event:    ServiceDown(web, db) (raise)\r\n"), std::string::npos);
}

}  // namespace
}  // namespace amata::notify
