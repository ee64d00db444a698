// Recovery latency, measured from outside amatad: kill -9 N supervised services at once and
// time until each one's replacement is running — seen when the new process has written its
// pid file (inotify on the directory), i.e. the new process has been exec'd, run its first
// instruction and done one write. Reports p50/p99 over many rounds.
//
//   recovery_bench [--amatad PATH] [--rounds R] [--backend interp|jit] [N...]
//
// Defaults: the amatad built beside this binary, 50 rounds, interp, N = 1 3 100.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/meter/restart_meter.h"

#ifndef AMATAD_PATH
#define AMATAD_PATH "amatad"
#endif

namespace {

namespace fs = std::filesystem;
using amata::meter::now_ns;

pid_t read_pid(const std::string& path) {
  auto f = amata::meter::read_pidfile(path);
  return f ? f->pid : 0;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto index = static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(v.size() - 1)));
  return v[std::min(index, v.size() - 1)];
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

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
  std::vector<std::string> pidfiles;
  pidfiles.reserve(static_cast<std::size_t>(std::max(n, 0)));
  for (int i = 0; i < n; ++i) pidfiles.push_back(pids + "/s" + std::to_string(i));

  pid_t daemon = fork();
  if (daemon == 0) {
    int log = open((dir + "/amatad.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, 2);
    execl(amatad.c_str(), amatad.c_str(), (dir + "/policy.amata").c_str(), "--state-dir",
          (dir + "/state").c_str(), "--socket", "", "--hooks", (dir + "/hooks").c_str(),
          "--backend", backend.c_str(), "--log-level", "warn", nullptr);
    _exit(127);
  }
  // The kernel's view of each restart too: amatad's fork of the new process and its exec.
  amata::meter::RestartMeter meter({.pidfile_events = IN_CLOSE_WRITE, .supervisor = daemon});

  // Wait for every service to be up once.
  std::vector<pid_t> current(static_cast<std::size_t>(n));
  const std::int64_t up_deadline = now_ns() + 60 * 1000000000LL;
  for (bool up = false; !up && now_ns() < up_deadline;) {
    for (std::size_t i = 0; i < current.size(); ++i) current[i] = read_pid(pidfiles[i]);
    up = std::find(current.begin(), current.end(), 0) == current.end();
    if (!up) usleep(10000);
  }
  usleep(300000);  // let amatad's first probe pass settle

  for (int round = 0; round < rounds; ++round) {
    meter.clear();
    for (std::size_t i = 0; i < current.size(); ++i) meter.add(pidfiles[i], current[i]);
    const std::int64_t t0 = now_ns();
    for (std::size_t i = 0; i < current.size(); ++i) meter.kill(i);
    const std::int64_t round_deadline = t0 + 30 * 1000000000LL;
    while (!meter.all_running() && now_ns() < round_deadline) meter.wait(100000000);
    if (!meter.all_running()) {
      result.failures++;
      break;
    }
    double last = 0;
    // The kernel's timestamps arrive with the events; give the connector a moment to catch up.
    meter.settle(20000000);
    for (std::size_t i = 0; i < current.size(); ++i) {
      const amata::meter::Restart& r = meter.restart(i);
      double each = ms(r.running_ns - t0);
      result.each_ms.push_back(each);
      last = std::max(last, each);
      pid_t p = read_pid(pidfiles[i]);
      if (p == r.old_pid) result.failures++;
      if (r.dead_exact && meter.fork_ns(p) >= 0) {
        result.exit_to_fork_ms.push_back(ms(meter.fork_ns(p) - r.dead_ns));
      }
      if (r.dead_exact && meter.exec_ns(p) >= 0) {
        result.exit_to_exec_ms.push_back(ms(meter.exec_ns(p) - r.dead_ns));
      }
      current[i] = p;
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
