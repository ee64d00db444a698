// compare_meter: one repetition of the paper's experiment. Kills every listed service at once
// with SIGKILL and measures, per service, kill -> a new process running and kill -> the port
// accepting TCP connections again. Prints one JSON object on stdout.
//
//   compare_meter [--timeout SECONDS] SERVICES_FILE
// SERVICES_FILE has one service a line: NAME PORT PIDFILE.
//
// "Running" is the moment the new process has written its pidfile (compare_tcp_service does
// that first thing in main), seen through inotify on the pidfile's directory — no polling
// delay. "Dead" (the kernel's part) is the old process's pidfd turning readable. "Accepting" is the
// first successful connect() to 127.0.0.1:PORT, tried every 0.5 ms once the new process runs (not
// before: the old listener might still be dying).
#include <arpa/inet.h>
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
  long long running_ns = -1;    // kill -> new process running; -1 while not yet seen
  long long accepting_ns = -1;  // kill -> connect succeeds
};

long long now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::optional<pid_t> read_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
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
  auto pid = read_pid(s.pidfile);
  if (pid && *pid != s.old_pid) {
    s.new_pid = *pid;
    s.running_ns = now - s.kill_ns;
  }
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
    auto pid = read_pid(s.pidfile);
    if (!pid || kill(*pid, 0) != 0) {
      std::fprintf(stderr, "compare_meter: %s is not running (pidfile %s)\n", s.name.c_str(),
                   s.pidfile.c_str());
      return 1;
    }
    s.old_pid = *pid;
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
    std::vector<pollfd> pfds{{ino, POLLIN, 0}};
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
    for (std::size_t i = 1; i < pfds.size(); ++i) {
      if (pfds[i].revents == 0) continue;
      dying[i - 1]->dead_ns = now - dying[i - 1]->kill_ns;
      close(dying[i - 1]->pidfd);
      dying[i - 1]->pidfd = -1;
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
        "\"running_ms\": %s, \"accepting_ms\": %s}",
        i ? ", " : "", s.name.c_str(), static_cast<int>(s.old_pid), static_cast<int>(s.new_pid),
        ms(s.dead_ns).c_str(), ms(s.running_ns).c_str(), ms(s.accepting_ns).c_str());
  }
  std::printf("]}\n");
  return done == services.size() ? 0 : 3;
}
