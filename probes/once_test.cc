// probe_once on real objects: this node, this test process by pidfile, lo, "/", a loopback
// host with a listener the test opens, and a check running check_load.
#include "probes/once.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

namespace amata::probes {
namespace {

TEST(ProbeOnce, EveryKindOnRealObjects) {
  std::string pidfile = "/tmp/amata-once-" + std::to_string(getpid()) + ".pid";
  std::ofstream(pidfile) << getpid() << "\n";
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);

  using catalog::Kind;
  std::vector<catalog::ObjectSpec> objects(7);
  objects[0].name = "self";
  objects[0].kind = Kind::kNode;
  objects[1].name = "me";
  objects[1].kind = Kind::kProcess;
  objects[1].pidfile = pidfile;
  objects[2].name = "loop";
  objects[2].kind = Kind::kInterface;
  objects[2].ifname = "lo";
  objects[3].name = "root";
  objects[3].kind = Kind::kFilesystem;
  objects[3].path = "/";
  objects[4].name = "local";
  objects[4].kind = Kind::kHost;
  objects[4].host = {catalog::HostProbeSpec::Method::kTcp, "127.0.0.1", ntohs(addr.sin_port), 1};
  objects[5].name = "load";
  objects[5].kind = Kind::kCheck;
  objects[5].command = {"/usr/lib/nagios/plugins/check_load", "-w", "1000,1000,1000", "-c",
                        "2000,2000,2000"};
  objects[6].name = "other";
  objects[6].kind = Kind::kPeer;  // filled by the cluster layer: present, no attributes

  auto result = probe_once(objects);
  close(listener);
  unlink(pidfile.c_str());
  ASSERT_TRUE(result.ok()) << result.error().message;
  const nlohmann::json& out = *result;
  SCOPED_TRACE(out.dump(2));
  const auto& o = out.at("objects");

  const auto& node = o.at("self");
  EXPECT_EQ(node.at("kind"), "node");
  // Every node attribute is filled on this kernel (it has iowait and steal columns).
  for (const auto& attr : catalog::attributes(Kind::kNode)) {
    EXPECT_TRUE(node.at("attrs").contains(std::string(attr.name))) << attr.name;
  }
  EXPECT_GE(node["attrs"]["cpu"].get<double>(), 0);
  EXPECT_LE(node["attrs"]["cpu"].get<double>(), 100);
  EXPECT_GT(node["attrs"]["procs"].get<double>(), 1);

  const auto& me = o.at("me").at("attrs");
  EXPECT_EQ(me.at("alive"), true);
  EXPECT_EQ(me.at("pid"), getpid());
  EXPECT_GT(me.at("rss").get<double>(), 0);
  EXPECT_GE(me.at("cpu").get<double>(), 0);
  EXPECT_GE(me.at("read_rate").get<double>(), 0);
  EXPECT_GE(me.at("threads").get<double>(), 1);

  const auto& lo = o.at("loop").at("attrs");
  EXPECT_EQ(lo.at("carrier"), "up");
  EXPECT_TRUE(lo.contains("rx_rate"));
  EXPECT_TRUE(lo.contains("operstate"));

  const auto& root = o.at("root").at("attrs");
  for (const char* a : {"used", "free", "size", "inodes", "readonly"}) {
    EXPECT_TRUE(root.contains(a)) << a;
  }
  EXPECT_GT(root.at("size").get<double>(), root.at("free").get<double>());

  EXPECT_EQ(o.at("local").at("attrs").at("reachable"), true);
  EXPECT_GE(o.at("local").at("attrs").at("latency").get<double>(), 0);

  const auto& load = o.at("load").at("attrs");
  EXPECT_EQ(load.at("status"), "ok");
  EXPECT_TRUE(load.contains("perf.load1"));

  EXPECT_EQ(o.at("other").at("kind"), "peer");
  EXPECT_TRUE(o.at("other").at("attrs").empty());
}

TEST(ProbeOnce, UnusableSpecIsAnError) {
  std::vector<catalog::ObjectSpec> objects(1);
  objects[0].name = "fs";
  objects[0].kind = catalog::Kind::kFilesystem;
  objects[0].path = "relative/path";
  auto result = probe_once(objects);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("fs"), std::string::npos);
}

}  // namespace
}  // namespace amata::probes
