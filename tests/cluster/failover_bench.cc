// cluster_failover_bench: how long from the death of the node running the clustered demo
// service until a survivor accepts connections, on the 3-node namespace cluster (root).
//
//   cluster_failover_bench [--runs N] [--default-runs M] [--mode kill|link]
//
// kill: SIGKILL the owner's corosync and its cluster_node (the service dies with it);
// link: `ip link set eth0 down` in the owner's namespace (it stays up, isolated, and stops
// its copy for lack of quorum). Each run then restores the node and waits until the cluster
// has settled again. N runs use token 300 / token_coefficient 0 / knet ping 200/1000, then M
// runs use corosync's defaults (token 3000, coefficient 650, automatic knet ping).
//
// Per run it prints the total (fault -> a survivor accepts a TCP connection, probed from the
// survivors' namespaces every ~2 ms), and from the survivors' logs the detection time (fault
// -> CPG reports the node gone) and the service start time (spawn -> accepting).
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/cluster/cluster_harness.h"

namespace {

using amata::cluster::testing::ClusterHarness;
using amata::cluster::testing::TotemSettings;

double wall_seconds() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/// The timestamp of the first line of node i's log after `after` that contains `needle`.
double log_time(const ClusterHarness& h, int i, const std::string& needle, double after) {
  nlohmann::json s = h.state(i);
  if (!s.contains("log")) return 0;
  for (const auto& line : s["log"]) {
    std::string text = line.get<std::string>();
    if (text.find(needle) == std::string::npos) continue;
    double t = std::strtod(text.c_str(), nullptr);
    if (t > after) return t;
  }
  return 0;
}

struct Stats {
  std::vector<double> total, detect, start;
};

void summary(const char* label, std::vector<double> v) {
  if (v.empty()) return;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  std::printf("  %-8s n=%zu  min %.0f  median %.0f  mean %.0f  max %.0f ms\n", label, v.size(),
              v.front(), v[v.size() / 2], sum / v.size(), v.back());
}

bool run_config(const char* name, TotemSettings totem, int runs, bool link_mode, Stats& out) {
  ClusterHarness h(3, totem, CLUSTER_NODE_PATH, {"--prefer", "n1,n2,n3"});
  if (!h.usable()) {
    std::fprintf(stderr, "cannot build the cluster: %s\n", h.why().c_str());
    return false;
  }
  auto one_copy = [&] { return h.serving().size() == 1; };
  h.start_all();
  std::printf(
      "%s (token %d, coefficient %s, knet ping %s), mode %s\n", name, totem.token_ms,
      totem.token_coefficient_ms ? std::to_string(*totem.token_coefficient_ms).c_str() : "default",
      totem.knet_ping
          ? (std::to_string(totem.knet_ping->first) + "/" + std::to_string(totem.knet_ping->second))
                .c_str()
          : "auto",
      link_mode ? "link down" : "kill -9");
  for (int run = 1; run <= runs; ++run) {
    if (!ClusterHarness::wait_until(
            [&] {
              return h.settled({1, 2, 3}) && one_copy();
            },
            std::chrono::seconds(60))) {
      std::fprintf(stderr, "cluster did not settle before run %d\n%s", run, h.logs().c_str());
      return false;
    }
    // Let knet's link state settle after a restore (its pings decide when a link is up).
    std::this_thread::sleep_for(std::chrono::seconds(2));
    int owner = h.serving()[0];
    std::vector<int> survivors;
    for (int i = 1; i <= 3; ++i)
      if (i != owner) survivors.push_back(i);

    double t0 = wall_seconds();
    auto s0 = std::chrono::steady_clock::now();
    if (link_mode) {
      h.set_link(owner, false);
    } else {
      h.kill_corosync(owner);
      h.kill_node(owner);
    }
    int taker = 0;
    while (!taker && std::chrono::steady_clock::now() - s0 < std::chrono::seconds(60)) {
      for (int s : survivors)
        if (h.serves(s)) taker = s;
      if (!taker) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    double total =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s0).count();
    if (!taker) {
      std::fprintf(stderr, "no survivor took over in run %d\n%s", run, h.logs().c_str());
      return false;
    }
    // Give the state files a moment to catch up with the logs.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    double left = log_time(h, taker, "left n" + std::to_string(owner), t0);
    double spawned = log_time(h, taker, "spawned demo service", t0);
    double accepting = log_time(h, taker, "demo service accepts", t0);
    double detect = left > 0 ? (left - t0) * 1000 : -1;
    double start = spawned > 0 && accepting > 0 ? (accepting - spawned) * 1000 : -1;
    std::printf("  run %2d: n%d -> n%d  total %6.0f ms  detect %6.0f ms  start %4.0f ms\n", run,
                owner, taker, total, detect, start);
    std::fflush(stdout);
    out.total.push_back(total);
    if (detect >= 0) out.detect.push_back(detect);
    if (start >= 0) out.start.push_back(start);

    if (link_mode) {
      h.set_link(owner, true);
    } else {
      h.start_corosync(owner);
      h.start_node(owner);
    }
  }
  summary("total", out.total);
  summary("detect", out.detect);
  summary("start", out.start);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10, default_runs = 3;
  bool link_mode = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--runs")
      runs = std::atoi(v.c_str());
    else if (k == "--default-runs")
      default_runs = std::atoi(v.c_str());
    else if (k == "--mode")
      link_mode = v == "link";
    else {
      std::fprintf(stderr, "usage: %s [--runs N] [--default-runs M] [--mode kill|link]\n", argv[0]);
      return 2;
    }
  }
  Stats fast, slow;
  if (runs > 0 && !run_config("tuned", TotemSettings{}, runs, link_mode, fast)) return 1;
  if (default_runs > 0 && !run_config("default", TotemSettings{3000, std::nullopt, std::nullopt},
                                      default_runs, link_mode, slow))
    return 1;
  return 0;
}
