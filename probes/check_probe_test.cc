// The perfdata parser, and check probes running real programs: Debian's monitoring-plugins
// (check_load, check_disk, check_tcp) and small argv programs for exit codes and timeouts.
#include "probes/check_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>

#include "probes/perfdata.h"
#include "probes/procfs.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

const std::string kPlugins = "/usr/lib/nagios/plugins/";

TEST(Perfdata, RealPluginOutputs) {
  // Recorded from check_load and check_disk on Debian 12.
  auto load = parse_plugin_output(
      "LOAD OK - total load average: 1.65, 0.78, 0.32|load1=1.650;5.000;10.000;0; "
      "load5=0.780;5.000;10.000;0; load15=0.320;5.000;10.000;0; \n");
  EXPECT_EQ(load.text, "LOAD OK - total load average: 1.65, 0.78, 0.32");
  ASSERT_EQ(load.perf.size(), 3u);
  EXPECT_EQ(load.perf[0].label, "load1");
  EXPECT_DOUBLE_EQ(load.perf[0].value, 1.65);
  EXPECT_EQ(load.perf[2].label, "load15");
  auto disk = parse_plugin_output(
      "DISK OK - free space: / 80478MiB (82% inode=97%);| "
      "/=18357420032B;243497277849;257024904396;0;270552530944\n");
  ASSERT_EQ(disk.perf.size(), 1u);
  EXPECT_EQ(disk.perf[0].label, "/");
  EXPECT_DOUBLE_EQ(disk.perf[0].value, 18357420032.0);
  EXPECT_EQ(disk.perf[0].uom, "B");
}

TEST(Perfdata, UnitsAreConvertedToBaseUnits) {
  std::vector<PerfValue> v;
  parse_perfdata("t=250ms a=3us b=2s p=99.5% k=2KB m=1.5MB g=1GB tb=1TB c=42c n=7", v);
  ASSERT_EQ(v.size(), 10u);
  EXPECT_DOUBLE_EQ(v[0].value, 0.25);
  EXPECT_DOUBLE_EQ(v[1].value, 3e-6);
  EXPECT_DOUBLE_EQ(v[2].value, 2);
  EXPECT_DOUBLE_EQ(v[3].value, 99.5);
  EXPECT_DOUBLE_EQ(v[4].value, 2048);
  EXPECT_DOUBLE_EQ(v[5].value, 1.5 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(v[6].value, 1024.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(v[7].value, 1024.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(v[8].value, 42);
  EXPECT_DOUBLE_EQ(v[9].value, 7);
}

TEST(Perfdata, QuotedLabelsUndeterminedAndGarbage) {
  std::vector<PerfValue> v;
  parse_perfdata("'disk usage'=5% 'it''s'=1 u=U;1;2 junk =5 x= y=abc ok=1", v);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].label, "disk usage");
  EXPECT_EQ(v[1].label, "it's");
  EXPECT_EQ(v[2].label, "ok");
  v.clear();
  parse_perfdata("'unterminated=5", v);
  EXPECT_TRUE(v.empty());
}

TEST(Perfdata, LongOutputWithPerfdataOnLaterLines) {
  auto out = parse_plugin_output(
      "DISK OK - 3 disks | a=1\nline two of long text\nline three | b=2s\nc=3ms\n");
  EXPECT_EQ(out.text, "DISK OK - 3 disks");
  ASSERT_EQ(out.perf.size(), 3u);
  EXPECT_EQ(out.perf[1].label, "b");
  EXPECT_DOUBLE_EQ(out.perf[2].value, 0.003);
  EXPECT_EQ(parse_plugin_output("").text, "");
  EXPECT_EQ(parse_plugin_output("no perfdata").perf.size(), 0u);
}

TEST(Perfdata, StatusMapping) {
  EXPECT_EQ(plugin_status(0), 0);
  EXPECT_EQ(plugin_status(1), 1);
  EXPECT_EQ(plugin_status(2), 2);
  EXPECT_EQ(plugin_status(3), 3);
  EXPECT_EQ(plugin_status(127), 3);
  EXPECT_EQ(plugin_status(-1), 3);
}

class CheckProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    ProbeOptions options;
    options.use_proc_connector = false;
    set_ = ProbeSet::create(*loop_, sink_, options).value();
  }
  void TearDown() override { set_.reset(); }

  int add(std::vector<std::string> command, double timeout = 10) {
    catalog::ObjectSpec spec;
    spec.name = "c" + std::to_string(next_);
    spec.kind = catalog::Kind::kCheck;
    spec.command = std::move(command);
    spec.timeout = timeout;
    EXPECT_TRUE(set_->add(next_, spec));
    return next_++;
  }

  void run_all() {
    set_->poll_all();
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (set_->busy() && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(loop_->run_once(100ms));
    }
    ASSERT_FALSE(set_->busy());
  }

  std::unique_ptr<base::EventLoop> loop_;
  TestSink sink_;
  std::unique_ptr<ProbeSet> set_;
  int next_ = 0;
};

TEST_F(CheckProbeTest, RealMonitoringPlugins) {
  if (access((kPlugins + "check_load").c_str(), X_OK) != 0) {
    GTEST_SKIP() << "monitoring-plugins-basic is not installed (tools/setup.sh installs it)";
  }
  // A loopback listener for check_tcp.
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string port = std::to_string(ntohs(addr.sin_port));

  int load = add({kPlugins + "check_load", "-w", "1000,1000,1000", "-c", "2000,2000,2000"});
  int disk = add({kPlugins + "check_disk", "-w", "0%", "-c", "0%", "-p", "/"});
  int tcp = add({kPlugins + "check_tcp", "-H", "127.0.0.1", "-p", port});
  int usage = add({kPlugins + "check_load"});  // no thresholds: the plugin says UNKNOWN
  run_all();
  close(fd);

  EXPECT_EQ(sink_.number(load, "status"), 0) << sink_.string(load, "output");
  EXPECT_EQ(sink_.number(load, "exit_code"), 0);
  EXPECT_EQ(sink_.number(load, "timed_out"), 0);
  EXPECT_NE(sink_.string(load, "output").find("LOAD OK"), std::string::npos);
  EXPECT_TRUE(sink_.has(load, "perf.load1"));
  EXPECT_TRUE(sink_.has(load, "perf.load15"));
  EXPECT_GE(sink_.number(load, "duration"), 0);

  EXPECT_EQ(sink_.number(disk, "status"), 0) << sink_.string(disk, "output");
  EXPECT_GT(sink_.number(disk, "perf./"), 0);  // bytes used on /

  EXPECT_EQ(sink_.number(tcp, "status"), 0) << sink_.string(tcp, "output");
  EXPECT_GE(sink_.number(tcp, "perf.time"), 0);  // seconds
  EXPECT_LT(sink_.number(tcp, "perf.time"), 5);

  EXPECT_EQ(sink_.number(usage, "status"), 3);
  EXPECT_EQ(sink_.number(usage, "exit_code"), 3);
}

TEST_F(CheckProbeTest, ExitCodesOutputAndUnits) {
  int warn = add({"/bin/sh", "-c", "echo 'SLOW - 250 ms | t=250ms;100;500 size=2KB'; exit 1"});
  int crit = add({"/bin/sh", "-c", "echo 'BAD'; exit 2"});
  int weird = add({"/bin/sh", "-c", "exit 42"});
  int missing = add({"/nonexistent/plugin"});
  int signalled = add({"/bin/sh", "-c", "kill -TERM $$"});
  int noisy = add({"sh", "-c", "echo 'OK - fine | x=1' ; echo 'complaint | y=2' >&2"});
  run_all();
  EXPECT_EQ(sink_.number(warn, "status"), 1);
  EXPECT_EQ(sink_.string(warn, "output"), "SLOW - 250 ms");
  EXPECT_DOUBLE_EQ(sink_.number(warn, "perf.t"), 0.25);
  EXPECT_DOUBLE_EQ(sink_.number(warn, "perf.size"), 2048);
  EXPECT_EQ(sink_.number(crit, "status"), 2);
  EXPECT_EQ(sink_.string(crit, "output"), "BAD");
  EXPECT_EQ(sink_.number(weird, "status"), 3);
  EXPECT_EQ(sink_.number(weird, "exit_code"), 42);
  EXPECT_EQ(sink_.number(missing, "status"), 3);
  EXPECT_NE(sink_.string(missing, "output").find("/nonexistent/plugin"), std::string::npos);
  EXPECT_EQ(sink_.number(signalled, "status"), 3);
  EXPECT_NE(sink_.string(signalled, "output").find("signal"), std::string::npos);
  // stderr is not part of the convention; a bare name is found in PATH.
  EXPECT_EQ(sink_.string(noisy, "output"), "OK - fine");
  EXPECT_EQ(sink_.number(noisy, "perf.x"), 1);
  EXPECT_FALSE(sink_.has(noisy, "perf.y"));
}

TEST_F(CheckProbeTest, TimeoutKillsTheWholeProcessGroup) {
  // The plugin starts a grandchild that would outlive it; the timeout must kill both.
  std::string marker = "/tmp/amata-check-" + std::to_string(getpid());
  int slow = add({"/bin/sh", "-c", "sleep 30 & echo $! > " + marker + "; wait"}, 0.5);
  auto started = std::chrono::steady_clock::now();
  run_all();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(sink_.number(slow, "timed_out"), 1);
  EXPECT_EQ(sink_.number(slow, "status"), 3);
  EXPECT_GE(sink_.number(slow, "duration"), 0.4);
  auto text = read_small_file(marker);
  ASSERT_TRUE(text.ok());
  pid_t grandchild = std::stoi(*text);
  unlink(marker.c_str());
  // The grandchild was re-parented and reaped by init (or is a zombie for a moment).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    auto stat = read_small_file("/proc/" + std::to_string(grandchild) + "/stat");
    gone = !stat.ok() || stat->find(") Z") != std::string::npos;
    if (!gone) usleep(20000);
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the timeout";
}

TEST_F(CheckProbeTest, EmptyCommandIsRejected) {
  catalog::ObjectSpec spec;
  spec.name = "c";
  spec.kind = catalog::Kind::kCheck;
  EXPECT_FALSE(set_->add(0, spec));
}

}  // namespace
}  // namespace amata::probes
