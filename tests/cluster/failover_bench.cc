// cluster_failover_bench: how long from the death of the node running the clustered demo
// service until a survivor accepts connections, on a namespace cluster of 3 nodes or more
// (root), and what an idle ring costs per node.
//
//   cluster_failover_bench [--runs N] [--default-runs M] [--mode kill|link|kill,link]
//                          [--node-program amatad|cluster_node|amatad,cluster_node]
//                          [--nodes 3|3,8,16,...] [--idle SECONDS] [--no-realtime]
//                          [--amatad PATH] [--cluster-node PATH] [--json FILE] [--keep]
//
// --nodes runs everything once per ring size. --idle S measures, once per ring size and node
// program (with the tuned totem settings, before the first fault), each node's corosync and
// node program over S seconds of a settled, idle ring: CPU (utime + stime from /proc/<pid>/stat)
// and resident memory (VmRSS, at the end). --no-realtime runs corosync without its realtime
// scheduling (system.sched_rr: no), as ring_test does.
//
// Node program: `amatad` (default) runs the real daemon on every node, with a policy that
// declares the cluster and a clustered service `web` (as tests/cluster/amatad_cluster_test.cc
// does); `cluster_node` runs the bare ClusterManager test program (the figure before amatad
// had a cluster layer). Both run the same service, `python3 -S -m http.server 8080`; amatad
// binds it to 0.0.0.0 because every node must run the same policy, cluster_node to the
// node's address (it takes the address on its command line). A list runs each in turn, so
// one session compares them on the same machine under the same load.
//
// kill: a node crash — SIGKILL of every process in the owner's network namespace, corosync
// first (ClusterHarness::crash_node): its node program and the service that started, which
// amatad runs in its own session; link: `ip link set eth0 down` in the owner's namespace (it
// stays up, isolated, and stops its copy for lack of quorum). Each run then restores the node
// (corosync and the node program started again; amatad keeps its state dir) and waits until
// the cluster has settled again, plus 2 s. N runs use token 300 / token_coefficient 0 / knet
// ping 200/1000, then M runs use corosync's defaults (token 3000, coefficient 650, automatic
// knet ping).
//
// Per run it prints the total (fault -> a survivor accepts a TCP connection, probed from the
// survivors' namespaces every ~2 ms) and how it splits, from the taker's own view of the
// cluster (amatad: its console, `events --cluster`; cluster_node: its state file's log):
//   detect  fault -> the membership change in which the owner left (CPG's report)
//   decide  that change -> the start requested (the wait for the quorum report, placement)
//   spawn   start requested -> the service's process running (the supervisor)
//   up      running -> the first accepted connection (Python's start-up, the probe's period)
// --keep keeps the harness directory (node logs, state) when a run fails.
#include <signal.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"

namespace {

using amata::cluster::testing::amatad_call;
using amata::cluster::testing::amatads_settled;
using amata::cluster::testing::ClusterHarness;
using amata::cluster::testing::cpu_seconds;
using amata::cluster::testing::node_list;
using amata::cluster::testing::ring_declarations;
using amata::cluster::testing::rss_mib;
using amata::cluster::testing::run_amatad;
using amata::cluster::testing::TotemSettings;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// SIGINT/SIGTERM end the session through the normal paths, so that the harness's destructor
// still removes the namespaces and every process.
std::atomic<bool> g_interrupted{false};

double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string name(int i) {
  return "n" + std::to_string(i);
}

/// One run's figures; times are ms, negative when the node's view did not show the step.
struct Run {
  int owner = 0, taker = 0;
  double total = 0, detect = -1, decide = -1, spawn = -1, up = -1;
  std::string reason;  // why the owner left, in the taker's view
};

/// When the taker saw each step, as unix seconds (0: not seen).
struct Steps {
  double left = 0, decided = 0, running = 0;
  std::string reason;
};

/// What differs between the node programs: how they are run, when the cluster has settled,
/// and where the taker's view of a failover is read.
class NodeProgram {
 public:
  virtual ~NodeProgram() = default;
  virtual std::string label() const = 0;
  virtual std::unique_ptr<ClusterHarness> make_harness(TotemSettings totem, int nodes) = 0;
  /// Every node connected, quorate and synced, seeing all the nodes and one holder.
  virtual bool settled(const ClusterHarness& h) = 0;
  /// The taker's view of the failover that began at `t0` (unix seconds).
  virtual Steps steps(const ClusterHarness& h, int owner, int taker, double t0) = 0;
};

class ClusterNodeProgram final : public NodeProgram {
 public:
  explicit ClusterNodeProgram(std::string path) : path_(std::move(path)) {}
  std::string label() const override { return "cluster_node"; }
  std::unique_ptr<ClusterHarness> make_harness(TotemSettings totem, int nodes) override {
    std::string prefer;
    for (int i = 1; i <= nodes; ++i) prefer += (i == 1 ? "" : ",") + name(i);
    return std::make_unique<ClusterHarness>(nodes, totem, path_,
                                            std::vector<std::string>{"--prefer", prefer});
  }
  bool settled(const ClusterHarness& h) override {
    std::vector<int> all;
    for (int i = 1; i <= h.nodes(); ++i) all.push_back(i);
    return h.settled(all);
  }
  Steps steps(const ClusterHarness& h, int owner, int taker, double t0) override {
    Steps s;
    // The state file is rewritten on the loop turn after each change: give it a moment.
    ClusterHarness::wait_until(
        [&] {
          s.left = log_time(h, taker, "left " + name(owner), t0, &s.reason);
          s.decided = log_time(h, taker, "cluster: starting demo here", t0);
          s.running = log_time(h, taker, "spawned demo service", t0);
          return s.left > 0 && s.decided > 0 && s.running > 0;
        },
        seconds(2));
    return s;
  }

 private:
  /// The timestamp of the first line of node i's log after `after` that contains `needle`;
  /// `reason` gets the parenthesis after the needle ("node down").
  static double log_time(const ClusterHarness& h, int i, const std::string& needle, double after,
                         std::string* reason = nullptr) {
    json s = h.state(i);
    if (!s.contains("log")) return 0;
    for (const auto& line : s["log"]) {
      std::string text = line.get<std::string>();
      auto at = text.find(needle);
      if (at == std::string::npos) continue;
      double t = std::strtod(text.c_str(), nullptr);
      if (t <= after) continue;
      if (reason) {
        auto open = text.find('(', at), close = text.find(')', at);
        if (open != std::string::npos && close != std::string::npos && close > open)
          *reason = text.substr(open + 1, close - open - 1);
      }
      return t;
    }
    return 0;
  }

  std::string path_;
};

class AmatadProgram final : public NodeProgram {
 public:
  explicit AmatadProgram(std::string path) : path_(std::move(path)) {}
  std::string label() const override { return "amatad"; }
  std::unique_ptr<ClusterHarness> make_harness(TotemSettings totem, int nodes) override {
    auto h = std::make_unique<ClusterHarness>(nodes, totem, path_);
    if (!h->usable()) return h;
    // The policy of tests/cluster/amatad_cluster_test.cc without its discovery rule: nothing
    // but the cluster layer acts on the failover. The same file on every node.
    std::ofstream(h->dir() + "/policy.amata") << "policy failover_bench\n"
                                              << ring_declarations(nodes) << R"(service web {
  start "/usr/bin/python3" "-S" "-m" "http.server" "8080" "--bind" "0.0.0.0"
  stop TERM then KILL after 2s
  clustered
  prefer )" << node_list(1, nodes) << "\n}\n";
    run_amatad(*h, path_);
    return h;
  }

  bool settled(const ClusterHarness& h) override {
    // The console's `status` -> `cluster` instead of cluster_node's state file: the daemon's
    // own account of its membership, quorum and sync, and who holds `web`.
    std::vector<int> all;
    for (int i = 1; i <= h.nodes(); ++i) all.push_back(i);
    return amatads_settled(h, all);
  }

  Steps steps(const ClusterHarness& h, int owner, int taker, double t0) override {
    Steps s;
    // The start action is published on the bus once done and lands in the taker's cluster
    // log when it comes back in order: poll for it.
    const auto since = static_cast<std::int64_t>(std::floor(t0 * 1000)) - 1;
    ClusterHarness::wait_until(
        [&] {
          json r = amatad_call(h, taker, "events",
                               {{"cluster", true}, {"since_unix_ms", since}, {"limit", 1000}},
                               seconds(5));
          s = Steps{};
          for (const auto& e : r.value("events", json::array())) {
            const std::string type = e.value("type", "");
            if (type == "membership" && s.left == 0) {
              for (const auto& l : e["data"].value("left", json::array())) {
                if (l.value("node", "") != name(owner)) continue;
                s.left = e.value("delivered_unix_ms", 0.0) / 1000;
                s.reason = l.value("reason", "");
              }
            } else if (type == "action" && s.decided == 0 && e.value("node", "") == name(taker) &&
                       e.value("object", "") == "web" && e.contains("data") &&
                       e["data"].value("kind", "") == "start" &&
                       e["data"].value("outcome", "") == "ok") {
              // at_unix_ms is when the cluster asked for the start; duration_ms runs from
              // there to the supervisor's report of the process running.
              s.decided = e.value("at_unix_ms", 0.0) / 1000;
              s.running = s.decided + e["data"].value("duration_ms", 0.0) / 1000;
            }
          }
          return s.left > 0 && s.decided > 0;
        },
        seconds(5));
    return s;
  }

 private:
  std::string path_;
};

struct Summary {
  std::vector<double> v;
  void add(double x) {
    if (x >= 0) v.push_back(x);
  }
  double median() const {
    auto s = v;
    std::sort(s.begin(), s.end());
    if (s.empty()) return NAN;
    return s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
  }
  void print(const char* label) const {
    if (v.empty()) return;
    auto s = v;
    std::sort(s.begin(), s.end());
    double sum = 0;
    for (double x : s) sum += x;
    std::printf("  %-7s n=%zu  min %.0f  median %.0f  mean %.0f  max %.0f ms\n", label, s.size(),
                s.front(), median(), sum / s.size(), s.back());
  }
};

std::string totem_text(const TotemSettings& t) {
  return "token " + std::to_string(t.token_ms) + ", coefficient " +
         (t.token_coefficient_ms ? std::to_string(*t.token_coefficient_ms) : "default") +
         ", knet ping " +
         (t.knet_ping
              ? std::to_string(t.knet_ping->first) + "/" + std::to_string(t.knet_ping->second)
              : "auto") +
         (t.realtime ? "" : ", sched_rr no");
}

/// Each node's corosync and node program over `seconds` of a settled ring: CPU in % of one
/// core, RSS in MiB. Prints the means and returns every node's figures.
json measure_idle(const ClusterHarness& h, int seconds_idle) {
  const int n = h.nodes();
  std::vector<double> corosync0(n + 1), node0(n + 1);
  for (int i = 1; i <= n; ++i) {
    corosync0[i] = cpu_seconds(h.corosync_pid(i));
    node0[i] = cpu_seconds(h.node_pid(i));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(seconds(seconds_idle));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json nodes = json::array();
  double corosync_cpu = 0, node_cpu = 0, corosync_rss = 0, node_rss = 0;
  for (int i = 1; i <= n; ++i) {
    json f{{"node", i},
           {"corosync_cpu_percent", 100 * (cpu_seconds(h.corosync_pid(i)) - corosync0[i]) / wall},
           {"node_cpu_percent", 100 * (cpu_seconds(h.node_pid(i)) - node0[i]) / wall},
           {"corosync_rss_mib", rss_mib(h.corosync_pid(i))},
           {"node_rss_mib", rss_mib(h.node_pid(i))}};
    corosync_cpu += f["corosync_cpu_percent"].get<double>() / n;
    node_cpu += f["node_cpu_percent"].get<double>() / n;
    corosync_rss += f["corosync_rss_mib"].get<double>() / n;
    node_rss += f["node_rss_mib"].get<double>() / n;
    nodes.push_back(f);
  }
  std::printf(
      "  idle %d s, per node (mean of %d): corosync %.2f %% CPU, %.1f MiB; node program %.2f %% "
      "CPU, %.1f MiB\n",
      seconds_idle, n, corosync_cpu, corosync_rss, node_cpu, node_rss);
  std::fflush(stdout);
  return {{"seconds", wall}, {"load", read_first_line("/proc/loadavg")}, {"nodes", nodes}};
}

/// `runs` failovers with one node program, ring size, totem setting and fault (after `idle`
/// seconds of measuring the settled ring, if not 0); false on a failure.
bool run_config(NodeProgram& program, const char* config, TotemSettings totem, int nodes, int runs,
                int idle, bool link_mode, bool keep, json& out) {
  auto h = program.make_harness(totem, nodes);
  if (!h->usable()) {
    std::fprintf(stderr, "cannot build the cluster: %s\n", h->why().c_str());
    return false;
  }
  const std::string load_before = read_first_line("/proc/loadavg");
  std::printf("%s, %d nodes, %s (%s), mode %s; load %s\n", program.label().c_str(), nodes, config,
              totem_text(totem).c_str(), link_mode ? "link down" : "kill -9", load_before.c_str());
  std::fflush(stdout);
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "%s: %s\n%s", program.label().c_str(), what.c_str(), h->logs().c_str());
    if (keep) {
      setenv("AMATA_CLUSTER_KEEP", "1", 1);  // read by the harness's destructor
      std::fprintf(stderr, "kept %s\n", h->dir().c_str());
    }
    return false;
  };
  auto one_copy = [&] { return h->serving().size() == 1; };
  h->start_all();
  Summary total, detect, decide, spawn, up;
  json samples = json::array(), idle_figures;
  if (idle > 0) {
    if (!ClusterHarness::wait_until(
            [&] { return g_interrupted || (program.settled(*h) && one_copy()); }, seconds(120)))
      return fail("cluster did not settle before the idle measurement");
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);
    idle_figures = measure_idle(*h, idle);
  }
  for (int run = 1; run <= runs; ++run) {
    if (!ClusterHarness::wait_until(
            [&] { return g_interrupted || (program.settled(*h) && one_copy()); }, seconds(60)))
      return fail("cluster did not settle before run " + std::to_string(run));
    if (g_interrupted) return false;
    // Let knet's link state settle after a restore (its pings decide when a link is up,
    // and a link cut before its path-MTU discovery has run may not heal).
    std::this_thread::sleep_for(ClusterHarness::kLinkSettle);
    auto serving = h->serving();
    if (serving.size() != 1) return fail("not one copy before run " + std::to_string(run));
    Run r;
    r.owner = serving[0];
    std::vector<int> survivors;
    for (int i = 1; i <= nodes; ++i)
      if (i != r.owner) survivors.push_back(i);

    const double t0 = wall_seconds();
    const auto s0 = std::chrono::steady_clock::now();
    if (link_mode)
      h->set_link(r.owner, false);
    else
      h->crash_node(r.owner);
    while (!r.taker && !g_interrupted && std::chrono::steady_clock::now() - s0 < seconds(60)) {
      for (int s : survivors)
        if (h->serves(s)) r.taker = s;
      if (!r.taker) std::this_thread::sleep_for(milliseconds(2));
    }
    r.total =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
    if (g_interrupted) return false;
    if (!r.taker) return fail("no survivor took over in run " + std::to_string(run));

    Steps st = program.steps(*h, r.owner, r.taker, t0);
    r.reason = st.reason;
    if (st.left > 0) r.detect = (st.left - t0) * 1000;
    if (st.left > 0 && st.decided > 0) r.decide = (st.decided - st.left) * 1000;
    if (st.decided > 0 && st.running > 0) r.spawn = (st.running - st.decided) * 1000;
    if (st.running > 0) r.up = r.total - (st.running - t0) * 1000;
    std::printf(
        "  run %2d: n%d -> n%d  total %6.0f ms  detect %6.0f  decide %4.0f  spawn %4.1f  up %4.0f "
        "ms  (%s)\n",
        run, r.owner, r.taker, r.total, r.detect, r.decide, r.spawn, r.up,
        r.reason.empty() ? "?" : r.reason.c_str());
    std::fflush(stdout);
    total.add(r.total);
    detect.add(r.detect);
    decide.add(r.decide);
    spawn.add(r.spawn);
    up.add(r.up);
    samples.push_back({{"run", run},
                       {"owner", r.owner},
                       {"taker", r.taker},
                       {"total_ms", r.total},
                       {"detect_ms", r.detect},
                       {"decide_ms", r.decide},
                       {"spawn_ms", r.spawn},
                       {"up_ms", r.up},
                       {"reason", r.reason}});

    if (link_mode) {
      h->set_link(r.owner, true);
    } else {
      h->start_corosync(r.owner);
      h->start_node(r.owner);
    }
  }
  const std::string load_after = read_first_line("/proc/loadavg");
  total.print("total");
  detect.print("detect");
  decide.print("decide");
  spawn.print("spawn");
  up.print("up");
  std::printf("  load after: %s\n", load_after.c_str());
  std::fflush(stdout);
  out.push_back({{"program", program.label()},
                 {"nodes", nodes},
                 {"idle", idle_figures},
                 {"config", config},
                 {"totem", totem_text(totem)},
                 {"mode", link_mode ? "link" : "kill"},
                 {"load_before", load_before},
                 {"load_after", load_after},
                 {"runs", samples}});
  return true;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void on_signal(int) {
  g_interrupted = true;
}

}  // namespace

int main(int argc, char** argv) try {
  int runs = 10, default_runs = 3, idle = 0;
  bool realtime = true;
  std::vector<int> ring_sizes = {3};
  std::vector<std::string> modes = {"kill"}, programs = {"amatad"};
  std::string amatad = AMATAD_PATH, cluster_node = CLUSTER_NODE_PATH, json_path;
  bool keep = false;
  auto usage = [&] {
    std::fprintf(stderr,
                 "usage: %s [--runs N] [--default-runs M] [--mode kill|link|kill,link]\n"
                 "       [--node-program amatad|cluster_node|amatad,cluster_node]\n"
                 "       [--nodes 3|3,8,16,...] [--idle SECONDS] [--no-realtime]\n"
                 "       [--amatad PATH] [--cluster-node PATH] [--json FILE] [--keep]\n",
                 argv[0]);
    return 2;
  };
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--keep") {
      keep = true;
      continue;
    }
    if (k == "--no-realtime") {
      realtime = false;
      continue;
    }
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (k == "--runs")
      runs = std::atoi(v.c_str());
    else if (k == "--default-runs")
      default_runs = std::atoi(v.c_str());
    else if (k == "--mode")
      modes = split(v);
    else if (k == "--node-program")
      programs = split(v);
    else if (k == "--nodes") {
      ring_sizes.clear();
      for (const auto& n : split(v)) ring_sizes.push_back(std::atoi(n.c_str()));
    } else if (k == "--idle")
      idle = std::atoi(v.c_str());
    else if (k == "--amatad")
      amatad = v;
    else if (k == "--cluster-node")
      cluster_node = v;
    else if (k == "--json")
      json_path = v;
    else
      return usage();
  }
  std::vector<std::unique_ptr<NodeProgram>> progs;
  for (const auto& p : programs) {
    if (p == "amatad")
      progs.push_back(std::make_unique<AmatadProgram>(amatad));
    else if (p == "cluster_node")
      progs.push_back(std::make_unique<ClusterNodeProgram>(cluster_node));
    else
      return usage();
  }
  for (const auto& m : modes)
    if (m != "kill" && m != "link") return usage();
  // The harness's addresses are 10.250.0.<i>; past ~32 nodes a ring is not what it is for.
  for (int n : ring_sizes)
    if (n < 3 || n > 64) return usage();
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  utsname u{};
  uname(&u);
  std::string model;
  {
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);)
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
  }
  std::printf("machine: %ld CPUs (%s), kernel %s; load %s\n", sysconf(_SC_NPROCESSORS_ONLN),
              model.c_str(), u.release, read_first_line("/proc/loadavg").c_str());
  json configs = json::array();
  bool ok = true;
  // Per ring size, fault and totem setting, the node programs one after another: the
  // comparison is made minutes apart on the same machine, not in separate sessions.
  for (int nodes : ring_sizes) {
    bool idle_done = false;
    for (const auto& mode : modes) {
      for (int pass = 0; pass < 2 && ok; ++pass) {
        int n = pass == 0 ? runs : default_runs;
        if (n <= 0) continue;
        TotemSettings totem =
            pass == 0 ? TotemSettings{} : TotemSettings{3000, std::nullopt, std::nullopt};
        totem.realtime = realtime;
        for (auto& p : progs) {
          ok = run_config(*p, pass == 0 ? "tuned" : "default", totem, nodes, n,
                          idle_done ? 0 : idle, mode == "link", keep, configs) &&
               !g_interrupted;
          if (!ok) break;
        }
        idle_done = true;
      }
      if (!ok) break;
    }
    if (!ok) break;
  }
  if (!json_path.empty()) {
    json doc{{"machine",
              {{"cpus", sysconf(_SC_NPROCESSORS_ONLN)}, {"model", model}, {"kernel", u.release}}},
             {"configs", configs}};
    std::ofstream(json_path) << doc.dump(1) << "\n";
  }
  if (g_interrupted) std::fprintf(stderr, "interrupted; the cluster was removed\n");
  return ok ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "failover_bench: %s\n", e.what());
  return 1;
}
