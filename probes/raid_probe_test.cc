#include "probes/raid_probe.h"

#include <gtest/gtest.h>

#include "probes/sysfs_test_tree.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

const std::string kMd = "tests/fixtures/sys/md";
// Catalog ordinals (sysfs_parse.h).
constexpr int kClean = 5, kActive = 6;
constexpr int kIdle = 0, kResync = 1, kRecover = 2, kCheck = 3;

catalog::ObjectSpec raid(const std::string& array) {
  catalog::ObjectSpec spec;
  spec.name = "r";
  spec.kind = catalog::Kind::kRaid;
  spec.array = array;
  return spec;
}

std::unique_ptr<RaidProbe> make(ProbeHarness& h, const std::string& array) {
  auto probe = RaidProbe::create(0, raid(array), h.ctx);
  EXPECT_TRUE(probe.ok());
  return probe.ok() ? std::move(*probe) : nullptr;
}

TEST(RaidProbe, CleanRaid1) {
  TestSink sink;
  ProbeHarness h(sink, kMd);
  auto p = make(h, "md1");
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kClean);
  EXPECT_EQ(sink.number(0, "degraded"), 0);
  EXPECT_EQ(sink.number(0, "disks"), 2);
  EXPECT_EQ(sink.number(0, "failed_disks"), 0);
  EXPECT_EQ(sink.number(0, "sync_action"), kIdle);
  EXPECT_FALSE(sink.has(0, "sync_completed"));  // "none"
  EXPECT_FALSE(sink.has(0, "mismatches"));      // not in this recording
}

TEST(RaidProbe, DegradedRaid5WithAFaultyMember) {
  TestSink sink;
  ProbeHarness h(sink, kMd);
  auto p = make(h, "md5");
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kClean);
  EXPECT_EQ(sink.number(0, "degraded"), 1);
  EXPECT_EQ(sink.number(0, "disks"), 3);
  EXPECT_EQ(sink.number(0, "failed_disks"), 1);
}

TEST(RaidProbe, Raid6Recovering) {
  TestSink sink;
  ProbeHarness h(sink, kMd);
  auto p = make(h, "md6");
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kActive);
  EXPECT_EQ(sink.number(0, "sync_action"), kRecover);
  EXPECT_NEAR(sink.number(0, "sync_completed"), 75.0046, 0.0001);
  EXPECT_EQ(sink.number(0, "failed_disks"), 0);  // the rebuilding disk is a spare
}

TEST(RaidProbe, DelayedResyncHasNoProgress) {
  TestSink sink;
  ProbeHarness h(sink, kMd);
  auto p = make(h, "md127");
  p->poll();
  EXPECT_EQ(sink.number(0, "sync_action"), kResync);
  EXPECT_FALSE(sink.has(0, "sync_completed"));
}

TEST(RaidProbe, Raid5FailsOverIntoRecoveryAndMembersChange) {
  SysTreeCopy tree(kMd);
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, "md5");
  p->poll();
  // mdadm --remove of the faulty disk, then the spare starts rebuilding (md.rst).
  const std::string md = "block/md5/md/";
  tree.remove(md + "dev-sdp");
  tree.write(md + "dev-sdaa/state", "spare\n");
  tree.write(md + "array_state", "active\n");
  tree.write(md + "sync_action", "recover\n");
  tree.write(md + "sync_completed", "524288 / 2093056\n");
  p->poll();
  EXPECT_EQ(sink.number(0, "failed_disks"), 0);
  EXPECT_EQ(sink.number(0, "state"), kActive);
  EXPECT_EQ(sink.number(0, "sync_action"), kRecover);
  EXPECT_NEAR(sink.number(0, "sync_completed"), 25.05, 0.01);
  // Another member fails while rebuilding: seen without re-resolving.
  tree.write(md + "dev-sdo/state", "faulty,write_error\n");
  tree.write(md + "degraded", "2\n");
  p->poll();
  EXPECT_EQ(sink.number(0, "failed_disks"), 1);
  EXPECT_EQ(sink.number(0, "degraded"), 2);
}

TEST(RaidProbe, ScrubMismatchesAndGarbledFiles) {
  SysTreeCopy tree(kMd);
  const std::string md = "block/md1/md/";
  tree.write(md + "mismatch_cnt", "0\n");
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, "md1");
  p->poll();
  EXPECT_EQ(sink.number(0, "mismatches"), 0);
  tree.write(md + "sync_action", "check\n");
  tree.write(md + "mismatch_cnt", "128\n");
  tree.write(md + "array_state", "what-is-this\n");
  tree.write(md + "raid_disks", "\n");
  p->poll();
  EXPECT_EQ(sink.number(0, "sync_action"), kCheck);
  EXPECT_EQ(sink.number(0, "mismatches"), 128);
  EXPECT_FALSE(sink.has(0, "state"));
  EXPECT_FALSE(sink.has(0, "disks"));
  EXPECT_FALSE(p->source().empty());
}

TEST(RaidProbe, ArrayAssembledLaterAndStopped) {
  SysTreeCopy tree;
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, "md6");
  p->poll();
  p->poll();
  EXPECT_FALSE(sink.has(0, "state"));
  EXPECT_EQ(sink.notices().size(), 1u);
  tree.copy_from(kMd, "block/md6");
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kActive);
  // mdadm --stop: the files fail (blanked here, see the sensor test), the directory goes.
  tree.write("block/md6/md/array_state", "");
  tree.remove("block/md6");
  p->poll();
  EXPECT_FALSE(sink.has(0, "state"));
  EXPECT_TRUE(p->source().empty());
}

// Stopped and assembled again between two polls: the path is back, but the kept fds are the
// old array's and fail for ever (blanked here). The probe must find the new array.
TEST(RaidProbe, ArrayStoppedAndAssembledWithinOnePollIsFoundAnew) {
  SysTreeCopy tree;
  tree.copy_from(kMd, "block/md6");
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, "md6");
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kActive);
  tree.write("block/md6/md/array_state", "");  // the old fd's view: nothing
  tree.remove("block/md6");
  tree.copy_from(kMd, "block/md6");  // assembled again
  tree.write("block/md6/md/array_state", "clean\n");
  p->poll();  // the failed read finds the path alive: forget and resolve again
  p->poll();
  EXPECT_EQ(sink.number(0, "state"), kClean);
}

}  // namespace
}  // namespace amata::probes
