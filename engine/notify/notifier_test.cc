// The notifier against real receivers on loopback: an HTTP server (cpp-httplib) for webhooks
// and Alertmanager's API, a small SMTP server for mail, and Debian's prometheus-alertmanager.
#include "engine/notify/notifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/notify/test_receivers.h"

namespace amata::notify {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Receiver = testing::HttpReceiver;
using testing::SmtpSink;

Notification sample(const std::string& channel) {
  Notification n;
  n.channel = channel;
  n.event = "ServiceDown";
  n.edge = "raise";
  n.objects = {"web"};
  n.message = "web died";
  n.time = 1796510467.0;
  n.event_id = 7;
  n.policy = "test";
  n.node = "n1";
  return n;
}

catalog::ChannelSpec channel(catalog::ChannelSpec::Type type, const std::string& url,
                             int retries = 0, double timeout = 5) {
  catalog::ChannelSpec c;
  c.name = "pager";
  c.type = type;
  c.url = url;
  c.retries = retries;
  c.timeout = timeout;
  return c;
}

class NotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = base::EventLoop::create();
    ASSERT_TRUE(l);
    loop_ = std::move(*l);
  }
  void start(Notifier::Options options = quick()) {
    auto n = Notifier::start(
        *loop_, [this](const std::string& line) { log_.push_back(line); }, options);
    ASSERT_TRUE(n) << n.error().message;
    notifier_ = std::move(*n);
  }
  static Notifier::Options quick() {
    Notifier::Options o;
    o.first_backoff = 0.05;
    o.max_backoff = 0.2;
    return o;
  }
  /// Turns the loop until `done` or `limit` passes; whether `done` became true.
  bool run_until(const std::function<bool()>& done, std::chrono::seconds limit = 20s) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
      EXPECT_TRUE(loop_->run_once(50ms));
    }
    return done();
  }
  std::optional<Delivery> deliver(const catalog::ChannelSpec& c, const Notification& n) {
    std::optional<Delivery> result;
    notifier_->send(c, n, [&](const Delivery& d) { result = d; });
    run_until([&] { return result.has_value(); });
    return result;
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<Notifier> notifier_;
  std::vector<std::string> log_;
};

TEST_F(NotifierTest, WebhookPostsTheEventAsJson) {
  Receiver receiver({200});
  start();
  auto d = deliver(channel(catalog::ChannelSpec::Type::kWebhook, receiver.url()), sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->ok) << d->detail;
  EXPECT_EQ(d->attempts, 1);
  EXPECT_EQ(d->detail, "webhook " + receiver.url() + ": HTTP 200");
  ASSERT_EQ(receiver.bodies().size(), 1U);
  const json j = json::parse(receiver.bodies()[0]);
  EXPECT_EQ(j["event"], "ServiceDown");
  EXPECT_EQ(j["objects"], json::array({"web"}));
  EXPECT_EQ(j["message"], "web died");
  EXPECT_EQ(notifier_->pending(), 0U);
}

TEST_F(NotifierTest, RetriesUntilTheReceiverTakesIt) {
  Receiver receiver({500, 502, 200});
  start();
  auto d =
      deliver(channel(catalog::ChannelSpec::Type::kWebhook, receiver.url(), 3), sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->ok) << d->detail;
  EXPECT_EQ(d->attempts, 3);
  EXPECT_EQ(receiver.bodies().size(), 3U);
}

TEST_F(NotifierTest, GivesUpAfterItsRetriesAndSaysWhy) {
  Receiver receiver({503});
  start();
  auto d =
      deliver(channel(catalog::ChannelSpec::Type::kWebhook, receiver.url(), 2), sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->ok);
  EXPECT_EQ(d->attempts, 3);
  EXPECT_NE(d->detail.find("HTTP 503: down for maintenance (3 attempts)"), std::string::npos)
      << d->detail;
  EXPECT_EQ(receiver.bodies().size(), 3U);
}

TEST_F(NotifierTest, NobodyListeningIsAFailedDelivery) {
  // A port that was just free: connecting is refused.
  int port = 0;
  {
    Receiver gone({200});
    port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
  }
  start();
  auto d = deliver(channel(catalog::ChannelSpec::Type::kWebhook,
                           "http://127.0.0.1:" + std::to_string(port) + "/hook", 1),
                   sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->ok);
  EXPECT_EQ(d->attempts, 2);
  EXPECT_NE(d->detail.find("127.0.0.1"), std::string::npos) << d->detail;
}

TEST_F(NotifierTest, ASlowReceiverTimesOutAndNeverHoldsTheLoop) {
  Receiver receiver({200}, 3000ms);
  start();
  std::optional<Delivery> result;
  notifier_->send(channel(catalog::ChannelSpec::Type::kWebhook, receiver.url(), 0, 0.3),
                  sample("pager"), [&](const Delivery& d) { result = d; });
  // The loop keeps turning meanwhile: a timer of its own fires on time.
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    if (!result) loop_->add_timer_after(10ms, tick);
  };
  loop_->add_timer_after(10ms, tick);
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  EXPECT_FALSE(result->ok);
  EXPECT_NE(result->detail.find("imed out"), std::string::npos) << result->detail;
  EXPECT_GE(ticks, 5);
}

TEST_F(NotifierTest, AnAlertIsRepeatedWhileItsEventStandsAndResolvedOnClear) {
  Receiver receiver({200});
  Notifier::Options o = quick();
  o.alert_repeat = 0.1;
  start(o);
  const auto c = channel(catalog::ChannelSpec::Type::kAlertmanager, receiver.url("/"));
  auto d = deliver(c, sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->ok) << d->detail;
  ASSERT_TRUE(run_until([&] { return receiver.bodies().size() >= 3; }));
  for (const auto& p : receiver.paths()) EXPECT_EQ(p, "/api/v2/alerts");
  for (const auto& b : receiver.bodies()) EXPECT_FALSE(json::parse(b)[0].contains("endsAt"));

  Notification clear = sample("pager");
  clear.edge = "clear";
  clear.time += 30;
  notifier_->cleared(clear);
  auto resolved = [&] {
    const auto bodies = receiver.bodies();
    return json::parse(bodies.back())[0].contains("endsAt");
  };
  ASSERT_TRUE(run_until(resolved));
  EXPECT_EQ(json::parse(receiver.bodies().back())[0]["endsAt"], "2026-12-05T22:41:37.000Z");
  // Resolved: never sent again.
  const std::size_t sent = receiver.bodies().size();
  run_until([] { return false; }, 1s);
  EXPECT_EQ(receiver.bodies().size(), sent);
}

TEST_F(NotifierTest, MailGoesToEveryRecipient) {
  SmtpSink sink;
  start();
  auto c = channel(catalog::ChannelSpec::Type::kEmail,
                   "smtp://127.0.0.1:" + std::to_string(sink.port()));
  c.from = "amata@n1";
  c.to = {"ops@example.org", "dev@example.org"};
  auto d = deliver(c, sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->ok) << d->detail;
  EXPECT_NE(d->detail.find("accepted for 2 recipients"), std::string::npos) << d->detail;
  const auto mails = sink.mails();
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_EQ(mails[0].from, "<amata@n1>");
  EXPECT_EQ(mails[0].to, (std::vector<std::string>{"<ops@example.org>", "<dev@example.org>"}));
  EXPECT_NE(mails[0].data.find("Subject: [amata] ServiceDown(web) on n1: web died"),
            std::string::npos);
}

TEST_F(NotifierTest, ARefusedRecipientIsAFailedDelivery) {
  SmtpSink sink("nobody@example.org");
  start();
  auto c = channel(catalog::ChannelSpec::Type::kEmail,
                   "smtp://127.0.0.1:" + std::to_string(sink.port()));
  c.from = "amata@n1";
  c.to = {"nobody@example.org"};
  auto d = deliver(c, sample("pager"));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->ok);
  EXPECT_TRUE(sink.mails().empty());
}

TEST_F(NotifierTest, StoppingWithDeliveriesPendingCallsNoCallback) {
  Receiver receiver({503});
  start();
  bool called = false;
  notifier_->send(channel(catalog::ChannelSpec::Type::kWebhook, receiver.url(), 10),
                  sample("pager"), [&](const Delivery&) { called = true; });
  run_until([&] { return !receiver.bodies().empty(); });
  notifier_.reset();
  run_until([] { return false; }, 1s);
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace amata::notify
