// cluster_node: a test helper that runs the ClusterManager on the EventLoop, the way amatad
// will, with one clustered demo service — `/usr/bin/python3 -S -m http.server PORT --bind ADDR`,
// started with fork/exec and killed by pid — and writes its view of the cluster to a JSON state
// file after every change (membership, quorum, owner, whether it runs the service, the ordered
// history of bus events). It also publishes a numbered event on the bus every
// --publish-ms, so that tests can compare the histories of all nodes.
//
// Usage: cluster_node --state FILE --bind ADDR [--port 8080] [--group amata]
//                     [--prefer n1,n2,n3] [--policy stop|freeze] [--publish-ms 250]
//                     [--fence "argv..."]  (run from inside the node's network namespace)
// Signals: SIGUSR1 requests `failover demo`, SIGUSR2 `failover demo to n3` (on the bus).
// Signals: SIGUSR1 requests `failover demo`, SIGUSR2 `failover demo to n3` (on the bus).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "engine/cluster/cluster_manager.h"

namespace {

using amata::base::EventLoop;
using amata::cluster::ClusterManager;
using nlohmann::json;

constexpr const char* kService = "demo";

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

/// Forks and execs `argv` in a new process group; the child dies with us (PDEATHSIG), so a
/// SIGKILLed node takes its service down like a crashed machine would.
pid_t spawn(const std::vector<std::string>& argv, int stdin_fd) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the loop blocked signals for signalfd
  int devnull = open("/dev/null", O_RDWR);
  dup2(stdin_fd >= 0 ? stdin_fd : devnull, 0);
  dup2(devnull, 1);
  dup2(devnull, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

/// Whether something accepts TCP connections at addr:port (in this network namespace).
bool accepts(const std::string& addr, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, addr.c_str(), &sa.sin_addr);
  // A local address answers a connect at once (SYN-ACK or RST), so this never waits long.
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  return ok;
}

class Node : public amata::cluster::ClusteredServices {
 public:
  Node(EventLoop& loop, std::string bind, int port, std::string state_path)
      : loop_(loop), bind_(std::move(bind)), port_(port), state_path_(std::move(state_path)) {}

  void set_manager(ClusterManager* m) { manager_ = m; }

  void start_clustered(const std::string& name, const std::string&) override {
    if (pid_ > 0) return;
    // The system's Python by path, as amatad's policy names it: a `python3` found on PATH
    // may be a version manager's shim (pyenv's costs ~100 ms per start), which would be
    // timed as part of the failover.
    pid_ = spawn(
        {"/usr/bin/python3", "-S", "-m", "http.server", std::to_string(port_), "--bind", bind_},
        -1);
    if (pid_ < 0) {
      pid_ = 0;
      log(true, "fork failed");
      manager_->service_gave_up(name);
      return;
    }
    stopping_ = false;
    started_at_ = amata::base::Clock::now();
    pidfd_ = pidfd_open(pid_);
    if (pidfd_ >= 0) (void)loop_.watch(pidfd_, EPOLLIN, [this](std::uint32_t) { on_exit(); });
    log(false, "spawned demo service pid " + std::to_string(pid_));
    poll_ready();
  }

  void stop_clustered(const std::string&, const std::string&) override {
    if (pid_ <= 0) {
      manager_->service_stopped(kService);
      return;
    }
    stopping_ = true;
    kill(pid_, SIGTERM);
    pid_t pid = pid_;
    loop_.add_timer_after(std::chrono::seconds(2), [this, pid] {
      if (pid_ == pid) kill(pid, SIGKILL);
    });
  }

  bool is_running(const std::string&) const override { return pid_ > 0; }

  void run_fence(const std::string&, const std::vector<std::string>& argv,
                 const std::string& stdin_text,
                 std::function<void(bool, std::string)> done) override {
    int fds[2];
    if (argv.empty() || pipe2(fds, O_CLOEXEC) < 0) {
      done(false, "cannot run fence agent");
      return;
    }
    pid_t pid = spawn(argv, fds[0]);
    close(fds[0]);
    (void)!write(fds[1], stdin_text.data(), stdin_text.size());
    close(fds[1]);
    int pidfd = pidfd_open(pid);
    (void)loop_.watch(pidfd, EPOLLIN, [this, pid, pidfd, done](std::uint32_t) {
      int status = 0;
      waitpid(pid, &status, 0);
      loop_.unwatch(pidfd);
      close(pidfd);
      bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      done(ok, "exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1));
    });
  }

  void shutdown() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }

  void log(bool warning, std::string_view message) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%.6f", wall_seconds());
    std::string line = std::string(stamp) + (warning ? " W " : " I ") + std::string(message);
    std::cerr << line << std::endl;
    log_.push_back(line);
    if (log_.size() > 300) log_.pop_front();
    dirty();
  }

  void on_bus(const amata::cluster::BusMessage& m) {
    history_.push_back(json{
        {"kind", m.kind == amata::cluster::BusMessage::Kind::kMembership ? "membership" : "event"},
        {"from", m.from},
        {"ring", std::to_string(m.ring.representative) + "." + std::to_string(m.ring.seq)},
        {"view", m.view},
        {"seq", m.seq},
        {"index", m.index},
        {"body", m.body}});
    dirty();
  }

  void on_peers(const std::vector<amata::cluster::PeerView>& peers) {
    peers_ = json::array();
    auto now = amata::base::Clock::now();
    for (const auto& p : peers)
      peers_.push_back(json{{"node_id", p.node_id},
                            {"name", p.name},
                            {"member", p.member},
                            {"quorate", p.quorate},
                            {"local", p.local},
                            {"since_s", std::chrono::duration<double>(now - p.since).count()}});
    dirty();
  }

  /// Coalesces state-file writes: one per loop iteration at most.
  void dirty() {
    if (write_pending_) return;
    write_pending_ = true;
    loop_.add_timer_after(std::chrono::milliseconds(0), [this] {
      write_pending_ = false;
      write_state();
    });
  }

  void publish_tick() {
    if (manager_ && manager_->status().connected)
      (void)manager_->publish(json{{"node", manager_->status().local_node}, {"n", ++ticks_}});
  }

 private:
  void poll_ready() {
    if (pid_ <= 0 || stopping_) return;
    if (accepts(bind_, port_)) {
      log(false, "demo service accepts connections");
      manager_->service_started(kService);
      (void)manager_->publish(json{{"node", manager_->status().local_node}, {"event", "started"}});
      return;
    }
    if (amata::base::Clock::now() - started_at_ > std::chrono::seconds(10)) {
      log(true, "demo service never accepted connections");
      stopping_ = true;
      gave_up_ = true;
      kill(pid_, SIGKILL);
      return;
    }
    loop_.add_timer_after(std::chrono::milliseconds(5), [this] { poll_ready(); });
  }

  void on_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    loop_.unwatch(pidfd_);
    close(pidfd_);
    pidfd_ = -1;
    log(!stopping_, "demo service pid " + std::to_string(pid_) + " exited");
    pid_ = 0;
    if (stopping_ && !gave_up_) {
      manager_->service_stopped(kService);
      (void)manager_->publish(json{{"node", manager_->status().local_node}, {"event", "stopped"}});
    } else {
      gave_up_ = false;
      manager_->service_gave_up(kService);
    }
    stopping_ = false;
  }

  void write_state() {
    if (!manager_) return;
    auto st = manager_->status();
    json owner = nullptr;
    if (auto it = st.owners.find(kService); it != st.owners.end() && it->second)
      owner = *it->second;
    json j{{"time", wall_seconds()},
           {"pid", getpid()},
           {"node_id", st.local_node},
           {"connected", st.connected},
           {"quorate", st.quorate},
           {"synced", st.synced},
           {"members", st.members},
           {"owner", owner},
           {"running", pid_ > 0 && !stopping_},
           {"service_pid", pid_},
           {"peers", peers_},
           {"history", history_},
           {"log", log_}};
    std::string tmp = state_path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << j.dump();
    }
    std::rename(tmp.c_str(), state_path_.c_str());
  }

  EventLoop& loop_;
  std::string bind_;
  int port_;
  std::string state_path_;
  ClusterManager* manager_ = nullptr;
  pid_t pid_ = 0;
  int pidfd_ = -1;
  bool stopping_ = false;
  bool gave_up_ = false;
  amata::base::Clock::time_point started_at_;
  json history_ = json::array();
  json peers_ = json::array();
  std::deque<std::string> log_;
  bool write_pending_ = false;
  std::uint64_t ticks_ = 0;
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string state, bind, group = "amata", prefer, policy = "stop", fence;
  int port = 8080, publish_ms = 250;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--state")
      state = v;
    else if (k == "--bind")
      bind = v;
    else if (k == "--port")
      port = std::stoi(v);
    else if (k == "--group")
      group = v;
    else if (k == "--prefer")
      prefer = v;
    else if (k == "--policy")
      policy = v;
    else if (k == "--publish-ms")
      publish_ms = std::stoi(v);
    else if (k == "--fence")
      fence = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  if (state.empty() || bind.empty()) {
    std::cerr << "usage: cluster_node --state FILE --bind ADDR [--port P] [--group G] "
                 "[--prefer n1,n2] [--policy stop|freeze] [--publish-ms MS] [--fence ARGV]\n";
    return 2;
  }
  auto loop = EventLoop::create();
  if (!loop.ok()) {
    std::cerr << loop.error().message << "\n";
    return 1;
  }
  Node node(**loop, bind, port, state);

  amata::cluster::ClusterConfig config;
  config.group = group;
  config.services.push_back(amata::cluster::ServicePlacement{kService, {}, false, true});
  if (!prefer.empty()) config.preferred_names[kService] = split(prefer, ',');
  config.on_quorum_loss = policy == "freeze" ? amata::cluster::QuorumLossPolicy::kFreeze
                                             : amata::cluster::QuorumLossPolicy::kStop;
  config.fence.argv = split(fence, ' ');

  amata::cluster::ClusterCallbacks callbacks;
  callbacks.on_log = [&node](bool warning, std::string_view m) { node.log(warning, m); };
  callbacks.on_bus = [&node](const amata::cluster::BusMessage& m) { node.on_bus(m); };
  callbacks.on_peers = [&node](const auto& peers) { node.on_peers(peers); };
  // Signals arrive through the loop (signalfd), blocked before any other setup.
  // SIGUSR1: `failover demo` (to the best other node); SIGUSR2: `failover demo to n3`.
  std::unique_ptr<ClusterManager> manager;
  (void)(*loop)->watch_signals(
      {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}, [&](const signalfd_siginfo& si) {
        if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
          std::optional<std::string> target;
          if (si.ssi_signo == SIGUSR2) target = "n3";
          if (auto st = manager->request_failover(kService, target); !st.ok())
            node.log(true, "failover request refused: " + st.error().message);
          return;
        }
        (*loop)->stop();
      });
  manager = ClusterManager::create(**loop, config, node, callbacks);
  node.set_manager(manager.get());

  std::function<void()> tick = [&] {
    node.publish_tick();
    (*loop)->add_timer_after(std::chrono::milliseconds(publish_ms), tick);
  };
  if (publish_ms > 0) (*loop)->add_timer_after(std::chrono::milliseconds(publish_ms), tick);
  (*loop)->set_error_handler([&node](std::string_view what) { node.log(true, what); });
  (void)(*loop)->run();
  node.shutdown();
  manager.reset();
  return 0;
} catch (const std::exception& e) {
  std::cerr << "cluster_node: " << e.what() << "\n";
  return 1;
}
