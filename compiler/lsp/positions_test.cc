#include "compiler/lsp/positions.h"

#include <gtest/gtest.h>

namespace amata::lsp {
namespace {

TEST(LineIndex, AsciiOffsetsAndPositionsRoundTrip) {
  const std::string text = "ab\ncd\n\nefg";
  LineIndex lines(text);
  EXPECT_EQ(lines.line_count(), 4u);
  EXPECT_EQ(lines.position(0), (Position{0, 0}));
  EXPECT_EQ(lines.position(2), (Position{0, 2}));
  EXPECT_EQ(lines.position(3), (Position{1, 0}));
  EXPECT_EQ(lines.position(6), (Position{2, 0}));
  EXPECT_EQ(lines.position(9), (Position{3, 2}));
  EXPECT_EQ(lines.position(100), (Position{3, 3}));  // clamped to the end
  for (std::uint32_t i = 0; i <= text.size(); ++i) EXPECT_EQ(lines.offset(lines.position(i)), i);
}

TEST(LineIndex, CountsUtf16CodeUnits) {
  // "é" is 2 bytes / 1 unit, "€" 3 bytes / 1 unit, "😀" 4 bytes / 2 units.
  const std::string text = "x\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80y";
  LineIndex lines(text);
  EXPECT_EQ(lines.position(1), (Position{0, 1}));
  EXPECT_EQ(lines.position(3), (Position{0, 2}));
  EXPECT_EQ(lines.position(6), (Position{0, 3}));
  EXPECT_EQ(lines.position(10), (Position{0, 5}));
  EXPECT_EQ(lines.offset({0, 5}), 10u);
  EXPECT_EQ(lines.offset({0, 3}), 6u);
  // Inside a character: the character's start.
  EXPECT_EQ(lines.position(8), (Position{0, 3}));
}

TEST(LineIndex, PositionsPastTheEndClamp) {
  const std::string text = "abc\r\nde";
  LineIndex lines(text);
  EXPECT_EQ(lines.offset({0, 99}), 3u);  // before "\r\n"
  EXPECT_EQ(lines.offset({1, 1}), 6u);
  EXPECT_EQ(lines.offset({9, 0}), text.size());
}

TEST(LineIndex, StrayBytesCountOneUnitEach) {
  const std::string text = "\xFF\xFEz";
  LineIndex lines(text);
  EXPECT_EQ(lines.position(2), (Position{0, 2}));
  EXPECT_EQ(lines.offset({0, 2}), 2u);
}

TEST(Uri, FileUrisRoundTrip) {
  EXPECT_EQ(uri_to_path("file:///srv/a%20b/p.amata"), "/srv/a b/p.amata");
  EXPECT_EQ(uri_to_path("file://localhost/etc/x.amata"), "/etc/x.amata");
  EXPECT_EQ(path_to_uri("/srv/a b/caf\xC3\xA9.amata"), "file:///srv/a%20b/caf%C3%A9.amata");
  EXPECT_EQ(uri_to_path(path_to_uri("/t/x#y?.amata")), "/t/x#y?.amata");
  EXPECT_EQ(uri_to_path("untitled:1"), "untitled:1");
  EXPECT_EQ(uri_to_path("file:///bad%zz"), "/bad%zz");
}

}  // namespace
}  // namespace amata::lsp
