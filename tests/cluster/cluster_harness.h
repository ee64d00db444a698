// A Corosync cluster of N nodes on one host, for tests and benchmarks (needs root):
// a bridge namespace `<prefix>b` with br0, and per node a network namespace `<prefix>n<i>`
// whose eth0 (10.250.0.<i>/24) is a veth into the bridge. Each node runs its own corosync
// (own mount namespace with a private /run, as in notes/corosync-lab) and a cluster_node
// (or another node program, e.g. amatad: set_node_command).
//
// Everything the harness creates it removes in its destructor — the processes it started and
// their descendants (every process in a node's namespace, killed and reaped by pid), their
// libqb shared-memory files, the namespaces, the temp directory — so a failing test leaves
// nothing behind. Nothing is added to the root network namespace.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace amata::cluster::testing {

struct TotemSettings {
  int token_ms = 300;
  std::optional<int> token_coefficient_ms = 0;  // empty: corosync's default (650)
  std::optional<std::pair<int, int>> knet_ping = std::make_pair(200, 1000);  // interval, timeout
  /// corosync's realtime scheduling (system.sched_rr), as in production. Off for a large ring
  /// on a machine of two cores: sixteen realtime main loops can starve the ordinary threads
  /// that carry their packets.
  bool realtime = true;
};

class ClusterHarness {
 public:
  /// How long to leave the links alone once the cluster has (re)formed, before a fault. knet
  /// runs its path-MTU discovery on a link in the first second or so after it comes up; a
  /// link cut before that was seen not to heal (both sides re-forming their own membership
  /// every token + consensus, for 20 s and more, after `ip link set eth0 up`).
  static constexpr std::chrono::seconds kLinkSettle{2};

  /// The corosync.conf of docs/operations.md ("Setting up Corosync"), as the page shows it
  /// (the code block after its `<!-- corosync.conf: ... -->` marker); empty if not found.
  static std::string documented_corosync_conf();
  /// Node i's corosync.conf as the harness writes it: the documented one with the nodelist's
  /// addresses 10.0.0.<j> made 10.250.0.<j> (and, for a ring larger than the documented
  /// three, node blocks of the same shape up to `nodes`), the key file in `dir`, `totem`
  /// instead of the documented timing when they differ (the benchmark only), and a logging
  /// and a system section (log file, state directory) in `dir`/n<i>.
  static std::string corosync_conf(const std::string& documented, const TotemSettings& totem,
                                   const std::string& dir, int i, int nodes = 3);

  /// Creates namespaces and the temp directory; `cluster_node` is the helper binary's path.
  /// With `ring` below `nodes`, only nodes 1..ring are in corosync's nodelist (start_all()
  /// starts corosync on those alone): the others are hosts on the same network that run
  /// only their node program, such as remote nodes.
  ClusterHarness(int nodes, TotemSettings totem, std::string cluster_node,
                 std::vector<std::string> node_args = {}, int ring = 0);
  ~ClusterHarness();
  ClusterHarness(const ClusterHarness&) = delete;
  ClusterHarness& operator=(const ClusterHarness&) = delete;

  /// False (with why()) if the environment cannot host the cluster: not root, no corosync.
  bool usable() const { return usable_; }
  const std::string& why() const { return why_; }

  int nodes() const { return n_; }
  int ring_nodes() const { return ring_; }
  /// The temp directory (logs, state files); "{dir}" in node_args is replaced by it.
  const std::string& dir() const { return dir_; }
  /// Sends `signal` to node i's cluster_node.
  void signal_node(int i, int signal);
  /// Sends `signal` to node i's corosync (SIGSTOP: a hung corosync).
  void signal_corosync(int i, int signal);
  std::string netns(int i) const { return prefix_ + "n" + std::to_string(i); }
  std::string address(int i) const { return "10.250.0." + std::to_string(i); }
  int port() const { return 8080; }

  /// Runs `argv(i)` in node i's network namespace instead of cluster_node (e.g. the real
  /// amatad with its own state dir and socket); "{dir}" is replaced as in node_args.
  void set_node_command(std::function<std::vector<std::string>(int i)> argv) {
    node_command_ = std::move(argv);
  }
  /// Sends `signal` to node i's program and reaps it; SIGKILL if it is still there after
  /// `grace` (amatad stops its services on SIGTERM: a SIGKILL would leave them running).
  /// Whether it ended within `grace` (true when it was not running).
  bool stop_node(int i, int signal, std::chrono::milliseconds grace);

  /// How many nodes node i's corosync last reported in its quorum membership (its log).
  int quorum_members_seen(int i) const;

  void start_corosync(int i);
  void start_node(int i);
  void start_all();
  /// SIGKILL, then reap.
  void kill_corosync(int i);
  void kill_node(int i);
  /// A node crash: SIGKILLs every process in node i's network namespace — its corosync
  /// first, then its node program and whatever that started (amatad's services run in
  /// their own session and outlive amatad alone) — until none is left, and reaps them.
  void crash_node(int i);
  /// The pids of the processes living in node i's network namespace (`ip netns pids`).
  std::vector<pid_t> pids_in_netns(int i) const;
  /// `ip link set eth0 down|up` inside node i's namespace.
  void set_link(int i, bool up);
  /// Splits the ring: the bridge ports of `side` move to a second bridge, so those nodes
  /// reach each other and nobody else (a switch split in two). heal() moves them back.
  void partition(const std::vector<int>& side);
  void heal();
  /// The pids the harness started for node i (0 when not running).
  pid_t corosync_pid(int i) const { return corosync_pid_[i]; }
  pid_t node_pid(int i) const { return node_pid_[i]; }

  /// Node i's corosync.conf (written by the constructor).
  std::string corosync_conf_path(int i) const { return node_dir(i) + "/corosync.conf"; }
  /// Node i's state file, parsed (empty object if absent or unreadable).
  nlohmann::json state(int i) const;
  /// Whether node i's demo service accepts a TCP connection, probed from inside its netns
  /// (`port`: another service's; 0, the demo's).
  bool serves(int i, int port = 0) const;
  /// Nodes whose service accepts connections, probed from each node's own namespace.
  std::vector<int> serving(int port = 0) const;
  /// Polls `pred` every 20 ms until it holds or `timeout` passes.
  static bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);
  /// Every node in `which` is connected, quorate, synced and sees exactly `which` as members.
  bool settled(const std::vector<int>& which) const;
  /// The last lines of every node's logs (cluster_node and corosync), for failure messages.
  std::string logs() const;
  /// Opens a TCP socket inside node i's network namespace (-1 on failure).
  int socket_in(int i) const;

 private:
  void run(const std::vector<std::string>& argv, bool check = true);
  pid_t spawn(const std::vector<std::string>& argv, const std::string& log);
  void reap(pid_t& pid);
  std::string node_dir(int i) const;

  int n_;
  int ring_;  // nodes 1..ring_ run corosync
  TotemSettings totem_;
  std::string cluster_node_;
  std::vector<std::string> node_args_;
  std::function<std::vector<std::string>(int)> node_command_;
  std::string prefix_;
  std::string dir_;
  bool usable_ = true;
  std::string why_;
  std::vector<std::string> made_netns_;
  std::vector<pid_t> corosync_pid_;
  std::vector<pid_t> node_pid_;
  std::vector<pid_t> every_corosync_;  // for the shm cleanup
  std::vector<int> partitioned_;       // the nodes on the second bridge
};

}  // namespace amata::cluster::testing
