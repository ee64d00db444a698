#include "bench/meter/restart_meter.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

namespace amata::meter {
namespace {

/// A proc connector socket listening to every process event; -1 when the kernel refuses.
int open_proc_connector(int receive_buffer) {
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return -1;
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;
  // nlmsghdr, then cn_msg (whose data[] is the flexible tail), then the op.
  alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(buf);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = static_cast<__u32>(getpid());
  auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(proc_cn_mcast_op);
  proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(cn->data, &op, sizeof op);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      send(fd, buf, nl->nlmsg_len, 0) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::optional<PidFile> read_pidfile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  PidFile f;
  f.pid = static_cast<pid_t>(pid);
  long long started = 0, listening = 0;
  in >> started >> listening;
  f.started_ns = started;
  f.listening_ns = listening;
  long long cpu = -1, run_delay = -1;
  if (in >> cpu >> run_delay) {
    f.start_cpu_ns = cpu;
    f.start_run_delay_ns = run_delay;
  }
  return f;
}

RestartMeter::RestartMeter(Options options) : options_(options) {
  connector_ = open_proc_connector(options_.receive_buffer);
  inotify_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);  // last: errno is its own
}

RestartMeter::~RestartMeter() {
  clear();
  if (connector_ >= 0) close(connector_);
  if (inotify_ >= 0) close(inotify_);
}

bool RestartMeter::add(const std::string& pidfile, pid_t old_pid) {
  Target t;
  t.restart.pidfile = pidfile;
  t.restart.old_pid = old_pid;
  if (options_.pidfds) t.pidfd = static_cast<int>(syscall(SYS_pidfd_open, old_pid, 0));
  std::string dir = dirname_of(pidfile);
  if (!watched_dirs_.count(dir)) {
    int wd = inotify_add_watch(inotify_, dir.c_str(), options_.pidfile_events);
    if (wd < 0) {
      if (t.pidfd >= 0) close(t.pidfd);
      return false;
    }
    watched_dirs_[dir] = wd;
    dir_of_watch_[wd] = dir;
  }
  by_pidfile_[dir + "/" + basename_of(pidfile)].push_back(targets_.size());
  by_old_pid_[old_pid] = targets_.size();
  targets_.push_back(std::move(t));
  return true;
}

void RestartMeter::clear() {
  for (Target& t : targets_) {
    if (t.pidfd >= 0) close(t.pidfd);
  }
  targets_.clear();
  by_pidfile_.clear();
  by_old_pid_.clear();
  last_sweep_ns_ = -1;
}

bool RestartMeter::kill(std::size_t i) {
  Restart& r = targets_[i].restart;
  r.kill_ns = now_ns();
  if (last_sweep_ns_ < 0) last_sweep_ns_ = r.kill_ns;
  return ::kill(r.old_pid, SIGKILL) == 0;
}

void RestartMeter::wait(std::int64_t timeout_ns) {
  std::vector<pollfd> pfds{{inotify_, POLLIN, 0}, {connector_, POLLIN, 0}};
  std::vector<Target*> dying;
  for (Target& t : targets_) {
    if (t.pidfd >= 0 && t.restart.dead_ns < 0) {
      pfds.push_back({t.pidfd, POLLIN, 0});
      dying.push_back(&t);
    }
  }
  timespec wait{timeout_ns / 1000000000LL, timeout_ns % 1000000000LL};
  ppoll(pfds.data(), pfds.size(), &wait, nullptr);
  // One time for everything this wake-up shows: when the meter learnt it.
  const std::int64_t now = now_ns();
  for (std::size_t i = 2; i < pfds.size(); ++i) {
    if (pfds[i].revents == 0) continue;
    Target& t = *dying[i - 2];
    if (!t.restart.dead_exact) t.restart.dead_ns = now;
    close(t.pidfd);
    t.pidfd = -1;
  }
  read_connector();
  read_inotify(now);
  if (options_.sweep_ns > 0 && now - last_sweep_ns_ > options_.sweep_ns) {
    last_sweep_ns_ = now;
    for (Target& t : targets_) check_pidfile(t, now);
  }
}

void RestartMeter::settle(std::int64_t quiet_ns) {
  if (connector_ < 0) return;
  pollfd pfd{connector_, POLLIN, 0};
  timespec quiet{quiet_ns / 1000000000LL, quiet_ns % 1000000000LL};
  while (ppoll(&pfd, 1, &quiet, nullptr) > 0) read_connector();
}

bool RestartMeter::all_running() const {
  for (const Target& t : targets_) {
    if (t.restart.running_ns < 0) return false;
  }
  return true;
}

std::int64_t RestartMeter::fork_ns(pid_t child) const {
  auto it = forks_.find(child);
  return it == forks_.end() ? -1 : it->second;
}

std::int64_t RestartMeter::exec_ns(pid_t child) const {
  auto it = execs_.find(child);
  return it == execs_.end() ? -1 : it->second;
}

void RestartMeter::read_connector() {
  alignas(nlmsghdr) char buf[64 * 1024];
  for (;;) {
    ssize_t n = connector_ < 0 ? -1 : recv(connector_, buf, sizeof buf, 0);
    if (n <= 0) return;  // EAGAIN, or ENOBUFS after an overflow: the pidfds still time it
    for (auto* nl = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(nl, static_cast<unsigned>(n));
         nl = NLMSG_NEXT(nl, n)) {
      auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
      auto* ev = reinterpret_cast<proc_event*>(cn->data);
      auto stamp = static_cast<std::int64_t>(ev->timestamp_ns);
      switch (ev->what) {
        case proc_event::PROC_EVENT_EXIT: {
          const auto& exit = ev->event_data.exit;
          if (exit.process_pid != exit.process_tgid) break;  // a thread
          auto it = by_old_pid_.find(exit.process_tgid);
          if (it == by_old_pid_.end()) break;
          Restart& r = targets_[it->second].restart;
          r.dead_ns = stamp;
          r.dead_exact = true;
          break;
        }
        case proc_event::PROC_EVENT_FORK: {
          const auto& fork = ev->event_data.fork;
          if (options_.supervisor != 0 && fork.parent_tgid == options_.supervisor &&
              fork.child_pid == fork.child_tgid) {
            forks_[fork.child_pid] = stamp;
          }
          break;
        }
        case proc_event::PROC_EVENT_EXEC: {
          pid_t pid = ev->event_data.exec.process_pid;
          if (forks_.count(pid) && !execs_.count(pid)) execs_[pid] = stamp;
          break;
        }
        default:
          break;
      }
    }
  }
}

void RestartMeter::read_inotify(std::int64_t now) {
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(inotify_, buf, sizeof buf);
    if (n <= 0) return;
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->len == 0) continue;
      auto it = by_pidfile_.find(dir_of_watch_[ev->wd] + "/" + ev->name);
      if (it == by_pidfile_.end()) continue;
      for (std::size_t i : it->second) check_pidfile(targets_[i], now);
    }
  }
}

void RestartMeter::check_pidfile(Target& t, std::int64_t now) {
  Restart& r = t.restart;
  if (r.running_ns >= 0) return;
  auto f = read_pidfile(r.pidfile);
  if (f && f->pid != r.old_pid) {
    r.running_ns = now;
    r.running = *f;
  }
}

}  // namespace amata::meter
