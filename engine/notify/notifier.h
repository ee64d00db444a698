// Delivery of notifications to the channels amatad serves itself: webhooks (a JSON POST),
// Prometheus Alertmanager (its v2 API) and mail (SMTP). All of it happens on one worker
// thread driving libcurl's multi interface, so a slow, dead or hostile receiver never holds
// up the event loop, and recovery never waits for a notification. The loop hands a delivery
// over and is told, on the loop, how it ended.
//
// Each delivery is retried with a doubling backoff (1 s, 2 s, 4 s ... at most 60 s) until
// it succeeds or its channel's retries are spent; each attempt is bounded by the channel's
// timeout. A webhook or Alertmanager delivery succeeds on a 2xx answer; a mail when the SMTP
// server accepted it for every recipient.
//
// Alertmanager forgets an alert that is not sent again (its resolve_timeout, 5 min by
// default), so an alert stays *active* here and is sent again every minute until its event
// clears; then it is sent once more with endsAt, and dropped.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/event_loop.h"
#include "base/result.h"
#include "catalog/object_spec.h"
#include "engine/notify/payload.h"

namespace amata::notify {

/// How a delivery ended.
struct Delivery {
  bool ok = false;
  int attempts = 0;
  std::string detail;  // "webhook http://...: HTTP 200", or the last attempt's error
};

class Notifier {
 public:
  using Done = std::function<void(const Delivery&)>;
  using Log = std::function<void(const std::string&)>;

  struct Options {
    double max_backoff = 60;          // seconds between two attempts, at most
    double first_backoff = 1;         // seconds before the first retry
    double alert_repeat = 60;         // seconds between two sends of an active alert
    std::size_t max_pending = 10000;  // deliveries waiting; more are refused at once
  };

  /// Starts the worker thread. `log` (called on the loop) hears what no action records:
  /// failed re-sends of active alerts and failed resolutions.
  static Result<std::unique_ptr<Notifier>> start(base::EventLoop& loop, Log log, Options options);
  static Result<std::unique_ptr<Notifier>> start(base::EventLoop& loop, Log log) {
    return start(loop, std::move(log), Options{});
  }
  /// Stops the worker; deliveries still pending are abandoned (their `done` is not called).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  /// Delivers `n` through `channel` (a webhook, alertmanager or email channel); `done` runs
  /// on the loop once it was delivered or its retries are spent.
  void send(const catalog::ChannelSpec& channel, const Notification& n, Done done);
  /// The event of `n` (its name and objects) cleared at `n.time`: the alerts sent for it to
  /// Alertmanager channels are resolved and no longer sent again.
  void cleared(const Notification& n);
  /// Deliveries waiting for an attempt or in flight (alerts kept active not counted).
  std::size_t pending() const;

  struct Worker;  // the thread's side (notifier.cc)

 private:
  Notifier() = default;
  std::shared_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace amata::notify
