#include "compiler/parse/grammar.h"

#include <gtest/gtest.h>

#include <tao/pegtl/contrib/analyze.hpp>

namespace amata::parse::grammar {
namespace {

// analyze() finds rules that can loop without consuming input (infinite loops) and other
// structural problems; it returns the number of issues found.
TEST(GrammarTest, AnalyzeFindsNoProblems) {
  EXPECT_EQ(tao::pegtl::analyze<file>(1), 0u);
  EXPECT_EQ(tao::pegtl::analyze<statement>(1), 0u);
}

template <typename Rule>
bool matches_all(std::string_view text) {
  tao::pegtl::memory_input<> in(text.data(), text.size(), "test");
  try {
    return tao::pegtl::parse<tao::pegtl::seq<Rule, tao::pegtl::eof>, tao::pegtl::nothing,
                             tao::pegtl::must_if<errors>::control>(in);
  } catch (const tao::pegtl::parse_error&) {
    return false;
  }
}

TEST(GrammarTest, NumbersTakeTheirUnitSuffix) {
  EXPECT_TRUE(matches_all<number_lit>("90%"));
  EXPECT_TRUE(matches_all<number_lit>("2GiB"));
  EXPECT_TRUE(matches_all<number_lit>("1.5s"));
  EXPECT_TRUE(matches_all<number_lit>("10MB/s"));
  EXPECT_TRUE(matches_all<number_lit>("5/s"));
  EXPECT_FALSE(matches_all<number_lit>("5 s"));
}

TEST(GrammarTest, ReservedWordsAreNotNames) {
  EXPECT_TRUE(matches_all<path>("s.health.failed"));
  EXPECT_FALSE(matches_all<path>("and"));
  EXPECT_FALSE(matches_all<path>("within"));
  EXPECT_TRUE(matches_all<path>("android"));
}

TEST(GrammarTest, ExpressionsAndStatements) {
  EXPECT_TRUE(matches_all<expr>("not s.alive or (a + 2) * 3 >= 4 and x =~ \"re\""));
  EXPECT_TRUE(matches_all<expr>("avg(self.cpu, 5min) > 90%"));
  EXPECT_TRUE(matches_all<expr>("s.restarts within 5min > 3"));
  EXPECT_TRUE(
      matches_all<statement>("discover hot when self.cpu > high for 30s raise Overload(self)"));
  EXPECT_TRUE(matches_all<statement>(
      "discover flap(i: interface) when changed(i.carrier) 3 times within 1min raise Flap(i)"));
  EXPECT_TRUE(
      matches_all<statement>("service web {\n  start \"/bin/web\" \"-p\" \"80\"\n"
                             "  stop TERM then KILL after 5s; every 1s\n}"));
  EXPECT_TRUE(matches_all<statement>(
      "recover Down(s) { restart s backoff 100ms .. 30s limit 5 within 10min\n"
      "  when s.restarts within 5min > 3 { unmonitor s; notify \"pager\" } else { wait 1s } }"));
  EXPECT_FALSE(matches_all<statement>("service web { start \"/bin/web\" } extra"));
  EXPECT_FALSE(matches_all<expr>("(1 + 2"));
}

}  // namespace
}  // namespace amata::parse::grammar
