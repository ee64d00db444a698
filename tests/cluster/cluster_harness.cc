#include "tests/cluster/cluster_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

namespace amata::cluster::testing {
namespace {

namespace fs = std::filesystem;

std::string tail(const std::string& path, std::size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

/// Replaces every `from` in `text` by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

}  // namespace

std::string ClusterHarness::documented_corosync_conf() {
  std::ifstream in(AMATA_OPERATIONS_MD);
  std::string line, out;
  enum { kBefore, kMarker, kInside } where = kBefore;
  while (std::getline(in, line)) {
    if (where == kBefore && line.rfind("<!-- corosync.conf:", 0) == 0) {
      where = kMarker;
    } else if (where == kMarker && line.rfind("```", 0) == 0) {
      where = kInside;
    } else if (where == kInside) {
      if (line.rfind("```", 0) == 0) return out;
      out += line + "\n";
    }
  }
  return "";
}

std::string ClusterHarness::corosync_conf(const std::string& documented, const TotemSettings& totem,
                                          const std::string& dir, int i, int nodes) {
  std::string conf = replace_all(documented, "ring0_addr: 10.0.0.", "ring0_addr: 10.250.0.");
  if (nodes > 3) {
    // The nodelist closes with "  }\n}\n" after the documented n3; later nodes go before it.
    std::string more;
    for (int j = 4; j <= nodes; ++j) {
      const std::string id = std::to_string(j);
      more += "  node {\n    ring0_addr: 10.250.0." + id + "\n    nodeid: " + id + "\n    name: n" +
              id + "\n  }\n";
    }
    const std::string last = "    name: n3\n  }\n";
    if (auto at = conf.find(last); at != std::string::npos) conf.insert(at + last.size(), more);
  }
  conf = replace_all(conf, "keyfile: /etc/corosync/authkey", "keyfile: " + dir + "/authkey");
  // The documented timing is TotemSettings{}; only the benchmark asks for others.
  const TotemSettings documented_totem;
  if (totem.token_ms != documented_totem.token_ms ||
      totem.token_coefficient_ms != documented_totem.token_coefficient_ms ||
      totem.knet_ping != documented_totem.knet_ping) {
    std::istringstream in(conf);
    std::string line, out;
    bool in_interface = false;
    while (std::getline(in, line)) {
      if (line == "  token: " + std::to_string(documented_totem.token_ms)) {
        line = "  token: " + std::to_string(totem.token_ms);
      } else if (line.rfind("  token_coefficient: ", 0) == 0) {
        if (!totem.token_coefficient_ms) continue;
        line = "  token_coefficient: " + std::to_string(*totem.token_coefficient_ms);
      } else if (line == "  interface {") {
        in_interface = true;
        if (!totem.knet_ping) continue;
      } else if (in_interface) {
        if (line == "  }") in_interface = false;
        if (!totem.knet_ping) continue;
        if (line.rfind("    knet_ping_interval: ", 0) == 0)
          line = "    knet_ping_interval: " + std::to_string(totem.knet_ping->first);
        if (line.rfind("    knet_ping_timeout: ", 0) == 0)
          line = "    knet_ping_timeout: " + std::to_string(totem.knet_ping->second);
      }
      out += line + "\n";
    }
    conf = out;
  }
  const std::string d = dir + "/n" + std::to_string(i);
  return conf + "logging {\n  to_stderr: no\n  to_logfile: yes\n  logfile: " + d +
         "/corosync.log\n  to_syslog: no\n  timestamp: hires\n}\nsystem {\n  state_dir: " + d +
         "/lib\n" + (totem.realtime ? "" : "  sched_rr: no\n") + "}\n";
}

ClusterHarness::ClusterHarness(int nodes, TotemSettings totem, std::string cluster_node,
                               std::vector<std::string> node_args, int ring)
    : n_(nodes),
      ring_(ring > 0 && ring < nodes ? ring : nodes),
      totem_(totem),
      cluster_node_(std::move(cluster_node)),
      node_args_(std::move(node_args)),
      corosync_pid_(nodes + 1, 0),
      node_pid_(nodes + 1, 0) {
  if (geteuid() != 0) {
    usable_ = false;
    why_ = "needs root (network namespaces)";
    return;
  }
  if (access("/usr/sbin/corosync", X_OK) != 0 || access(cluster_node_.c_str(), X_OK) != 0) {
    usable_ = false;
    why_ = "corosync or " + cluster_node_ + " not found";
    return;
  }
  // A crashed node's amatad leaves its services (own session) behind; as a subreaper this
  // process inherits them and crash_node() reaps them once killed. This machine's init does
  // not reap orphans: without it every crash would leave a zombie.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  static std::atomic<int> instance{0};
  // Unique per process and per harness, so concurrent test runs never share a name.
  prefix_ = "am" + std::to_string(getpid()) + static_cast<char>('a' + instance++ % 26);
  char tmpl[] = "/tmp/amata-cluster-XXXXXX";
  if (!mkdtemp(tmpl)) {
    usable_ = false;
    why_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;

  const std::string documented = documented_corosync_conf();
  if (documented.empty()) {
    usable_ = false;
    why_ = std::string("no corosync.conf block in ") + AMATA_OPERATIONS_MD;
    return;
  }
  // The documented key file, made as the docs say (one key, shared by every node).
  run({"corosync-keygen", "-k", dir_ + "/authkey"});

  std::string bridge = prefix_ + "b";
  run({"ip", "netns", "add", bridge});
  made_netns_.push_back(bridge);
  run({"ip", "-n", bridge, "link", "set", "lo", "up"});
  run({"ip", "-n", bridge, "link", "add", "br0", "type", "bridge"});
  run({"ip", "-n", bridge, "link", "set", "br0", "up"});
  for (int i = 1; i <= n_ && usable_; ++i) {
    std::string ns = netns(i), port = "cb" + std::to_string(i);
    run({"ip", "netns", "add", ns});
    made_netns_.push_back(ns);
    run({"ip", "-n", ns, "link", "set", "lo", "up"});
    run({"ip", "-n", bridge, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns",
         ns});
    run({"ip", "-n", bridge, "link", "set", port, "master", "br0"});
    run({"ip", "-n", bridge, "link", "set", port, "up"});
    run({"ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"});
    run({"ip", "-n", ns, "link", "set", "eth0", "up"});

    std::string d = node_dir(i);
    fs::create_directories(d + "/run");
    fs::create_directories(d + "/lib");
    if (i <= ring_)
      write_file(d + "/corosync.conf", corosync_conf(documented, totem_, dir_, i, ring_));
  }
}

ClusterHarness::~ClusterHarness() {
  // Everything in a node's namespace, not only what the harness started itself: a service
  // that outlived a SIGKILLed amatad would otherwise keep running in a nameless namespace.
  for (int i = 1; i <= n_; ++i) crash_node(i);
  for (auto it = made_netns_.rbegin(); it != made_netns_.rend(); ++it)
    run({"ip", "netns", "del", *it}, false);
  // A SIGKILLed corosync leaves its libqb ring buffers in /dev/shm, named after its pid.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/dev/shm", ec)) {
    std::string name = entry.path().filename().string();
    for (pid_t pid : every_corosync_) {
      std::string p = std::to_string(pid);
      if (name.rfind("qb-" + p + "-", 0) == 0 || name.rfind("qb-corosync-" + p + "-", 0) == 0)
        fs::remove_all(entry.path(), ec);
    }
  }
  // AMATA_CLUSTER_KEEP=1 keeps the logs and state files for a post-mortem.
  if (!dir_.empty() && !std::getenv("AMATA_CLUSTER_KEEP")) fs::remove_all(dir_, ec);
}

std::string ClusterHarness::node_dir(int i) const {
  return dir_ + "/n" + std::to_string(i);
}

void ClusterHarness::run(const std::vector<std::string>& argv, bool check) {
  pid_t pid = spawn(argv, "");
  int status = 0;
  waitpid(pid, &status, 0);
  if (check && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    usable_ = false;
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    why_ += "failed: " + cmd + "; ";
  }
}

pid_t ClusterHarness::spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // If the test process dies, everything it started dies too (no stray corosync).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int in = open("/dev/null", O_RDONLY);
  int out = log.empty() ? open("/dev/null", O_WRONLY)
                        : open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  dup2(in, 0);
  dup2(out, 1);
  dup2(out, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

void ClusterHarness::reap(pid_t& pid) {
  if (pid > 0) waitpid(pid, nullptr, 0);
  pid = 0;
}

void ClusterHarness::start_corosync(int i) {
  std::string d = node_dir(i);
  std::error_code ec;
  fs::remove_all(d + "/run", ec);
  fs::create_directories(d + "/run");
  // ip netns exec -> unshare -> sh -> exec corosync: the pid we get is corosync's. The private
  // mount namespace gives each instance its own /run (corosync's pid file is hard-coded).
  corosync_pid_[i] = spawn(
      {"ip", "netns", "exec", netns(i), "unshare", "-m", "--propagation", "private", "sh", "-c",
       "mount --bind " + d + "/run /run && exec corosync -f -c " + d + "/corosync.conf"},
      d + "/corosync.stdout");
  every_corosync_.push_back(corosync_pid_[i]);
}

void ClusterHarness::start_node(int i) {
  std::string d = node_dir(i);
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   netns(i),
                                   cluster_node_,
                                   "--state",
                                   d + "/state.json",
                                   "--bind",
                                   address(i),
                                   "--port",
                                   std::to_string(port())};
  for (std::string a : node_args_) {
    if (auto at = a.find("{dir}"); at != std::string::npos) a.replace(at, 5, dir_);
    argv.push_back(a);
  }
  if (node_command_) {
    argv = {"ip", "netns", "exec", netns(i)};
    for (std::string a : node_command_(i)) {
      if (auto at = a.find("{dir}"); at != std::string::npos) a.replace(at, 5, dir_);
      argv.push_back(a);
    }
  }
  node_pid_[i] = spawn(argv, d + "/node.log");
}

bool ClusterHarness::stop_node(int i, int signal, std::chrono::milliseconds grace) {
  if (node_pid_[i] <= 0) return true;
  kill(node_pid_[i], signal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(node_pid_[i], nullptr, WNOHANG) == node_pid_[i]) {
      node_pid_[i] = 0;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(node_pid_[i], SIGKILL);
  reap(node_pid_[i]);
  return false;
}

void ClusterHarness::start_all() {
  for (int i = 1; i <= ring_; ++i) start_corosync(i);
  for (int i = 1; i <= n_; ++i) start_node(i);
}

void ClusterHarness::kill_corosync(int i) {
  if (corosync_pid_[i] > 0) kill(corosync_pid_[i], SIGKILL);
  reap(corosync_pid_[i]);
}

void ClusterHarness::kill_node(int i) {
  if (node_pid_[i] > 0) kill(node_pid_[i], SIGKILL);
  reap(node_pid_[i]);
}

std::vector<pid_t> ClusterHarness::pids_in_netns(int i) const {
  // What `ip netns pids` does: every process whose ns/net is the namespace's inode. A dead
  // process (zombie) has no namespaces any more, so only live ones are listed.
  std::vector<pid_t> out;
  struct stat ns {};
  if (prefix_.empty() || stat(("/run/netns/" + netns(i)).c_str(), &ns) != 0) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (stat(("/proc/" + name + "/ns/net").c_str(), &st) == 0 && st.st_dev == ns.st_dev &&
        st.st_ino == ns.st_ino)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

void ClusterHarness::crash_node(int i) {
  // Corosync first: were amatad to die while its corosync still ran, corosync would tell the
  // others at once ("amatad died", ~15 ms) instead of the totem timeout a crash costs.
  if (corosync_pid_[i] > 0) kill(corosync_pid_[i], SIGKILL);
  if (node_pid_[i] > 0) kill(node_pid_[i], SIGKILL);
  std::set<pid_t> killed;
  // Repeat until the namespace is empty: a process may be half-way through a fork.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto pids = pids_in_netns(i);
    if (pids.empty() || std::chrono::steady_clock::now() > deadline) break;
    for (pid_t p : pids) {
      kill(p, SIGKILL);
      killed.insert(p);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  killed.erase(corosync_pid_[i]);
  killed.erase(node_pid_[i]);
  reap(corosync_pid_[i]);
  reap(node_pid_[i]);
  // The orphans (the services) are this process's children now (subreaper); the others
  // were reaped by their own parents.
  for (pid_t p : killed) waitpid(p, nullptr, 0);
}

int ClusterHarness::quorum_members_seen(int i) const {
  // corosync logs "[QUORUM] Members[N]: ..." at every change of the quorum membership.
  std::ifstream in(node_dir(i) + "/corosync.log");
  int seen = 0;
  const std::string marker = "[QUORUM] Members[";
  for (std::string line; std::getline(in, line);) {
    if (auto at = line.find(marker); at != std::string::npos)
      seen = std::atoi(line.c_str() + at + marker.size());
  }
  return seen;
}

void ClusterHarness::signal_node(int i, int signal) {
  if (node_pid_[i] > 0) kill(node_pid_[i], signal);
}

void ClusterHarness::signal_corosync(int i, int signal) {
  if (corosync_pid_[i] > 0) kill(corosync_pid_[i], signal);
}

void ClusterHarness::set_link(int i, bool up) {
  run({"ip", "-n", netns(i), "link", "set", "eth0", up ? "up" : "down"});
}

void ClusterHarness::partition(const std::vector<int>& side) {
  const std::string bridge = prefix_ + "b";
  if (partitioned_.empty()) {
    run({"ip", "-n", bridge, "link", "add", "br1", "type", "bridge"}, false);
    run({"ip", "-n", bridge, "link", "set", "br1", "up"});
  }
  for (int i : side) {
    run({"ip", "-n", bridge, "link", "set", "cb" + std::to_string(i), "master", "br1"});
    partitioned_.push_back(i);
  }
}

void ClusterHarness::heal() {
  const std::string bridge = prefix_ + "b";
  for (int i : partitioned_)
    run({"ip", "-n", bridge, "link", "set", "cb" + std::to_string(i), "master", "br0"});
  partitioned_.clear();
}

nlohmann::json ClusterHarness::state(int i) const {
  std::ifstream in(node_dir(i) + "/state.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

int ClusterHarness::socket_in(int i) const {
  // setns() changes only the calling thread's namespace; a socket keeps the namespace it was
  // created in, so the test thread can use it afterwards.
  int fd = -1;
  std::string path = "/run/netns/" + netns(i);
  std::thread t([&] {
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return;
    if (setns(ns, CLONE_NEWNET) == 0) fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    close(ns);
  });
  t.join();
  return fd;
}

bool ClusterHarness::serves(int i, int port) const {
  int fd = socket_in(i);
  if (fd < 0) return false;
  fcntl(fd, F_SETFL, O_NONBLOCK);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port != 0 ? port : this->port()));
  inet_pton(AF_INET, address(i).c_str(), &sa.sin_addr);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    ok = true;
  } else if (errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 300) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  close(fd);
  return ok;
}

std::vector<int> ClusterHarness::serving(int port) const {
  std::vector<int> out;
  for (int i = 1; i <= n_; ++i)
    if (serves(i, port)) out.push_back(i);
  return out;
}

bool ClusterHarness::wait_until(const std::function<bool()>& pred,
                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

bool ClusterHarness::settled(const std::vector<int>& which) const {
  nlohmann::json expected = nlohmann::json::array();
  for (int i : which) expected.push_back(i);
  for (int i : which) {
    auto s = state(i);
    if (!s.value("connected", false) || !s.value("quorate", false) || !s.value("synced", false))
      return false;
    if (s.value("members", nlohmann::json::array()) != expected) return false;
  }
  return true;
}

std::string ClusterHarness::logs() const {
  std::string out;
  for (int i = 1; i <= n_; ++i) {
    out += "  n" + std::to_string(i) + " node program:\n" + tail(node_dir(i) + "/node.log", 25);
    out += "  n" + std::to_string(i) + " corosync:\n" + tail(node_dir(i) + "/corosync.log", 8);
  }
  return out;
}

}  // namespace amata::cluster::testing
