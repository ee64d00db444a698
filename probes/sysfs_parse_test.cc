#include "probes/sysfs_parse.h"

#include <gtest/gtest.h>

namespace amata::probes {
namespace {

TEST(SysfsInt, ReadsWhatTheKernelPrints) {
  EXPECT_EQ(parse_sysfs_int("43850\n"), 43850);
  EXPECT_EQ(parse_sysfs_int("-273150\n"), -273150);  // nvme's unset lower limit
  EXPECT_EQ(parse_sysfs_int(" 0 \n"), 0);
}

TEST(SysfsInt, RejectsAnythingElse) {
  EXPECT_FALSE(parse_sysfs_int(""));
  EXPECT_FALSE(parse_sysfs_int("\n"));
  EXPECT_FALSE(parse_sysfs_int("12a"));
  EXPECT_FALSE(parse_sysfs_int("1 2"));
  EXPECT_FALSE(parse_sysfs_int("8192 MB\n"));
  EXPECT_FALSE(parse_sysfs_int("99999999999999999999"));  // overflow
  EXPECT_FALSE(parse_sysfs_int("+5"));
}

TEST(HwmonName, SplitsTypeIndexAndItem) {
  auto n = parse_hwmon_name("temp2_input");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, HwmonType::kTemp);
  EXPECT_EQ(n->index, 2);
  EXPECT_EQ(n->item, "input");
  n = parse_hwmon_name("in0_max");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, HwmonType::kIn);
  EXPECT_EQ(n->index, 0);
  n = parse_hwmon_name("temp1_crit_alarm");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->item, "crit_alarm");
  n = parse_hwmon_name("power1_average");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, HwmonType::kPower);
  n = parse_hwmon_name("curr3_input");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, HwmonType::kCurr);
  EXPECT_EQ(n->index, 3);
}

TEST(HwmonName, StemsHaveNoItem) {
  auto n = parse_hwmon_name("fan12");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->type, HwmonType::kFan);
  EXPECT_EQ(n->index, 12);
  EXPECT_TRUE(n->item.empty());
  EXPECT_EQ(hwmon_type_prefix(n->type), "fan");
}

TEST(HwmonName, OtherFilesAreNotInputs) {
  for (const char* name :
       {"name", "intrusion0_alarm", "pwm1_enable", "freq1_input", "temp", "temp_input", "temp1_",
        "temp1x", "in", "update_interval", "temp1234567_input", "device", ""}) {
    EXPECT_FALSE(parse_hwmon_name(name)) << name;
  }
}

TEST(ThermalTrip, AbsoluteZeroAndBelowIsUnset) {
  EXPECT_FALSE(valid_trip_millicelsius(-274000));  // THERMAL_TEMP_INVALID
  EXPECT_FALSE(valid_trip_millicelsius(-273150));
  EXPECT_TRUE(valid_trip_millicelsius(0));  // a real (if odd) trip since 6.7
  EXPECT_TRUE(valid_trip_millicelsius(127000));
}

TEST(MdArrayState, OrdinalsInCatalogOrder) {
  EXPECT_EQ(md_array_state_ordinal("clear\n"), 0);
  EXPECT_EQ(md_array_state_ordinal("inactive\n"), 1);
  EXPECT_EQ(md_array_state_ordinal("read-auto\n"), 4);  // the kernel's '-' spelling
  EXPECT_EQ(md_array_state_ordinal("clean\n"), 5);
  EXPECT_EQ(md_array_state_ordinal("active\n"), 6);
  EXPECT_EQ(md_array_state_ordinal("write-pending\n"), 7);
  EXPECT_EQ(md_array_state_ordinal("active-idle\n"), 8);
  EXPECT_EQ(md_array_state_ordinal("broken\n"), 9);
  EXPECT_FALSE(md_array_state_ordinal("cleaner\n"));
  EXPECT_FALSE(md_array_state_ordinal(""));
}

TEST(MdSyncAction, OrdinalsInCatalogOrder) {
  EXPECT_EQ(md_sync_action_ordinal("idle\n"), 0);
  EXPECT_EQ(md_sync_action_ordinal("resync\n"), 1);
  EXPECT_EQ(md_sync_action_ordinal("recover\n"), 2);
  EXPECT_EQ(md_sync_action_ordinal("check\n"), 3);
  EXPECT_EQ(md_sync_action_ordinal("repair\n"), 4);
  EXPECT_EQ(md_sync_action_ordinal("reshape\n"), 5);
  EXPECT_EQ(md_sync_action_ordinal("frozen\n"), 6);
  EXPECT_FALSE(md_sync_action_ordinal("recovery\n"));
}

TEST(MdSyncCompleted, DoneOverTotalAsPercent) {
  auto p = parse_md_sync_completed("1569888 / 2093056\n");
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 75.0046, 0.0001);  // 1569888 / 2093056
  EXPECT_EQ(parse_md_sync_completed("0 / 10"), 0.0);
  EXPECT_EQ(parse_md_sync_completed("20 / 10"), 100.0);
}

TEST(MdSyncCompleted, NothingRunningIsUnknown) {
  EXPECT_FALSE(parse_md_sync_completed("none\n"));
  EXPECT_FALSE(parse_md_sync_completed("delayed\n"));
  EXPECT_FALSE(parse_md_sync_completed("5 / 0\n"));
  EXPECT_FALSE(parse_md_sync_completed("5 /\n"));
  EXPECT_FALSE(parse_md_sync_completed("/ 5\n"));
  EXPECT_FALSE(parse_md_sync_completed("-1 / 5\n"));
}

TEST(MdDevState, FaultyIsOneFlagOfAList) {
  EXPECT_TRUE(md_dev_state_faulty("faulty\n"));
  EXPECT_TRUE(md_dev_state_faulty("faulty,write_error\n"));
  EXPECT_TRUE(md_dev_state_faulty("write_mostly,faulty\n"));
  EXPECT_FALSE(md_dev_state_faulty("in_sync\n"));
  EXPECT_FALSE(md_dev_state_faulty("spare\n"));
  EXPECT_FALSE(md_dev_state_faulty("notfaulty\n"));
  EXPECT_FALSE(md_dev_state_faulty(""));
}

}  // namespace
}  // namespace amata::probes
