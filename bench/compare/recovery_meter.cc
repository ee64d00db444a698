// compare_meter: one repetition of the paper's experiment. Kills every listed service at once
// with SIGKILL and measures, per service, kill -> a new process running and kill -> the port
// accepting TCP connections again. Prints one JSON object on stdout.
//
//   compare_meter [--timeout SECONDS] [--supervisor PID] SERVICES_FILE
// SERVICES_FILE has one service a line: NAME PORT PIDFILE. With --supervisor, "forked" is the
// kernel's stamp of PID forking the new process and "exec" of that process's first exec (a
// service that daemonizes itself is forked by its start program instead: null). "start_cpu"
// and "start_run_delay" are what the new process says of its time from fork to main(): on a
// CPU, and waiting on a run queue for one.
//
// "Running" is the moment the new process entered main() and "listening" the moment its
// listen() returned, both stamped by the service itself (CLOCK_MONOTONIC, second line of its
// pidfile), so neither depends on when this meter gets the CPU; the pidfile is noticed through
// inotify on its directory. "Dead" (the kernel's part) is the old process's exit, stamped by the
// kernel (proc connector), or where that is refused its pidfd turning readable.
// "Accepting" is the first successful connect() to 127.0.0.1:PORT, tried every 0.5 ms once the new
// process runs (not before: the old listener might still be dying).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/meter/restart_meter.h"

namespace {

using amata::meter::now_ns;

struct Service {
  std::string name;
  int port = 0;
  std::string pidfile;
  std::int64_t accepting_ns = -1;  // kill -> connect succeeds
};

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

/// Milliseconds for the JSON, null while not seen.
std::string ms(std::int64_t ns) {
  return ns < 0 ? std::string("null") : std::to_string(static_cast<double>(ns) / 1e6);
}

/// `stamp` (the service's own, 0 when it wrote none) or else `seen`, minus `kill`.
std::int64_t since_kill(std::int64_t stamp, std::int64_t seen, std::int64_t kill) {
  return seen < 0 ? -1 : (stamp > 0 ? stamp : seen) - kill;
}

}  // namespace

int main(int argc, char** argv) {
  double timeout = 60;
  pid_t supervisor = 0;
  std::string list_path;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--timeout" && i + 1 < argc) {
      timeout = std::atof(argv[++i]);
    } else if (a == "--supervisor" && i + 1 < argc) {
      supervisor = static_cast<pid_t>(std::atoi(argv[++i]));
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

  // A busy machine forks a lot: a large connector buffer keeps the exits waited for. A pidfile
  // may be renamed into place or written in place; the sweep rereads one read half-written.
  amata::meter::RestartMeter meter({.pidfile_events = IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE,
                                    .receive_buffer = 4 << 20,
                                    .pidfds = true,
                                    .sweep_ns = 20000000,
                                    .supervisor = supervisor});
  if (!meter.ok()) {
    std::perror("compare_meter: inotify_init1");
    return 1;
  }
  for (const Service& s : services) {
    auto f = amata::meter::read_pidfile(s.pidfile);
    if (!f || kill(f->pid, 0) != 0) {
      std::fprintf(stderr, "compare_meter: %s is not running (pidfile %s)\n", s.name.c_str(),
                   s.pidfile.c_str());
      return 1;
    }
    if (!meter.add(s.pidfile, f->pid)) {
      std::perror("compare_meter: inotify_add_watch");
      return 1;
    }
  }

  // All at once: one tight loop of kill(2), each kill's own time kept.
  for (std::size_t i = 0; i < services.size(); ++i) {
    if (!meter.kill(i)) {
      std::perror("compare_meter: kill");
      return 1;
    }
  }
  const std::int64_t deadline = meter.restart(0).kill_ns + static_cast<std::int64_t>(timeout * 1e9);
  std::size_t done = 0;
  while (done < services.size()) {
    if (now_ns() > deadline) break;
    bool connecting = false;
    for (std::size_t i = 0; i < services.size(); ++i) {
      connecting |= meter.restart(i).running_ns >= 0 && services[i].accepting_ns < 0;
    }
    meter.wait(connecting ? 500000 : 10000000);
    // Connect only once the new process runs: the old listener might still be dying.
    for (std::size_t i = 0; i < services.size(); ++i) {
      const amata::meter::Restart& r = meter.restart(i);
      if (r.running_ns < 0 || services[i].accepting_ns >= 0) continue;
      if (accepts(services[i].port)) {
        services[i].accepting_ns = now_ns() - r.kill_ns;
        ++done;
      }
    }
  }

  // The kernel's fork stamps may come after the pidfiles; a busy machine's connector is never
  // quiet, so read it for a bounded while rather than until it is.
  for (const std::int64_t until = now_ns() + 50000000; now_ns() < until;) meter.wait(5000000);
  std::printf("{\"services\": [");
  for (std::size_t i = 0; i < services.size(); ++i) {
    const amata::meter::Restart& r = meter.restart(i);
    std::printf(
        "%s{\"name\": \"%s\", \"old_pid\": %d, \"new_pid\": %d, \"dead_ms\": %s, "
        "\"forked_ms\": %s, \"exec_ms\": %s, \"running_ms\": %s, \"listening_ms\": %s, "
        "\"accepting_ms\": %s, \"start_cpu_ms\": %s, \"start_run_delay_ms\": %s}",
        i ? ", " : "", services[i].name.c_str(), static_cast<int>(r.old_pid),
        static_cast<int>(r.running.pid), ms(r.dead_ns < 0 ? -1 : r.dead_ns - r.kill_ns).c_str(),
        ms(since_kill(0, meter.fork_ns(r.running.pid), r.kill_ns)).c_str(),
        ms(since_kill(0, meter.exec_ns(r.running.pid), r.kill_ns)).c_str(),
        ms(since_kill(r.running.started_ns, r.running_ns, r.kill_ns)).c_str(),
        ms(since_kill(r.running.listening_ns, r.running_ns, r.kill_ns)).c_str(),
        ms(services[i].accepting_ns).c_str(), ms(r.running.start_cpu_ns).c_str(),
        ms(r.running.start_run_delay_ns).c_str());
  }
  std::printf("]}\n");
  return done == services.size() ? 0 : 3;
}
