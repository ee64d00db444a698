// Recovery latency, measured from outside amatad: kill -9 N supervised services at once and
// time until each one's replacement is running — seen when the new process has written its
// pid file (inotify on the directory), i.e. the new process has been exec'd, run its first
// instruction and done one write. Reports p50/p99 over many rounds.
//
//   recovery_bench [--amatad PATH] [--rounds R] [--backend interp|jit] [N...]
//
// Defaults: the amatad built beside this binary, 50 rounds, interp, N = 1 3 100.
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef AMATAD_PATH
#define AMATAD_PATH "amatad"
#endif

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t read_pid(const std::string& path) {
  std::string text = read_file(path);
  return text.empty() ? 0 : static_cast<pid_t>(std::atoi(text.c_str()));
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(index, v.size() - 1)];
}

/// The kernel's own view of a restart through the proc connector: when the killed process
/// exited, when amatad forked its replacement and when that replacement exec'd. Timestamps
/// are the kernel's (CLOCK_MONOTONIC), so the bench's own scheduling does not count.
class ProcConnector {
 public:
  ProcConnector() {
    fd_ = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (fd_ < 0) return;
    sockaddr_nl addr{};
    addr.nl_family = AF_NETLINK;
    addr.nl_groups = CN_IDX_PROC;
    addr.nl_pid = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
      close_fd();
      return;
    }
    // nlmsghdr, then cn_msg (whose data[] is the flexible tail), then the op.
    alignas(nlmsghdr) char request[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
    auto* header = reinterpret_cast<nlmsghdr*>(request);
    header->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
    header->nlmsg_type = NLMSG_DONE;
    auto* message = reinterpret_cast<cn_msg*>(NLMSG_DATA(header));
    message->id.idx = CN_IDX_PROC;
    message->id.val = CN_VAL_PROC;
    message->len = sizeof(proc_cn_mcast_op);
    proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
    std::memcpy(message->data, &op, sizeof op);
    if (send(fd_, request, header->nlmsg_len, 0) < 0) close_fd();
  }
  ~ProcConnector() { close_fd(); }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  /// Reads every pending event into the maps (ns timestamps).
  void read_events(pid_t daemon) {
    alignas(nlmsghdr) char buf[64 * 1024];
    ssize_t len;
    while ((len = recv(fd_, buf, sizeof buf, 0)) > 0) {
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(len));
           h = NLMSG_NEXT(h, len)) {
        auto* msg = reinterpret_cast<cn_msg*>(NLMSG_DATA(h));
        auto* ev = reinterpret_cast<proc_event*>(msg->data);
        switch (ev->what) {
          case proc_event::PROC_EVENT_EXIT:
            if (ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid) {
              exits[ev->event_data.exit.process_pid] = ev->timestamp_ns;
            }
            break;
          case proc_event::PROC_EVENT_FORK:
            if (ev->event_data.fork.parent_tgid == daemon &&
                ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid) {
              forks[ev->event_data.fork.child_pid] = ev->timestamp_ns;
            }
            break;
          case proc_event::PROC_EVENT_EXEC:
            if (forks.count(ev->event_data.exec.process_pid) &&
                !execs.count(ev->event_data.exec.process_pid)) {
              execs[ev->event_data.exec.process_pid] = ev->timestamp_ns;
            }
            break;
          default:
            break;
        }
      }
    }
  }
  std::map<pid_t, unsigned long long> exits, forks, execs;

 private:
  void close_fd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

struct Result {
  int services = 0;
  std::vector<double> exit_to_fork_ms;  // kernel: old process exited -> amatad forked anew
  std::vector<double> exit_to_exec_ms;  // kernel: old process exited -> new one exec'd
  std::vector<double> each_ms;          // per restarted service: kill -> its new process running
  std::vector<double> all_ms;           // per round: kill -> the last of the N running again
  int failures = 0;
};

Result run(const std::string& amatad, const std::string& backend, int n, int rounds) {
  Result result;
  result.services = n;
  char tmpl[] = "/tmp/amata-recovery-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string pids = dir + "/pids";
  fs::create_directories(pids);
  fs::create_directories(dir + "/state");
  std::ostringstream policy;
  policy << "policy recovery_bench\n";
  for (int i = 0; i < n; ++i) {
    // The shell writes its pid (a shell builtin: no extra process), then becomes the
    // long-running process; the file's close is the moment we count as "running".
    policy << "service s" << i << " { start \"/bin/sh\" \"-c\" \"echo $$ > " << pids << "/s" << i
           << "; exec sleep 100000\" }\n";
  }
  policy << "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
            "recover ServiceDown(s) { restart s }\n";
  std::ofstream(dir + "/policy.amata") << policy.str();

  ProcConnector connector;
  int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  inotify_add_watch(inotify, pids.c_str(), IN_CLOSE_WRITE);

  pid_t daemon = fork();
  if (daemon == 0) {
    int log = open((dir + "/amatad.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 2);
    execl(amatad.c_str(), amatad.c_str(), (dir + "/policy.amata").c_str(), "--state-dir",
          (dir + "/state").c_str(), "--socket", "", "--hooks", (dir + "/hooks").c_str(),
          "--backend", backend.c_str(), "--log-level", "warn", nullptr);
    _exit(127);
  }

  auto drain = [&](std::map<std::string, Clock::time_point>& seen, int timeout_ms) {
    pollfd pfd[2] = {{inotify, POLLIN, 0}, {connector.fd(), POLLIN, 0}};
    if (poll(pfd, connector.ok() ? 2 : 1, timeout_ms) <= 0) return;
    auto now = Clock::now();
    if (connector.ok()) connector.read_events(daemon);
    alignas(inotify_event) char buf[64 * 1024];
    ssize_t len;
    while ((len = read(inotify, buf, sizeof buf)) > 0) {
      for (char* p = buf; p < buf + len;) {
        auto* ev = reinterpret_cast<inotify_event*>(p);
        if (ev->len > 0 && ev->name[0] == 's') seen.emplace(ev->name, now);
        p += sizeof(inotify_event) + ev->len;
      }
    }
  };

  // Wait for every service to be up once.
  std::map<std::string, Clock::time_point> seen;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (static_cast<int>(seen.size()) < n && Clock::now() < deadline) drain(seen, 100);
  std::vector<pid_t> current(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    current[static_cast<std::size_t>(i)] = read_pid(pids + "/s" + std::to_string(i));
  usleep(300000);  // let amatad's first probe pass settle

  for (int round = 0; round < rounds; ++round) {
    seen.clear();
    auto t0 = Clock::now();
    for (pid_t p : current) kill(p, SIGKILL);
    auto round_deadline = t0 + std::chrono::seconds(30);
    while (static_cast<int>(seen.size()) < n && Clock::now() < round_deadline) drain(seen, 100);
    if (static_cast<int>(seen.size()) < n) {
      result.failures++;
      break;
    }
    double last = 0;
    // The kernel's timestamps arrive with the events; give the connector a moment to catch up.
    if (connector.ok()) {
      pollfd pfd{connector.fd(), POLLIN, 0};
      while (poll(&pfd, 1, 20) > 0) connector.read_events(daemon);
    }
    for (int i = 0; i < n; ++i) {
      auto it = seen.find("s" + std::to_string(i));
      double ms = std::chrono::duration<double, std::milli>(it->second - t0).count();
      result.each_ms.push_back(ms);
      last = std::max(last, ms);
      pid_t p = read_pid(pids + "/s" + std::to_string(i));
      pid_t old = current[static_cast<std::size_t>(i)];
      if (p == old) result.failures++;
      if (connector.exits.count(old) && connector.forks.count(p)) {
        result.exit_to_fork_ms.push_back(
            static_cast<double>(connector.forks[p] - connector.exits[old]) / 1e6);
      }
      if (connector.exits.count(old) && connector.execs.count(p)) {
        result.exit_to_exec_ms.push_back(
            static_cast<double>(connector.execs[p] - connector.exits[old]) / 1e6);
      }
      current[static_cast<std::size_t>(i)] = p;
    }
    result.all_ms.push_back(last);
    usleep(n >= 100 ? 200000 : 50000);  // an idle machine between rounds
  }

  kill(daemon, SIGTERM);
  int status;
  waitpid(daemon, &status, 0);
  for (pid_t p : current) {
    if (p > 0 && kill(p, 0) == 0) kill(p, SIGKILL);  // only if amatad left one behind
  }
  close(inotify);
  fs::remove_all(dir);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::string amatad = AMATAD_PATH, backend = "interp";
  int rounds = 50;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--amatad" && i + 1 < argc) {
      amatad = argv[++i];
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--backend" && i + 1 < argc) {
      backend = argv[++i];
    } else {
      sizes.push_back(std::atoi(a.c_str()));
    }
  }
  if (sizes.empty()) sizes = {1, 3, 100};
  std::printf(
      "backend %s, %d rounds, kill -9 of N services at once; milliseconds\n"
      "fork: old exited -> amatad forked (kernel); exec: old exited -> new exec'd "
      "(kernel);\npid: kill -> new process wrote its pid file; all: kill -> the last of "
      "the N wrote it\n",
      backend.c_str(), rounds);
  std::printf("%8s %9s %9s %9s %9s %9s %9s %9s %9s %9s %6s\n", "services", "fork p50", "fork p99",
              "exec p50", "exec p99", "pid p50", "pid p99", "pid max", "all p50", "all p99",
              "fail");
  for (int n : sizes) {
    Result r = run(amatad, backend, n, rounds);
    std::printf("%8d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %6d\n", r.services,
                percentile(r.exit_to_fork_ms, 50), percentile(r.exit_to_fork_ms, 99),
                percentile(r.exit_to_exec_ms, 50), percentile(r.exit_to_exec_ms, 99),
                percentile(r.each_ms, 50), percentile(r.each_ms, 99),
                r.each_ms.empty() ? 0.0 : *std::max_element(r.each_ms.begin(), r.each_ms.end()),
                percentile(r.all_ms, 50), percentile(r.all_ms, 99), r.failures);
    std::fflush(stdout);
  }
  return 0;
}
