// compare_tcp_service: the small TCP service that every supervisor in bench/compare keeps
// alive. It listens on 127.0.0.1:PORT, then writes its pidfile (Monit finds processes by
// pidfile; the meter sees a new process through that file), and accepts and closes
// connections until it is killed. The pidfile's second line holds two CLOCK_MONOTONIC
// stamps, in ns: main() entered and listen() done. They let the meter time "running" by the
// service's own clock, whatever its own scheduling delay on a loaded machine. The third line
// says where the time from its fork to main() went, in ns: the CPU it used and the time it
// waited on a run queue for a CPU (its schedstat), the rest it slept or was blocked. C++ rather
// than a python3 one-liner: it starts in about a millisecond, so the figures measure the
// supervisors, not an interpreter starting up.
//
//   compare_tcp_service PORT PIDFILE [--daemon] [--burn MS]
// --daemon: detach first (fork, the parent exits 0, the child starts a new session with
// /dev/null for stdio). Monit waits for its start program to exit, so it needs this; amatad
// and supervisord run the service in the foreground.
// --burn MS: spend MS of CPU time (not wall time) before listening, as an interpreter's
// start-up does (python3 -m http.server: about 60 ms here), so that a storm of restarts
// competes for the CPU the way real services do.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

/// This process's life so far, from its fork (the same task before and after its exec).
struct StartCost {
  long long cpu_ns = -1;        // on a CPU
  long long run_delay_ns = -1;  // runnable, waiting on a run queue
};

/// Read first thing in main(). The CPU clock rather than schedstat's first field, which lags
/// for the task that reads it.
StartCost start_cost() {
  StartCost cost;
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0) {
    cost.cpu_ns = static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
  }
  if (FILE* f = std::fopen("/proc/self/schedstat", "r")) {
    long long on_cpu = 0;
    if (std::fscanf(f, "%lld %lld", &on_cpu, &cost.run_delay_ns) != 2) cost.run_delay_ns = -1;
    std::fclose(f);
  }
  return cost;
}

/// Writes `pid`, the two stamps and the start's cost to `path` atomically (temp file + rename),
/// so a reader never sees half a pid.
bool write_pidfile(const std::string& path, pid_t pid, long long started, long long listening,
                   StartCost cost) {
  std::string tmp = path + ".tmp." + std::to_string(pid);
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  bool ok = std::fprintf(f, "%d\n%lld %lld\n%lld %lld\n", static_cast<int>(pid), started, listening,
                         cost.cpu_ns, cost.run_delay_ns) > 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

/// Spins until this thread has used `ms` of CPU time.
void burn_cpu(long ms) {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  const long long until =
      static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
  volatile unsigned long spin = 0;
  for (;;) {
    for (int i = 0; i < 100000; ++i) spin = spin + 1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    if (static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec >= until) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long long started = now_ns();
  const StartCost cost = start_cost();
  bool daemon = false;
  long burn_ms = 0;
  bool usage = argc < 3;
  for (int i = 3; i < argc && !usage; ++i) {
    const std::string arg = argv[i];
    if (arg == "--daemon") {
      daemon = true;
    } else if (arg == "--burn" && i + 1 < argc) {
      burn_ms = std::atol(argv[++i]);
    } else {
      usage = true;
    }
  }
  if (usage) {
    std::fprintf(stderr, "usage: %s PORT PIDFILE [--daemon] [--burn MS]\n", argv[0]);
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "compare_tcp_service: bad port %s\n", argv[1]);
    return 2;
  }
  if (daemon) {
    pid_t child = fork();
    if (child < 0) {
      std::perror("compare_tcp_service: fork");
      return 1;
    }
    if (child > 0) _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
      close(null);
    }
  }
  if (burn_ms > 0) burn_cpu(burn_ms);
  // A client closing first must not kill the service.
  signal(SIGPIPE, SIG_IGN);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("compare_tcp_service: socket");
    return 1;
  }
  // The previous instance was killed a moment ago; its accepted connections may still sit in
  // TIME_WAIT on this port.
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    std::perror("compare_tcp_service: bind/listen");
    return 1;
  }
  if (!write_pidfile(argv[2], getpid(), started, now_ns(), cost)) {
    std::perror("compare_tcp_service: pidfile");
    return 1;
  }
  for (;;) {
    int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) {
      close(c);
    } else if (errno != EINTR && errno != ECONNABORTED) {
      std::perror("compare_tcp_service: accept");
      return 1;
    }
  }
}
