// Notification channels end to end: the real amatad, a real service killed, and real
// receivers on loopback — an HTTP server for the webhook, Debian's prometheus-alertmanager
// for alerts, an SMTP server for mail. What is checked is what an operator relies on: the
// receiver hears of the fault, the restart never waits for it, and the `notify` action's
// record says how the delivery ended.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/notify/test_receivers.h"
#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

using Json = nlohmann::json;
using notify::testing::HttpReceiver;
using notify::testing::SmtpSink;

const char* kRestartAndNotify =
    "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
    "recover ServiceDown(s) { restart s; notify \"pager\" \"web died\" }\n";

/// The `notify` action records, once there are `n` of them.
std::vector<store::ActionRecord> notify_records(Amatad& a, std::size_t n) {
  std::vector<store::ActionRecord> found;
  Amatad::wait_for(
      [&] {
        found.clear();
        for (const auto& r : a.actions()) {
          if (r.kind == "notify") found.push_back(r);
        }
        return found.size() >= n;
      },
      20);
  return found;
}

TEST(Notify, AWebhookHearsOfTheDeathAndTheRecordSaysItWasDelivered) {
  HttpReceiver receiver({200});
  Amatad a;
  a.write_policy("policy n\nchannel pager { webhook \"" + receiver.url() + "\"; retries 0 }\n" +
                 sleeper_service("web") + kRestartAndNotify);
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  kill(first, SIGKILL);
  ASSERT_GT(a.wait_new_pid("web", first), 0) << a.log();

  ASSERT_TRUE(Amatad::wait_for([&] { return !receiver.bodies().empty(); }, 20)) << a.log();
  const Json sent = Json::parse(receiver.bodies().front(), nullptr, false);
  ASSERT_TRUE(sent.is_object()) << receiver.bodies().front();
  EXPECT_EQ(sent["event"], "ServiceDown");
  EXPECT_EQ(sent["objects"], Json::array({"web"}));
  EXPECT_EQ(sent["message"], "web died");
  EXPECT_EQ(sent["edge"], "raise");
  EXPECT_EQ(sent["policy"], "n");
  EXPECT_GT(sent["event_id"].get<std::int64_t>(), 0);

  const auto records = notify_records(a, 1);
  ASSERT_EQ(records.size(), 1U) << a.log();
  EXPECT_EQ(records[0].outcome, "ok");
  EXPECT_EQ(records[0].detail, "webhook " + receiver.url() + ": HTTP 200");
  EXPECT_EQ(records[0].event_id, sent["event_id"].get<std::int64_t>());
}

TEST(Notify, AReceiverThatIsDownIsAFailedActionAndTheRestartDoesNotWait) {
  // Connections to this port are refused once the receiver is gone.
  int port = 0;
  {
    HttpReceiver gone({200});
    port = gone.port();
  }
  Amatad a;
  a.write_policy("policy n\nchannel pager { webhook \"http://127.0.0.1:" + std::to_string(port) +
                 "/hook\"; retries 2 }\n" + sleeper_service("web") + kRestartAndNotify);
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  kill(first, SIGKILL);
  ASSERT_GT(a.wait_new_pid("web", first), 0) << a.log();

  const auto records = notify_records(a, 1);
  ASSERT_EQ(records.size(), 1U) << a.log();
  EXPECT_EQ(records[0].outcome, "failed");
  EXPECT_NE(records[0].detail.find("(3 attempts)"), std::string::npos) << records[0].detail;
  // The restart's record came first: it did not wait for the retries (1 s + 2 s).
  bool restarted_first = false;
  for (const auto& r : a.actions()) {
    if (r.kind == "restart" && r.outcome == "ok") restarted_first = true;
    if (r.kind == "notify") break;
  }
  EXPECT_TRUE(restarted_first);
}

TEST(Notify, MailReachesTheSmtpServer) {
  SmtpSink sink;
  Amatad a;
  a.write_policy(
      "policy n\nchannel pager { email \"smtp://127.0.0.1:" + std::to_string(sink.port()) +
      "\"; from \"amata@n1.example.org\"; to \"ops@example.org\" }\n" + sleeper_service("web") +
      kRestartAndNotify);
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  kill(first, SIGKILL);
  const auto records = notify_records(a, 1);
  ASSERT_EQ(records.size(), 1U) << a.log();
  EXPECT_EQ(records[0].outcome, "ok") << records[0].detail;
  const auto mails = sink.mails();
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_EQ(mails[0].to, std::vector<std::string>{"<ops@example.org>"});
  EXPECT_NE(mails[0].data.find("Subject: [amata] ServiceDown(web) on "), std::string::npos)
      << mails[0].data;
  EXPECT_NE(mails[0].data.find(": web died"), std::string::npos) << mails[0].data;
}

TEST(Notify, AHookChannelWithoutItsScriptStopsAmatadAtStart) {
  Amatad a;
  a.write_policy("policy n\nchannel sms { hook }\n" + sleeper_service("web") +
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { restart s; notify \"sms\" }\n");
  std::string out, err;
  const int code = a.run_to_exit({a.policy_path(), "--state-dir", a.state_dir(), "--hooks",
                                  a.hooks_dir(), "--socket", a.dir() + "/amatad.sock"},
                                 out, err);
  EXPECT_NE(code, 0);
  EXPECT_NE(err.find("channel sms runs the hook " + a.hooks_dir() +
                     "/sms, which is missing or not executable"),
            std::string::npos)
      << err;
}

TEST(Notify, AHookChannelsExitIsTheActionsOutcome) {
  Amatad a;
  a.write_hook("sms", "echo \"$AMATA_EVENT $AMATA_MESSAGE\" >> " + a.dir() + "/sms.sent\nexit 3");
  a.write_policy("policy n\nchannel sms { hook }\n" + sleeper_service("web") +
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { restart s; notify \"sms\" \"web died\" }\n");
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  kill(first, SIGKILL);
  const auto records = notify_records(a, 1);
  ASSERT_EQ(records.size(), 1U) << a.log();
  EXPECT_EQ(records[0].outcome, "failed");
  EXPECT_NE(records[0].detail.find("exit"), std::string::npos) << records[0].detail;
  EXPECT_EQ(read_file(a.dir() + "/sms.sent"), "sms web died\n");
}

/// Debian's prometheus-alertmanager on a free loopback port, its data in `dir`; stopped (by
/// its pid) when this goes.
class Alertmanager {
 public:
  explicit Alertmanager(const std::string& dir) {
    {
      HttpReceiver probe({200});  // a port that is free now
      port_ = probe.port();
    }
    const std::string config = dir + "/alertmanager.yml";
    FILE* f = fopen(config.c_str(), "w");
    if (f) {
      fputs("route:\n  receiver: none\nreceivers:\n  - name: none\n", f);
      fclose(f);
    }
    pid_ = fork();
    if (pid_ == 0) {
      const std::string listen = "--web.listen-address=127.0.0.1:" + std::to_string(port_);
      const std::string storage = "--storage.path=" + dir + "/alertmanager";
      const std::string config_flag = "--config.file=" + config;
      const std::string log = dir + "/alertmanager.log";
      FILE* out = freopen(log.c_str(), "w", stderr);
      (void)out;
      execl(kBinary, kBinary, config_flag.c_str(), storage.c_str(), listen.c_str(),
            "--cluster.listen-address=", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Alertmanager() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  static bool installed() { return access(kBinary, X_OK) == 0; }
  int port() const { return port_; }
  bool ready() const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/-/ready");
    return r && r->status == 200;
  }
  /// The active alerts, as Alertmanager's v2 API lists them.
  Json alerts() const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get("/api/v2/alerts");
    return r && r->status == 200 ? Json::parse(r->body, nullptr, false) : Json();
  }

 private:
  static constexpr const char* kBinary = "/usr/bin/prometheus-alertmanager";
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(Notify, AlertmanagerHoldsTheAlertWhileTheEventStandsAndResolvesItOnClear) {
  if (!Alertmanager::installed()) GTEST_SKIP() << "prometheus-alertmanager is not installed";
  Amatad a;
  Alertmanager am(a.dir());
  ASSERT_TRUE(Amatad::wait_for([&] { return am.ready(); }, 30))
      << read_file(a.dir() + "/alertmanager.log");
  // No restart: the event stands until the operator starts the service again.
  a.write_policy("policy n\nchannel alerts { alertmanager \"http://127.0.0.1:" +
                 std::to_string(am.port()) + "\" }\n" + sleeper_service("web") +
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { notify \"alerts\" \"web is down\" }\n");
  a.start({"--backend", "interp"});
  const pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  kill(first, SIGKILL);

  Json alert;
  ASSERT_TRUE(Amatad::wait_for(
      [&] {
        for (const auto& x : am.alerts()) {
          if (x["labels"]["alertname"] == "ServiceDown") alert = x;
        }
        return alert.is_object();
      },
      20))
      << a.log();
  EXPECT_EQ(alert["labels"]["object"], "web");
  EXPECT_EQ(alert["labels"]["policy"], "n");
  EXPECT_EQ(alert["annotations"]["summary"], "web is down");
  EXPECT_EQ(alert["status"]["state"], "active");
  const auto records = notify_records(a, 1);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].outcome, "ok") << records[0].detail;

  // The operator brings web back: the event clears, and Alertmanager resolves the alert.
  std::string out;
  ASSERT_EQ(a.ctl({"start", "--wait", "web"}, out), 0) << out;
  EXPECT_TRUE(Amatad::wait_for([&] { return am.alerts().empty(); }, 20))
      << am.alerts().dump() << a.log();
}

}  // namespace
}  // namespace amata::itest
