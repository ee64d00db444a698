#include "probes/pressure.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "base/text.h"

namespace amata::probes {
namespace {

/// "avg10=0.12" → 0.12 when the key is `key`.
std::optional<double> field(std::string_view token, std::string_view key) {
  if (token.size() <= key.size() || !token.starts_with(key) || token[key.size()] != '=') {
    return std::nullopt;
  }
  return base::parse_number<double>(token.substr(key.size() + 1));
}

std::optional<StallLine> parse_stall_line(std::string_view rest) {
  StallLine line;
  auto avg10 = field(base::next_token(rest), "avg10");
  auto avg60 = field(base::next_token(rest), "avg60");
  auto avg300 = field(base::next_token(rest), "avg300");
  const std::string_view total_token = base::next_token(rest);
  std::optional<std::uint64_t> total;
  if (total_token.starts_with("total=")) {
    total = base::parse_number<std::uint64_t>(total_token.substr(6));
  }
  if (!avg10 || !avg60 || !avg300 || !total) return std::nullopt;
  // Shares of wall time: anything outside 0..100 is not a value the kernel writes.
  for (double v : {*avg10, *avg60, *avg300}) {
    if (!(v >= 0 && v <= 100)) return std::nullopt;
  }
  line.avg10 = *avg10;
  line.avg60 = *avg60;
  line.avg300 = *avg300;
  line.total_us = *total;
  return line;
}

}  // namespace

std::optional<Pressure> parse_pressure(std::string_view text) {
  std::optional<StallLine> some, full;
  while (!text.empty()) {
    std::string_view line = base::next_line(text);
    const std::string_view kind = base::next_token(line);
    if (kind == "some") some = parse_stall_line(line);
    if (kind == "full") full = parse_stall_line(line);
  }
  if (!some) return std::nullopt;
  return Pressure{*some, full};
}

std::optional<std::uint64_t> find_vmstat_counter(std::string_view text, std::string_view name) {
  while (!text.empty()) {
    std::string_view line = base::next_line(text);
    if (base::next_token(line) != name) continue;
    return base::parse_number<std::uint64_t>(base::next_token(line));
  }
  return std::nullopt;
}

Result<PsiTrigger> PsiTrigger::open(base::EventLoop& loop, const std::string& path,
                                    std::uint32_t stall_us, std::uint32_t window_us,
                                    base::EventLoop::FdCallback on_fire) {
  PsiTrigger t;
  t.fd_ = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (t.fd_ < 0) return errno_error("open " + path, errno);
  // The trigger is one write, NUL included (Documentation/accounting/psi.rst).
  auto arm = [&](std::uint32_t stall, std::uint32_t window) {
    const std::string spec = "some " + std::to_string(stall) + " " + std::to_string(window);
    return ::write(t.fd_, spec.c_str(), spec.size() + 1) >= 0;
  };
  if (!arm(stall_us, window_us)) {
    // Without CAP_SYS_RESOURCE (an unprivileged container's root, too) the kernel takes only
    // windows in whole multiples of its 2 s averaging period: the same share of a 2 s window.
    const bool retry = errno == EINVAL && window_us < kUnprivilegedWindowUs;
    const double share = static_cast<double>(stall_us) / window_us;
    if (!retry ||
        !arm(static_cast<std::uint32_t>(share * kUnprivilegedWindowUs), kUnprivilegedWindowUs)) {
      return errno_error("arm a PSI trigger on " + path, errno);
    }
  }
  t.loop_ = &loop;
  if (Status s = loop.watch(t.fd_, EPOLLPRI, std::move(on_fire)); !s) return s.error();
  return t;
}

PsiTrigger::~PsiTrigger() {
  close();
}

PsiTrigger::PsiTrigger(PsiTrigger&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)), fd_(std::exchange(other.fd_, -1)) {}

PsiTrigger& PsiTrigger::operator=(PsiTrigger&& other) noexcept {
  if (this != &other) {
    close();
    loop_ = std::exchange(other.loop_, nullptr);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void PsiTrigger::close() {
  if (fd_ < 0) return;
  if (loop_ != nullptr) loop_->unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace amata::probes
