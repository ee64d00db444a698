// The console server's view of one connection, and the reply lines it writes: shared by the
// connection handling (console_server.cc) and the commands (console_commands.cc). Internal to
// the console server; nothing else includes it.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/event_loop.h"
#include "engine/console/console_backend.h"
#include "engine/console/console_server.h"

namespace amata::console {

using Json = nlohmann::json;

// Lines are serialised with invalid UTF-8 replaced: process names and file contents reach the
// console verbatim, and one bad byte must not turn a reply into an exception.
inline std::string to_line(const Json& value) {
  std::string line = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.push_back('\n');
  return line;
}

inline Json error_reply(const Json& id, std::string_view code, std::string_view message,
                        const Json& details = Json()) {
  Json error = {{"code", code}, {"message", message}};
  if (!details.is_null()) error["details"] = details;
  return Json{{"id", id}, {"ok", false}, {"error", std::move(error)}};
}

inline Json success_reply(const Json& id, Json result) {
  return Json{{"id", id}, {"ok", true}, {"result", std::move(result)}};
}

/// Taken by value: a temporary (most callers) is moved into the reply, never copied (a
/// `status` of a hundred services is tens of KB of JSON).
inline Json outcome_reply(const Json& id, Outcome outcome) {
  if (outcome.ok()) return success_reply(id, std::move(outcome).result());
  return error_reply(id, outcome.code(), outcome.message(), outcome.details());
}

struct ConsoleServer::Client {
  struct Follow {
    Json id;
    EventFilter filter;
  };

  int fd = -1;
  std::uint64_t serial = 0;
  ucred peer{};
  Access access = Access::kNone;
  std::string in;
  std::string out;
  std::size_t out_offset = 0;
  bool writable_armed = false;
  bool closing = false;
  base::EventLoop::TimerId linger_timer = 0;
  double tokens = 0;
  base::Clock::time_point refilled_at;
  base::Clock::time_point last_request;          // or the connection, before any request
  std::optional<base::Clock::time_point> begun;  // a request line started and not finished
  int awaiting = 0;  // requests whose reply comes later (a reload, a waited action): not idle
  std::vector<Follow> follows;

  std::size_t pending() const { return out.size() - out_offset; }
};

}  // namespace amata::console
