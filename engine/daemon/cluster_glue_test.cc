#include "engine/daemon/cluster_glue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "compiler/lower/policy_loader.h"
#include "engine/discovery/metric_store.h"

namespace amata::daemon {
namespace {

catalog::ObjectSpec peer(std::string name, std::string node, std::optional<std::uint32_t> id) {
  catalog::ObjectSpec p;
  p.name = std::move(name);
  p.kind = catalog::Kind::kPeer;
  p.peer_name = std::move(node);
  p.node_id = id;
  return p;
}

catalog::ObjectSpec service(std::string name, bool clustered, std::vector<std::string> prefer) {
  catalog::ObjectSpec s;
  s.name = std::move(name);
  s.kind = catalog::Kind::kService;
  s.start = {"/bin/sleep", "1000"};
  s.clustered = clustered;
  s.prefer = std::move(prefer);
  s.only_preferred = !s.prefer.empty();
  return s;
}

TEST(ClusterGlue, ConfigOfAPolicy) {
  catalog::ClusterSpec spec;
  spec.name = "pair";
  spec.group = "amata-web";
  spec.on_quorum_loss = catalog::ClusterSpec::QuorumLoss::kFreeze;
  spec.fence = {"/usr/sbin/fence_x", "--ip", "10.0.0.9"};
  std::vector<catalog::ObjectSpec> objects = {
      peer("alpha", "n1", 1), peer("beta", "n2", 2), peer("gamma", "n3", std::nullopt),
      service("vip", true, {"n2", "n1"}), service("local", false, {})};
  objects[3].failback = true;
  auto config = ClusterGlue::config_of(spec, objects);
  EXPECT_EQ(config.group, "amata-web");
  EXPECT_EQ(config.on_quorum_loss, cluster::QuorumLossPolicy::kFreeze);
  EXPECT_EQ(config.fence.argv, spec.fence);
  ASSERT_EQ(config.services.size(), 1u);  // only the clustered service
  EXPECT_EQ(config.services[0].name, "vip");
  EXPECT_TRUE(config.services[0].only_preferred);
  EXPECT_TRUE(config.services[0].fence);
  EXPECT_TRUE(config.services[0].failback);
  EXPECT_EQ(config.preferred_names.at("vip"), (std::vector<std::string>{"n2", "n1"}));
  EXPECT_EQ(config.node_names.size(), 2u);  // peers with a node id name their node
  EXPECT_EQ(config.node_names.at(2), "n2");
}

TEST(ClusterGlue, PeersBecomePeerAttributes) {
  ir::PolicyTables t;
  t.objects = {peer("alpha", "n1", 1), peer("beta", "n2", std::nullopt), peer("gone", "n9", 9)};
  discovery::MetricStore store(t, nullptr, nullptr);
  std::vector<cluster::PeerView> views(2);
  views[0].node_id = 1;
  views[0].name = "n1";
  views[0].member = true;
  views[0].quorate = true;
  views[0].local = true;
  views[0].since = base::Clock::now() - std::chrono::seconds(30);
  views[1].node_id = 2;
  views[1].name = "n2";  // beta has no node_id: matched by name
  views[1].member = false;
  views[1].quorate = true;
  views[1].since = base::Clock::now();
  ClusterGlue::write_peers(views, t, store);
  EXPECT_EQ(store.numbers_of(0).at("member"), 1);
  EXPECT_EQ(store.numbers_of(0).at("quorate"), 1);
  EXPECT_EQ(store.numbers_of(0).at("node_id"), 1);
  EXPECT_GE(store.numbers_of(0).at("since"), 29);
  EXPECT_EQ(store.strings_of(0).at("name"), "n1");
  EXPECT_EQ(store.numbers_of(1).at("member"), 0);
  EXPECT_EQ(store.numbers_of(1).at("node_id"), 2);
  // A declared peer Corosync does not know: not a member, the partition's quorum still shown.
  EXPECT_EQ(store.numbers_of(2).at("member"), 0);
  EXPECT_EQ(store.numbers_of(2).at("quorate"), 1);
  EXPECT_EQ(store.numbers_of(2).at("node_id"), 9);
  EXPECT_EQ(store.strings_of(2).at("name"), "n9");
}

struct Collect : ir::ActionSink {
  void request(const ir::ActionRequest& a) override { actions.push_back(a); }
  std::vector<ir::ActionRequest> actions;
};

// What the daemon hands to ClusterGlue::failover: the service (a recover parameter here) and
// the peer's node name, from the compiled policy that amatad loads.
TEST(ClusterGlue, CompiledFailoverNamesTheServiceAndThePeer) {
  char tmpl[] = "/tmp/amata-glue-policy-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/p.amata";
  std::ofstream(path) << "cluster pair { group \"g\"; on_quorum_loss freeze }\n"
                         "peer beta { name \"node-b\"; node_id 2 }\n"
                         "service web { start \"/bin/sleep\" \"100\"; clustered; prefer beta }\n"
                         "discover d(s: service) when not s.alive raise Down(s)\n"
                         "recover Down(s) { failover s to beta; failover s }\n";
  lower::LoadedPolicy loaded = lower::load_policy(path, lower::Backend::kInterp);
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(loaded.policy) << loaded.diagnostics;
  const auto& tables = loaded.policy->tables();
  ASSERT_TRUE(tables.cluster);
  EXPECT_EQ(tables.cluster->group, "g");
  auto config = ClusterGlue::config_of(*tables.cluster, tables.objects);
  EXPECT_EQ(config.on_quorum_loss, cluster::QuorumLossPolicy::kFreeze);
  EXPECT_EQ(config.preferred_names.at("web"), (std::vector<std::string>{"node-b"}));
  const int web = tables.find_object("web"), beta = tables.find_object("beta");
  discovery::MetricStore store(tables, nullptr, nullptr);
  auto state = loaded.policy->make_state();
  Collect sink;
  loaded.policy->recover({tables.find_event("Down"), {web}}, 1.0, store.samples(), state, sink);
  ASSERT_EQ(sink.actions.size(), 2u);
  EXPECT_EQ(sink.actions[0].kind, ir::ActionKind::kFailover);
  EXPECT_EQ(sink.actions[0].failover_service, web);
  EXPECT_EQ(sink.actions[0].object, beta);
  EXPECT_EQ(sink.actions[1].failover_service, web);
  EXPECT_EQ(sink.actions[1].object, -1);  // to any node
}

/// A glue over a real supervisor; Corosync need not run (the manager keeps retrying).
struct GlueFixture : ::testing::Test {
  static constexpr int kVip = 0, kLocal = 1;  // the objects' order below
  void SetUp() override {
    char tmpl[] = "/tmp/amata-glue-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    auto l = base::EventLoop::create();
    ASSERT_TRUE(l);
    loop = std::move(*l);
    ASSERT_TRUE(loop->watch_signals({SIGTERM}, [](const signalfd_siginfo&) {}));
    supervisor = std::make_unique<supervisor::Supervisor>(*loop, supervisor::SupervisorEvents{});
    objects = {service("vip", true, {}), service("local", false, {})};
    std::vector<supervisor::ServiceConfig> configs;
    for (std::size_t i = 0; i < objects.size(); ++i) {
      configs.push_back(supervisor::ServiceConfig::from_spec(static_cast<int>(i), objects[i], dir));
    }
    supervisor->configure(configs);
    catalog::ClusterSpec spec;
    spec.name = "t";
    spec.group = "amata-glue-test-" + std::to_string(getpid());
    auto g = ClusterGlue::create(*loop, spec, objects, *supervisor, {});
    ASSERT_TRUE(g) << g.error().message;
    glue = std::move(*g);
  }
  void TearDown() override {
    glue.reset();
    if (supervisor) {
      bool stopped = false;
      supervisor->stop_all([&](bool, const std::string&) { stopped = true; });
      for (int i = 0; i < 200 && !stopped; ++i) (void)loop->run_once(std::chrono::milliseconds(50));
    }
    supervisor.reset();
    std::filesystem::remove_all(dir);
  }
  void run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 200 && !done(); ++i) (void)loop->run_once(std::chrono::milliseconds(50));
  }

  std::string dir;  // the services' logs
  std::unique_ptr<base::EventLoop> loop;
  std::unique_ptr<supervisor::Supervisor> supervisor;
  std::vector<catalog::ObjectSpec> objects;
  std::unique_ptr<ClusterGlue> glue;
};

TEST_F(GlueFixture, BootLeavesClusteredServicesToTheCluster) {
  EXPECT_TRUE(glue->places("vip"));
  EXPECT_FALSE(glue->places("local"));
  supervisor->start_all();
  auto local_runs = [&] {
    return supervisor->status(kLocal)->state == supervisor::ServiceState::kRunning;
  };
  run_until(local_runs);
  EXPECT_TRUE(local_runs());
  EXPECT_FALSE(glue->is_running("vip"));  // held back: unmonitored at boot
  EXPECT_FALSE(supervisor->status(kVip)->monitored);
  glue->start_clustered("vip", "test");
  run_until([&] { return glue->is_running("vip"); });
  EXPECT_TRUE(glue->is_running("vip"));
  EXPECT_TRUE(supervisor->status(kVip)->monitored);
  glue->stop_clustered("vip", "test");
  run_until([&] { return !glue->is_running("vip"); });
  EXPECT_FALSE(glue->is_running("vip"));
  EXPECT_FALSE(glue->failover("local", std::nullopt));  // not clustered
}

TEST_F(GlueFixture, FenceAgentReadsItsOptionsOnStdin) {
  const std::string out = "/tmp/amata-fence-" + std::to_string(getpid());
  std::optional<std::pair<bool, std::string>> result;
  glue->run_fence("n2", {"/bin/sh", "-c", "cat > " + out + "; grep -q '^nodename=n2$' " + out},
                  "action=off\nnodename=n2\n",
                  [&](bool ok, std::string detail) { result.emplace(ok, std::move(detail)); });
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->first) << result->second;
  std::ifstream f(out);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "action=off\nnodename=n2\n");
  std::filesystem::remove(out);

  result.reset();
  glue->run_fence("n2", {"/bin/sh", "-c", "exit 3"}, "",
                  [&](bool ok, std::string detail) { result.emplace(ok, std::move(detail)); });
  run_until([&] { return result.has_value(); });
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->first);
  EXPECT_EQ(result->second, "exited 3");

  result.reset();
  glue->run_fence("n2", {"relative-agent"}, "",
                  [&](bool ok, std::string detail) { result.emplace(ok, std::move(detail)); });
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->first);
}

}  // namespace
}  // namespace amata::daemon
