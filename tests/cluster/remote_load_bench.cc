// remote_load_bench: what remote nodes cost the ring member that serves them
// (docs/benchmarks.md, "Remote nodes: one ring member, 1,000 links"). A ring of three, each a
// real corosync and a real amatad with `remote_port`, in network namespaces; this program opens
// N authenticated remote-node links to n1 from another namespace — N certificates, N TLS
// handshakes, N hellos — then keeps them alive as remote nodes do (a heartbeat every quarter
// of the timeout) and sends each node's events at a given rate. It reports amatad's and
// corosync's CPU and memory, idle and under the links, the heartbeats' round trips and how
// long an event takes to be acknowledged (published on the bus and delivered back).
//
//   remote_load_bench [--links N] [--seconds S] [--idle S] [--event-every SECONDS]
//                     [--amatad PATH] [--json FILE]
//
// Run as root (network namespaces), alone on the machine. The remote nodes' thread runs at
// nice -15, ahead of the ring it loads: on a real cluster they are other machines.
#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "engine/remote/line_link.h"
#include "engine/remote/socket_address.h"
#include "engine/remote/test_pki.h"
#include "tests/cluster/amatad_nodes.h"
#include "tests/cluster/cluster_harness.h"

namespace {

using amata::cluster::testing::amatad_call;
using amata::cluster::testing::amatads_settled;
using amata::cluster::testing::ClusterHarness;
using amata::cluster::testing::cpu_seconds;
using amata::cluster::testing::rss_mib;
using amata::cluster::testing::run_amatad;
using amata::cluster::testing::TotemSettings;
using nlohmann::json;
namespace remote = amata::remote;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct Options {
  int links = 1000;
  int seconds = 60;
  int idle = 10;
  double event_every = 10;  // seconds between two events of one remote node
  std::string amatad = AMATAD_PATH;
  std::string json_file;
};

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
          .count());
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

/// N remote nodes in one thread and one event loop: the protocol of remote_wire.h, spoken by
/// hand (an attacher per node would be a thread per node).
class Generator {
 public:
  Generator(const Options& o, std::vector<remote::TlsFiles> files, std::string ns,
            std::string address)
      : options_(o),
        files_(std::move(files)),
        netns_(std::move(ns)),
        address_(std::move(address)) {}

  /// Reads every node's certificate and key first: loading them during the ramp would hold
  /// up this one thread's heartbeats, and the ring would count its nodes gone.
  bool prepare() {
    for (const auto& f : files_) {
      auto tls = remote::TlsContext::create(f, remote::TlsContext::Role::kClient);
      if (!tls) {
        std::cerr << tls.error().message << "\n";
        return false;
      }
      contexts_.push_back(*tls);
    }
    return true;
  }
  void run() {
    thread_ = std::thread([this] { body(); });
  }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  /// From now on, round trips and ack latencies count.
  void start_measuring() { measuring_ = true; }
  int welcomed() const { return welcomed_; }
  int failed() const { return failed_; }
  std::uint64_t events_sent() const { return events_sent_; }
  std::uint64_t events_acked() const { return events_acked_; }
  std::vector<double> rtts_ms() const {
    std::lock_guard lock(mutex_);
    return rtts_ms_;
  }
  std::vector<double> ack_ms() const {
    std::lock_guard lock(mutex_);
    return ack_ms_;
  }
  double first_all_welcomed_s() const { return all_welcomed_s_; }

 private:
  struct Node {
    std::shared_ptr<remote::TlsContext> tls;
    std::unique_ptr<remote::LineLink> line;
    bool welcomed = false;
    std::uint64_t seq = 0;
    std::map<std::uint64_t, std::uint64_t> sent_us;  // events not yet acknowledged
    Clock::time_point next_beat{};
    Clock::time_point next_event{};
    milliseconds beat{500};
  };

  void body() {
    // This thread's sockets live in the remote nodes' namespace.
    const int fd = ::open(("/var/run/netns/" + netns_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      std::cerr << "setns " << netns_ << ": " << std::strerror(errno) << "\n";
      return;
    }
    ::close(fd);
    // The remote nodes stand for a thousand machines with their own CPUs: ahead of the ring's
    // amatads (nice -10) on this shared machine, so that a ring busy with the ramp cannot
    // starve their heartbeats and make the ring count them gone.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), -15);
    auto loop = amata::base::EventLoop::create();
    if (!loop) return;
    loop_ = std::move(*loop);
    nodes_.resize(files_.size());
    const auto t0 = Clock::now();
    std::size_t opened = 0;
    while (!stopping_) {
      // Ramp: 50 new links every 100 ms, as nodes booting do, not all in one instant.
      const auto due = static_cast<std::size_t>(
          50 * (std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count() / 100 + 1));
      while (opened < nodes_.size() && opened < due) open(opened++);
      tick();
      if (all_welcomed_s_ == 0 && welcomed_ == static_cast<int>(nodes_.size())) {
        all_welcomed_s_ = std::chrono::duration<double>(Clock::now() - t0).count();
      }
      (void)loop_->run_once(milliseconds(20));
    }
    nodes_.clear();
  }

  void open(std::size_t i) {
    Node& n = nodes_[i];
    auto fd = remote::start_connect(address_, 7420);
    if (!fd) {
      ++failed_;
      return;
    }
    n.tls = contexts_[i];
    auto stream = remote::TlsStream::create(n.tls, std::move(*fd));
    if (!stream) {
      ++failed_;
      return;
    }
    n.line = std::make_unique<remote::LineLink>(
        *loop_, std::move(*stream), std::size_t{1} << 20,
        remote::LineLink::Handlers{
            [this, i] {
              char epoch[17];
              std::snprintf(epoch, sizeof epoch, "%016zx", i + 1);
              nodes_[i].line->send(remote::Hello{epoch, 0});
            },
            [this, i](remote::LinkMessage m) { on_message(i, std::move(m)); },
            [this, i](const std::string& why) {
              ++failed_;
              if (failed_ <= 5) std::cerr << "link " << i << ": " << why << "\n";
            },
        });
  }

  void on_message(std::size_t i, remote::LinkMessage m) {
    Node& n = nodes_[i];
    const auto now = Clock::now();
    if (auto* w = std::get_if<remote::Welcome>(&m)) {
      n.welcomed = true;
      ++welcomed_;
      n.beat = milliseconds(w->heartbeat_ms);
      // Spread over the period, as independent nodes are.
      n.next_beat = now + milliseconds(static_cast<int>(i * 37 % w->heartbeat_ms));
      const auto every = std::chrono::duration_cast<milliseconds>(
          std::chrono::duration<double>(options_.event_every));
      n.next_event =
          now + milliseconds(static_cast<long>(i * 7919 % std::max<long>(1, every.count())));
    } else if (auto* echo = std::get_if<remote::Heartbeat>(&m)) {
      if (measuring_) {
        std::lock_guard lock(mutex_);
        rtts_ms_.push_back(static_cast<double>(now_us() - echo->at) / 1000);
      }
    } else if (auto* ack = std::get_if<remote::Ack>(&m)) {
      const std::uint64_t at = now_us();
      for (auto it = n.sent_us.begin(); it != n.sent_us.end() && it->first <= ack->seq;) {
        if (measuring_) {
          std::lock_guard lock(mutex_);
          ack_ms_.push_back(static_cast<double>(at - it->second) / 1000);
        }
        ++events_acked_;
        it = n.sent_us.erase(it);
      }
    }
  }

  void tick() {
    const auto now = Clock::now();
    const auto every = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.event_every));
    for (Node& n : nodes_) {
      if (!n.welcomed || !n.line || n.line->ended()) continue;
      if (now >= n.next_beat) {
        n.line->send(remote::Heartbeat{now_us(), std::nullopt});
        n.next_beat += n.beat;
      }
      if (options_.event_every > 0 && now >= n.next_event) {
        const std::uint64_t seq = ++n.seq;
        n.sent_us[seq] = now_us();
        n.line->send(
            remote::RemoteEvent{seq, json{{"type", "event"},
                                          {"event", "LoadTest"},
                                          {"edge", "raise"},
                                          {"message", "LoadTest(work) raised by load[work]"}}});
        ++events_sent_;
        n.next_event += every;
      }
    }
  }

  const Options options_;
  std::vector<remote::TlsFiles> files_;
  std::vector<std::shared_ptr<remote::TlsContext>> contexts_;
  std::string netns_;
  std::string address_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> measuring_{false};
  std::unique_ptr<amata::base::EventLoop> loop_;
  std::vector<Node> nodes_;
  std::atomic<int> welcomed_{0};
  std::atomic<int> failed_{0};
  std::atomic<std::uint64_t> events_sent_{0};
  std::atomic<std::uint64_t> events_acked_{0};
  std::atomic<double> all_welcomed_s_{0};
  mutable std::mutex mutex_;
  std::vector<double> rtts_ms_;
  std::vector<double> ack_ms_;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--links") {
      o.links = std::stoi(next());
    } else if (a == "--seconds") {
      o.seconds = std::stoi(next());
    } else if (a == "--idle") {
      o.idle = std::stoi(next());
    } else if (a == "--event-every") {
      o.event_every = std::stod(next());
    } else if (a == "--amatad") {
      o.amatad = next();
    } else if (a == "--json") {
      o.json_file = next();
    } else {
      std::cerr << "usage: remote_load_bench [--links N] [--seconds S] [--idle S] "
                   "[--event-every SECONDS] [--amatad PATH] [--json FILE]\n";
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // a link the ring member closed is an error to count, not death
  // Nodes 1-3 are the ring (the documented three, each a corosync and an amatad that serves
  // remote nodes); node 4 is where the remote nodes are, all of them attached to n1.
  ClusterHarness h(4, TotemSettings{}, o.amatad, {}, 3);
  if (!h.usable()) {
    std::cerr << "remote_load_bench: " << h.why() << "\n";
    return 77;
  }
  remote::TestPki pki(h.dir() + "/pki");
  std::vector<remote::TlsFiles> files;
  for (int i = 1; i <= o.links; ++i) files.push_back(pki.issue("c" + std::to_string(i)));
  for (int i = 1; i <= 3; ++i) {
    const remote::TlsFiles ring = pki.issue("n" + std::to_string(i));
    std::ofstream(h.dir() + "/policy" + std::to_string(i) + ".amata")
        << "policy ring\n"
        << amata::cluster::testing::ring_declarations(
               3, "remote_port 7420; tls_cert \"" + ring.cert + "\"; tls_key \"" + ring.key +
                      "\"; tls_ca \"" + ring.ca + "\"");
  }
  run_amatad(h, o.amatad, "policy{i}.amata");
  for (int i = 1; i <= 3; ++i) h.start_corosync(i);
  for (int i = 1; i <= 3; ++i) h.start_node(i);
  if (!ClusterHarness::wait_until([&] { return amatads_settled(h, {1, 2, 3}); }, seconds(40))) {
    std::cerr << "the ring never settled\n" << h.logs();
    return 1;
  }
  const pid_t amatad = h.node_pid(1);
  const pid_t corosync = h.corosync_pid(1);
  const auto window = [&](int secs) {
    const double a0 = cpu_seconds(amatad), c0 = cpu_seconds(corosync);
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(seconds(secs));
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return json{{"amatad_cpu_percent", 100 * (cpu_seconds(amatad) - a0) / wall},
                {"corosync_cpu_percent", 100 * (cpu_seconds(corosync) - c0) / wall},
                {"amatad_rss_mib", rss_mib(amatad)},
                {"corosync_rss_mib", rss_mib(corosync)}};
  };
  const json idle = window(o.idle);
  std::cerr << "idle: " << idle.dump() << "\n";

  Generator generator(o, files, h.netns(4), h.address(1));
  if (!generator.prepare()) return 1;
  const double a_before_ramp = cpu_seconds(amatad);
  generator.run();
  if (!ClusterHarness::wait_until(
          [&] { return generator.welcomed() + generator.failed() >= o.links; }, seconds(120))) {
    std::cerr << "only " << generator.welcomed() << " of " << o.links << " links welcomed\n";
  }
  const double ramp_cpu = cpu_seconds(amatad) - a_before_ramp;
  std::this_thread::sleep_for(seconds(3));  // the ring's records of the attachments settle
  generator.start_measuring();
  const std::uint64_t sent0 = generator.events_sent();
  const json loaded = window(o.seconds);
  const std::uint64_t sent = generator.events_sent() - sent0;
  const json status = amatad_call(h, 1, "status").value("cluster", json::object());
  int members = 0;
  for (const auto& r : status.value("remote_nodes", json::array()))
    members += r.value("member", false);
  generator.stop();

  const auto rtts = generator.rtts_ms();
  const auto acks = generator.ack_ms();
  json result = {
      {"links", o.links},
      {"welcomed", generator.welcomed()},
      {"failed", generator.failed()},
      {"members_in_status", members},
      {"all_welcomed_s", generator.first_all_welcomed_s()},
      {"ramp_amatad_cpu_s", ramp_cpu},
      {"idle", idle},
      {"loaded", loaded},
      {"seconds", o.seconds},
      {"events_per_second", static_cast<double>(sent) / o.seconds},
      {"heartbeats", rtts.size()},
      {"heartbeat_rtt_ms",
       {{"p50", percentile(rtts, 0.5)},
        {"p99", percentile(rtts, 0.99)},
        {"max", percentile(rtts, 1.0)}}},
      {"events_acked", acks.size()},
      {"ack_ms",
       {{"p50", percentile(acks, 0.5)},
        {"p99", percentile(acks, 0.99)},
        {"max", percentile(acks, 1.0)}}},
  };
  std::cout << result.dump(2) << "\n";
  if (!o.json_file.empty()) std::ofstream(o.json_file) << result.dump(2) << "\n";
  return generator.welcomed() == o.links ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "remote_load_bench: %s\n", e.what());
  return 1;
}
