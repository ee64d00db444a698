#include "compiler/import/monit_values.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace amata::importer {
namespace {

Tokens words(std::initializer_list<const char*> texts) {
  Tokens out;
  for (const char* t : texts) {
    Token tok;
    tok.text = t;
    tok.kind =
        std::string_view(t).find_first_of("<>=!") == 0 ? Token::Kind::kPunct : Token::Kind::kWord;
    out.push_back(tok);
  }
  return out;
}

/// The literal of `t` read as `want`, or "why: ..." when it is refused.
std::string read(const Tokens& t, Dim want, std::size_t* end = nullptr) {
  std::size_t i = 0;
  std::string why;
  auto v = literal(t, i, want, why);
  if (end != nullptr) *end = i;
  return v ? *v : "why: " + why;
}

TEST(MonitValues, LiteralsInTheirDimension) {
  EXPECT_EQ(read(words({"80%"}), Dim::kPercent), "80%");
  EXPECT_EQ(read(words({"80", "%"}), Dim::kPercent), "80%");
  EXPECT_EQ(read(words({"200.0", "MB"}), Dim::kBytes), "200.0MiB");
  EXPECT_EQ(read(words({"1.5", "gigabytes"}), Dim::kBytes), "1.5GiB");
  EXPECT_EQ(read(words({"500", "kb/s"}), Dim::kByteRate), "500KiB/s");
  EXPECT_EQ(read(words({"100", "packets/s"}), Dim::kRate), "100/s");
  EXPECT_EQ(read(words({"10", "milliseconds"}), Dim::kDuration), "10ms");
  EXPECT_EQ(read(words({"1", "minute"}), Dim::kDuration), "1min");
  EXPECT_EQ(read(words({"3"}), Dim::kCount), "3");
  // A word after the number that is no unit is left for the caller.
  std::size_t end = 0;
  EXPECT_EQ(read(words({"3", "then"}), Dim::kCount, &end), "3");
  EXPECT_EQ(end, 1u);
}

TEST(MonitValues, RefusedLiteralsSayWhy) {
  EXPECT_EQ(read(words({"50", "MB"}), Dim::kPercent),
            "why: amata compares this with a percentage, but the value is a size");
  EXPECT_EQ(read(words({"ten"}), Dim::kCount), "why: 'ten' is not a number");
  EXPECT_EQ(read(words({"5furlongs"}), Dim::kCount),
            "why: the unit 'furlongs' has no equivalent here");
  EXPECT_EQ(read(words({"5", "operations/s"}), Dim::kRate),
            "why: the unit 'operations/s' has no equivalent here");
  EXPECT_EQ(read(Tokens{}, Dim::kCount), "why: expected a value");
}

TEST(MonitValues, ComparisonsInMonitsSpellings) {
  auto op = [](const Tokens& t) {
    std::size_t i = 0;
    auto o = comparison(t, i);
    return o ? *o + "@" + std::to_string(i) : "none";
  };
  EXPECT_EQ(op(words({">", "3"})), ">@1");
  EXPECT_EQ(op(words({"greater", "3"})), ">@1");
  EXPECT_EQ(op(words({"LT", "3"})), "<@1");
  EXPECT_EQ(op(words({"=", "3"})), "==@1");
  EXPECT_EQ(op(words({"<>", "3"})), "!=@1");
  EXPECT_EQ(op(words({"not", "equal", "3"})), "!=@2");
  EXPECT_EQ(op(words({">=", "3"})), ">=@1");
  EXPECT_EQ(op(words({"about", "3"})), "none");
  EXPECT_EQ(op(Tokens{}), "none");
}

}  // namespace
}  // namespace amata::importer
