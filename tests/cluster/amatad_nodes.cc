#include "tests/cluster/amatad_nodes.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "engine/console/client.h"

namespace amata::cluster::testing {

using nlohmann::json;

void run_amatad(ClusterHarness& h, const std::string& amatad, const std::string& policy_file) {
  h.set_node_command([amatad, policy_file](int i) {
    const std::string d = "{dir}/amatad" + std::to_string(i);
    std::string policy = policy_file;
    if (auto at = policy.find("{i}"); at != std::string::npos)
      policy.replace(at, 3, std::to_string(i));
    return std::vector<std::string>{
        amatad,    "{dir}/" + policy, "--state-dir", d,     "--socket", d + ".sock",
        "--hooks", d + "/no-hooks",   "--log-level", "info"};
  });
}

std::string ring_declarations(int n, const std::string& cluster_settings) {
  std::string out = "cluster demo { group \"amata-demo\"; " + cluster_settings + " }\n";
  for (int i = 1; i <= n; ++i)
    out += "peer n" + std::to_string(i) + " { node_id " + std::to_string(i) + " }\n";
  return out;
}

std::string node_list(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i) out += (out.empty() ? "n" : " n") + std::to_string(i);
  return out;
}

json amatad_call(const ClusterHarness& h, int i, const std::string& command, const json& args,
                 std::chrono::seconds timeout) {
  auto client = console::ConsoleClient::connect(h.dir() + "/amatad" + std::to_string(i) + ".sock",
                                                nullptr, std::chrono::seconds(2));
  if (!client) return json::object();
  auto reply = client->call(command, args, timeout);
  if (!reply || !reply->value("ok", false)) return json::object();
  return (*reply)["result"];
}

bool amatads_settled(const ClusterHarness& h, const std::vector<int>& which) {
  json holders;
  for (int i : which) {
    const json c = amatad_call(h, i, "status").value("cluster", json::object());
    if (!c.value("connected", false) || !c.value("quorate", false) || !c.value("synced", false))
      return false;
    if (c.value("config_mismatch", json::array()) != json::array()) return false;
    const json peers = c.value("peers", json::array());
    int ring_peers = 0;
    for (const auto& p : peers) {
      const int id = p.value("id", 0);
      if (id == 0) continue;  // a remote node (remote_ring.h), not a member of the ring
      ++ring_peers;
      const bool expected = std::find(which.begin(), which.end(), id) != which.end();
      if (p.value("member", false) != expected || p.value("amatad", false) != expected)
        return false;
    }
    if (ring_peers != h.ring_nodes()) return false;
    json held = json::object();
    for (const auto& s : c.value("services", json::array())) {
      const json on = s.value("holders", json::array());
      if (on.size() > 1) return false;
      held[s.value("name", "")] = on;
    }
    if (holders.is_null()) holders = held;
    if (held != holders) return false;
  }
  return true;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');  // the command may contain spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  // After the command: state is field 3; utime and stime are fields 14 and 15.
  for (int k = 3; k <= 15 && fields >> field; ++k)
    if (k >= 14) ticks += std::strtod(field.c_str(), nullptr);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double rss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024;
  return 0;
}

}  // namespace amata::cluster::testing
