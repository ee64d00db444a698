#include "probes/ecc_probe.h"

#include <gtest/gtest.h>

#include "probes/sysfs_test_tree.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

const std::string kSkx = "tests/fixtures/sys/edac-skx";
const std::string kRank = "tests/fixtures/sys/edac-rank";
const std::string kCsrow = "tests/fixtures/sys/edac-csrow";
constexpr double kMiB = 1048576.0;

catalog::ObjectSpec ecc(const std::string& controller, const std::string& dimm = {}) {
  catalog::ObjectSpec spec;
  spec.name = "mem";
  spec.kind = catalog::Kind::kEcc;
  spec.controller = controller;
  spec.dimm = dimm;
  return spec;
}

std::unique_ptr<EccProbe> make(ProbeHarness& h, const catalog::ObjectSpec& spec) {
  auto probe = EccProbe::create(0, spec, h.ctx);
  EXPECT_TRUE(probe.ok());
  return probe.ok() ? std::move(*probe) : nullptr;
}

TEST(EccProbe, ControllerTotals) {
  TestSink sink;
  ProbeHarness h(sink, kSkx);
  auto p = make(h, ecc("mc0"));
  p->poll();
  EXPECT_EQ(sink.number(0, "ce_count"), 250);
  EXPECT_EQ(sink.number(0, "ue_count"), 0);
  EXPECT_EQ(sink.number(0, "ce_noinfo_count"), 0);
  EXPECT_EQ(sink.number(0, "ue_noinfo_count"), 0);
  EXPECT_EQ(sink.number(0, "size"), 98304 * kMiB);
}

TEST(EccProbe, DimmByLabelOrDirectory) {
  TestSink sink;
  ProbeHarness h(sink, kSkx);
  auto by_label = make(h, ecc("mc0", "CPU_SrcID#0_MC#0_Chan#1_DIMM#0"));
  by_label->poll();
  EXPECT_EQ(by_label->ranks(), 1u);
  EXPECT_EQ(sink.number(0, "ce_count"), 250);
  EXPECT_EQ(sink.number(0, "ue_count"), 0);
  EXPECT_EQ(sink.number(0, "size"), 32768 * kMiB);
  EXPECT_FALSE(sink.has(0, "ce_noinfo_count"));  // a controller-wide count, not a DIMM's

  TestSink other;
  ProbeHarness h2(other, kSkx);
  auto by_dir = make(h2, ecc("mc1", "dimm4"));
  by_dir->poll();
  EXPECT_EQ(other.number(0, "ce_count"), 0);
  EXPECT_EQ(other.number(0, "size"), 32768 * kMiB);
}

TEST(EccProbe, RankLayoutAddsUpTheRanksOfALabel) {
  TestSink sink;
  ProbeHarness h(sink, kRank);
  auto p = make(h, ecc("mc0", "DIMM_B2"));
  p->poll();
  EXPECT_EQ(p->ranks(), 2u);  // rank4 (csrow 2) and rank6 (csrow 3), channel 0
  EXPECT_EQ(sink.number(0, "ce_count"), 3);
  EXPECT_EQ(sink.number(0, "size"), 16384 * kMiB);
  auto one = make(h, ecc("mc0", "rank5"));
  one->poll();
  EXPECT_EQ(one->ranks(), 1u);
  EXPECT_EQ(sink.number(0, "ce_count"), 0);
  EXPECT_EQ(sink.number(0, "size"), 8192 * kMiB);
}

TEST(EccProbe, LegacyCsrowLayout) {
  TestSink sink;
  ProbeHarness h(sink, kCsrow);
  auto p = make(h, ecc("mc0"));
  p->poll();
  EXPECT_EQ(sink.number(0, "ce_count"), 1);
  EXPECT_EQ(sink.number(0, "ue_count"), 5);
  EXPECT_EQ(sink.number(0, "ce_noinfo_count"), 2);
  EXPECT_EQ(sink.number(0, "ue_noinfo_count"), 6);
  EXPECT_FALSE(sink.has(0, "size"));  // this recording has no size_mb
  // csrowN directories are not DIMMs: asked for one, the counts are unknown, said once.
  TestSink dimm;
  ProbeHarness h2(dimm, kCsrow);
  auto q = make(h2, ecc("mc0", "mc0csrow0channel0"));
  q->poll();
  q->poll();
  EXPECT_FALSE(dimm.has(0, "ce_count"));
  EXPECT_EQ(dimm.notices().size(), 1u);
}

TEST(EccProbe, CountsChangeBetweenPolls) {
  SysTreeCopy tree(kSkx);
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, ecc("mc1", "CPU_SrcID#0_MC#1_Chan#0_DIMM#0"));
  p->poll();
  EXPECT_EQ(sink.number(0, "ue_count"), 0);
  tree.write("devices/system/edac/mc/mc1/dimm0/dimm_ue_count", "1\n");
  tree.write("devices/system/edac/mc/mc1/dimm0/dimm_ce_count", "not a number\n");
  p->poll();
  EXPECT_EQ(sink.number(0, "ue_count"), 1);
  EXPECT_FALSE(sink.has(0, "ce_count"));
}

TEST(EccProbe, DriverLoadedLater) {
  SysTreeCopy tree;
  TestSink sink;
  ProbeHarness h(sink, tree.root());
  auto p = make(h, ecc("mc0", "DIMM_A2"));
  p->poll();
  EXPECT_FALSE(sink.has(0, "ce_count"));
  EXPECT_TRUE(p->source().empty());
  tree.copy_from(kRank, "devices/system/edac");
  p->poll();
  EXPECT_EQ(p->ranks(), 2u);
  EXPECT_EQ(sink.number(0, "ce_count"), 0);
  EXPECT_EQ(sink.notices().size(), 1u);
}

TEST(EccProbe, ControllerNameMustBeOneComponent) {
  TestSink sink;
  ProbeHarness h(sink, kSkx);
  EXPECT_FALSE(EccProbe::create(0, ecc(""), h.ctx).ok());
  EXPECT_FALSE(EccProbe::create(0, ecc("../mc0"), h.ctx).ok());
}

}  // namespace
}  // namespace amata::probes
