#include "base/version.h"

#include <gtest/gtest.h>

#include "base/regex.h"

namespace amata::base {
namespace {

TEST(VersionTest, LineNamesToolVersionAndCommit) {
  // The version is project()'s: three numbers; the commit is git's or "unknown", never empty.
  auto semver = Regex::compile(R"(^[0-9]+\.[0-9]+\.[0-9]+$)");
  ASSERT_TRUE(semver.ok());
  EXPECT_TRUE(semver->search(std::string(version())));
  EXPECT_FALSE(commit().empty());
  EXPECT_EQ(version_line("amatac"),
            "amatac " + std::string(version()) + " (commit " + std::string(commit()) + ")");
}

}  // namespace
}  // namespace amata::base
