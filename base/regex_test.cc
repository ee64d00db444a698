#include "base/regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace amata::base {
namespace {

TEST(Regex, SearchesUnanchored) {
  auto re = Regex::compile("^/usr/bin/mpirun .*");
  ASSERT_TRUE(re) << re.error().message;
  EXPECT_TRUE(re->search("/usr/bin/mpirun -np 4 job"));
  EXPECT_FALSE(re->search("sh -c /usr/bin/mpirun"));
  auto word = Regex::compile("ng(inx)?");
  ASSERT_TRUE(word);
  EXPECT_TRUE(word->search("nginx: worker process"));
}

TEST(Regex, ErrorsAreRe2sOwnMessages) {
  auto open = Regex::compile("(unclosed");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message, "missing ): (unclosed");
  // RE2 has no backreferences and no lookaround: the dialect the checker enforces.
  EXPECT_FALSE(Regex::compile("(a)\\1"));
  EXPECT_FALSE(Regex::compile("a(?=b)"));
}

TEST(Regex, DefaultMatchesNothing) {
  EXPECT_FALSE(Regex().search(""));
  EXPECT_FALSE(Regex().search("anything"));
}

// A backtracking engine takes seconds to minutes here (2^27 ways to split the a's).
TEST(Regex, NestedQuantifiersRunInLinearTime) {
  auto re = Regex::compile("(a+)+$");
  ASSERT_TRUE(re);
  const std::string text = std::string(27, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(re->search(text));
  EXPECT_TRUE(re->search(std::string(1000, 'a')));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace amata::base
