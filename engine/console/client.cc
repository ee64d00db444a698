#include "engine/console/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/console/console_backend.h"

namespace amata::console {

Result<ConsoleClient> ConsoleClient::connect(const std::string& socket_path,
                                             bool* permission_denied,
                                             std::chrono::milliseconds timeout) {
  if (permission_denied) *permission_denied = false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    return Error{"socket path '" + socket_path + "' is empty or too long"};
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  // Non-blocking: a Unix-socket connect() to a full backlog would otherwise wait for as long
  // as the daemon does not accept. EAGAIN there means "full, try again"; there is no
  // EINPROGRESS to poll for, so retry briefly until the deadline.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errno_error("socket", errno);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN && std::chrono::steady_clock::now() < deadline) {
      poll(nullptr, 0, 10);
      continue;
    }
    close(fd);
    if (permission_denied) *permission_denied = err == EACCES || err == EPERM;
    if (err == EAGAIN) return Error{"connect " + socket_path + ": amatad is not accepting"};
    return errno_error("connect " + socket_path, err);
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
    int err = errno;
    close(fd);
    return errno_error("fcntl", err);
  }
  return ConsoleClient(fd);
}

ConsoleClient::ConsoleClient(ConsoleClient&& other) noexcept
    : fd_(other.fd_), next_id_(other.next_id_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

ConsoleClient& ConsoleClient::operator=(ConsoleClient&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    next_id_ = other.next_id_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

ConsoleClient::~ConsoleClient() {
  if (fd_ >= 0) close(fd_);
}

Status ConsoleClient::send_raw(std::string_view line) {
  std::string data(line);
  data.push_back('\n');
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("send", errno);
    }
    sent += static_cast<std::size_t>(n);
  }
  return {};
}

Result<nlohmann::json> ConsoleClient::read_line(std::optional<std::chrono::milliseconds> timeout) {
  auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                          : std::chrono::steady_clock::time_point::max();
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
      if (value.is_discarded()) return Error{"the server sent a line that is not JSON"};
      return value;
    }
    int wait_ms = -1;
    if (timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return Error{std::string(kReplyTimedOut)};
      wait_ms = static_cast<int>(left);
    }
    pollfd pfd{fd_, POLLIN, 0};
    int ready = poll(&pfd, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return errno_error("poll", errno);
    }
    if (ready == 0) continue;  // the deadline check above reports it
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return errno_error("recv", errno);
    }
    if (n == 0) return Error{"amatad closed the connection"};
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<nlohmann::json> ConsoleClient::call(std::string_view cmd, const nlohmann::json& args,
                                           std::chrono::milliseconds timeout) {
  const std::int64_t id = next_id_++;
  nlohmann::json request = {
      {"id", id}, {"protocol", kProtocolVersion}, {"cmd", cmd}, {"args", args}};
  // A refusal at accept time (permission, too many clients) arrives even if this send fails
  // because the server already closed: read the reply whatever happened here.
  Status sent = send_raw(request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  for (;;) {
    auto reply = read_line(timeout);
    if (!reply) {
      if (!sent) return sent.error();
      return reply.error();
    }
    const auto& value = *reply;
    if (!value.is_object()) continue;
    auto it = value.find("id");
    if (it == value.end()) continue;
    if (value.contains("stream")) continue;  // a --follow line of an earlier request
    if (it->is_null() || (it->is_number_integer() && it->get<std::int64_t>() == id)) {
      return std::move(reply).value();
    }
  }
}

}  // namespace amata::console
