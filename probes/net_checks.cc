#include "probes/net_checks.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "probes/probe_context.h"

namespace amata::probes {
namespace {

std::uint16_t icmp_checksum(const void* data, std::size_t len) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (len & 1) sum += p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<std::uint16_t>(~sum));
}

/// 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104: addresses whose TCP handshake the kernel
/// finishes inside connect() itself.
bool is_loopback(const Endpoint& endpoint) {
  if (endpoint.family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(endpoint.addr);
    return (ntohl(in.sin_addr.s_addr) >> 24) == 127;
  }
  if (endpoint.family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(endpoint.addr).sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&in6) || (IN6_IS_ADDR_V4MAPPED(&in6) && in6.s6_addr[12] == 127);
  }
  return false;
}

}  // namespace

Result<Endpoint> resolve_host(const std::string& host, int port) {
  Endpoint e;
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  // A literal address never touches the resolver; a name is resolved once, at setup.
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  int rc = getaddrinfo(name.c_str(), service.c_str(), &hints, &res);
  if (rc == EAI_NONAME) {
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(name.c_str(), service.c_str(), &hints, &res);
  }
  if (rc != 0 || res == nullptr) {
    return Error{"resolve " + host + ": " + gai_strerror(rc)};
  }
  std::memcpy(&e.addr, res->ai_addr, res->ai_addrlen);
  e.len = res->ai_addrlen;
  e.family = res->ai_family;
  freeaddrinfo(res);
  return e;
}

Result<Endpoint> resolve_endpoint(const std::string& target, int default_port) {
  if (!target.empty() && (target[0] == '/' || target[0] == '@')) {
    Endpoint e;
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    if (target.size() >= sizeof un.sun_path) return Error{"unix socket path too long: " + target};
    std::memcpy(un.sun_path, target.data(), target.size());
    if (target[0] == '@') un.sun_path[0] = '\0';  // abstract namespace
    e.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + target.size() +
                                   (target[0] == '@' ? 0 : 1));
    std::memcpy(&e.addr, &un, sizeof un);
    e.family = AF_UNIX;
    return e;
  }
  std::string host = target;
  int port = default_port;
  std::size_t colon = target.rfind(':');
  bool bracketed = !target.empty() && target[0] == '[';
  if (colon != std::string::npos &&
      (bracketed ? target.find(']') < colon : target.find(':') == colon)) {
    host = target.substr(0, colon);
    try {
      port = std::stoi(target.substr(colon + 1));
    } catch (...) {
      return Error{"bad port in " + target};
    }
  }
  if (port <= 0 || port > 65535) return Error{"no valid port in " + target};
  return resolve_host(host, port);
}

// --- SocketCheck ----------------------------------------------------------------------------

void SocketCheck::begin(CheckCallback done) {
  cancel();
  done_ = std::move(done);
  started_ = base::monotonic_now();
}

void SocketCheck::wait(std::uint32_t events, base::EventLoop::FdCallback ready, double timeout,
                       const char* what) {
  Status watched = loop_.watch(fd_, events, std::move(ready));
  if (!watched) {
    finish(false, watched.error().message);
    return;
  }
  timeout_.arm(base::from_seconds(timeout),
               [this, what] { finish(false, std::string(what) + ": timed out"); });
}

void SocketCheck::cancel() {
  if (fd_ >= 0) {
    loop_.unwatch(fd_);
    close(fd_);
    fd_ = -1;
  }
  timeout_.cancel();
}

void SocketCheck::finish(bool ok, std::string error) {
  CheckOutcome outcome{ok, base::monotonic_now() - started_, std::move(error)};
  cancel();
  // Move the callback out first: it may start the next check, which sets done_ again.
  CheckCallback done = std::move(done_);
  done_ = nullptr;
  if (done) done(outcome);
}

void SocketCheck::fail(std::string_view what, int err) {
  finish(false, std::string(what) + ": " + std::strerror(err));
}

// --- ConnectCheck ---------------------------------------------------------------------------

void ConnectCheck::start(const Endpoint& endpoint, double timeout, CheckCallback done) {
  check_.begin(std::move(done));
  check_.adopt(socket(endpoint.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (check_.fd() < 0) return check_.fail("socket");
  const auto* addr = reinterpret_cast<const sockaddr*>(&endpoint.addr);
  int rc = connect(check_.fd(), addr, endpoint.len);
  if (rc == 0) return check_.finish(true, "");
  if (errno != EINPROGRESS && errno != EAGAIN) return check_.fail("connect");
  if (is_loopback(endpoint)) {
    // A non-blocking TCP connect says EINPROGRESS even on loopback, but the listener's
    // SYN-ACK (or RST) has been handled by the time it returns: the socket is locked during
    // connect() and its backlog is processed on the way out. Asking again answers at once (0,
    // or ECONNREFUSED), which saves the two epoll_ctl, the getsockopt and a turn of the loop.
    // EALREADY (the listener's backlog full, softirqs deferred to ksoftirqd) waits as below.
    rc = connect(check_.fd(), addr, endpoint.len);
    if (rc == 0 || errno == EISCONN) return check_.finish(true, "");
    if (errno != EALREADY && errno != EINPROGRESS && errno != EAGAIN) {
      return check_.fail("connect");
    }
  }
  check_.wait(
      EPOLLOUT,
      [this](std::uint32_t) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(check_.fd(), SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
        if (err == 0) {
          check_.finish(true, "");
        } else {
          check_.fail("connect", err);
        }
      },
      timeout, "connect");
}

// --- IcmpEcho -------------------------------------------------------------------------------

void IcmpEcho::start(const Endpoint& endpoint, double timeout, CheckCallback done) {
  check_.begin(std::move(done));
  bool v6 = endpoint.family == AF_INET6;
  int proto = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
  raw_ = false;
  int fd = socket(endpoint.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) {
    // Ping sockets are limited by net.ipv4.ping_group_range; root may use a raw socket.
    fd = socket(endpoint.family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    raw_ = true;
  }
  if (fd < 0) return check_.fail("icmp socket");
  check_.adopt(fd);
  id_ = static_cast<std::uint16_t>(getpid() ^ reinterpret_cast<std::uintptr_t>(this));
  ++seq_;
  std::uint8_t packet[64] = {};
  packet[0] =
      v6 ? static_cast<std::uint8_t>(ICMP6_ECHO_REQUEST) : static_cast<std::uint8_t>(ICMP_ECHO);
  std::uint16_t nid = htons(id_), nseq = htons(seq_);
  std::memcpy(packet + 4, &nid, 2);
  std::memcpy(packet + 6, &nseq, 2);
  std::memcpy(packet + 8, "amata-probe", 11);
  if (!v6) {
    std::uint16_t sum = icmp_checksum(packet, sizeof packet);
    std::memcpy(packet + 2, &sum, 2);
  }
  if (sendto(fd, packet, sizeof packet, 0, reinterpret_cast<const sockaddr*>(&endpoint.addr),
             endpoint.len) < 0) {
    return check_.fail("icmp send");
  }
  if (!raw_) {
    // A ping socket replaces the identifier with its local port; match replies on that.
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      id_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                     : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    }
  }
  check_.wait(
      EPOLLIN, [this](std::uint32_t) { on_readable(); }, timeout, "icmp");
}

void IcmpEcho::on_readable() {
  std::uint8_t buf[1500];
  for (;;) {
    ssize_t n = recv(check_.fd(), buf, sizeof buf, 0);
    if (n < 0) return;  // EAGAIN: wait for the next datagram
    const std::uint8_t* icmp = buf;
    std::size_t len = static_cast<std::size_t>(n);
    if (raw_ && len >= sizeof(iphdr)) {
      // A raw IPv4 socket hands over the IP header too.
      std::size_t ihl = static_cast<std::size_t>(buf[0] & 0x0f) * 4;
      if (ihl > len) continue;
      icmp += ihl;
      len -= ihl;
    }
    if (len < 8) continue;
    bool reply = icmp[0] == ICMP_ECHOREPLY || icmp[0] == ICMP6_ECHO_REPLY;
    std::uint16_t id = static_cast<std::uint16_t>((icmp[4] << 8) | icmp[5]);
    std::uint16_t seq = static_cast<std::uint16_t>((icmp[6] << 8) | icmp[7]);
    if (reply && id == id_ && seq == seq_) {
      check_.finish(true, "");
      return;
    }
  }
}

// --- CurlMulti ------------------------------------------------------------------------------

CurlMulti::CurlMulti(base::EventLoop& loop) : loop_(loop) {}

Result<std::unique_ptr<CurlMulti>> CurlMulti::create(base::EventLoop& loop) {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK)
    return Error{std::string("curl_global_init: ") + curl_easy_strerror(global)};
  std::unique_ptr<CurlMulti> m(new CurlMulti(loop));
  m->multi_ = curl_multi_init();
  if (m->multi_ == nullptr) return Error{"curl_multi_init failed"};
  curl_multi_setopt(m->multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
  curl_multi_setopt(m->multi_, CURLMOPT_SOCKETDATA, m.get());
  curl_multi_setopt(m->multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
  curl_multi_setopt(m->multi_, CURLMOPT_TIMERDATA, m.get());
  return m;
}

CurlMulti::~CurlMulti() {
  if (timer_armed_) loop_.cancel_timer(timer_);
  for (auto& [easy, done] : transfers_) curl_multi_remove_handle(multi_, easy);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
}

int CurlMulti::on_socket(CURL*, int fd, int what, void* self_ptr, void*) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    self->loop_.unwatch(fd);
    return 0;
  }
  std::uint32_t events = 0;
  if (what & CURL_POLL_IN) events |= EPOLLIN;
  if (what & CURL_POLL_OUT) events |= EPOLLOUT;
  if (self->loop_.watching(fd)) {
    (void)self->loop_.modify(fd, events);
  } else {
    (void)self->loop_.watch(fd, events, [self, fd](std::uint32_t ev) {
      int flags = 0;
      if (ev & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (ev & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (ev & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      self->drive(fd, flags);
    });
  }
  return 0;
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<CurlMulti*>(self_ptr);
  if (self->timer_armed_) self->loop_.cancel_timer(self->timer_);
  self->timer_armed_ = false;
  if (timeout_ms < 0) return 0;
  self->timer_armed_ = true;
  self->timer_ = self->loop_.add_timer_after(std::chrono::milliseconds(timeout_ms), [self] {
    self->timer_armed_ = false;
    self->drive(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void CurlMulti::drive(int fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  collect_finished();
}

void CurlMulti::collect_finished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    int code = msg->data.result;
    curl_multi_remove_handle(multi_, easy);
    for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
      if (it->first != easy) continue;
      auto done = std::move(it->second);
      transfers_.erase(it);
      if (done) done(code);
      break;
    }
  }
}

Status CurlMulti::add(CURL* easy, std::function<void(int)> done) {
  transfers_.emplace_back(easy, std::move(done));
  CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    transfers_.pop_back();
    return Error{std::string("curl_multi_add_handle: ") + curl_multi_strerror(rc)};
  }
  return {};
}

void CurlMulti::remove(CURL* easy) {
  for (auto it = transfers_.begin(); it != transfers_.end(); ++it) {
    if (it->first == easy) {
      curl_multi_remove_handle(multi_, easy);
      transfers_.erase(it);
      return;
    }
  }
}

// --- HttpCheck ------------------------------------------------------------------------------

HttpCheck::~HttpCheck() {
  cancel();
  if (easy_ != nullptr) curl_easy_cleanup(easy_);
}

void HttpCheck::cancel() {
  timeout_.cancel();
  if (running_) multi_.remove(easy_);
  running_ = false;
}

void HttpCheck::report(CheckOutcome outcome) {
  outcome.latency = base::monotonic_now() - started_;
  CheckCallback done = std::move(done_);
  done_ = nullptr;
  if (done) done(outcome);
}

void HttpCheck::start(const std::string& url, int expect_status, double timeout,
                      CheckCallback done) {
  cancel();
  done_ = std::move(done);
  started_ = base::monotonic_now();
  if (easy_ == nullptr) easy_ = curl_easy_init();
  if (easy_ == nullptr) return report(CheckOutcome{false, 0, "curl_easy_init failed"});
  curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy_, CURLOPT_TIMEOUT_MS, 0L);  // timeout_ ends the check
  curl_easy_setopt(easy_, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy_, CURLOPT_USERAGENT, "amata-health/1");
  curl_easy_setopt(easy_, CURLOPT_PROTOCOLS_STR, "http,https");
  // libcurl verifies the peer and its name by default; said here, so that no default of a
  // future libcurl or of its build can turn it off.
  curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy_, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) curl_easy_setopt(easy_, CURLOPT_CAINFO, ca_file_.c_str());
  // The body is not needed; discarding it keeps the check from buffering anything.
  curl_easy_setopt(
      easy_, CURLOPT_WRITEFUNCTION,
      +[](char*, size_t size, size_t n, void*) -> size_t { return size * n; });
  running_ = true;
  Status added = multi_.add(easy_, [this, expect_status](int code) {
    running_ = false;
    timeout_.cancel();
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    CheckOutcome outcome;
    if (code != CURLE_OK) {
      outcome.error = curl_easy_strerror(static_cast<CURLcode>(code));
    } else if (expect_status == 0 ? (status >= 200 && status < 300) : status == expect_status) {
      outcome.ok = true;
    } else {
      outcome.error = "HTTP status " + std::to_string(status);
    }
    report(std::move(outcome));
  });
  if (!added) {
    running_ = false;
    return report(CheckOutcome{false, 0, added.error().message});
  }
  timeout_.arm(base::from_seconds(timeout), [this] {
    multi_.remove(easy_);
    running_ = false;
    report(CheckOutcome{false, 0, "http: timed out"});
  });
}

}  // namespace amata::probes
