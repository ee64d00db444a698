#include "engine/console/console_server.h"

#include <fmt/format.h>
#include <grp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "base/clock.h"
#include "base/file.h"
#include "engine/console/console_connection.h"

namespace amata::console {
namespace {

// Supplementary groups of a peer, from /proc/PID/status "Groups:". SO_PEERCRED carries only
// the primary gid; members of the control group by a secondary membership count too.
std::vector<gid_t> supplementary_groups(pid_t pid) {
  std::vector<gid_t> groups;
  // Not std::ifstream: a peer that exits while its status is read makes read() fail
  // (ESRCH), which ifstream throws. Unreadable: no supplementary groups.
  auto text = base::read_regular_file("/proc/" + std::to_string(pid) + "/status");
  std::istringstream status(text ? std::move(*text) : std::string());
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Groups:", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    unsigned long gid;
    while (fields >> gid) groups.push_back(static_cast<gid_t>(gid));
    break;
  }
  return groups;
}

Result<gid_t> lookup_group(const std::string& name) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  int rc = getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0) return errno_error("getgrnam_r(" + name + ")", rc);
  if (found == nullptr) return Error{"console: no group named '" + name + "'"};
  return found->gr_gid;
}

// Writes a refusal straight to a socket that will be closed at once: the line is tiny and a
// fresh socket's buffer is empty, so one non-blocking send suffices.
void send_and_close(int fd, const Json& reply) {
  std::string line = to_line(reply);
  [[maybe_unused]] ssize_t n = send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  close(fd);
}

}  // namespace

Result<std::unique_ptr<ConsoleServer>> ConsoleServer::start(base::EventLoop& loop,
                                                            ConsoleBackend& backend,
                                                            ConsoleConfig config) {
  const std::string& path = config.socket_path;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error{"console: socket path '" + path + "' is empty or longer than " +
                 std::to_string(sizeof addr.sun_path - 1) + " bytes"};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  std::optional<gid_t> control_gid;
  if (!config.group.empty()) {
    auto gid = lookup_group(config.group);
    if (!gid) return gid.error();
    control_gid = *gid;
  }

  // The runtime directory may not exist yet on a first run (/run is a tmpfs).
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) {
      return errno_error("console: mkdir " + dir, errno);
    }
  }

  // A socket file left by a crashed amatad is replaced; a live one, or any other kind of
  // file, is not ours to remove.
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error{"console: " + path + " exists and is not a socket"};
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      bool live = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      close(probe);
      if (live) return Error{"console: another server is listening on " + path};
    }
    if (unlink(path.c_str()) < 0) return errno_error("console: unlink " + path, errno);
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_error("console: socket", errno);
  auto fail = [&](const std::string& what) -> Error {
    int err = errno;
    close(fd);
    unlink(path.c_str());
    return errno_error("console: " + what, err);
  };
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return errno_error("console: bind " + path, err);
  }
  // Ownership and mode are fixed before listen(): until then no client can connect.
  if (control_gid && chown(path.c_str(), static_cast<uid_t>(-1), *control_gid) < 0) {
    return fail("chown " + path + " to group " + config.group);
  }
  mode_t mode = config.others_read_only ? 0666 : 0660;
  if (chmod(path.c_str(), mode) < 0) return fail("chmod " + path);
  if (listen(fd, 128) < 0) return fail("listen " + path);

  std::unique_ptr<ConsoleServer> server(
      new ConsoleServer(loop, backend, std::move(config), fd, control_gid));
  ConsoleServer* self = server.get();
  // The console's fds go first in every turn of the loop: an operator is answered between
  // a storm's deaths, not after all of them.
  if (Status s = loop.watch(
          fd, EPOLLIN, [self](std::uint32_t) { self->on_accept(); },
          base::EventLoop::Priority::kFirst);
      !s) {
    return s.error();  // the destructor closes and unlinks
  }
  return server;
}

ConsoleServer::ConsoleServer(base::EventLoop& loop, ConsoleBackend& backend, ConsoleConfig config,
                             int listen_fd, std::optional<gid_t> control_gid)
    : loop_(loop),
      backend_(backend),
      config_(std::move(config)),
      listen_fd_(listen_fd),
      control_gid_(control_gid) {}

ConsoleServer::~ConsoleServer() {
  *alive_ = false;
  if (sweep_timer_) loop_.cancel_timer(sweep_timer_);
  for (auto& [fd, client] : clients_) {
    if (client->linger_timer) loop_.cancel_timer(client->linger_timer);
    loop_.unwatch(fd);
    close(fd);
  }
  clients_.clear();
  loop_.unwatch(listen_fd_);
  close(listen_fd_);
  unlink(config_.socket_path.c_str());
}

std::size_t ConsoleServer::follower_count() const {
  std::size_t n = 0;
  for (const auto& [fd, client] : clients_) n += client->follows.empty() ? 0 : 1;
  return n;
}

void ConsoleServer::log(LogLevel level, std::string_view message) const {
  if (config_.log) {
    config_.log(level, message);
    return;
  }
  switch (level) {
    case LogLevel::kDebug:
      spdlog::debug("console: {}", message);
      break;
    case LogLevel::kInfo:
      spdlog::info("console: {}", message);
      break;
    case LogLevel::kWarning:
      spdlog::warn("console: {}", message);
      break;
    case LogLevel::kError:
      spdlog::error("console: {}", message);
      break;
  }
}

ConsoleServer::Access ConsoleServer::access_of(const ucred& peer) const {
  if (peer.uid == 0 || peer.uid == geteuid()) return Access::kControl;
  if (control_gid_) {
    if (peer.gid == *control_gid_) return Access::kControl;
    // The peer may exit and its pid be reused between connect() and this read; the window is
    // the accept latency, and a reused pid would have to belong to the group's member anyway.
    for (gid_t g : supplementary_groups(peer.pid)) {
      if (g == *control_gid_) return Access::kControl;
    }
  }
  return config_.others_read_only ? Access::kRead : Access::kNone;
}

void ConsoleServer::on_accept() {
  // Bounded per wake-up so a connect storm cannot starve the rest of the loop.
  for (int i = 0; i < 64; ++i) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log(LogLevel::kWarning, fmt::format("accept: {}", std::strerror(errno)));
      }
      return;
    }
    ucred peer{};
    socklen_t len = sizeof peer;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
      log(LogLevel::kWarning, fmt::format("SO_PEERCRED: {}", std::strerror(errno)));
      close(fd);
      continue;
    }
    Access access = access_of(peer);
    if (access == Access::kNone) {
      ++stats_.refused_permission;
      log_refusal(fmt::format("refused pid {} uid {} gid {}: not root and not in the console group",
                              peer.pid, peer.uid, peer.gid));
      send_and_close(fd, error_reply(nullptr, "permission_denied",
                                     "permission denied: the console needs root or membership "
                                     "of amatad's console group"));
      continue;
    }
    const bool root = peer.uid == 0;
    const std::size_t limit = config_.max_clients + (root ? config_.root_reserve : 0);
    if (clients_.size() >= limit ||
        (!root && clients_of(peer.uid) >= config_.max_clients_per_uid)) {
      ++stats_.refused_too_many;
      const bool table_full = clients_.size() >= limit;
      log_refusal(fmt::format(
          "refused pid {} uid {}: {}", peer.pid, peer.uid,
          table_full
              ? fmt::format("{} clients already connected", clients_.size())
              : fmt::format("uid {} has {} clients already", peer.uid, clients_of(peer.uid))));
      send_and_close(fd, error_reply(nullptr, "too_many_clients",
                                     table_full ? fmt::format("at most {} console clients at "
                                                              "once; try again",
                                                              config_.max_clients)
                                                : fmt::format("at most {} console clients of "
                                                              "one user at once; try again",
                                                              config_.max_clients_per_uid)));
      continue;
    }
    auto client = std::make_unique<Client>();
    client->fd = fd;
    client->serial = next_client_id_++;
    client->peer = peer;
    client->access = access;
    client->tokens = config_.request_burst;
    client->refilled_at = base::Clock::now();
    client->last_request = client->refilled_at;
    Status s = loop_.watch(
        fd, EPOLLIN | EPOLLRDHUP, [this, fd](std::uint32_t events) { on_client_event(fd, events); },
        base::EventLoop::Priority::kFirst);
    if (!s) {
      log(LogLevel::kError, "watch client: " + s.error().message);
      close(fd);
      continue;
    }
    ++stats_.accepted;
    clients_.emplace(fd, std::move(client));
    arm_sweep();
  }
}

std::size_t ConsoleServer::clients_of(uid_t uid) const {
  std::size_t n = 0;
  for (const auto& [fd, client] : clients_) n += client->peer.uid == uid;
  return n;
}

void ConsoleServer::arm_sweep() {
  if (sweep_timer_ != 0 || clients_.empty()) return;
  sweep_timer_ =
      loop_.add_timer(base::next_tick(base::Clock::now(), std::chrono::seconds(1)), [this] {
        sweep_timer_ = 0;
        sweep();
        arm_sweep();
      });
}

void ConsoleServer::sweep() {
  const auto now = base::Clock::now();
  std::vector<std::pair<int, std::string>> expired;
  for (const auto& [fd, client] : clients_) {
    if (client->closing) continue;  // the linger timer ends it
    if (client->begun && now - *client->begun > config_.request_timeout) {
      expired.emplace_back(fd, fmt::format("a request begun {} ms ago is still unfinished",
                                           config_.request_timeout.count()));
    } else if (client->follows.empty() && !client->begun && client->awaiting == 0 &&
               now - client->last_request > config_.idle_timeout) {
      expired.emplace_back(fd, fmt::format("no request for {} ms", config_.idle_timeout.count()));
    }
  }
  for (const auto& [fd, why] : expired) {
    auto it = clients_.find(fd);
    if (it == clients_.end()) continue;
    Client& client = *it->second;
    ++stats_.closed_idle;
    log_refusal(fmt::format("closed client {} (pid {} uid {}): {}", client.serial, client.peer.pid,
                            client.peer.uid, why));
    send_line(client, to_line(error_reply(nullptr, "timeout", "closed: " + why)));
    if (clients_.count(fd)) close_after_flush(client);
  }
}

void ConsoleServer::log_refusal(std::string_view message) {
  const auto now = base::Clock::now();
  const double rate = config_.refusal_log_per_second;
  const double elapsed = std::chrono::duration<double>(now - refusal_refill_).count();
  refusal_refill_ = now;
  refusal_tokens_ = std::min(rate, refusal_tokens_ + elapsed * rate);
  if (refusal_tokens_ < 1.0) {
    ++stats_.refusals_unlogged;
    return;
  }
  refusal_tokens_ -= 1.0;
  if (stats_.refusals_unlogged > 0) {
    log(LogLevel::kWarning, fmt::format("{} more refusal(s) were not logged (at most {} a second)",
                                        stats_.refusals_unlogged, rate));
    stats_.refusals_unlogged = 0;
  }
  log(LogLevel::kWarning, message);
}

void ConsoleServer::on_client_event(int fd, std::uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& client = *it->second;
  if (events & EPOLLOUT) {
    flush(client);
    if (!clients_.count(fd)) return;
  }
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) read_from(client);
}

void ConsoleServer::read_from(Client& client) {
  const int fd = client.fd;
  if (client.closing) {
    // Discard whatever arrives while the last reply drains; only EOF or an error matters.
    char sink[4096];
    ssize_t n = recv(fd, sink, sizeof sink, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) drop(fd);
    return;
  }
  // One bounded read per wake-up: a client that never stops sending shares the loop fairly.
  char buffer[16384];
  ssize_t n = recv(fd, buffer, sizeof buffer, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    drop(fd);
    return;
  }
  const bool eof = n == 0;
  client.in.append(buffer, static_cast<std::size_t>(n));
  if (!client.begun && !client.in.empty()) client.begun = base::Clock::now();

  std::size_t start = 0;
  while (!client.closing) {
    std::size_t nl = client.in.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(client.in.data() + start, nl - start);
    start = nl + 1;
    if (line.size() > config_.max_line_bytes) {
      ++stats_.bad_requests;
      log_refusal(fmt::format("client {} (pid {}): request of {} bytes exceeds {}", client.serial,
                              client.peer.pid, line.size(), config_.max_line_bytes));
      if (!clients_.count(fd)) return;
      send_line(client, to_line(error_reply(nullptr, "request_too_large",
                                            fmt::format("a request line may hold at most {} bytes",
                                                        config_.max_line_bytes))));
      if (clients_.count(fd)) close_after_flush(client);
      return;
    }
    handle_line(client, line);
    if (!clients_.count(fd)) return;  // dropped while replying
  }
  if (client.closing) return;
  client.in.erase(0, start);
  if (start > 0) client.last_request = base::Clock::now();
  // The clock of a request starts with its first byte, not with the connection.
  if (client.in.empty()) {
    client.begun.reset();
  } else if (start > 0) {
    client.begun = base::Clock::now();
  }
  if (client.in.size() > config_.max_line_bytes) {
    // No newline within the limit: the line is too long whatever follows.
    ++stats_.bad_requests;
    log_refusal(fmt::format("client {} (pid {}): request line longer than {} bytes", client.serial,
                            client.peer.pid, config_.max_line_bytes));
    client.in.clear();
    send_line(client, to_line(error_reply(nullptr, "request_too_large",
                                          fmt::format("a request line may hold at most {} bytes",
                                                      config_.max_line_bytes))));
    if (clients_.count(fd)) close_after_flush(client);
    return;
  }
  if (eof) {
    // The peer finished sending; it may still read. Answer what it sent, then close. A
    // follower's stream ends here too: EOF is how a stream consumer says it is gone.
    if (client.pending() == 0 || !client.follows.empty()) {
      drop(fd);
    } else {
      close_after_flush(client);
    }
  }
}

bool ConsoleServer::take_token(Client& client) {
  auto now = base::Clock::now();
  double elapsed = std::chrono::duration<double>(now - client.refilled_at).count();
  client.refilled_at = now;
  client.tokens =
      std::min(config_.request_burst, client.tokens + elapsed * config_.requests_per_second);
  if (client.tokens < 1.0) return false;
  client.tokens -= 1.0;
  return true;
}

void ConsoleServer::handle_line(Client& client, std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;  // blank keep-alive
  ++stats_.requests;
  if (!take_token(client)) {
    ++stats_.rate_limited;
    if (stats_.rate_limited % 100 == 1) {
      log(LogLevel::kWarning, fmt::format("client {} (pid {}) exceeds {} requests/s", client.serial,
                                          client.peer.pid, config_.requests_per_second));
    }
    send_line(client,
              to_line(error_reply(nullptr, "rate_limited", "too many requests; slow down")));
    return;
  }
  Json request = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    ++stats_.bad_requests;
    std::string excerpt(line.substr(0, 80));
    log_refusal(fmt::format("client {} (pid {}): malformed request '{}'", client.serial,
                            client.peer.pid, excerpt));
    send_line(client,
              to_line(error_reply(nullptr, "bad_request",
                                  request.is_discarded() ? "the request is not valid JSON"
                                                         : "the request must be a JSON object")));
    return;
  }
  bool close_after = false;
  std::optional<Json> deferred;
  Json reply;
  try {
    deferred = dispatch(client, request, close_after);
    if (!deferred) return;  // the reply comes later
    reply = std::move(*deferred);
  } catch (const std::exception& e) {
    log(LogLevel::kError, fmt::format("command failed: {}", e.what()));
    Json id = request.contains("id") ? request["id"] : Json();
    reply = error_reply(id, "internal", std::string("internal error: ") + e.what());
  }
  if (reply["ok"] == false && reply["error"]["code"] == "bad_request") {
    ++stats_.bad_requests;
    log_refusal(fmt::format("client {} (pid {}): bad request: {}", client.serial, client.peer.pid,
                            reply["error"]["message"].get<std::string>()));
  }
  const int fd = client.fd;
  send_line(client, to_line(reply));
  if (close_after && clients_.count(fd)) close_after_flush(client);
}

void ConsoleServer::deliver(int fd, std::uint64_t serial, const std::string& line) {
  auto it = clients_.find(fd);
  if (it == clients_.end() || it->second->serial != serial) return;
  Client& client = *it->second;
  client.awaiting = std::max(0, client.awaiting - 1);
  client.last_request = base::Clock::now();  // idle from the answer on, not from the question
  if (!client.closing) send_line(client, line);
}

void ConsoleServer::publish_event(const Json& event_record) {
  ++stats_.events_published;
  // The record is serialised once; each follower's line only differs by its request id.
  std::string event_text;
  // Collect first: sending may drop a client and so change clients_.
  std::vector<std::pair<int, std::string>> deliveries;
  for (auto& [fd, client] : clients_) {
    if (client->closing) continue;
    for (const auto& follow : client->follows) {
      if (!follow.filter.matches(event_record)) continue;
      if (event_text.empty()) {
        event_text = event_record.dump(-1, ' ', false, Json::error_handler_t::replace);
      }
      deliveries.emplace_back(
          fd, "{\"id\":" + follow.id.dump(-1, ' ', false, Json::error_handler_t::replace) +
                  ",\"stream\":\"events\",\"event\":" + event_text + "}\n");
    }
  }
  for (auto& [fd, line] : deliveries) {
    auto it = clients_.find(fd);
    if (it != clients_.end()) send_line(*it->second, line);
  }
}

void ConsoleServer::send_line(Client& client, const std::string& line) {
  // One reply is always accepted into an empty buffer (it answers the client's own request);
  // beyond that, a client that does not read what it asked for is dropped.
  if (client.pending() > 0 && client.pending() + line.size() > config_.max_output_bytes) {
    ++stats_.dropped_slow;
    log(LogLevel::kWarning,
        fmt::format("dropped client {} (pid {} uid {}): {} bytes unread, limit {}", client.serial,
                    client.peer.pid, client.peer.uid, client.pending(), config_.max_output_bytes));
    drop(client.fd);
    return;
  }
  if (client.out_offset > 0 && client.out_offset >= client.out.size() / 2) {
    client.out.erase(0, client.out_offset);
    client.out_offset = 0;
  }
  client.out += line;
  flush(client);
}

void ConsoleServer::flush(Client& client) {
  const int fd = client.fd;
  while (client.pending() > 0) {
    ssize_t n = send(fd, client.out.data() + client.out_offset, client.pending(),
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      drop(fd);  // EPIPE, ECONNRESET: the peer is gone
      return;
    }
    client.out_offset += static_cast<std::size_t>(n);
  }
  if (client.pending() == 0) {
    client.out.clear();
    client.out_offset = 0;
    if (client.closing) {
      drop(fd);
      return;
    }
    if (client.writable_armed) {
      client.writable_armed = false;
      rearm(fd, EPOLLIN | EPOLLRDHUP);
    }
  } else if (!client.writable_armed) {
    client.writable_armed = true;
    rearm(fd, (client.closing ? 0u : std::uint32_t{EPOLLIN | EPOLLRDHUP}) | EPOLLOUT);
  }
}

void ConsoleServer::close_after_flush(Client& client) {
  const int fd = client.fd;
  if (client.pending() == 0) {
    drop(fd);
    return;
  }
  client.closing = true;
  client.follows.clear();
  client.writable_armed = true;
  rearm(fd, EPOLLOUT);
  // A client that never reads its last line is closed anyway after the linger time.
  const std::uint64_t serial = client.serial;
  client.linger_timer = loop_.add_timer_after(config_.close_linger, [this, fd, serial] {
    auto it = clients_.find(fd);
    if (it == clients_.end() || it->second->serial != serial) return;
    it->second->linger_timer = 0;
    log(LogLevel::kWarning,
        fmt::format("closed client {} (pid {}): its last reply was unread after {} ms", serial,
                    it->second->peer.pid, config_.close_linger.count()));
    drop(fd);
  });
}

void ConsoleServer::rearm(int fd, std::uint32_t events) {
  if (Status s = loop_.modify(fd, events); !s) {
    log(LogLevel::kError, "epoll modify: " + s.error().message);
    drop(fd);
  }
}

void ConsoleServer::drop(int fd) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  if (it->second->linger_timer) loop_.cancel_timer(it->second->linger_timer);
  loop_.unwatch(fd);
  close(fd);
  clients_.erase(it);
}

}  // namespace amata::console
