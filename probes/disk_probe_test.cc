// The smartctl report parser on real outputs (tests/fixtures/smartctl/README.md says where
// each came from), and the disk probe running real programs: cat printing a fixture, a
// program that hangs, one that does not exist, and smartctl itself on this machine's disks.
#include "probes/disk_probe.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "probes/smart_report.h"
#include "probes/test_loop.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

using namespace std::chrono_literals;

const std::string kFixtures = "tests/fixtures/smartctl/";

std::string fixture(const std::string& name) {
  std::ifstream in(kFixtures + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << kFixtures + name;
  return text.str();
}

SmartReport parsed(const std::string& name) {
  auto r = parse_smartctl_json(fixture(name));
  EXPECT_TRUE(r.has_value()) << name;
  return r.value_or(SmartReport{});
}

TEST(SmartReport, AtaHealthy) {
  SmartReport r = parsed("ata_healthy.json");
  EXPECT_EQ(r.passed, true);
  EXPECT_EQ(r.temperature, 24);
  EXPECT_EQ(r.reallocated, 0u);
  EXPECT_EQ(r.pending, 0u);
  EXPECT_EQ(r.uncorrectable, 0u);
  EXPECT_EQ(r.power_on_seconds, 47060.0 * 3600 + 35 * 60);  // hours and minutes
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.messages, "");
  EXPECT_FALSE(r.media_errors || r.percentage_used || r.available_spare || r.critical_warning);
  EXPECT_TRUE(r.has_smart_data());
}

TEST(SmartReport, AtaWithReallocatedSectorsStillPasses) {
  SmartReport r = parsed("ata_reallocated.json");
  EXPECT_EQ(r.passed, true);
  EXPECT_EQ(r.reallocated, 304u);
  EXPECT_EQ(r.pending, 0u);
  EXPECT_EQ(r.temperature, 33);
  EXPECT_EQ(r.power_on_seconds, 44668.0 * 3600);
}

TEST(SmartReport, FailingAtaDiskBehindUsbBridge) {
  SmartReport r = parsed("ata_failing_usb_jmicron.json");
  EXPECT_EQ(r.passed, false);
  EXPECT_EQ(r.reallocated, 1975u);
  EXPECT_EQ(r.pending, 8u);
  EXPECT_EQ(r.uncorrectable, 0u);
  EXPECT_EQ(r.temperature, 25);
  ASSERT_EQ(r.exit_status, 216);  // disk failing, prefail attributes, error and self-test logs
  EXPECT_NE(*r.exit_status & kSmartctlDiskFailing, 0);
  EXPECT_EQ(*r.exit_status & (kSmartctlBadCommandLine | kSmartctlOpenFailed), 0);
}

TEST(SmartReport, NvmeWithMediaErrors) {
  SmartReport r = parsed("nvme_media_errors.json");
  EXPECT_EQ(r.passed, true);
  EXPECT_EQ(r.media_errors, 7u);
  EXPECT_EQ(r.percentage_used, 3);
  EXPECT_EQ(r.available_spare, 99);
  EXPECT_EQ(r.critical_warning, 0u);
  EXPECT_EQ(r.temperature, 35);
  EXPECT_EQ(r.power_on_seconds, 12798.0 * 3600);
  EXPECT_FALSE(r.reallocated || r.pending || r.uncorrectable);  // no ATA attributes
}

TEST(SmartReport, NvmeCriticalWarning) {
  SmartReport r = parsed("nvme_critical_warning.json");
  EXPECT_EQ(r.passed, false);
  EXPECT_EQ(r.critical_warning, 16u);  // volatile memory backup failed
  EXPECT_EQ(r.exit_status, 8);
  EXPECT_EQ(r.media_errors, 0u);
  EXPECT_EQ(r.available_spare, 100);
  EXPECT_EQ(r.temperature, 40);
}

TEST(SmartReport, DevicesSmartctlCannotRead) {
  SmartReport usb = parsed("usb_unknown_bridge.json");
  EXPECT_EQ(usb.exit_status, 1);
  EXPECT_NE(usb.messages.find("Unknown USB bridge [0x048d:0x1234 (0x200)]"), std::string::npos);
  EXPECT_FALSE(usb.has_smart_data());

  SmartReport virtio = parsed("virtio_unknown_type.json");
  EXPECT_EQ(virtio.exit_status, 1);
  EXPECT_EQ(virtio.messages, "/dev/vda: Unable to detect device type");
  EXPECT_FALSE(virtio.has_smart_data());

  SmartReport eperm = parsed("virtio_open_eperm.json");
  EXPECT_EQ(eperm.exit_status, 2);
  EXPECT_NE(eperm.messages.find("Operation not permitted"), std::string::npos);
  EXPECT_FALSE(eperm.passed.has_value());
}

TEST(SmartReport, NotAReport) {
  EXPECT_FALSE(parse_smartctl_json(""));
  EXPECT_FALSE(parse_smartctl_json("smartctl: unrecognized option '--json=c'"));
  EXPECT_FALSE(parse_smartctl_json("[1, 2]"));
  std::string text = fixture("nvme_media_errors.json");
  EXPECT_FALSE(parse_smartctl_json(std::string_view(text).substr(0, text.size() / 2)));
  // An object with nothing known in it is a report of nothing.
  auto empty = parse_smartctl_json("{}");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_smart_data());
  EXPECT_FALSE(empty->exit_status);
}

TEST(SmartReport, WrongTypesAreUnknownNotErrors) {
  auto r = parse_smartctl_json(
      R"({"smartctl": {"exit_status": -1, "messages": "x"}, "smart_status": {"passed": "yes"},
          "temperature": {"current": "40"}, "power_on_time": {"hours": -3},
          "ata_smart_attributes": {"table": [{"id": 5, "raw": {"value": 2.5}}, 7]},
          "nvme_smart_health_information_log": [1]})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_smart_data());
  EXPECT_FALSE(r->exit_status);
  EXPECT_EQ(r->messages, "");
}

TEST(SmartReport, AtaRawCounts) {
  // Attribute 9 of scrutiny's smart-sat.json: a count with packed upper bytes.
  EXPECT_EQ(ata_raw_count(167031278144165u, "2725 (151 234 0)"), 2725u);
  // Not a plain count: raw.value is all there is.
  EXPECT_EQ(ata_raw_count(683071598791665u, "35825h+02m+39.040s"), 683071598791665u);
  EXPECT_EQ(ata_raw_count(304u, "304"), 304u);
  EXPECT_EQ(ata_raw_count(5u, ""), 5u);
  EXPECT_EQ(ata_raw_count(std::nullopt, ""), std::nullopt);
  EXPECT_EQ(ata_raw_count(std::nullopt, "12"), 12u);
}

/// A TestSink that also counts completed samples.
class CountingSink : public TestSink {
 public:
  void sampled(int object) override { ++samples[object]; }
  std::map<int, int> samples;
};

class DiskProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = base::EventLoop::create().value();
    ctx_ = std::make_unique<ProbeContext>(ProbeContext{*loop_, sink_, ProbeOptions{}});
  }

  /// A disk probe of object `object` that runs `command` (smartctl itself when empty).
  std::unique_ptr<DiskProbe> make(int object, std::vector<std::string> command, double timeout = 10,
                                  std::string device = "/dev/sda") {
    catalog::ObjectSpec spec;
    spec.name = "d" + std::to_string(object);
    spec.kind = catalog::Kind::kDisk;
    spec.device = std::move(device);
    spec.command = std::move(command);
    spec.timeout = timeout;
    auto p = DiskProbe::create(object, spec, *ctx_);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(*p) : nullptr;
  }

  /// Polls `probe` and runs the loop until its run has been reported.
  void run(DiskProbe& probe) {
    probe.poll();
    EXPECT_TRUE(run_loop_until(*loop_, [&] { return !probe.busy(); }));
  }

  std::unique_ptr<base::EventLoop> loop_;
  CountingSink sink_;
  std::unique_ptr<ProbeContext> ctx_;
};

/// This process's PATH ("" when unset).
std::string_view env_path() {
  const char* path = getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read only
  return path != nullptr ? path : "";
}

std::string absolute(const std::string& name) {
  return std::filesystem::absolute(kFixtures + name).string();
}

TEST_F(DiskProbeTest, FailingAtaDiskThroughAWrapper) {
  auto probe = make(0, {"/bin/cat", absolute("ata_failing_usb_jmicron.json")});
  ASSERT_TRUE(probe);
  run(*probe);
  EXPECT_EQ(sink_.samples[0], 1);
  EXPECT_EQ(sink_.number(0, "healthy"), 0);
  EXPECT_EQ(sink_.number(0, "reallocated"), 1975);
  EXPECT_EQ(sink_.number(0, "pending"), 8);
  EXPECT_EQ(sink_.number(0, "uncorrectable"), 0);
  EXPECT_EQ(sink_.number(0, "temp"), 25);
  EXPECT_EQ(sink_.number(0, "power_on"), 65592.0 * 3600);
  // cat exits 0; smartctl's own exit status comes from its JSON.
  EXPECT_EQ(sink_.number(0, "exit_status"), 216);
  EXPECT_EQ(sink_.number(0, "timed_out"), 0);
  EXPECT_FALSE(sink_.has(0, "media_errors"));
  EXPECT_FALSE(sink_.has(0, "spare"));
  // A failing disk is a finding, not an error of the probe.
  EXPECT_EQ(sink_.string(0, "error"), "");
}

TEST_F(DiskProbeTest, NvmeAndUnreadableDevices) {
  auto nvme = make(0, {"/bin/cat", absolute("nvme_media_errors.json")});
  auto usb = make(1, {"/bin/cat", absolute("usb_unknown_bridge.json")});
  auto text = make(2, {"/bin/echo", "Smartctl open device: /dev/sda failed"});
  ASSERT_TRUE(nvme && usb && text);
  run(*nvme);
  run(*usb);
  run(*text);
  EXPECT_EQ(sink_.number(0, "healthy"), 1);
  EXPECT_EQ(sink_.number(0, "media_errors"), 7);
  EXPECT_EQ(sink_.number(0, "percentage_used"), 3);
  EXPECT_EQ(sink_.number(0, "spare"), 99);
  EXPECT_EQ(sink_.number(0, "critical_warning"), 0);
  EXPECT_FALSE(sink_.has(0, "reallocated"));
  EXPECT_EQ(sink_.string(0, "error"), "");

  EXPECT_FALSE(sink_.has(1, "healthy"));
  EXPECT_FALSE(sink_.has(1, "temp"));
  EXPECT_EQ(sink_.number(1, "exit_status"), 1);
  EXPECT_NE(sink_.string(1, "error").find("Unknown USB bridge"), std::string::npos);

  EXPECT_FALSE(sink_.has(2, "healthy"));
  EXPECT_EQ(sink_.number(2, "exit_status"), 0);
  EXPECT_NE(sink_.string(2, "error").find("no JSON"), std::string::npos);
  EXPECT_EQ(sink_.samples[2], 1);
}

TEST_F(DiskProbeTest, HungProgramIsKilledAtTheTimeoutWithoutBlockingTheLoop) {
  auto probe = make(0, {"/bin/sleep", "30"}, 2);
  ASSERT_TRUE(probe);
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    loop_->add_timer_after(100ms, tick);
  };
  loop_->add_timer_after(100ms, tick);
  auto started = std::chrono::steady_clock::now();
  probe->poll();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);  // poll() only starts it
  EXPECT_TRUE(probe->busy());
  probe->poll();  // still running: no second smartctl
  EXPECT_TRUE(run_loop_until(*loop_, [&] { return !probe->busy(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_GE(ticks, 5) << "the loop's timers did not run while the program hung";
  EXPECT_EQ(sink_.samples[0], 1);
  EXPECT_EQ(sink_.number(0, "timed_out"), 1);
  EXPECT_NE(sink_.string(0, "error").find("timed out after 2 s"), std::string::npos);
  EXPECT_FALSE(sink_.has(0, "healthy"));
  EXPECT_FALSE(sink_.has(0, "exit_status"));
}

TEST_F(DiskProbeTest, MissingProgram) {
  auto probe = make(0, {"/nonexistent/smartctl", "--json=c", "--all", "/dev/sda"});
  ASSERT_TRUE(probe);
  run(*probe);
  EXPECT_EQ(sink_.samples[0], 1);
  EXPECT_NE(sink_.string(0, "error").find("/nonexistent/smartctl"), std::string::npos);
  EXPECT_EQ(sink_.number(0, "timed_out"), 0);
  EXPECT_FALSE(sink_.has(0, "exit_status"));
  EXPECT_FALSE(sink_.has(0, "healthy"));
}

TEST_F(DiskProbeTest, SpecErrorsAndFindingSmartctl) {
  catalog::ObjectSpec spec;
  spec.name = "nodev";
  spec.kind = catalog::Kind::kDisk;
  auto no_device = DiskProbe::create(0, spec, *ctx_);
  ASSERT_FALSE(no_device.ok());
  EXPECT_NE(no_device.error().message.find("device"), std::string::npos);

  // find_program: PATH order, empty entries, then the fallback.
  std::string dir = ::testing::TempDir() + "amata-disk-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string program = dir + "/smartctl";
  std::ofstream(program) << "#!/bin/sh\n";
  ASSERT_EQ(chmod(program.c_str(), 0755), 0);
  EXPECT_EQ(find_program("smartctl", "/nonexistent::" + dir, ""), program);
  EXPECT_EQ(find_program("smartctl", "/nonexistent", program), program);
  EXPECT_EQ(find_program("smartctl", "/nonexistent", "/nonexistent/smartctl"), std::nullopt);
  EXPECT_EQ(find_program("smartctl", "", ""), std::nullopt);
  std::filesystem::remove_all(dir);

  if (access("/usr/sbin/smartctl", X_OK) != 0 && !find_program("smartctl", env_path(), "")) {
    spec.device = "/dev/sda";
    auto missing = DiskProbe::create(0, spec, *ctx_);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("install smartmontools"), std::string::npos);
  }
}

/// A whole disk of this machine ("/dev/vda"), or "" when /sys/block lists none.
std::string some_disk() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/block", ec)) {
    std::string name = entry.path().filename().string();
    for (const char* skip : {"loop", "ram", "zram", "dm-", "sr", "md", "nbd"}) {
      if (name.rfind(skip, 0) == 0) name.clear();
    }
    if (!name.empty()) return "/dev/" + name;
  }
  return "";
}

TEST_F(DiskProbeTest, RealSmartctlOnThisMachine) {
  if (!find_program("smartctl", env_path(), "/usr/sbin/smartctl")) {
    GTEST_SKIP() << "smartmontools is not installed";
  }
  std::string disk = some_disk();
  if (disk.empty()) GTEST_SKIP() << "no disk in /sys/block";
  auto probe = make(0, {}, 60, disk);
  ASSERT_TRUE(probe);
  run(*probe);
  EXPECT_EQ(sink_.samples[0], 1);
  EXPECT_EQ(sink_.number(0, "timed_out"), 0) << sink_.string(0, "error");
  EXPECT_TRUE(sink_.has(0, "exit_status")) << sink_.string(0, "error");
  const std::string error = sink_.string(0, "error");
  if (!sink_.has(0, "healthy")) {
    // A virtual disk (virtio, xen), or one we may not open: said, and nothing made up.
    EXPECT_NE(error, "") << disk;
    EXPECT_FALSE(sink_.has(0, "temp"));
    EXPECT_FALSE(sink_.has(0, "reallocated"));
    EXPECT_FALSE(sink_.has(0, "media_errors"));
  } else {
    double healthy = sink_.number(0, "healthy");
    EXPECT_TRUE(healthy == 0 || healthy == 1) << healthy;
  }
  std::cout << disk << ": exit_status " << sink_.number(0, "exit_status") << ", error \"" << error
            << "\"\n";
}

}  // namespace
}  // namespace amata::probes
