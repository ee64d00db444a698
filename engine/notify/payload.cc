#include "engine/notify/payload.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace amata::notify {
namespace {

using json = nlohmann::json;

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

/// The samples as JSON; what does not parse (it should not happen) goes as a string.
json values_json(const std::string& values) {
  if (values.empty()) return json::object();
  json parsed = json::parse(values, nullptr, false);
  return parsed.is_discarded() ? json(values) : parsed;
}

/// Text for a mail header: one line, no CR or LF (header injection), at most 200 bytes.
std::string header_text(std::string text) {
  for (char& c : text) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  if (text.size() > 200) text = text.substr(0, 197) + "...";
  return text;
}

/// JSON serialisation that never throws on bytes that are not UTF-8 (a message or an object
/// name may hold any bytes): they become U+FFFD.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string what(const Notification& n) {
  return n.event + "(" + join(n.objects, ", ") + ")";
}

}  // namespace

std::string rfc3339(double unix_seconds) {
  const double whole = std::floor(unix_seconds);
  const auto t = static_cast<std::time_t>(whole);
  int ms = static_cast<int>(std::lround((unix_seconds - whole) * 1000));
  if (ms > 999) ms = 999;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string webhook_body(const Notification& n) {
  json j = {{"channel", n.channel},
            {"event", n.event},
            {"edge", n.edge},
            {"objects", n.objects},
            {"message", n.message},
            {"time", rfc3339(n.time)},
            {"time_unix", n.time},
            {"event_id", n.event_id},
            {"policy", n.policy},
            {"node", n.node},
            {"values", values_json(n.values)}};
  return dump(j);
}

namespace {

json alert_labels(const Notification& n) {
  json labels = {
      {"alertname", n.event}, {"node", n.node}, {"policy", n.policy}, {"channel", n.channel}};
  if (!n.objects.empty()) labels["object"] = n.objects.front();
  if (n.objects.size() > 1) labels["objects"] = join(n.objects, " ");
  return labels;
}

}  // namespace

std::string alert_key(const Notification& n) {
  return dump(alert_labels(n));
}

std::string alertmanager_body(const Notification& raised, double resolved_at) {
  json alert = {{"labels", alert_labels(raised)},
                {"annotations",
                 {{"summary", raised.message.empty() ? what(raised) : raised.message},
                  {"description", what(raised) + " on " + raised.node},
                  {"values", dump(values_json(raised.values))}}},
                {"startsAt", rfc3339(raised.time)}};
  if (resolved_at > 0) alert["endsAt"] = rfc3339(resolved_at);
  return dump(json::array({alert}));
}

std::string mail_text(const Notification& n, const std::string& from,
                      const std::vector<std::string>& to, double now) {
  const std::string subject = header_text("[amata] " + what(n) + " on " + n.node +
                                          (n.message.empty() ? std::string() : ": " + n.message));
  char date[64];
  const auto t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string text;
  text += "Date: " + std::string(date) + "\r\n";
  text += "From: " + header_text(from) + "\r\n";
  text += "To: " + header_text(join(to, ", ")) + "\r\n";
  text += "Subject: " + subject + "\r\n";
  text += fmt::format("Message-ID: <amata.{}.{}.{}@{}>\r\n", n.event_id,
                      static_cast<long long>(now * 1000), n.channel, header_text(n.node));
  text += "MIME-Version: 1.0\r\n";
  text += "Content-Type: text/plain; charset=utf-8\r\n";
  text += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  // The body: one fact a line, lines ending in CRLF as SMTP wants them (libcurl doubles a
  // leading dot itself, RFC 5321 4.5.2).
  std::string body;
  body += (n.message.empty() ? what(n) : n.message) + "\n\n";
  body += "event:    " + what(n) + " (" + n.edge + ")\n";
  body += "node:     " + n.node + "\n";
  body += "time:     " + rfc3339(n.time) + "\n";
  body += "policy:   " + n.policy + "\n";
  body += fmt::format("event id: {}\n", n.event_id);
  if (!n.values.empty()) body += "values:   " + n.values + "\n";
  for (char c : body) {
    if (c == '\r') continue;
    if (c == '\n') {
      text += "\r\n";
    } else {
      text += c;
    }
  }
  return text;
}

}  // namespace amata::notify
