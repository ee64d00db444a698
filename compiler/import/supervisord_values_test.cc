#include "compiler/import/supervisord_values.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace amata::importer {
namespace {

TEST(SupervisordValues, BooleansAndBoundedIntegers) {
  bool b = false;
  EXPECT_TRUE(parse_bool("Yes", b) && b);
  EXPECT_TRUE(parse_bool("on", b) && b);
  EXPECT_TRUE(parse_bool("0", b) && !b);
  EXPECT_TRUE(parse_bool("FALSE", b) && !b);
  EXPECT_FALSE(parse_bool("maybe", b));
  long n = 0;
  EXPECT_TRUE(parse_int("42", 0, 100, n));
  EXPECT_EQ(n, 42);
  EXPECT_TRUE(parse_int("-3", -5, 5, n));
  EXPECT_EQ(n, -3);
  EXPECT_FALSE(parse_int("101", 0, 100, n));
  EXPECT_FALSE(parse_int("4x", 0, 100, n));
  EXPECT_FALSE(parse_int("-", 0, 100, n));
  EXPECT_FALSE(parse_int("", 0, 100, n));
  EXPECT_FALSE(parse_int("1234567890123", 0, 100, n));
}

TEST(SupervisordValues, SignalsByNameOrNumber) {
  EXPECT_EQ(signal_name("TERM"), "TERM");
  EXPECT_EQ(signal_name("sigquit"), "QUIT");
  EXPECT_EQ(signal_name("9"), "KILL");
  EXPECT_EQ(signal_name("BOGUS"), std::nullopt);
  EXPECT_EQ(signal_name("63"), std::nullopt);
}

TEST(SupervisordValues, EnvironmentAsDictOfKeyValuePairs) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  auto r = parse_environment("A=\"1, or 2\",B='x=y', C = spaced ,\nD=");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Pairs({{"A", "1, or 2"}, {"B", "x=y"}, {"C", "spaced"}, {"D", ""}}));
  EXPECT_EQ(parse_environment("A=\"open").error().message, "an unclosed quote");
  EXPECT_EQ(parse_environment("A=1,JUNK").error().message, "'JUNK' is not KEY=value");
}

}  // namespace
}  // namespace amata::importer
