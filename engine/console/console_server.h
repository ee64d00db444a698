// The console socket of amatad: a Unix stream socket speaking JSON lines (docs/console.md),
// served entirely on the daemon's one event loop. Every client socket is non-blocking, every
// buffer is bounded, and a client that floods or stalls is refused or dropped — it can never
// block the loop or grow the daemon's memory without limit.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/event_loop.h"
#include "base/result.h"
#include "engine/console/console_backend.h"

namespace amata::console {

/// How loud a console log line is.
enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarning, kError };

/// Settings of the console socket. The defaults suit a packaged install.
struct ConsoleConfig {
  std::string socket_path = "/run/amata/amatad.sock";
  /// Members of this group (primary or supplementary) may control; the socket is chowned to
  /// it. Empty: only root and amatad's own uid may control.
  std::string group;
  /// Peers that are neither root, amatad's uid nor in `group` may use the read-only commands
  /// (status, rules, events, explain, version). The socket is then created 0666, else 0660.
  bool others_read_only = false;
  std::size_t max_line_bytes = std::size_t{64} * 1024;  // one request line, newline excluded
  std::size_t max_clients = 64;                         // beyond this, accept, send an error, close
  /// At most this many clients of one uid at once (root excepted): one user's flood of
  /// connections cannot fill the table for everyone else.
  std::size_t max_clients_per_uid = 16;
  /// Root is admitted even when the table is full, up to this many clients more: an operator
  /// can always reach a flooded amatad.
  std::size_t root_reserve = 16;
  /// A client that sends no request this long, and follows no event stream, is closed.
  std::chrono::milliseconds idle_timeout{30000};
  /// A request line that was begun must be finished within this (slowloris).
  std::chrono::milliseconds request_timeout{5000};
  /// At most this many refusal lines a second reach the log; the rest are counted and
  /// summed up in one line.
  double refusal_log_per_second = 5;
  std::size_t max_output_bytes =
      std::size_t{1024} * 1024;      // per client; a client that lets it overflow is dropped
  double requests_per_second = 100;  // token bucket refill, per client
  double request_burst = 200;        // token bucket size
  /// How long a client that is being closed may take to read its last error line.
  std::chrono::milliseconds close_linger{2000};
  /// Where log lines go (malformed requests, refusals, drops). Empty: spdlog's default logger.
  std::function<void(LogLevel, std::string_view)> log;
};

/// Counters for tests, /metrics and the daemon's own status.
struct ConsoleStats {
  std::uint64_t accepted = 0;
  std::uint64_t refused_too_many = 0;
  std::uint64_t refused_permission = 0;
  std::uint64_t requests = 0;
  std::uint64_t bad_requests = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t dropped_slow = 0;
  std::uint64_t closed_idle = 0;        // idle, or a request line begun and not finished
  std::uint64_t refusals_unlogged = 0;  // refusals beyond refusal_log_per_second
  std::uint64_t events_published = 0;
};

/// The console server. Construct with start(); destroy to close every client and unlink the
/// socket. Not thread-safe: every call, like every callback, happens on the loop's thread.
class ConsoleServer {
 public:
  /// Creates, binds and listens on config.socket_path (replacing a stale socket file, never a
  /// regular file), sets its owner, group and mode, and registers it with `loop`.
  static Result<std::unique_ptr<ConsoleServer>> start(base::EventLoop& loop,
                                                      ConsoleBackend& backend,
                                                      ConsoleConfig config);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  /// Sends one stored event (the record shape of ConsoleBackend::events) to every client
  /// following a matching stream. The daemon calls this after storing each event.
  void publish_event(const nlohmann::json& event_record);

  std::size_t client_count() const { return clients_.size(); }
  std::size_t follower_count() const;
  const ConsoleStats& stats() const { return stats_; }
  const std::string& socket_path() const { return config_.socket_path; }

 private:
  struct Client;
  enum class Access : std::uint8_t { kNone, kRead, kControl };

  ConsoleServer(base::EventLoop& loop, ConsoleBackend& backend, ConsoleConfig config, int listen_fd,
                std::optional<gid_t> control_gid);

  void on_accept();
  void on_client_event(int fd, std::uint32_t events);
  void read_from(Client& client);
  void handle_line(Client& client, std::string_view line);
  /// The reply to `request`, or nullopt when it comes later (through deliver()).
  std::optional<nlohmann::json> dispatch(Client& client, const nlohmann::json& request,
                                         bool& close_after);
  /// maintenance_start / maintenance_end: checks the arguments, asks the backend, replies.
  nlohmann::json maintenance_change(const Client& client, const nlohmann::json& id,
                                    const std::string& cmd, const nlohmann::json& args);
  /// Sends a later reply to the client `serial`, if it is still connected.
  void deliver(int fd, std::uint64_t serial, const std::string& line);
  void send_line(Client& client, const std::string& line);
  void flush(Client& client);
  void close_after_flush(Client& client);
  void drop(int fd);
  Access access_of(const ucred& peer) const;
  void rearm(int fd, std::uint32_t events);
  bool take_token(Client& client);
  void log(LogLevel level, std::string_view message) const;
  /// Logs a refusal unless refusals already filled this second's share of the log.
  void log_refusal(std::string_view message);
  std::size_t clients_of(uid_t uid) const;
  /// Closes clients that have been idle, or half-way through a request, for too long.
  void sweep();
  void arm_sweep();

  base::EventLoop& loop_;
  ConsoleBackend& backend_;
  ConsoleConfig config_;
  int listen_fd_;
  std::optional<gid_t> control_gid_;
  ConsoleStats stats_;
  std::uint64_t next_client_id_ = 1;
  std::unordered_map<int, std::unique_ptr<Client>> clients_;
  base::EventLoop::TimerId sweep_timer_ = 0;                    // armed while there are clients
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for replies that come later
  double refusal_tokens_ = 0;
  base::Clock::time_point refusal_refill_{};
};

}  // namespace amata::console
