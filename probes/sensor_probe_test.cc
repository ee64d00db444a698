#include "probes/sensor_probe.h"

#include <gtest/gtest.h>

#include <cmath>

#include "probes/sysfs_test_tree.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

const std::string kX86 = "tests/fixtures/sys/x86";
const std::string kNvmeDir = "devices/pci0000:00/0000:00:02.1/0000:01:00.0/nvme/nvme0/hwmon4";

catalog::ObjectSpec chip_input(const std::string& chip, const std::string& input) {
  catalog::ObjectSpec spec;
  spec.name = "s";
  spec.kind = catalog::Kind::kSensor;
  spec.chip = chip;
  spec.input = input;
  return spec;
}

catalog::ObjectSpec zone(const std::string& type) {
  catalog::ObjectSpec spec;
  spec.name = "z";
  spec.kind = catalog::Kind::kSensor;
  spec.zone = type;
  return spec;
}

std::unique_ptr<SensorProbe> make(ProbeHarness& h, const catalog::ObjectSpec& spec) {
  auto probe = SensorProbe::create(0, spec, h.ctx);
  EXPECT_TRUE(probe.ok());
  return probe.ok() ? std::move(*probe) : nullptr;
}

TEST(SensorProbe, CoretempPackageByLabel) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto p = make(h, chip_input("coretemp", "Package id 1"));
  p->poll();
  EXPECT_EQ(p->source(), kX86 + "/class/hwmon/hwmon2");  // the second socket, found by label
  EXPECT_EQ(sink.string(0, "label"), "Package id 1");
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 55.0);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_max"), 84.0);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_crit"), 100.0);
  EXPECT_EQ(sink.number(0, "alarm"), 0);
  EXPECT_FALSE(sink.has(0, "fault"));  // coretemp has no temp*_fault
  EXPECT_FALSE(sink.has(0, "fan"));
  EXPECT_TRUE(sink.notices().empty());
}

TEST(SensorProbe, SameLabelOnTwoChipsIsSaidAndNameAtDeviceChooses) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto p = make(h, chip_input("coretemp", "Core 0"));
  ASSERT_EQ(sink.notices().size(), 1u);
  EXPECT_NE(sink.notices()[0].second.find("CHIP@DEVICE"), std::string::npos);
  auto q = make(h, chip_input("coretemp@coretemp.1", "Core 0"));
  EXPECT_EQ(q->source(), kX86 + "/class/hwmon/hwmon2");
  EXPECT_EQ(sink.notices().size(), 1u);
}

TEST(SensorProbe, NvmeByStemAndByDevice) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto p = make(h, chip_input("nvme@nvme0", "temp1"));
  p->poll();
  EXPECT_EQ(sink.string(0, "label"), "Composite");
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 43.85);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_max"), 84.85);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_crit"), 94.85);
  EXPECT_EQ(sink.number(0, "alarm"), 0);  // temp1_alarm
  // A device that is not this chip's finds nothing.
  TestSink other;
  ProbeHarness h2(other, kX86);
  auto q = make(h2, chip_input("nvme@nvme1", "temp1"));
  q->poll();
  EXPECT_TRUE(q->source().empty());
  EXPECT_FALSE(other.has(0, "temp"));
}

TEST(SensorProbe, Nct6779FanAndVoltage) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto fan = make(h, chip_input("nct6779", "fan2"));
  fan->poll();
  EXPECT_EQ(sink.number(0, "fan"), 1098);
  EXPECT_EQ(sink.number(0, "fan_min"), 0);
  EXPECT_EQ(sink.number(0, "alarm"), 0);
  EXPECT_EQ(sink.string(0, "label"), "fan2");  // no fan2_label: the stem
  EXPECT_FALSE(sink.has(0, "temp"));

  TestSink vs;
  ProbeHarness hv(vs, kX86);
  auto in1 = make(hv, chip_input("nct6779", "in1"));
  in1->poll();
  EXPECT_DOUBLE_EQ(vs.number(0, "volts"), 1.024);
  EXPECT_EQ(vs.number(0, "volts_min"), 0);
  EXPECT_EQ(vs.number(0, "volts_max"), 0);
  EXPECT_EQ(vs.number(0, "alarm"), 1);  // in1_alarm is set in the recording
}

TEST(SensorProbe, PowerMeterInTheDeviceDirectory) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto p = make(h, chip_input("power_meter", "power1"));
  p->poll();
  EXPECT_EQ(p->source(), kX86 + "/class/hwmon/hwmon0/device");
  EXPECT_DOUBLE_EQ(sink.number(0, "power"), 371.0);      // power1_average, microwatt
  EXPECT_DOUBLE_EQ(sink.number(0, "power_max"), 500.0);  // power1_cap
  EXPECT_EQ(sink.number(0, "alarm"), 0);
}

TEST(SensorProbe, ThermalZonesAndTheirTripPoints) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  auto acpi = make(h, zone("acpitz"));
  acpi->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 27.8);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_crit"), 127.0);
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_max"), 127.0);  // hot wins over passive
  EXPECT_EQ(sink.string(0, "label"), "acpitz");
  EXPECT_FALSE(sink.has(0, "alarm"));

  TestSink pkg;
  ProbeHarness hp(pkg, kX86);
  auto x86 = make(hp, zone("x86_pkg_temp"));
  x86->poll();
  EXPECT_DOUBLE_EQ(pkg.number(0, "temp"), 45.0);
  EXPECT_FALSE(pkg.has(0, "temp_max"));  // both passive trips are THERMAL_TEMP_INVALID
  EXPECT_FALSE(pkg.has(0, "temp_crit"));
}

TEST(SensorProbe, ValuesChangeBetweenPolls) {
  SysTreeCopy tree(kX86);
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, chip_input("coretemp@coretemp.0", "Package id 0"));
  p->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 55.0);
  const std::string dir = "devices/platform/coretemp.0/hwmon/hwmon1/";
  tree.write(dir + "temp1_input", "101000\n");
  tree.write(dir + "temp1_crit_alarm", "1\n");
  p->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 101.0);
  EXPECT_EQ(sink.number(0, "alarm"), 1);

  auto z = make(h, zone("x86_pkg_temp"));
  tree.write("devices/virtual/thermal/thermal_zone1/trip_point_1_temp", "90000\n");
  z->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp_max"), 90.0);  // a user-set trip is seen at once
}

TEST(SensorProbe, GarbledOrMissingFilesAreUnknown) {
  SysTreeCopy tree(kX86);
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  tree.remove(kNvmeDir + "/temp1_max");
  auto p = make(h, chip_input("nvme", "Composite"));
  tree.write(kNvmeDir + "/temp1_input", "garbage\n");
  tree.write(kNvmeDir + "/temp1_crit", "");
  p->poll();
  EXPECT_FALSE(sink.has(0, "temp"));
  EXPECT_FALSE(sink.has(0, "temp_max"));
  EXPECT_FALSE(sink.has(0, "temp_crit"));
  EXPECT_FALSE(p->source().empty());  // the input file is still there: not "gone"
  tree.write(kNvmeDir + "/temp1_input", "50850\n");
  p->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 50.85);
}

TEST(SensorProbe, ChipThatAppearsLaterIsFoundAndSaidOnce) {
  SysTreeCopy tree;  // an empty sys root: the driver is not loaded yet
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, chip_input("nvme", "Composite"));
  p->poll();
  p->poll();
  EXPECT_FALSE(sink.has(0, "temp"));
  EXPECT_EQ(sink.notices().size(), 1u);  // said once, however many polls
  tree.copy_from(kX86, "devices/pci0000:00");
  tree.copy_from(kX86, "class/hwmon/hwmon4");
  p->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 43.85);
  EXPECT_EQ(sink.string(0, "label"), "Composite");

  // Unbound: unknown, then found again under another hwmonN. Files of a removed sysfs
  // directory fail to read; a removed fixture file keeps its content, so blank it first.
  tree.write(kNvmeDir + "/temp1_input", "");
  tree.remove("class/hwmon/hwmon4");
  tree.remove(kNvmeDir);
  p->poll();
  EXPECT_FALSE(sink.has(0, "temp"));
  EXPECT_TRUE(p->source().empty());
  tree.copy_from(kX86, kNvmeDir);
  std::filesystem::create_directory_symlink("../../" + kNvmeDir, tree.path("class/hwmon/hwmon7"));
  p->poll();
  EXPECT_DOUBLE_EQ(sink.number(0, "temp"), 43.85);
  EXPECT_EQ(p->source(), tree.path("class/hwmon/hwmon7"));
}

TEST(SensorProbe, SpecWithoutTargetIsRefused) {
  TestSink sink;
  ProbeHarness h(sink, kX86);
  catalog::ObjectSpec spec;
  spec.name = "s";
  spec.chip = "coretemp";
  EXPECT_FALSE(SensorProbe::create(0, spec, h.ctx).ok());
}

}  // namespace
}  // namespace amata::probes
