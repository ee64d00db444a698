#include "engine/web/web_view.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "engine/console/client.h"
#include "engine/web/assets.h"
#include "engine/web/control_routes.h"
#include "engine/web/html.h"
#include "engine/web/node_panel.h"
#include "engine/web/object_page.h"
#include "engine/web/pages.h"
#include "engine/web/serving.h"

namespace amata::web {

struct WebView::Shared {
  WebOptions options;
  std::shared_ptr<Sessions> sessions;  // the operators who logged in (none: read-only)
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> streams{0};
};

namespace {

using Json = nlohmann::json;
using Shared = WebView::Shared;

// A stream waits this long for the console at a time, then looks whether the server stops.
constexpr std::chrono::milliseconds kStreamPoll{1000};
// A comment line this often on a quiet stream: it finds a browser that has gone (the write
// fails) so its slot is freed, and keeps proxies from closing the connection.
constexpr int kPingEveryPolls = 5;
// The newest events the timeline asks for unless told otherwise, and at most.
constexpr int kDefaultLimit = 200;
constexpr int kMaxLimit = 10000;
// The newest records the overview reads for its sparklines (a node that restarts more than
// this in an hour shows the newest part of the hour).
constexpr int kSparklineEvents = 2000;
// The most attribute names one `history` takes (the console's HistoryRequest::kMaxAttributes):
// the key attributes of every kind together are fewer.
constexpr std::size_t kHistoryAttributes = 64;

// `page` with the header's account corner for whoever asks (nothing when control is off).
Page with_account(const Shared& shared, const httplib::Request& request, Page page) {
  return with_viewer(*shared.sessions, viewer_of(*shared.sessions, request), std::move(page));
}

// Connects for one page; the page is sent when the console could not be reached.
std::optional<console::ConsoleClient> connect(const Shared& shared, httplib::Response& response) {
  auto client = console::ConsoleClient::connect(shared.options.socket_path, nullptr,
                                                shared.options.reply_timeout);
  if (!client) {
    send_failure(response, {Json(), "unreachable", client.error().message});
    return std::nullopt;
  }
  return std::move(*client);
}

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// One browser's live stream: its console follow connection and its place in the history.
// It holds one of the counted slots until it dies with the response that streams it.
struct Stream {
  Stream(std::shared_ptr<Shared> owner, console::ConsoleClient connection)
      : shared(std::move(owner)), client(std::move(connection)) {}
  ~Stream() { shared->streams--; }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  std::shared_ptr<Shared> shared;
  console::ConsoleClient client;
  Json history;
  bool started = false;
  int quiet_polls = 0;
};

bool acquire_slot(Shared& shared) {
  std::size_t open = shared.streams.load();
  do {
    if (open >= shared.options.max_streams) return false;
  } while (!shared.streams.compare_exchange_weak(open, open + 1));
  return true;
}

// Sends one event as a table row; false when the browser has gone. The SSE id is the
// event's time, not its record id (actions and events count in separate ranges, so ids are
// not in time order): a reconnecting browser asks for what happened since then, and web.js
// drops the rows it already shows (by record id).
bool send_event(const Json& event, httplib::DataSink& sink) {
  const std::int64_t at = event.is_object() ? event.value("at_unix_ms", std::int64_t{0}) : 0;
  const std::string message = sse_message(at > 0 ? std::to_string(at) : "", event_row(event));
  return sink.write(message.data(), message.size());
}

// Called by httplib again and again while the response lasts; each call returns within about
// a second, so a stopping server never waits long for its workers.
bool pump(Stream& stream, httplib::DataSink& sink) {
  if (stream.shared->stopping) return false;
  if (!stream.started) {
    stream.started = true;
    static constexpr std::string_view kRetry = "retry: 1000\n\n";
    if (!sink.write(kRetry.data(), kRetry.size())) return false;
    for (const auto& event : stream.history) {
      if (!send_event(event, sink)) return false;
    }
    stream.history = Json();
    return true;
  }
  auto line = stream.client.read_line(kStreamPoll);
  if (!line) {
    // amatad closed the follow (it stops, or dropped a follower that fell behind): end the
    // response; the browser reconnects and resumes from the time of its last event.
    if (line.error().message != console::kReplyTimedOut) return false;
    if (++stream.quiet_polls < kPingEveryPolls) return true;
    stream.quiet_polls = 0;
    static constexpr std::string_view kPing = ": still here\n\n";
    return sink.write(kPing.data(), kPing.size());
  }
  const Json& value = *line;
  if (value.is_object() && value.value("stream", "") == "events" && value.contains("event")) {
    stream.quiet_polls = 0;
    return send_event(value["event"], sink);
  }
  return true;
}

void serve_stream(const std::shared_ptr<Shared>& shared, const httplib::Request& request,
                  httplib::Response& response) {
  if (!acquire_slot(*shared)) {
    harden(response);
    response.status = 503;
    response.set_content("too many live views are open; reload the page later\n", "text/plain");
    return;
  }
  auto client = console::ConsoleClient::connect(shared->options.socket_path, nullptr,
                                                shared->options.reply_timeout);
  if (!client) {
    shared->streams--;
    harden(response);
    response.status = 503;
    response.set_content(client.error().message + "\n", "text/plain");
    return;
  }
  auto stream = std::make_shared<Stream>(shared, std::move(*client));
  // The page's link says up to when the page shows events; a reconnecting EventSource says
  // the time of the last one it got. The history from then on (inclusive: events of the same
  // millisecond) comes first, and web.js skips the rows it already has.
  std::int64_t since = number(request.get_param_value("since")).value_or(0);
  since = std::max(since, number(request.get_header_value("Last-Event-ID")).value_or(0));
  Json args = {{"follow", true}};
  if (since > 0) args["since_unix_ms"] = since;
  for (const char* key : {"object", "event"}) {
    if (auto value = request.get_param_value(key); !value.empty()) args[key] = value;
  }
  Answer answer = ask(stream->client, "events", args, shared->options.reply_timeout);
  if (!answer.ok()) {
    harden(response);
    response.status = 503;
    response.set_content(answer.message + "\n", "text/plain");
    return;  // `stream` dies here and frees its slot
  }
  stream->history = answer.result.value("events", Json::array());
  harden(response);
  response.set_header("X-Accel-Buffering", "no");
  response.set_chunked_content_provider(
      "text/event-stream",
      [stream](std::size_t /*offset*/, httplib::DataSink& sink) { return pump(*stream, sink); });
}

}  // namespace

std::string sse_message(std::string_view id, std::string_view data) {
  std::string out;
  if (!id.empty()) out += "id: " + std::string(id) + "\n";
  std::size_t begin = 0;
  for (;;) {
    std::size_t end = data.find_first_of("\r\n", begin);
    out += "data: ";
    out += data.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
    out += '\n';
    if (end == std::string_view::npos) break;
    begin = end + ((data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1);
  }
  out += '\n';
  return out;
}

WebView::WebView(WebOptions options) : shared_(std::make_shared<Shared>()) {
  shared_->sessions = std::make_shared<Sessions>(options.operators);
  shared_->options = std::move(options);
}

void WebView::stop() const {
  shared_->stopping = true;
}

std::size_t WebView::streams() const {
  return shared_->streams.load();
}

void WebView::mount(httplib::Server& server) const {
  std::shared_ptr<Shared> shared = shared_;
  const auto timeout = shared->options.reply_timeout;

  mount_control(server, shared->sessions, shared->options.socket_path, timeout);
  server.Get("/", [shared, timeout](const httplib::Request& request, httplib::Response& response) {
    auto client = connect(*shared, response);
    if (!client) return;
    Answer status = ask(*client, "status", Json::object(), timeout);
    if (!status.ok()) return send_failure(response, status);
    // Rules only colour the rows: without them the page still shows every object.
    Answer rules = ask(*client, "rules", Json::object(), timeout);
    // The last hour's records for the restart sparklines, bounded: the console renders the
    // reply on amatad's loop, and a page reloads every few seconds.
    const std::int64_t now = now_unix_ms();
    Answer recent =
        ask(*client, "events",
            {{"since_unix_ms", now - kSparklineWindowMs}, {"limit", kSparklineEvents}}, timeout);
    // The attribute sparklines: one batch `history` for every object, only the attributes the
    // rows show and only their last half hour (the reply is bounded by amatad too). Without
    // it the rows show their values alone.
    const auto names = overview_attribute_names(status.result, kHistoryAttributes);
    const Json history =
        names.empty()
            ? Json()
            : ask(*client, "history",
                  {{"attribute", names}, {"since_unix_ms", now - kAttributeSparkMs}}, timeout)
                  .result;
    // An operator who logged in gets the control buttons, each form with the session's token.
    const Viewer viewer = viewer_of(*shared->sessions, request);
    Page page =
        overview_page(status.result, rules.result, recent.result, history, now, viewer.csrf);
    page = with_viewer(*shared->sessions, viewer, std::move(page));
    page.body = node_panel(status.result) + page.body;
    send(response, page);
  });
  server.Get(
      "/rules", [shared, timeout](const httplib::Request& request, httplib::Response& response) {
        auto client = connect(*shared, response);
        if (!client) return;
        Answer rules = ask(*client, "rules", Json::object(), timeout);
        if (!rules.ok()) return send_failure(response, rules);
        send(response, with_account(*shared, request, rules_page(rules.result, now_unix_ms())));
      });
  server.Get(R"(/rules/(.+))", [shared, timeout](const httplib::Request& request,
                                                 httplib::Response& response) {
    auto client = connect(*shared, response);
    if (!client) return;
    Answer explain = ask(*client, "explain", {{"rule", request.matches[1].str()}}, timeout);
    if (explain.code == "unknown_rule") return send(response, not_found_page(request.path), 404);
    if (!explain.ok()) return send_failure(response, explain);
    send(response, with_account(*shared, request, explain_page(explain.result)));
  });
  // One object: its status row and the hour of its attributes (and restarts) as charts.
  server.Get(R"(/objects/(.+))", [shared, timeout](const httplib::Request& request,
                                                   httplib::Response& response) {
    const std::string name = request.matches[1].str();
    auto client = connect(*shared, response);
    if (!client) return;
    Answer status = ask(*client, "status", Json::object(), timeout);
    if (!status.ok()) return send_failure(response, status);
    const Json objects = status.result.value("objects", Json::array());
    auto object = std::find_if(objects.begin(), objects.end(), [&](const Json& o) {
      return o.is_object() && o.value("name", "") == name;
    });
    if (object == objects.end()) {
      return send(response, with_account(*shared, request, not_found_page(request.path)), 404);
    }
    const std::int64_t now = now_unix_ms();
    Answer history = ask(*client, "history",
                         {{"object", name}, {"since_unix_ms", now - kChartWindowMs}}, timeout);
    Json recent;  // a service's restarts
    if (object->contains("restarts")) {
      recent = ask(*client, "events",
                   {{"object", name},
                    {"since_unix_ms", now - kChartWindowMs},
                    {"limit", kSparklineEvents}},
                   timeout)
                   .result;
    }
    send(response, with_account(*shared, request,
                                object_page(*object, history.result, recent, now,
                                            status.result.value("policy", ""))));
  });
  server.Get("/events",
             [shared, timeout](const httplib::Request& request, httplib::Response& response) {
               EventQuery query;
               query.object = request.get_param_value("object");
               query.event = request.get_param_value("event");
               query.limit = static_cast<int>(std::clamp<std::int64_t>(
                   number(request.get_param_value("limit")).value_or(kDefaultLimit), 1, kMaxLimit));
               Json args = {{"limit", query.limit}};
               if (!query.object.empty()) args["object"] = query.object;
               if (!query.event.empty()) args["event"] = query.event;
               auto client = connect(*shared, response);
               if (!client) return;
               Answer events = ask(*client, "events", args, timeout);
               if (!events.ok()) return send_failure(response, events);
               send(response, with_account(*shared, request, events_page(events.result, query)));
             });
  server.Get("/events/stream",
             [shared](const httplib::Request& request, httplib::Response& response) {
               serve_stream(shared, request, response);
             });
  server.Get("/cluster",
             [shared, timeout](const httplib::Request& request, httplib::Response& response) {
               auto client = connect(*shared, response);
               if (!client) return;
               Answer status = ask(*client, "status", Json::object(), timeout);
               if (!status.ok()) return send_failure(response, status);
               auto page = cluster_page(status.result, now_unix_ms());
               if (!page) {
                 Page none = not_found_page(request.path);
                 none.body = "<p>This node's policy declares no cluster.</p>";
                 return send(response, with_account(*shared, request, std::move(none)), 404);
               }
               send(response, with_account(*shared, request, *page));
             });
  server.Get("/static/web.css", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(std::string(stylesheet()), "text/css; charset=utf-8");
  });
  server.Get("/static/web.js", [](const httplib::Request&, httplib::Response& response) {
    response.set_header("X-Content-Type-Options", "nosniff");
    response.set_content(std::string(script()), "text/javascript; charset=utf-8");
  });
  // Every other path, and every other method, gets the 404 page; answers that already carry
  // a body (the pages' own 404 and 503, /metrics' 503) keep it.
  // (Typed first: a lambda would match both of httplib's set_error_handler overloads.)
  httplib::Server::HandlerWithResponse not_found = [](const httplib::Request& request,
                                                      httplib::Response& response) {
    if (!response.body.empty() || response.status != 404) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    send(response, not_found_page(request.path), 404);
    return httplib::Server::HandlerResponse::Handled;
  };
  server.set_error_handler(std::move(not_found));
}

}  // namespace amata::web
