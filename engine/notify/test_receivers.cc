#include "engine/notify/test_receivers.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace amata::notify::testing {

HttpReceiver::HttpReceiver(std::vector<int> statuses, std::chrono::milliseconds delay)
    : server_(std::make_unique<httplib::Server>()), statuses_(std::move(statuses)) {
  server_->Post(".*", [this, delay](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mutex_);
    bodies_.push_back(req.body);
    paths_.push_back(req.path);
    const std::size_t i = std::min(bodies_.size() - 1, statuses_.size() - 1);
    res.status = statuses_[i];
    res.set_content(res.status == 200 ? "ok" : "down for maintenance", "text/plain");
  });
  // One request a connection: the server's threads then end at once when it stops, instead
  // of waiting out the keep-alive of the client's connection.
  server_->set_keep_alive_max_count(1);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("http receiver: cannot listen");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() does nothing to a server not yet running, and the join would then wait forever.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpReceiver::~HttpReceiver() {
  server_->stop();
  thread_.join();
}

std::string HttpReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<std::string> HttpReceiver::bodies() const {
  std::lock_guard lock(mutex_);
  return bodies_;
}

std::vector<std::string> HttpReceiver::paths() const {
  std::lock_guard lock(mutex_);
  return paths_;
}

namespace {

void say(int fd, const std::string& line) {
  const std::string out = line + "\r\n";
  if (write(fd, out.data(), out.size()) < 0) return;
}

/// The next CRLF-terminated line, without it; nullopt when the client went away.
std::optional<std::string> read_line(int fd, std::string& buffer) {
  while (buffer.find("\r\n") == std::string::npos) {
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return std::nullopt;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  const std::size_t end = buffer.find("\r\n");
  std::string line = buffer.substr(0, end);
  buffer.erase(0, end + 2);
  return line;
}

}  // namespace

SmtpSink::SmtpSink(std::string refuse) : refuse_(std::move(refuse)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(listener_, 4) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("smtp sink: cannot listen");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

SmtpSink::~SmtpSink() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);
  // A client may keep its connection for the next mail: that session ends too.
  const int client = client_.load();
  if (client >= 0) shutdown(client, SHUT_RDWR);
  thread_.join();
  close(listener_);
}

std::vector<SmtpSink::Mail> SmtpSink::mails() const {
  std::lock_guard lock(mutex_);
  return mails_;
}

void SmtpSink::serve() {
  while (!stopping_) {
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    client_ = fd;
    if (!stopping_) session(fd);
    client_ = -1;
    close(fd);
  }
}

void SmtpSink::session(int fd) {
  std::string buffer;
  Mail mail;
  say(fd, "220 sink ESMTP");
  while (auto line = read_line(fd, buffer)) {
    const std::string verb = line->substr(0, 4);
    const std::string arg = line->substr(std::min(line->size(), line->find(':') + 1));
    if (verb == "EHLO" || verb == "HELO") {
      say(fd, "250 sink");
    } else if (verb == "MAIL") {
      mail = Mail{};
      mail.from = arg;
      say(fd, "250 ok");
    } else if (verb == "RCPT") {
      if (!refuse_.empty() && arg == "<" + refuse_ + ">") {
        say(fd, "550 no such mailbox");
      } else {
        mail.to.push_back(arg);
        say(fd, "250 ok");
      }
    } else if (verb == "DATA") {
      say(fd, "354 go on");
      while (auto data = read_line(fd, buffer)) {
        if (*data == ".") break;
        mail.data += *data + "\n";
      }
      {
        std::lock_guard lock(mutex_);
        mails_.push_back(mail);
      }
      say(fd, "250 queued");
    } else if (verb == "QUIT") {
      say(fd, "221 bye");
      return;
    } else {
      say(fd, "250 ok");
    }
  }
}

}  // namespace amata::notify::testing
