// The real amatad on every node of a ClusterHarness, as the cluster tests and benchmarks run
// it: one command line, the console calls they read it through, and when a ring of amatads
// counts as settled.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/cluster/cluster_harness.h"

namespace amata::cluster::testing {

/// Runs `amatad` on every node with the policy {dir}/<policy_file> ("{i}" in it: the node's
/// number, for a policy per node); node i keeps its state in {dir}/amatad<i> (kept across a
/// crash and restart of the node, as on a real disk) and answers on {dir}/amatad<i>.sock.
void run_amatad(ClusterHarness& h, const std::string& amatad,
                const std::string& policy_file = "policy.amata");

/// The `cluster` and `peer` declarations of a policy for a ring of n nodes n1..n<n>.
std::string ring_declarations(int n, const std::string& cluster_settings = "on_quorum_loss stop");
/// "n1 n2 ... n<n>" in that order (a `prefer` list).
std::string node_list(int first, int last);

/// One console command to node i's amatad: its result, or an empty object on any failure.
nlohmann::json amatad_call(const ClusterHarness& h, int i, const std::string& command,
                           const nlohmann::json& args = nlohmann::json::object(),
                           std::chrono::seconds timeout = std::chrono::seconds(10));

/// Every node of `which` is joined, quorate and synced, names no configuration mismatch,
/// sees exactly `which` as members with an amatad among the ring's `peers` (the others
/// non-members), and agrees with the others on who holds each clustered service, at most one
/// node each.
bool amatads_settled(const ClusterHarness& h, const std::vector<int>& which);

/// utime + stime of a process, in seconds (0 if it is gone): what the benchmarks charge it.
double cpu_seconds(pid_t pid);
/// VmRSS of a process, in MiB (0 if it is gone).
double rss_mib(pid_t pid);

}  // namespace amata::cluster::testing
