#include "engine/metrics/http_gate.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/priority.h"

namespace amata::metrics {
namespace {

using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// One connection, between accept and close. Owned by the gate while it waits, by a worker
// while one of its requests is served.
struct Connection {
  int fd = -1;
  std::string buffer;        // read from the socket, not yet given to httplib
  std::size_t consumed = 0;  // of `buffer`, already given
  std::size_t served = 0;    // requests answered
  Clock::time_point deadline;
  bool peer_closed = false;  // the client shut its side after sending

  ~Connection() {
    if (fd >= 0) {
      shutdown(fd, SHUT_RDWR);
      close(fd);
    }
  }
  std::string_view unread() const { return std::string_view(buffer).substr(consumed); }
  void compact() {
    buffer.erase(0, consumed);
    consumed = 0;
  }
};
using ConnectionPtr = std::unique_ptr<Connection>;

bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd entry{fd, events, 0};
  int ready = 0;
  do {
    ready = poll(&entry, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0 && (entry.revents & events) != 0;
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  auto* raw = reinterpret_cast<sockaddr*>(&address);
  if ((peer ? getpeername(fd, raw, &length) : getsockname(fd, raw, &length)) != 0) return;
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> service{};
  if (getnameinfo(raw, length, host.data(), host.size(), service.data(), service.size(),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host.data();
  std::from_chars(service.data(), service.data() + std::strlen(service.data()), port);
}

// The stream httplib reads a request from and writes its response to: the request comes
// from what the gate buffered; only a request it let through unbuffered (none today) or a
// response reads or writes the socket, each wait bounded by the timeouts.
class BufferedStream final : public httplib::Stream {
 public:
  BufferedStream(Connection& connection, std::chrono::milliseconds io_timeout)
      : connection_(connection), timeout_(io_timeout) {}

  bool is_readable() const override {
    return !connection_.unread().empty() || wait_for(connection_.fd, POLLIN, timeout_);
  }
  bool is_writable() const override {
    if (!wait_for(connection_.fd, POLLOUT, timeout_)) return false;
    // A browser that went away: a live stream learns it here, not at its next write.
    char byte = 0;
    return recv(connection_.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
  }
  ssize_t read(char* data, std::size_t size) override {
    auto unread = connection_.unread();
    if (!unread.empty()) {
      std::size_t n = std::min(size, unread.size());
      std::memcpy(data, unread.data(), n);
      connection_.consumed += n;
      return static_cast<ssize_t>(n);
    }
    if (!wait_for(connection_.fd, POLLIN, timeout_)) return -1;
    ssize_t n = 0;
    do {
      n = recv(connection_.fd, data, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  ssize_t write(const char* data, std::size_t size) override {
    if (!wait_for(connection_.fd, POLLOUT, timeout_)) return -1;
    ssize_t n = 0;
    do {
      n = send(connection_.fd, data, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(connection_.fd, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(connection_.fd, false, ip, port);
  }
  socket_t socket() const override { return connection_.fd; }

 private:
  Connection& connection_;
  std::chrono::milliseconds timeout_;
};

// httplib runs each accepted connection's task through its task queue; this one runs it at
// once on the accept thread, where it only hands the socket to the gate.
class RunAtOnce final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> task) override { task(); }
  void shutdown() override {}
};

std::size_t open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace

RequestCheck check_request(std::string_view buffered, const GateLimits& limits) {
  using Verdict = RequestCheck::Verdict;
  std::size_t start = 0;
  // RFC 9112 2.2: a server ignores blank lines before the request line.
  while (buffered.substr(start, 2) == "\r\n") start += 2;
  while (buffered.substr(start, 1) == "\n") start += 1;
  std::size_t position = start;
  std::size_t content_length = 0;
  bool has_length = false;
  bool first_line = true;
  for (;;) {
    auto newline = buffered.find('\n', position);
    if (newline == std::string_view::npos) {
      return {buffered.size() - start >= limits.max_head_bytes ? Verdict::kHeadTooLarge
                                                               : Verdict::kIncomplete};
    }
    std::string_view line = buffered.substr(position, newline - position);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    position = newline + 1;
    if (position - start > limits.max_head_bytes) return {Verdict::kHeadTooLarge};
    if (line.empty()) break;
    if (std::exchange(first_line, false)) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // httplib judges the rest of the head
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "Transfer-Encoding")) return {Verdict::kLengthRequired};
    if (iequals(name, "Content-Length")) {
      std::size_t length = 0;
      auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (error != std::errc() || end != value.data() + value.size() ||
          (has_length && length != content_length)) {
        return {Verdict::kBad};
      }
      content_length = length;
      has_length = true;
    }
  }
  if (content_length > limits.max_body_bytes) return {Verdict::kBodyTooLarge};
  if (buffered.size() - position < content_length) return {Verdict::kIncomplete};
  return {Verdict::kComplete, position + content_length};
}

std::string render_gate_counters(const GateCounters& counters) {
  return fmt::format(
      "# HELP amata_http_waiting_connections Connections the HTTP port holds while their "
      "request arrives or between requests.\n"
      "# TYPE amata_http_waiting_connections gauge\n"
      "amata_http_waiting_connections {}\n"
      "# HELP amata_http_requests_total Requests handed to the HTTP workers.\n"
      "# TYPE amata_http_requests_total counter\n"
      "amata_http_requests_total {}\n"
      "# HELP amata_http_dropped_total Connections or requests the HTTP port ended without "
      "serving, by reason.\n"
      "# TYPE amata_http_dropped_total counter\n"
      "amata_http_dropped_total{{reason=\"timeout\"}} {}\n"
      "amata_http_dropped_total{{reason=\"evicted\"}} {}\n"
      "amata_http_dropped_total{{reason=\"refused\"}} {}\n"
      "amata_http_dropped_total{{reason=\"overloaded\"}} {}\n",
      counters.waiting, counters.requests, counters.timed_out, counters.evicted, counters.refused,
      counters.overloaded);
}

// The gate's thread owns the connections that wait; the workers own those being served and
// hand them back. Both directions cross through a mutex-guarded list.
class GatedServer::Gate {
 public:
  using Serve = std::function<bool(httplib::Stream&, bool close, bool& closed)>;

  Gate(GateLimits limits, Serve serve) : limits_(limits), serve_(std::move(serve)) {
    limits_.max_waiting =
        std::max<std::size_t>(1, std::min(limits_.max_waiting, open_file_limit() / 4));
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = wake_fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
    thread_ = std::thread([this] {
      base::move_this_thread_to_background();
      run();
    });
    for (std::size_t i = 0; i < limits_.workers; ++i) {
      workers_.emplace_back([this] {
        base::move_this_thread_to_background();
        work();
      });
    }
  }

  ~Gate() { close(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  void close() {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
    }
    wake();
    work_ready_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
    {
      std::lock_guard lock(mutex_);
      arriving_.clear();
      queued_.clear();
    }
    ::close(epoll_fd_);
    ::close(wake_fd_);
  }

  // From the accept thread (a new connection) or a worker (one whose request was served).
  void enter(ConnectionPtr connection) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;  // `connection` closes here
      arriving_.push_back(std::move(connection));
    }
    wake();
  }

  GateCounters counters() const {
    GateCounters now;
    now.waiting = waiting_count_.load();
    now.requests = requests_.load();
    now.timed_out = timed_out_.load();
    now.evicted = evicted_.load();
    now.refused = refused_.load();
    now.overloaded = overloaded_.load();
    return now;
  }

 private:
  void wake() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }

  // ---- the gate's thread ----

  void run() {
    std::array<epoll_event, 64> events{};
    for (;;) {
      int timeout = -1;
      if (!deadlines_.empty()) {
        auto wait =
            std::chrono::ceil<std::chrono::milliseconds>(deadlines_.begin()->first - Clock::now());
        timeout = static_cast<int>(std::max<std::int64_t>(0, wait.count()));
      }
      int ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
      if (ready < 0 && errno != EINTR) break;
      for (int i = 0; i < ready; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake_fd_) {
          std::uint64_t count = 0;
          [[maybe_unused]] auto n = ::read(wake_fd_, &count, sizeof count);
          if (!admit_arrivals()) {
            waiting_.clear();
            deadlines_.clear();
            waiting_count_ = 0;
            return;
          }
        } else {
          on_readable(fd);
        }
      }
      expire(Clock::now());
    }
  }

  bool admit_arrivals() {
    std::vector<ConnectionPtr> arrivals;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return false;
      arrivals.swap(arriving_);
    }
    for (auto& connection : arrivals) admit(std::move(connection));
    return true;
  }

  void admit(ConnectionPtr connection) {
    connection->compact();
    if (connection->served > 0 &&
        check_request(connection->unread(), limits_).verdict == RequestCheck::Verdict::kComplete) {
      dispatch(std::move(connection));  // the next request came with the last one
      return;
    }
    if (waiting_.size() >= limits_.max_waiting && !deadlines_.empty()) {
      // Full: the connection closest to its deadline makes room, so a flood of idle clients
      // cannot keep a real one out.
      drop(deadlines_.begin()->second);
      evicted_++;
    }
    connection->deadline =
        Clock::now() + (connection->served > 0 ? limits_.idle_timeout : limits_.head_timeout);
    const int fd = connection->fd;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    event.data.fd = fd;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return;  // closes it
    deadlines_.emplace(connection->deadline, fd);
    waiting_.emplace(fd, std::move(connection));
    waiting_count_ = waiting_.size();
  }

  ConnectionPtr take(int fd) {
    auto found = waiting_.find(fd);
    if (found == waiting_.end()) return nullptr;
    ConnectionPtr connection = std::move(found->second);
    waiting_.erase(found);
    deadlines_.erase({connection->deadline, fd});
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    waiting_count_ = waiting_.size();
    return connection;
  }

  void drop(int fd) { take(fd); }

  void on_readable(int fd) {
    auto found = waiting_.find(fd);
    if (found == waiting_.end()) return;
    Connection& connection = *found->second;
    const std::size_t cap = limits_.max_head_bytes + limits_.max_body_bytes;
    std::array<char, 16384> chunk{};
    // Edge-triggered: read until the socket is empty, or the most a request may hold.
    while (connection.buffer.size() <= cap) {
      ssize_t n = recv(fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n > 0) {
        connection.buffer.append(chunk.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) connection.peer_closed = true;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) connection.peer_closed = true;
      break;
    }
    using Verdict = RequestCheck::Verdict;
    auto check = check_request(connection.unread(), limits_);
    switch (check.verdict) {
      case Verdict::kComplete:
        dispatch(take(fd));
        return;
      case Verdict::kIncomplete:
        if (connection.peer_closed) drop(fd);
        return;
      case Verdict::kHeadTooLarge:
        refuse(take(fd), 431, "Request Header Fields Too Large");
        return;
      case Verdict::kBodyTooLarge:
        refuse(take(fd), 413, "Payload Too Large");
        return;
      case Verdict::kLengthRequired:
        refuse(take(fd), 411, "Length Required");
        return;
      case Verdict::kBad:
        refuse(take(fd), 400, "Bad Request");
        return;
    }
  }

  void refuse(ConnectionPtr connection, int status, std::string_view reason) {
    refused_++;
    answer(*connection, status, reason);
  }

  void answer(Connection& connection, int status, std::string_view reason) const {
    const std::string body = fmt::format("{} {}\n", status, reason);
    const std::string response = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n"
        "Connection: close\r\n\r\n{}",
        status, reason, body.size(), body);
    // Best effort and never waiting: the client is the one misbehaving.
    [[maybe_unused]] auto n =
        send(connection.fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    // What it sent and we did not read would turn the close into a reset that can overtake
    // the answer.
    std::array<char, 4096> discard{};
    for (int i = 0; i < 64 && recv(connection.fd, discard.data(), discard.size(), MSG_DONTWAIT) > 0;
         ++i) {
    }
    shutdown(connection.fd, SHUT_WR);
  }

  void expire(Clock::time_point now) {
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      int fd = deadlines_.begin()->second;
      ConnectionPtr connection = take(fd);
      timed_out_++;
      // A request begun and not finished hears why; a quiet connection just closes.
      if (connection && !connection->unread().empty()) {
        answer(*connection, 408, "Request Timeout");
      }
    }
  }

  void dispatch(ConnectionPtr connection) {
    if (!connection) return;
    {
      std::lock_guard lock(mutex_);
      if (queued_.size() < limits_.max_queued) {
        queued_.push_back(std::move(connection));
        requests_++;
        work_ready_.notify_one();
        return;
      }
    }
    overloaded_++;
    answer(*connection, 503, "Service Unavailable");
  }

  // ---- the workers ----

  void work() {
    for (;;) {
      ConnectionPtr connection;
      {
        std::unique_lock lock(mutex_);
        work_ready_.wait(lock, [this] { return closed_ || !queued_.empty(); });
        if (closed_) return;
        connection = std::move(queued_.front());
        queued_.pop_front();
      }
      serve(std::move(connection));
    }
  }

  void serve(ConnectionPtr connection) {
    BufferedStream stream(*connection, limits_.io_timeout);
    const bool last = connection->served + 1 >= limits_.max_requests_per_connection;
    bool closed = false;
    bool ok = serve_(stream, last || connection->peer_closed, closed);
    connection->served++;
    if (!ok || closed || last || connection->peer_closed) return;
    enter(std::move(connection));
  }

  GateLimits limits_;
  Serve serve_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::vector<std::thread> workers_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;
  bool closed_ = false;
  std::vector<ConnectionPtr> arriving_;
  std::deque<ConnectionPtr> queued_;

  // The gate thread's alone.
  std::unordered_map<int, ConnectionPtr> waiting_;
  std::set<std::pair<Clock::time_point, int>> deadlines_;

  std::atomic<std::uint64_t> waiting_count_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> timed_out_{0};
  std::atomic<std::uint64_t> evicted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> overloaded_{0};
};

GatedServer::GatedServer(GateLimits limits)
    : gate_(
          std::make_unique<Gate>(limits, [this](httplib::Stream& stream, bool close, bool& closed) {
            return process_request(stream, close, closed, nullptr);
          })) {
  new_task_queue = [] { return new RunAtOnce(); };
  set_keep_alive_max_count(limits.max_requests_per_connection);
  set_keep_alive_timeout(
      std::chrono::duration_cast<std::chrono::seconds>(limits.idle_timeout).count());
  set_payload_max_length(limits.max_body_bytes);
}

GatedServer::~GatedServer() {
  close_gate();
}

void GatedServer::close_gate() {
  gate_->close();
}

bool GatedServer::deepen_backlog() {
  return ::listen(svr_sock_, SOMAXCONN) == 0;
}

GateCounters GatedServer::counters() const {
  return gate_->counters();
}

bool GatedServer::process_and_close_socket(socket_t sock) {
  auto connection = std::make_unique<Connection>();
  connection->fd = sock;
  gate_->enter(std::move(connection));
  return true;
}

}  // namespace amata::metrics
