// Real receivers on loopback for the notification tests (engine/notify and the integration
// tests): an HTTP server that answers webhook and Alertmanager posts, and an SMTP server
// that takes mail. Test support only: nothing in amatad links it.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace amata::notify::testing {

/// An HTTP server on 127.0.0.1 that answers each POST with the next status of `statuses`
/// (the last one repeats), after `delay`, and keeps what it was sent.
class HttpReceiver {
 public:
  explicit HttpReceiver(std::vector<int> statuses,
                        std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;
  std::vector<std::string> bodies() const;
  std::vector<std::string> paths() const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::vector<int> statuses_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::vector<std::string> paths_;
};

/// An SMTP server on 127.0.0.1, one connection at a time, that keeps each mail and refuses
/// the recipient `refuse` (550), as a server refuses an unknown mailbox.
class SmtpSink {
 public:
  struct Mail {
    std::string from;             // as in MAIL FROM: "<a@b>"
    std::vector<std::string> to;  // as in RCPT TO
    std::string data;             // the message, lines ending in \n
  };

  explicit SmtpSink(std::string refuse = "");
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  int port() const { return port_; }
  std::vector<Mail> mails() const;

 private:
  void serve();
  void session(int fd);

  std::string refuse_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> client_{-1};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Mail> mails_;
};

}  // namespace amata::notify::testing
