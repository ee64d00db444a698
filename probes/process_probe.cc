#include "probes/process_probe.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include "base/clock.h"
#include "base/pidfd.h"
namespace amata::probes {

/// One health check of a service, rescheduled every `interval` once the set is periodic.
class HealthRunner {
 public:
  HealthRunner(ProbeContext& ctx, catalog::HealthCheckSpec spec)
      : ctx_(ctx), spec_(std::move(spec)) {}
  ~HealthRunner() {
    if (timer_ != 0) ctx_.loop.cancel_timer(timer_);
  }

  Status init() {
    using P = catalog::HealthCheckSpec::Protocol;
    if (spec_.protocol == P::kHttp) {
      auto curl = ctx_.get_curl();
      if (!curl) return curl.error();
      http_ = std::make_unique<HttpCheck>(**curl);
      http_->set_ca_file(spec_.ca_file);
      return {};
    }
    auto endpoint = resolve_endpoint(spec_.target);
    if (!endpoint) return endpoint.error();
    if (spec_.protocol == P::kUnix && endpoint->family != AF_UNIX) {
      return Error{"unix health check needs a socket path, got " + spec_.target};
    }
    endpoint_ = *endpoint;
    connect_ = std::make_unique<ConnectCheck>(ctx_.loop);
    return {};
  }

  /// Runs one check now unless one is in flight; `done` is called with the result.
  void run(std::function<void()> done) {
    if (busy()) return;
    started_ = base::Clock::now();
    auto finish = [this, done = std::move(done)](const CheckOutcome& outcome) {
      has_result_ = true;
      ok_ = outcome.ok;
      latency_ = outcome.latency;
      done();
      if (periodic_) schedule();
    };
    if (http_) {
      http_->start(spec_.target, spec_.expect_status, spec_.timeout, finish);
    } else {
      connect_->start(endpoint_, spec_.timeout, finish);
    }
  }

  /// Runs now and then every interval, from loop timers.
  void start_periodic(std::function<void()> on_result) {
    periodic_ = true;
    on_result_ = std::move(on_result);
    run(on_result_);
  }

  bool busy() const { return (http_ && http_->busy()) || (connect_ && connect_->busy()); }
  bool has_result() const { return has_result_; }
  bool ok() const { return ok_; }
  double latency() const { return latency_; }

 private:
  void schedule() {
    if (timer_ != 0) ctx_.loop.cancel_timer(timer_);
    // On the interval's ticks, with every other check and probe of that period (a check's
    // first run is at once, when its service starts). The tick is the first after this
    // check's start, not after its end: a check that times out at the next tick (a timeout
    // as long as the interval, a hung service) is followed at once, not a whole tick later,
    // which made `for 2 checks` of a hung service take three intervals instead of two.
    const auto next =
        std::max(base::Clock::now(), base::next_tick(started_, base::from_seconds(spec_.interval)));
    timer_ = ctx_.loop.add_timer(next, [this] {
      timer_ = 0;
      run(on_result_);
    });
  }

  ProbeContext& ctx_;
  catalog::HealthCheckSpec spec_;
  Endpoint endpoint_;
  std::unique_ptr<ConnectCheck> connect_;
  std::unique_ptr<HttpCheck> http_;
  bool periodic_ = false;
  std::function<void()> on_result_;
  base::EventLoop::TimerId timer_ = 0;
  base::Clock::time_point started_{};  // of the check in flight, or the last one
  bool has_result_ = false, ok_ = false;
  double latency_ = 0;
};

namespace {

// struct pidfd_info (Linux 6.13; exit_code since 6.15). Debian 12's headers predate it.
struct PidfdInfo {
  std::uint64_t mask, cgroupid;
  std::uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  std::int32_t exit_code;  // a wait status
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);
constexpr std::uint64_t kPidfdInfoExit = 1ull << 3;

enum class PidfdExit { kKnown, kNotYet, kUnsupported };

/// Asks the kernel how the process behind `pidfd` ended. The status is recorded when its
/// parent reaps it, so a dead but unreaped process answers kNotYet.
PidfdExit query_pidfd_exit(int pidfd, base::ExitStatus* status) {
  PidfdInfo info{};
  info.mask = kPidfdInfoExit;
  if (ioctl(pidfd, kPidfdGetInfo, &info) < 0) {
    return errno == ESRCH ? PidfdExit::kNotYet : PidfdExit::kUnsupported;
  }
  if ((info.mask & kPidfdInfoExit) == 0) return PidfdExit::kNotYet;
  *status = base::ExitStatus::from_wait_status(info.exit_code);
  return PidfdExit::kKnown;
}

std::string_view basename_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

ProcessProbe::ProcessProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx)
    : Probe(object, spec), ctx_(ctx) {}

Result<std::unique_ptr<ProcessProbe>> ProcessProbe::create(int object,
                                                           const catalog::ObjectSpec& spec,
                                                           ProbeContext& ctx) {
  std::unique_ptr<ProcessProbe> p(new ProcessProbe(object, spec, ctx));
  if (!spec.match.empty()) {
    auto re = base::Regex::compile(spec.match);
    if (!re) {
      return Error{"object " + spec.name + ": bad match regex '" + spec.match +
                   "': " + re.error().message};
    }
    p->regex_ = std::move(*re);
  }
  const std::string& root = ctx.options.proc_root;
  p->proc_fd_ = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (p->proc_fd_ < 0) return errno_error("open " + root, errno);
  auto uptime = ProcFile::open("uptime", p->proc_fd_, 256);
  if (!uptime) return uptime.error();
  p->uptime_ = std::move(*uptime);
  p->use_boottime_ = root == "/proc";
  p->fd_counting_ = fd_counting(p->proc_fd_);
  long hz = sysconf(_SC_CLK_TCK);
  if (hz > 0) p->ticks_per_second_ = static_cast<double>(hz);
  long page = sysconf(_SC_PAGESIZE);
  if (page > 0) p->page_size_ = static_cast<double>(page);
  for (const auto& check : spec.health) {
    auto runner = std::make_unique<HealthRunner>(ctx, check);
    if (Status s = runner->init(); !s) {
      return Error{"object " + spec.name + ": health check " + check.target + ": " +
                   s.error().message};
    }
    p->health_.push_back(std::move(runner));
  }
  if (ctx.proc_connector != nullptr) ctx.proc_connector->add_listener(p.get());
  p->supervised_ = spec.kind == catalog::Kind::kService;
  if (!p->supervised_) {
    // Until found, the process is known not to be running.
    ctx.sink.set_number(object, "alive", 0);
    ctx.sink.set_number(object, "pid", 0);
  }
  return p;
}

ProcessProbe::~ProcessProbe() {
  if (ctx_.proc_connector != nullptr) ctx_.proc_connector->remove_listener(this);
  health_.clear();
  forget_dead_pidfd();
  release();
  if (proc_fd_ >= 0) ::close(proc_fd_);
}

bool ProcessProbe::busy() const {
  for (const auto& h : health_) {
    if (h->busy()) return true;
  }
  return false;
}

void ProcessProbe::release() {
  if (pidfd_ >= 0) {
    ctx_.loop.unwatch(pidfd_);
    ::close(pidfd_);
    pidfd_ = -1;
  }
  if (fd_dir_fd_ >= 0) ::close(fd_dir_fd_);
  if (task_fd_ >= 0) ::close(task_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
  fd_dir_fd_ = task_fd_ = dir_fd_ = -1;
  stat_.close();
  io_.close();
  children_.close();
  pid_ = 0;
  owned_ = false;
  have_prev_ = have_prev_io_ = false;
  interest_changed();
}

bool ProcessProbe::adopt(pid_t pid, bool owned) {
  release();
  char name[32];
  snprintf(name, sizeof name, "%d", static_cast<int>(pid));
  dir_fd_ = ::openat(proc_fd_, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) return false;
  auto stat = ProcFile::open("stat", dir_fd_, 1024, ProcFile::Text::kWhole);
  if (!stat) {
    release();
    return false;
  }
  stat_ = std::move(*stat);
  auto text = stat_.read();
  std::optional<base::PidStat> parsed;
  if (text) parsed = base::parse_pid_stat(*text);
  if (!parsed || parsed->state == 'Z' || parsed->state == 'X') {
    release();
    return false;
  }
  starttime_ = parsed->starttime;
  // /proc/PID/io needs ptrace access; without it the I/O rates stay unknown.
  if (auto io = ProcFile::open("io", dir_fd_, 512, ProcFile::Text::kWhole)) io_ = std::move(*io);
  snprintf(name, sizeof name, "task/%d/children", static_cast<int>(pid));
  if (auto children = ProcFile::open(name, dir_fd_, 1024)) children_ = std::move(*children);
  fd_dir_fd_ = ::openat(dir_fd_, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  task_fd_ = ::openat(dir_fd_, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  pid_ = pid;
  owned_ = owned;
  interest_changed();
  if (!owned) {
    // A foreign process: its pidfd becomes readable the moment it exits. The engine owns the
    // pidfd of its own children, so none is opened for them.
    auto pidfd = base::open_pidfd(pid);
    const int err = pidfd ? 0 : errno;  // as pidfd_open left it
    pidfd_ = pidfd ? pidfd->release() : -1;
    if (pidfd_ >= 0) {
      Status s = ctx_.loop.watch(pidfd_, EPOLLIN, [this](std::uint32_t) { on_pidfd_exit(); });
      if (!s) {
        ::close(pidfd_);
        pidfd_ = -1;
      }
    } else if (err == ESRCH) {
      release();
      return false;
    } else if (!pidfd_notice_given_) {
      pidfd_notice_given_ = true;
      ctx_.sink.notice(object(), std::string("pidfd_open unavailable (") + std::strerror(err) +
                                     "): deaths are found by polling at each period");
    }
  }
  return true;
}

std::optional<pid_t> ProcessProbe::pid_from_pidfile() {
  const std::string& path = spec().pidfile;
  auto text = read_small_file(path, 256);
  if (!text) return std::nullopt;
  auto pid = parse_pidfile(*text);
  if (!pid) return std::nullopt;
  // A stale pidfile may name a pid that now belongs to another program. The writer must have
  // started no later than the file was written, and must look like the declared program.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  char name[48];
  snprintf(name, sizeof name, "%d/stat", static_cast<int>(*pid));
  auto stat_text = read_small_file(ctx_.options.proc_root + "/" + name, 4096);
  if (!stat_text) return std::nullopt;
  auto ps = base::parse_pid_stat(*stat_text);
  auto uptime = system_uptime();
  if (!ps || !uptime) return std::nullopt;
  double process_age = *uptime - static_cast<double>(ps->starttime) / ticks_per_second_;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  double file_age = static_cast<double>(now.tv_sec - st.st_mtim.tv_sec) +
                    static_cast<double>(now.tv_nsec - st.st_mtim.tv_nsec) * 1e-9;
  // Two seconds of slack for clock granularity between the two clocks.
  if (process_age + 2.0 < file_age) return std::nullopt;
  if (regex_ && !cmdline_matches(*pid)) return std::nullopt;
  if (!spec().start.empty()) {
    snprintf(name, sizeof name, "%d/cmdline", static_cast<int>(*pid));
    auto raw = read_small_file(ctx_.options.proc_root + "/" + name, 4096);
    if (!raw) return std::nullopt;
    std::string_view argv0(raw->data(),
                           raw->find('\0') == std::string::npos ? raw->size() : raw->find('\0'));
    std::string_view want = basename_of(spec().start.front());
    // comm is the executable's name cut to 15 bytes; argv0 may have been rewritten.
    if (basename_of(argv0) != want && ps->comm != want.substr(0, 15)) return std::nullopt;
  }
  return pid;
}

bool ProcessProbe::cmdline_matches(pid_t pid) {
  char name[48];
  snprintf(name, sizeof name, "%d/cmdline", static_cast<int>(pid));
  int fd = ::openat(proc_fd_, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return false;  // kernel threads and zombies have an empty command line
  cmdline_to_string(std::string_view(buf, static_cast<std::size_t>(n)), cmdline_);
  return regex_->search(cmdline_);
}

std::optional<pid_t> ProcessProbe::pid_from_match() {
  // Of all matching processes the oldest (lowest start time) is the one watched, so a
  // short-lived helper with a similar command line does not steal the probe.
  pid_t self = getpid();
  std::optional<pid_t> best;
  std::uint64_t best_start = 0;
  char name[48];
  (void)for_each_pid(proc_fd_, [&](pid_t pid) {
    if (pid == self || !cmdline_matches(pid)) return;
    snprintf(name, sizeof name, "%d/stat", static_cast<int>(pid));
    int fd = ::openat(proc_fd_, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) return;
    auto ps = base::parse_pid_stat(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!ps || ps->state == 'Z') return;
    if (!best || ps->starttime < best_start) {
      best = pid;
      best_start = ps->starttime;
    }
  });
  return best;
}

bool ProcessProbe::locate() {
  std::optional<pid_t> pid;
  if (!spec().pidfile.empty()) {
    pid = pid_from_pidfile();
  } else if (regex_) {
    pid = pid_from_match();
  }
  return pid && adopt(*pid, false);
}

void ProcessProbe::poll() {
  if (pid_ == 0) locate();
  if (pid_ != 0) {
    if (sample()) {
      // alive and pid are event-driven: a process found by polling is news for discovery.
    } else {
      lost(std::nullopt);
    }
  }
  if (!health_.empty()) {
    if (ctx_.periodic) {
      if (!health_started_) start_health();
    } else {
      for (auto& h : health_) h->run([this] { write_health(); });
    }
  }
  ctx_.sink.sampled(object());
}

std::optional<double> ProcessProbe::system_uptime() {
  // /proc/uptime is CLOCK_BOOTTIME; reading the clock saves a syscall into procfs per
  // process. A fixture proc root has its own recorded uptime.
  if (use_boottime_) {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
  }
  auto text = uptime_.read();
  if (!text) return std::nullopt;
  return parse_uptime(*text);
}

bool ProcessProbe::sample() {
  auto text = stat_.read();
  if (!text) return false;
  auto ps = base::parse_pid_stat(*text);
  // A changed start time means the pid was reused by another process.
  if (!ps || ps->starttime != starttime_ || ps->state == 'Z' || ps->state == 'X') return false;
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  double now = base::monotonic_now();
  if (!supervised_) {
    sink.set_number(o, "alive", 1);
    sink.set_number(o, "pid", pid_);
  }
  char state[2] = {ps->state, '\0'};
  sink.set_string(o, "state", state);
  std::uint64_t ticks = ps->utime + ps->stime;
  if (have_prev_ && now > prev_time_ && ticks >= prev_ticks_) {
    double cpu = static_cast<double>(ticks - prev_ticks_) / ticks_per_second_ / (now - prev_time_);
    sink.set_number(o, "cpu", cpu * 100.0);
  } else {
    sink.set_number(o, "cpu", kUnknown);
  }
  sink.set_number(o, "rss", static_cast<double>(ps->rss_pages) * page_size_);
  sink.set_number(o, "threads", static_cast<double>(ps->threads));
  if (auto uptime = system_uptime()) {
    double age = *uptime - static_cast<double>(ps->starttime) / ticks_per_second_;
    sink.set_number(o, "uptime", age < 0 ? 0 : age);
  }
  double children = kUnknown;
  if (children_.is_open()) {
    if (auto c = children_.read()) children = static_cast<double>(count_pids(*c));
  }
  if (ps->threads > 1 && task_fd_ >= 0 && !std::isnan(children)) {
    // A child belongs to the thread that forked it (Go forks from any thread): add the other
    // threads' lists. Threads come and go, so their files are opened per sample.
    (void)for_each_pid(task_fd_, [&](pid_t tid) {
      if (tid == pid_) return;
      char path[48];
      snprintf(path, sizeof path, "%d/children", static_cast<int>(tid));
      int fd = ::openat(task_fd_, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) return;
      char buf[1024];
      ssize_t n = ::read(fd, buf, sizeof buf);
      ::close(fd);
      if (n > 0) children += static_cast<double>(count_pids({buf, static_cast<std::size_t>(n)}));
    });
  }
  sink.set_number(o, "children", children);
  double fds = kUnknown;
  if (fd_dir_fd_ >= 0) {
    if (auto n = count_open_fds(fd_dir_fd_, fd_counting_)) fds = static_cast<double>(*n);
  }
  sink.set_number(o, "fds", fds);
  double read_rate = kUnknown, write_rate = kUnknown;
  if (io_.is_open()) {
    auto io_text = io_.read();
    std::optional<PidIo> io;
    if (io_text) io = parse_pid_io(*io_text);
    if (io && have_prev_io_ && now > prev_time_ && io->read_bytes >= prev_io_.read_bytes &&
        io->write_bytes >= prev_io_.write_bytes) {
      read_rate = static_cast<double>(io->read_bytes - prev_io_.read_bytes) / (now - prev_time_);
      write_rate = static_cast<double>(io->write_bytes - prev_io_.write_bytes) / (now - prev_time_);
    }
    if (io) prev_io_ = *io;
    have_prev_io_ = io.has_value();
  }
  sink.set_number(o, "read_rate", read_rate);
  sink.set_number(o, "write_rate", write_rate);
  have_prev_ = true;
  prev_time_ = now;
  prev_ticks_ = ticks;
  return true;
}

void ProcessProbe::lost(std::optional<base::ExitStatus> status) {
  if (pid_ == 0) return;
  last_dead_pid_ = pid_;
  // The engine reaps its own children and reports how they ended: nothing to ask the proc
  // connector for (asking would rebuild its filter twice per restart, for an event that has
  // already gone by).
  last_exit_known_ = status.has_value() || owned_;
  release();
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  sink.set_string(o, "state", "");
  for (const char* attr :
       {"cpu", "rss", "threads", "children", "fds", "uptime", "read_rate", "write_rate"}) {
    sink.set_number(o, attr, kUnknown);
  }
  if (supervised_) return;  // its death is the supervisor's news
  sink.set_number(o, "alive", 0);
  sink.set_number(o, "pid", 0);
  if (status) write_exit(*status);
  sink.changed(o);
}

void ProcessProbe::on_pidfd_exit() {
  base::ExitStatus status;
  PidfdExit answer = query_pidfd_exit(pidfd_, &status);
  if (answer == PidfdExit::kKnown) {
    lost(status);
    return;
  }
  // The death is news now; the status follows from the proc connector's EXIT, or from the
  // pidfd once the parent has reaped the process (asked again a few times, backing off).
  int fd = pidfd_;
  ctx_.loop.unwatch(fd);
  pidfd_ = -1;  // kept out of release(): it is still needed for the status
  lost(std::nullopt);
  forget_dead_pidfd();
  if (answer == PidfdExit::kUnsupported) {
    ::close(fd);
    return;
  }
  dead_pidfd_ = fd;
  dead_queries_ = 0;
  query_dead_pidfd_later();
}

void ProcessProbe::query_dead_pidfd_later() {
  static constexpr std::chrono::milliseconds kDelays[] = {
      std::chrono::milliseconds(10), std::chrono::milliseconds(50), std::chrono::milliseconds(250),
      std::chrono::milliseconds(1000), std::chrono::milliseconds(5000)};
  if (dead_queries_ >= static_cast<int>(std::size(kDelays))) {
    forget_dead_pidfd();
    return;
  }
  dead_timer_ = ctx_.loop.add_timer_after(kDelays[dead_queries_++], [this] {
    dead_timer_ = 0;
    if (last_exit_known_) {  // the proc connector told it meanwhile
      forget_dead_pidfd();
      return;
    }
    base::ExitStatus status;
    PidfdExit answer = query_pidfd_exit(dead_pidfd_, &status);
    if (answer == PidfdExit::kKnown) {
      last_exit_known_ = true;
      interest_changed();
      write_exit(status);
      ctx_.sink.changed(object());
      forget_dead_pidfd();
    } else if (answer == PidfdExit::kNotYet) {
      query_dead_pidfd_later();
    } else {
      forget_dead_pidfd();
    }
  });
}

void ProcessProbe::forget_dead_pidfd() {
  if (dead_timer_ != 0) ctx_.loop.cancel_timer(dead_timer_);
  dead_timer_ = 0;
  if (dead_pidfd_ >= 0) ::close(dead_pidfd_);
  dead_pidfd_ = -1;
}

void ProcessProbe::write_exit(const base::ExitStatus& status) {
  // -1 when it did not exit by itself: killed by a signal, or not ours to know.
  ctx_.sink.set_number(object(), "exit_code", status.known ? status.exit_code : -1);
  ctx_.sink.set_number(object(), "exit_signal", status.signaled ? status.signal : 0);
}

void ProcessProbe::starting() {
  grace_until_ = base::monotonic_now() + spec().grace;
}

void ProcessProbe::follow(pid_t pid) {
  if (pid > 0) {
    grace_until_ = base::monotonic_now() + spec().grace;
    if (adopt(pid, true)) sample();
    return;
  }
  if (owned_) lost(std::nullopt);
  // A forking daemon's launcher exits once the daemon is up: look for it by pidfile.
  if ((!spec().pidfile.empty() || regex_) && locate()) sample();
}

void ProcessProbe::on_exec(pid_t pid) {
  if (pid_ != 0 || !regex_ || !spec().pidfile.empty()) return;
  if (pid == getpid() || !cmdline_matches(pid)) return;
  if (adopt(pid, false) && sample()) ctx_.sink.changed(object());
}

void ProcessProbe::on_exit(pid_t pid, int wait_status) {
  if (owned_) return;  // the engine reaps its children and reports their status
  if (pid != 0 && pid == pid_) {
    lost(base::ExitStatus::from_wait_status(wait_status));
  } else if (pid == last_dead_pid_ && !last_exit_known_) {
    // The pidfd woke first; the connector's event brings the status afterwards.
    last_exit_known_ = true;
    interest_changed();
    write_exit(base::ExitStatus::from_wait_status(wait_status));
    ctx_.sink.changed(object());
  }
}

void ProcessProbe::add_interest(ProcInterest& interest) const {
  if (pid_ == 0) {
    if (regex_ && spec().pidfile.empty()) interest.execs = true;  // as on_exec() looks
  } else if (!owned_) {
    interest.exits.push_back(pid_);
  }
  if (last_dead_pid_ != 0 && !last_exit_known_) interest.exits.push_back(last_dead_pid_);
}

void ProcessProbe::interest_changed() {
  // Most calls change nothing (a service's own child needs no event at all): only a change
  // of this probe's answer makes the connector ask every probe again.
  ProcInterest mine;
  add_interest(mine);
  if (mine == told_) return;
  told_ = std::move(mine);
  if (ctx_.proc_connector != nullptr) ctx_.proc_connector->interest_changed();
}

void ProcessProbe::on_events_lost() {
  // A lost EXIT is still caught by the pidfd or the next sample; a lost EXEC by the next poll.
}

void ProcessProbe::start_health() {
  health_started_ = true;
  for (auto& h : health_) h->start_periodic([this] { write_health(); });
}

void ProcessProbe::write_health() {
  bool all_ok = true, any = false;
  double latency = 0;
  for (const auto& h : health_) {
    if (!h->has_result()) continue;
    any = true;
    all_ok = all_ok && h->ok();
    latency = std::max(latency, h->latency());
  }
  if (!any) return;
  // During a service's start grace a failing check is not yet a failure: the service is
  // still coming up, and counting it would restart it a second time.
  if (supervised_ && base::monotonic_now() < grace_until_) all_ok = true;
  // A check refused by a service that has already died, its death not yet handled (a loop
  // busy with a storm of deaths handles them one by one): not a sick service but a dead one,
  // which its death restarts. Counting it would restart it twice. WNOWAIT: the engine reaps.
  if (!all_ok && owned_ && pid_ > 0) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_) {
      return;
    }
  }
  MeasurementSink& sink = ctx_.sink;
  sink.set_number(object(), "health.ok", all_ok ? 1 : 0);
  sink.set_number(object(), "health.failed", all_ok ? 0 : 1);
  sink.set_number(object(), "health.latency", latency);
  sink.health_checked(object());
  sink.changed(object());
}

}  // namespace amata::probes
