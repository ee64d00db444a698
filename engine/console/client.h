// The client side of the console protocol (docs/console.md): a blocking Unix-socket
// connection for amatactl, scripts and tests. Not for use inside amatad's loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace amata::console {

/// The error of call() and read_line() when their timeout passed without a reply (rather
/// than a broken connection): what amatactl --wait tells apart.
inline constexpr std::string_view kReplyTimedOut = "timed out waiting for amatad's reply";

/// One connection to amatad's console socket.
class ConsoleClient {
 public:
  /// Connects to `socket_path`. On failure `*permission_denied` (when given) tells a refusal
  /// by file permissions (EACCES/EPERM) apart from an absent or dead daemon. A daemon whose
  /// listen backlog stays full (a hung amatad) fails after `timeout` instead of blocking.
  static Result<ConsoleClient> connect(const std::string& socket_path,
                                       bool* permission_denied = nullptr,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ConsoleClient(ConsoleClient&& other) noexcept;
  ConsoleClient& operator=(ConsoleClient&& other) noexcept;
  ConsoleClient(const ConsoleClient&) = delete;
  ConsoleClient& operator=(const ConsoleClient&) = delete;
  ~ConsoleClient();

  /// Sends {"id", "protocol", "cmd", "args"} and returns the reply line with that id (or a
  /// connection-level error line with "id": null), whatever its "ok". Stream lines of earlier
  /// --follow requests that arrive meanwhile are skipped.
  Result<nlohmann::json> call(std::string_view cmd,
                              const nlohmann::json& args = nlohmann::json::object(),
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

  /// Sends one raw line (a newline is appended): for tests of malformed input.
  Status send_raw(std::string_view line);
  /// The next line from the server, parsed; an error at EOF or after `timeout` (none: wait
  /// forever, as a --follow stream does).
  Result<nlohmann::json> read_line(
      std::optional<std::chrono::milliseconds> timeout = std::chrono::seconds(30));

  int fd() const { return fd_; }

 private:
  explicit ConsoleClient(int fd) : fd_(fd) {}
  int fd_ = -1;
  std::int64_t next_id_ = 1;
  std::string buffer_;
};

}  // namespace amata::console
