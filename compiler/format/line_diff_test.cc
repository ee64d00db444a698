#include "compiler/format/line_diff.h"

#include <gtest/gtest.h>

namespace amata::format {
namespace {

TEST(LineDiff, EqualTextsHaveNoDiff) {
  EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), "");
}

TEST(LineDiff, HunksKeepThreeLinesOfContextAndMergeWhenClose) {
  const std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n";
  const std::string after = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\nend\n";
  EXPECT_EQ(unified_diff(before, after, "a", "b"),
            "--- a\n+++ b\n"
            "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
            "@@ -14,3 +14,4 @@\n 14\n 15\n 16\n+end\n");
  // Changes four unchanged lines apart share one hunk.
  EXPECT_EQ(unified_diff("a\nb\nc\nd\ne\nf\ng\n", "A\nb\nc\nd\ne\nf\nG\n", "a", "b"),
            "--- a\n+++ b\n@@ -1,7 +1,7 @@\n-a\n+A\n b\n c\n d\n e\n f\n-g\n+G\n");
}

TEST(LineDiff, InsertionsDeletionsAndAMissingFinalNewline) {
  EXPECT_EQ(unified_diff("", "x\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n");
  EXPECT_EQ(unified_diff("x\ny", "x\ny\n", "a", "b"),
            "--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
}

TEST(LineDiff, AMiddleTooLargeToCompareIsReplacedWhole) {
  std::string before, after;
  for (int i = 0; i < 3000; ++i) {
    before += "b" + std::to_string(i) + "\n";
    after += "a" + std::to_string(i) + "\n";
  }
  const std::string diff = unified_diff(before, after, "a", "b");
  EXPECT_NE(diff.find("@@ -1,3000 +1,3000 @@\n-b0\n"), std::string::npos);
  EXPECT_NE(diff.find("-b2999\n+a0\n"), std::string::npos);
}

}  // namespace
}  // namespace amata::format
