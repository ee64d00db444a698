// What each kind of channel sends for one notification: the JSON of a webhook, the alert of
// Alertmanager's v2 API, the text of a mail. Pure functions of the notification, so what goes
// over the wire is tested without a receiver.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace amata::notify {

/// One `notify` (or the clear of the event it was about): what every channel is told.
struct Notification {
  std::string channel;               // the channel's name in the policy
  std::string event;                 // the event's name ("ServiceDown")
  std::string edge;                  // raise | clear | gave-up
  std::vector<std::string> objects;  // the event's objects, in parameter order
  std::string message;               // the notify's text (may be empty)
  double time = 0;                   // Unix seconds of the event
  std::int64_t event_id = 0;         // its row in the event store
  std::string values;                // JSON of the samples that fired it ("" or "{...}")
  std::string policy;                // the policy's name
  std::string node;                  // this node's name (its host name)
};

/// "2026-12-05T22:41:07.250Z": RFC 3339 in UTC, as Alertmanager and webhooks read times.
std::string rfc3339(double unix_seconds);

/// The webhook's JSON object: every field of the notification, `values` as JSON.
std::string webhook_body(const Notification& n);

/// The identity of an alert in Alertmanager: its labels (alertname, node, object, objects,
/// policy, channel). A raise and its clear produce the same labels, which is how Alertmanager
/// matches the resolution to the alert.
std::string alert_key(const Notification& n);

/// The body of POST /api/v2/alerts: one alert with labels, annotations (summary, the values),
/// startsAt at the raise, and endsAt when `resolved_at` is given (the clear).
std::string alertmanager_body(const Notification& raised, double resolved_at = 0);

/// A mail (RFC 5322 headers and a plain-text body) from `from` to `to`, with CRs and LFs
/// taken out of everything that goes into a header.
std::string mail_text(const Notification& n, const std::string& from,
                      const std::vector<std::string>& to, double now);

}  // namespace amata::notify
