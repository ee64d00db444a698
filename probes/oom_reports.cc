#include "probes/oom_reports.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "base/text.h"

namespace amata::probes {

std::optional<pid_t> parse_oom_kill_record(std::string_view record) {
  // The message follows the first ';'; continuation lines (" KEY=VALUE") follow a '\n'.
  const auto semicolon = record.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  std::string_view message = record.substr(semicolon + 1);
  message = message.substr(0, message.find('\n'));
  static constexpr std::string_view kKilled = "Killed process ";
  const auto at = message.find(kKilled);
  if (at == std::string_view::npos) return std::nullopt;
  // Only the OOM killer's report: "Out of memory: Killed process N (comm) ..." and "Memory
  // cgroup out of memory: ..." since Linux 5.0; before, a line of its own, "Killed process N".
  const std::string_view before = message.substr(0, at);
  if (!before.empty() && !before.ends_with("out of memory: ") &&
      !before.ends_with("Out of memory: ")) {
    return std::nullopt;
  }
  std::string_view rest = message.substr(at + kKilled.size());
  const auto pid = base::parse_number<pid_t>(rest.substr(0, rest.find(' ')));
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

Result<OomReports> OomReports::open(const std::string& kmsg) {
  OomReports r;
  r.fd_ = ::open(kmsg.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (r.fd_ < 0) return errno_error("open " + kmsg, errno);
  if (::lseek(r.fd_, 0, SEEK_END) < 0) return errno_error("seek to the end of " + kmsg, errno);
  return r;
}

OomReports::~OomReports() {
  close();
}

OomReports::OomReports(OomReports&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), victims_(other.victims_), next_(other.next_) {}

OomReports& OomReports::operator=(OomReports&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    victims_ = other.victims_;
    next_ = other.next_;
  }
  return *this;
}

void OomReports::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void OomReports::drain() {
  // Each read() returns one record; a record is at most about 8 KiB (PRINTK_MESSAGE_MAX).
  char record[8192];
  for (;;) {
    const ssize_t n = ::read(fd_, record, sizeof record);
    if (n < 0 && errno == EPIPE) continue;  // records overwritten before we read: skip on
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EAGAIN: all read
    if (auto pid = parse_oom_kill_record({record, static_cast<std::size_t>(n)})) {
      victims_[next_] = *pid;
      next_ = (next_ + 1) % victims_.size();
    }
  }
}

bool OomReports::killed(pid_t pid) {
  if (fd_ < 0 || pid <= 0) return false;
  drain();
  return std::find(victims_.begin(), victims_.end(), pid) != victims_.end();
}

}  // namespace amata::probes
