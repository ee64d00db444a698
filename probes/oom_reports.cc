#include "probes/oom_reports.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "base/text.h"

namespace amata::probes {

namespace {

/// The header's PRIO (facility * 8 + level) and SEQ fields.
struct KmsgHeader {
  unsigned prio = 0;
  std::uint64_t seq = 0;
};

std::optional<KmsgHeader> parse_header(std::string_view record) {
  const auto semicolon = record.find(';');
  if (semicolon == std::string_view::npos) return std::nullopt;
  std::string_view header = record.substr(0, semicolon);
  const auto comma = header.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  auto prio = base::parse_number<unsigned>(header.substr(0, comma));
  header.remove_prefix(comma + 1);
  auto seq = base::parse_number<std::uint64_t>(header.substr(0, header.find(',')));
  if (!prio || !seq) return std::nullopt;
  return KmsgHeader{*prio, *seq};
}

}  // namespace

std::optional<std::uint64_t> parse_kmsg_sequence(std::string_view record) {
  auto header = parse_header(record);
  if (!header) return std::nullopt;
  return header->seq;
}

std::optional<OomKill> parse_oom_kill_record(std::string_view record) {
  auto header = parse_header(record);
  if (!header || header->prio >= 8) return std::nullopt;  // facility 0: the kernel's
  // The message follows the first ';'; continuation lines (" KEY=VALUE") follow a '\n'.
  std::string_view message = record.substr(record.find(';') + 1);
  message = message.substr(0, message.find('\n'));
  static constexpr std::string_view kKilled = "Killed process ";
  const auto at = message.find(kKilled);
  if (at == std::string_view::npos) return std::nullopt;
  // Only the OOM killer's report: "Out of memory: Killed process N (comm) ...", "Memory cgroup
  // out of memory: ..." and "Out of memory (oom_kill_allocating_task): ..." since Linux 5.0;
  // before, a line of its own, "Killed process N".
  const std::string_view before = message.substr(0, at);
  if (!before.empty() &&
      (!before.ends_with(": ") || (before.find("out of memory") == std::string_view::npos &&
                                   before.find("Out of memory") == std::string_view::npos))) {
    return std::nullopt;
  }
  std::string_view rest = message.substr(at + kKilled.size());
  const auto pid = base::parse_number<pid_t>(rest.substr(0, rest.find(' ')));
  if (!pid || *pid <= 0) return std::nullopt;
  return OomKill{*pid, header->seq};
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
    : fd_(std::exchange(other.fd_, -1)),
      next_seq_(other.next_seq_),
      victims_(other.victims_),
      next_(other.next_) {}

OomReports& OomReports::operator=(OomReports&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    next_seq_ = other.next_seq_;
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
    const std::string_view text(record, static_cast<std::size_t>(n));
    if (auto seq = parse_kmsg_sequence(text)) next_seq_ = *seq + 1;
    if (auto kill = parse_oom_kill_record(text)) {
      victims_[next_] = *kill;
      next_ = (next_ + 1) % victims_.size();
    }
  }
}

std::uint64_t OomReports::mark() {
  if (fd_ >= 0) drain();
  return next_seq_;
}

bool OomReports::killed(pid_t pid, std::uint64_t since) {
  if (fd_ < 0 || pid <= 0) return false;
  drain();
  return std::any_of(victims_.begin(), victims_.end(),
                     [&](const OomKill& k) { return k.pid == pid && k.seq >= since; });
}

}  // namespace amata::probes
