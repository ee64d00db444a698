// compare_meter: one repetition of the paper's experiment. Kills every listed service at once
// with SIGKILL and measures, per service, kill -> a new process running and kill -> the port
// accepting TCP connections again. Prints one JSON object on stdout.
//
//   compare_meter [--timeout SECONDS] SERVICES_FILE
// SERVICES_FILE has one service a line: NAME PORT PIDFILE.
//
// "Running" is the moment the new process entered main() and "listening" the moment its
// listen() returned, both stamped by the service itself (CLOCK_MONOTONIC, second line of its
// pidfile), so neither depends on when this meter gets the CPU; the pidfile is noticed through
// inotify on its directory. "Dead" (the kernel's part) is the old process's pidfd turning readable.
// "Accepting" is the first successful connect() to 127.0.0.1:PORT, tried every 0.5 ms once the new
// process runs (not before: the old listener might still be dying).
#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Service {
  std::string name;
  int port = 0;
  std::string pidfile;
  pid_t old_pid = 0;
  pid_t new_pid = 0;
  long long kill_ns = 0;
  int pidfd = -1;               // of the old process: readable once it has died
  long long dead_ns = -1;       // kill -> the old process has died (the kernel's part)
  bool dead_exact = false;      // dead_ns from the proc connector's own kernel timestamp
  long long running_ns = -1;    // kill -> new process running; -1 while not yet seen
  long long listening_ns = -1;  // kill -> new process listening
  long long accepting_ns = -1;  // kill -> connect succeeds
};

long long now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// A pidfile of compare_tcp_service: the pid and its two stamps (0 when absent).
struct PidFile {
  pid_t pid = 0;
  long long started_ns = 0, listening_ns = 0;
};

std::optional<PidFile> read_pidfile(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  PidFile f;
  f.pid = static_cast<pid_t>(pid);
  in >> f.started_ns >> f.listening_ns;
  return f;
}

bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Loopback connects complete (or are refused) within the call; a timeout guards against a
  // full backlog.
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

/// Sees whether the pidfile now names a process other than the killed one.
void check_pidfile(Service& s, long long now) {
  if (s.running_ns >= 0) return;
  auto f = read_pidfile(s.pidfile);
  if (f && f->pid != s.old_pid) {
    s.new_pid = f->pid;
    s.running_ns = (f->started_ns > 0 ? f->started_ns : now) - s.kill_ns;
    s.listening_ns = (f->listening_ns > 0 ? f->listening_ns : now) - s.kill_ns;
  }
}

/// A proc connector socket listening to every process event (exit events carry the kernel's
/// CLOCK_MONOTONIC timestamp, so the death is timed exactly even if this meter runs late).
/// -1 when the kernel refuses (then the pidfds time the deaths, as seen by this meter).
int open_proc_connector() {
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return -1;
  int size = 4 << 20;  // a busy machine forks a lot; do not drop the exits we wait for
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;
  alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(int))] = {};
  auto* nl = reinterpret_cast<nlmsghdr*>(buf);
  nl->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(int));
  nl->nlmsg_type = NLMSG_DONE;
  nl->nlmsg_pid = static_cast<__u32>(getpid());
  auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(int);
  int op = PROC_CN_MCAST_LISTEN;
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

int main(int argc, char** argv) {
  double timeout = 60;
  std::string list_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--timeout" && i + 1 < argc) {
      timeout = std::atof(argv[++i]);
    } else {
      list_path = a;
    }
  }
  if (list_path.empty()) {
    std::fprintf(stderr, "usage: %s [--timeout SECONDS] SERVICES_FILE\n", argv[0]);
    return 2;
  }
  std::vector<Service> services;
  {
    std::ifstream in(list_path);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      Service s;
      if (fields >> s.name >> s.port >> s.pidfile) services.push_back(s);
    }
  }
  if (services.empty()) {
    std::fprintf(stderr, "compare_meter: no services in %s\n", list_path.c_str());
    return 2;
  }

  int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino < 0) {
    std::perror("compare_meter: inotify_init1");
    return 1;
  }
  std::map<int, std::string> watch_dirs;                    // wd -> directory
  std::map<std::string, std::vector<std::size_t>> by_file;  // directory/basename -> services
  for (std::size_t i = 0; i < services.size(); ++i) {
    Service& s = services[i];
    auto f = read_pidfile(s.pidfile);
    if (!f || kill(f->pid, 0) != 0) {
      std::fprintf(stderr, "compare_meter: %s is not running (pidfile %s)\n", s.name.c_str(),
                   s.pidfile.c_str());
      return 1;
    }
    s.old_pid = f->pid;
    s.pidfd = static_cast<int>(syscall(SYS_pidfd_open, s.old_pid, 0));
    std::string dir = dirname_of(s.pidfile);
    int wd = inotify_add_watch(ino, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
    if (wd < 0) {
      std::perror("compare_meter: inotify_add_watch");
      return 1;
    }
    watch_dirs[wd] = dir;
    by_file[dir + "/" + basename_of(s.pidfile)].push_back(i);
  }

  const int connector = open_proc_connector();
  std::map<pid_t, std::size_t> by_old_pid;
  for (std::size_t i = 0; i < services.size(); ++i) by_old_pid[services[i].old_pid] = i;

  // All at once: one tight loop of kill(2), each kill's own time kept.
  for (Service& s : services) {
    s.kill_ns = now_ns();
    if (kill(s.old_pid, SIGKILL) != 0) {
      std::perror("compare_meter: kill");
      return 1;
    }
  }
  const long long start = services.front().kill_ns;
  const long long deadline = start + static_cast<long long>(timeout * 1e9);
  long long last_sweep = start;
  std::size_t done = 0;
  alignas(inotify_event) char buf[16384];
  while (done < services.size()) {
    long long now = now_ns();
    if (now > deadline) break;
    bool connecting = false;
    for (const Service& s : services) connecting |= s.running_ns >= 0 && s.accepting_ns < 0;
    std::vector<pollfd> pfds{{ino, POLLIN, 0}, {connector, POLLIN, 0}};
    std::vector<Service*> dying;
    for (Service& s : services) {
      if (s.pidfd >= 0 && s.dead_ns < 0) {
        pfds.push_back({s.pidfd, POLLIN, 0});
        dying.push_back(&s);
      }
    }
    timespec wait{0, connecting ? 500000 : 10000000};
    ppoll(pfds.data(), pfds.size(), &wait, nullptr);
    now = now_ns();
    for (std::size_t i = 2; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      Service& s = *dying[i - 2];
      if (!s.dead_exact) s.dead_ns = now - s.kill_ns;
      close(s.pidfd);
      s.pidfd = -1;
    }
    alignas(nlmsghdr) char nlbuf[65536];
    for (;;) {
      ssize_t n = connector < 0 ? -1 : recv(connector, nlbuf, sizeof nlbuf, 0);
      if (n <= 0) break;  // EAGAIN, or ENOBUFS after an overflow: the pidfds still time it
      for (auto* nl = reinterpret_cast<nlmsghdr*>(nlbuf); NLMSG_OK(nl, n); nl = NLMSG_NEXT(nl, n)) {
        auto* cn = static_cast<cn_msg*>(NLMSG_DATA(nl));
        auto* ev = reinterpret_cast<proc_event*>(cn->data);
        if (ev->what != proc_event::PROC_EVENT_EXIT) continue;
        if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid) continue;
        auto it = by_old_pid.find(ev->event_data.exit.process_tgid);
        if (it == by_old_pid.end()) continue;
        Service& s = services[it->second];
        s.dead_ns = static_cast<long long>(ev->timestamp_ns) - s.kill_ns;
        s.dead_exact = true;
      }
    }
    for (;;) {
      ssize_t n = read(ino, buf, sizeof buf);
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        p += sizeof(inotify_event) + ev->len;
        if (ev->len == 0) continue;
        auto it = by_file.find(watch_dirs[ev->wd] + "/" + ev->name);
        if (it == by_file.end()) continue;
        for (std::size_t i : it->second) check_pidfile(services[i], now);
      }
    }
    // A safety net only: inotify does not miss a rename, but a pidfile written in place
    // might be read half-written at its IN_CREATE.
    if (now - last_sweep > 20000000LL) {
      last_sweep = now;
      for (Service& s : services) check_pidfile(s, now);
    }
    for (Service& s : services) {
      if (s.running_ns < 0 || s.accepting_ns >= 0) continue;
      if (accepts(s.port)) {
        s.accepting_ns = now_ns() - s.kill_ns;
        ++done;
      }
    }
  }

  std::printf("{\"services\": [");
  for (std::size_t i = 0; i < services.size(); ++i) {
    const Service& s = services[i];
    auto ms = [](long long ns) {
      return ns < 0 ? std::string("null") : std::to_string(static_cast<double>(ns) / 1e6);
    };
    std::printf(
        "%s{\"name\": \"%s\", \"old_pid\": %d, \"new_pid\": %d, \"dead_ms\": %s, "
        "\"running_ms\": %s, \"listening_ms\": %s, \"accepting_ms\": %s}",
        i ? ", " : "", s.name.c_str(), static_cast<int>(s.old_pid), static_cast<int>(s.new_pid),
        ms(s.dead_ns).c_str(), ms(s.running_ns).c_str(), ms(s.listening_ns).c_str(),
        ms(s.accepting_ns).c_str());
  }
  std::printf("]}\n");
  if (connector >= 0) close(connector);
  return done == services.size() ? 0 : 3;
}
