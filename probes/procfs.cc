#include "probes/procfs.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/text.h"
namespace amata::probes {
namespace {

/// Decodes mountinfo's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto oct = [](char c) { return c >= '0' && c <= '7'; };
    if (s[i] == '\\' && i + 3 < s.size()) {
      if (oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
        out.push_back(static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) |
                                        (s[i + 3] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

std::optional<CpuTimes> parse_proc_stat_cpu(std::string_view text) {
  while (!text.empty()) {
    std::string_view line = base::next_line(text);
    std::string_view rest = line;
    if (base::next_token(rest) != "cpu") continue;
    CpuTimes t;
    std::uint64_t* fields[] = {&t.user,   &t.nice, &t.system,  &t.idle,
                               &t.iowait, &t.irq,  &t.softirq, &t.steal};
    int n = 0;
    for (; n < 8; ++n) {
      std::string_view token = base::next_token(rest);
      if (token.empty()) break;
      auto v = base::parse_number<std::uint64_t>(token);
      if (!v) return std::nullopt;
      *fields[n] = *v;
    }
    if (n < 4) return std::nullopt;
    t.columns = n;
    // guest and guest_nice (columns 9 and 10) are already counted in user and nice.
    while (!base::next_token(rest).empty()) ++t.columns;
    return t;
  }
  return std::nullopt;
}

std::optional<CpuPercent> cpu_percent(const CpuTimes& a, const CpuTimes& b) {
  auto d = [](std::uint64_t x, std::uint64_t y) -> double { return y >= x ? double(y - x) : -1; };
  double total = d(a.total(), b.total());
  if (total <= 0) return std::nullopt;
  double idle = d(a.idle, b.idle), iowait = d(a.iowait, b.iowait);
  double user = d(a.user, b.user) + d(a.nice, b.nice);
  double system = d(a.system, b.system) + d(a.irq, b.irq) + d(a.softirq, b.softirq);
  double steal = d(a.steal, b.steal);
  // A counter that went backwards (iowait can, on some kernels) is clamped to zero.
  auto pct = [&](double x) { return std::clamp(x / total * 100.0, 0.0, 100.0); };
  CpuPercent p;
  p.busy = pct(total - std::max(idle, 0.0) - std::max(iowait, 0.0));
  p.user = pct(user);
  p.system = pct(system);
  p.iowait = pct(iowait);
  p.steal = pct(steal);
  return p;
}

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  bool has_total = false, has_free = false, has_available = false;
  while (!text.empty()) {
    std::string_view line = base::next_line(text);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    auto value = base::parse_number<std::uint64_t>(base::next_token(rest));
    if (!value) continue;
    std::string_view unit = base::next_token(rest);
    std::uint64_t bytes = unit == "kB" ? *value * 1024 : *value;
    if (key == "MemTotal") {
      m.total = bytes;
      has_total = true;
    } else if (key == "MemFree") {
      m.free = bytes;
      has_free = true;
    } else if (key == "MemAvailable") {
      m.available = bytes;
      has_available = true;
    } else if (key == "Buffers") {
      m.buffers = bytes;
    } else if (key == "Cached") {
      m.cached = bytes;
    } else if (key == "SwapTotal") {
      m.swap_total = bytes;
    } else if (key == "SwapFree") {
      m.swap_free = bytes;
    }
  }
  if (!has_total || !has_free) return std::nullopt;
  if (!has_available) {
    m.available = std::min(m.total, m.free + m.buffers + m.cached);
    m.available_estimated = true;
  }
  return m;
}

std::optional<LoadAvg> parse_loadavg(std::string_view text) {
  LoadAvg l;
  auto a = base::parse_number<double>(base::next_token(text));
  auto b = base::parse_number<double>(base::next_token(text));
  auto c = base::parse_number<double>(base::next_token(text));
  if (!a || !b || !c) return std::nullopt;
  l.load1 = *a;
  l.load5 = *b;
  l.load15 = *c;
  std::string_view tasks = base::next_token(text);
  std::size_t slash = tasks.find('/');
  if (slash != std::string_view::npos) {
    l.running = base::parse_number<std::uint64_t>(tasks.substr(0, slash)).value_or(0);
    l.tasks = base::parse_number<std::uint64_t>(tasks.substr(slash + 1)).value_or(0);
  }
  return l;
}

std::optional<double> parse_uptime(std::string_view text) {
  auto v = base::parse_number<double>(base::next_token(text));
  if (!v || *v < 0) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_file_nr(std::string_view text) {
  return base::parse_number<std::uint64_t>(base::next_token(text));
}

std::optional<PidIo> parse_pid_io(std::string_view text) {
  PidIo io;
  bool r = false, w = false;
  while (!text.empty()) {
    std::string_view line = base::next_line(text);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    auto v = base::parse_number<std::uint64_t>(base::next_token(rest));
    if (!v) continue;
    if (key == "read_bytes") {
      io.read_bytes = *v;
      r = true;
    } else if (key == "write_bytes") {
      io.write_bytes = *v;
      w = true;
    }
  }
  if (!r || !w) return std::nullopt;
  return io;
}

std::size_t count_pids(std::string_view text) {
  std::size_t n = 0;
  for (std::string_view t = base::next_token(text); !t.empty(); t = base::next_token(text)) {
    if (base::parse_number<pid_t>(t)) ++n;
  }
  return n;
}

void cmdline_to_string(std::string_view raw, std::string& out) {
  out.clear();
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  for (char c : raw) out.push_back(c == '\0' ? ' ' : c);
}

std::optional<pid_t> parse_pidfile(std::string_view text) {
  auto pid = base::parse_number<pid_t>(base::next_token(text));
  if (!pid || *pid <= 0) return std::nullopt;
  return pid;
}

std::optional<DiskStats> parse_diskstats_line(std::string_view line) {
  DiskStats d;
  auto major = base::parse_number<unsigned>(base::next_token(line));
  auto minor = base::parse_number<unsigned>(base::next_token(line));
  std::string_view name = base::next_token(line);
  if (!major || !minor || name.empty()) return std::nullopt;
  d.major = *major;
  d.minor = *minor;
  d.name = name;
  std::uint64_t f[11] = {};
  int n = 0;
  for (; n < 11; ++n) {
    std::string_view token = base::next_token(line);
    if (token.empty()) break;
    auto v = base::parse_number<std::uint64_t>(token);
    if (!v) return std::nullopt;
    f[n] = *v;
  }
  if (n == 4) {
    // Partitions on 2.6.x: reads, sectors read, writes, sectors written.
    d.sectors_read = f[1];
    d.sectors_written = f[3];
    return d;
  }
  if (n < 10) return std::nullopt;
  d.sectors_read = f[2];
  d.sectors_written = f[6];
  d.io_ticks_ms = f[9];
  d.has_io_ticks = true;
  return d;
}

std::optional<DiskStats> find_diskstats(std::string_view text, unsigned major, unsigned minor,
                                        std::string_view name) {
  while (!text.empty()) {
    auto d = parse_diskstats_line(base::next_line(text));
    if (!d) continue;
    if (major == 0 && minor == 0) {
      if (!name.empty() && d->name == name) return d;
    } else if (d->major == major && d->minor == minor) {
      return d;
    }
  }
  return std::nullopt;
}

std::optional<MountInfo> parse_mountinfo_line(std::string_view line) {
  MountInfo m;
  std::string_view id = base::next_token(line);
  std::string_view parent = base::next_token(line);
  std::string_view dev = base::next_token(line);
  std::string_view root = base::next_token(line);
  std::string_view point = base::next_token(line);
  std::string_view options = base::next_token(line);
  if (id.empty() || parent.empty() || point.empty() || options.empty()) return std::nullopt;
  std::size_t colon = dev.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto major = base::parse_number<unsigned>(dev.substr(0, colon));
  auto minor = base::parse_number<unsigned>(dev.substr(colon + 1));
  if (!major || !minor) return std::nullopt;
  m.major = *major;
  m.minor = *minor;
  // Optional fields ("shared:1 master:2") run up to a lone "-".
  for (;;) {
    std::string_view t = base::next_token(line);
    if (t.empty()) return std::nullopt;
    if (t == "-") break;
  }
  std::string_view fstype = base::next_token(line);
  std::string_view source = base::next_token(line);
  if (fstype.empty()) return std::nullopt;
  m.root = unescape_octal(root);
  m.mount_point = unescape_octal(point);
  m.options = std::string(options);
  m.fstype = unescape_octal(fstype);
  m.source = unescape_octal(source);
  return m;
}

std::optional<MountInfo> find_mount(std::string_view mountinfo, std::string_view path) {
  std::optional<MountInfo> best;
  while (!mountinfo.empty()) {
    auto m = parse_mountinfo_line(base::next_line(mountinfo));
    if (!m) continue;
    const std::string& mp = m->mount_point;
    bool covers =
        path == mp || mp == "/" ||
        (path.size() > mp.size() && path.substr(0, mp.size()) == mp && path[mp.size()] == '/');
    if (!covers) continue;
    // The deepest mount point wins; among equals the later one, which hides the earlier.
    if (!best || mp.size() >= best->mount_point.size()) best = std::move(m);
  }
  return best;
}

ProcFile::~ProcFile() {
  close();
}

ProcFile::ProcFile(ProcFile&& other) noexcept
    : fd_(other.fd_),
      text_(other.text_),
      path_(std::move(other.path_)),
      buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

ProcFile& ProcFile::operator=(ProcFile&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    text_ = other.text_;
    path_ = std::move(other.path_);
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

void ProcFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<ProcFile> ProcFile::open(const std::string& path, int dir_fd, std::size_t capacity,
                                Text text) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open " + path, errno);
  ProcFile f;
  f.fd_ = fd;
  f.text_ = text;
  f.path_ = path;
  f.buffer_.resize(std::max<std::size_t>(capacity, 64));
  return f;
}

bool ProcFile::refers_to(const std::string& path) const {
  struct stat open_file {
  }, named{};
  if (fd_ < 0 || ::fstat(fd_, &open_file) != 0 || ::stat(path.c_str(), &named) != 0) return false;
  return open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

Result<std::string_view> ProcFile::read() {
  if (fd_ < 0) return Error{"read " + path_ + ": not open"};
  for (;;) {
    std::size_t total = 0;
    for (;;) {
      ssize_t n =
          pread(fd_, buffer_.data() + total, buffer_.size() - total, static_cast<off_t>(total));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_error("read " + path_, errno);
      }
      if (n == 0) break;
      total += static_cast<std::size_t>(n);
      if (total == buffer_.size()) break;
      if (text_ == Text::kWhole) break;  // short: the whole text is in
    }
    if (total < buffer_.size()) return std::string_view(buffer_.data(), total);
    // Full buffer: the file may be longer. Grow (rare: only when the file outgrows it) and
    // read again from the start so the view is one consistent snapshot.
    buffer_.resize(buffer_.size() * 2);
  }
}

Result<std::size_t> count_dir_entries(int dir_fd, bool digits_only) {
  if (lseek(dir_fd, 0, SEEK_SET) < 0) return errno_error("lseek(dir)", errno);
  alignas(8) char buf[8192];
  std::size_t count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, dir_fd, buf, sizeof buf);
    if (n < 0) return errno_error("getdents64", errno);
    if (n == 0) return count;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<linux_dirent64_view*>(buf + off);
      off += d->reclen;
      const char* name = d->name;
      if (digits_only) {
        const char* c = name;
        if (*c == '\0') continue;
        while (*c >= '0' && *c <= '9') ++c;
        if (*c == '\0') ++count;
      } else if (std::strcmp(name, ".") != 0 && std::strcmp(name, "..") != 0) {
        ++count;
      }
    }
  }
}

FdCounting fd_counting(int proc_fd) {
  struct statfs fs {};
  if (::fstatfs(proc_fd, &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC) return FdCounting::kListing;
  // amatad's own fds are open while it asks, so a kernel that counts never answers 0.
  struct stat own {};
  if (::fstatat(proc_fd, "self/fd", &own, 0) != 0 || own.st_size <= 0) return FdCounting::kListing;
  return FdCounting::kDirSize;
}

Result<std::size_t> count_open_fds(int fd_dir_fd, FdCounting how) {
  if (how == FdCounting::kListing) return count_dir_entries(fd_dir_fd, false);
  struct stat st {};
  if (::fstat(fd_dir_fd, &st) != 0) return errno_error("fstat(/proc/PID/fd)", errno);
  return static_cast<std::size_t>(st.st_size);
}

Result<std::string> read_small_file(const std::string& path, std::size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_error("open " + path, errno);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errno_error("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() >= max) break;
  }
  ::close(fd);
  return out;
}

}  // namespace amata::probes
