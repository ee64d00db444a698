#include "compiler/lsp/formatting.h"

#include <gtest/gtest.h>

#include "compiler/lsp/test_policy.h"

namespace amata::lsp {
namespace {

TEST(Formatting, OneEditReplacingTheWholeTextWithAmatacFmtOutput) {
  auto a = testing::analyse("let a=1\nlet long_name   =  2\n");
  std::string error;
  auto edits = format_edits(*a, 0, error);
  ASSERT_TRUE(edits) << error;
  ASSERT_EQ(edits->size(), 1u);
  EXPECT_EQ((*edits)[0]["newText"], "let a         = 1\nlet long_name = 2\n");
  EXPECT_EQ((*edits)[0]["range"]["end"], (Json{{"line", 2}, {"character", 0}}));
}

TEST(Formatting, NoEditForAFormattedFile) {
  auto a = testing::analyse("let a = 1\n");
  std::string error;
  auto edits = format_edits(*a, 0, error);
  ASSERT_TRUE(edits) << error;
  EXPECT_TRUE(edits->empty());
}

TEST(Formatting, SyntaxErrorsAreAnErrorNotAnEdit) {
  auto a = testing::analyse("let a = \nservice { \n");
  std::string error;
  EXPECT_FALSE(format_edits(*a, 0, error));
  EXPECT_NE(error.find("syntax errors (1:"), std::string::npos) << error;
}

}  // namespace
}  // namespace amata::lsp
