// The read-only web view (docs/web.md): pages for operators, served by cpp-httplib on the
// threads that serve /metrics. Everything it shows it asks amatad's own console socket, as
// amatactl does, so HTTP work never runs on the event loop and a slow browser is the
// console's bounded client like any other, never a reason for the daemon to wait.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/web/control.h"

namespace httplib {
class Server;
}

namespace amata::web {

/// Live event streams (/events/stream) served at once; the next gets 503. Each holds an HTTP
/// worker and a console connection for as long as the page is open, so they are counted:
/// the console admits 16 connections per user besides root, and pages and amatactl must
/// still get in when amatad runs as another user.
inline constexpr std::size_t kMaxStreams = 8;

struct WebOptions {
  std::string socket_path;  // amatad's console socket
  std::size_t max_streams = kMaxStreams;
  /// How long a page waits for the console's answer before it says amatad did not answer.
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(5);
  /// Who may log in and restart, start or stop (control.h; amatad --web-token). None: the
  /// view is read-only.
  std::vector<Operator> operators;
};

/// One SSE message: `id:` (when not empty), then one `data:` line per line of `data` (any of
/// \r\n, \r, \n ends a line in SSE, so none may reach the wire inside a field), a blank line.
std::string sse_message(std::string_view id, std::string_view data);

class WebView {
 public:
  explicit WebView(WebOptions options);

  /// Adds the pages' routes and a 404 page to `server`. Before it listens: httplib's routing
  /// table is not guarded against changes while it serves.
  void mount(httplib::Server& server) const;
  /// Ends the live streams within a second: the server's workers, which wait for them when
  /// it stops, are then free.
  void stop() const;
  /// Live streams open now.
  std::size_t streams() const;

  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;  // also held by the routes, which may outlive this object
};

}  // namespace amata::web
