#include "base/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/text.h"
#include "base/unique_fd.h"

namespace amata::base {

std::optional<PidStat> parse_pid_stat(std::string_view text) {
  PidStat s;
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  std::string_view head = text.substr(0, open);
  auto pid = parse_number<pid_t>(next_token(head));
  if (!pid) return std::nullopt;
  s.pid = *pid;
  s.comm = text.substr(open + 1, close - open - 1);
  std::string_view rest = text.substr(close + 1);
  // Field numbers as in proc(5): 3 state, 4 ppid, 5 pgrp, 6 session, 14 utime, 15 stime,
  // 20 num_threads, 22 starttime, 24 rss.
  std::string_view state = next_token(rest);
  if (state.size() != 1) return std::nullopt;
  s.state = state[0];
  bool got_rss = false;
  for (int field = 4; field <= 24; ++field) {
    std::string_view token = next_token(rest);
    if (token.empty()) break;
    auto v = parse_number<std::int64_t>(token);
    if (!v) return std::nullopt;
    const auto count = static_cast<std::uint64_t>(std::max<std::int64_t>(*v, 0));
    switch (field) {
      case 4:
        s.ppid = static_cast<pid_t>(*v);
        break;
      case 5:
        s.pgrp = static_cast<pid_t>(*v);
        break;
      case 6:
        s.session = static_cast<pid_t>(*v);
        break;
      case 14:
        s.utime = count;
        break;
      case 15:
        s.stime = count;
        break;
      case 20:
        s.threads = count;
        break;
      case 22:
        s.starttime = count;
        break;
      case 24:
        s.rss_pages = count;
        got_rss = true;
        break;
      default:
        break;
    }
  }
  if (!got_rss) return std::nullopt;
  return s;
}

Result<PidStat> read_pid_stat(pid_t pid, std::string& text) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error("open " + path, errno);
  text.resize(1024);  // comm is at most 64 bytes: a stat line is a few hundred
  ssize_t n = 0;
  do {
    n = read(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno_error("read " + path, errno);
  text.resize(static_cast<std::size_t>(n));
  auto parsed = parse_pid_stat(text);
  if (!parsed) return Error{"malformed " + path};
  if (parsed->state == 'Z' || parsed->state == 'X') {
    return Error{"process " + std::to_string(pid) + " has ended"};
  }
  return *parsed;
}

Result<std::uint64_t> process_start_time(pid_t pid) {
  std::string text;
  auto stat = read_pid_stat(pid, text);
  if (!stat) return stat.error();
  return stat->starttime;
}

}  // namespace amata::base
