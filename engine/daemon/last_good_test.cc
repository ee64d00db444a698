#include "engine/daemon/last_good.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace amata::daemon {
namespace {

namespace fs = std::filesystem;

class LastGoodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "amata-last-good-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    state_ = (root_ / "state").string();
    fs::create_directory(state_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  /// A loaded policy as the loader reports one: the file and its includes with their texts.
  lower::LoadedPolicy policy(const std::string& main_text, const std::string& include_text) {
    lower::LoadedPolicy loaded;
    loaded.file = (root_ / "etc/policy.amata").string();
    loaded.sources = {{loaded.file, main_text},
                      {(root_ / "etc/rules/common.amata").string(), include_text}};
    return loaded;
  }

  fs::path root_;
  std::string state_;
};

TEST_F(LastGoodTest, KeepsEachSourceAtItsPathBelowTheStateDirectory) {
  auto loaded = policy("policy a\ninclude \"rules/common.amata\"\n", "let x = 1\n");
  ASSERT_TRUE(keep_last_good(state_, loaded).ok());
  auto copy = last_good_copy(state_, loaded.file);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(*copy, state_ + "/last-good" + loaded.file);
  EXPECT_EQ(read(*copy), "policy a\ninclude \"rules/common.amata\"\n");
  // The include sits where the copy's relative include finds it.
  EXPECT_EQ(read((fs::path(*copy).parent_path() / "rules/common.amata").string()), "let x = 1\n");
}

TEST_F(LastGoodTest, ANewerPolicyReplacesTheCopyWhole) {
  ASSERT_TRUE(keep_last_good(state_, policy("policy a\n", "let x = 1\n")).ok());
  auto newer = policy("policy b\n", "let x = 2\n");
  newer.sources.pop_back();  // b has no include
  ASSERT_TRUE(keep_last_good(state_, newer).ok());
  auto copy = last_good_copy(state_, newer.file);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(read(*copy), "policy b\n");
  EXPECT_FALSE(fs::exists(fs::path(*copy).parent_path() / "rules/common.amata"));
  EXPECT_FALSE(fs::exists(state_ + "/last-good.new"));
  EXPECT_FALSE(fs::exists(state_ + "/last-good.old"));
}

TEST_F(LastGoodTest, APolicyWithoutSourcesLeavesTheCopyAlone) {
  auto loaded = policy("policy a\n", "let x = 1\n");
  ASSERT_TRUE(keep_last_good(state_, loaded).ok());
  lower::LoadedPolicy from_copy;  // as amatad runs the copy: nothing new to keep
  from_copy.file = loaded.file;
  ASSERT_TRUE(keep_last_good(state_, from_copy).ok());
  EXPECT_EQ(read(*last_good_copy(state_, loaded.file)), "policy a\n");
}

TEST_F(LastGoodTest, TheKeeperWritesOnItsThreadAndFinishesBeforeItEnds) {
  auto older = policy("policy a\n", "let x = 1\n");
  auto newer = policy("policy b\n", "let x = 2\n");
  {
    PolicyKeeper keeper(state_);
    keeper.keep(older);
    keeper.keep(newer);
  }  // the newest is on disk once the keeper is gone
  auto copy = last_good_copy(state_, newer.file);
  ASSERT_TRUE(copy.has_value());
  EXPECT_EQ(read(*copy), "policy b\n");
}

TEST_F(LastGoodTest, NoCopyOfAPolicyNeverKept) {
  EXPECT_FALSE(last_good_copy(state_, (root_ / "etc/policy.amata").string()).has_value());
}

}  // namespace
}  // namespace amata::daemon
