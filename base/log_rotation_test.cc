#include "base/log_rotation.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/unique_fd.h"

namespace amata::base {
namespace {

namespace fs = std::filesystem;

class LogRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "amata-rotate-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    log_ = dir_ + "/web.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  /// A writer as a service is one: the file opened O_APPEND, as amatad opens a service's
  /// stdout, and written with write(2).
  UniqueFd open_writer() const {
    return UniqueFd(open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  }
  static void put(const UniqueFd& fd, const std::string& text) {
    ASSERT_EQ(write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  std::string dir_;
  std::string log_;
};

TEST_F(LogRotationTest, LeavesALogWithinItsBoundAlone) {
  auto writer = open_writer();
  put(writer, "0123456789");
  auto rotated = rotate_if_larger(log_, 10, 3);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_FALSE(*rotated);
  EXPECT_EQ(contents(log_), "0123456789");
  EXPECT_FALSE(fs::exists(log_ + ".1"));
}

TEST_F(LogRotationTest, AMissingLogIsNothingToDo) {
  auto rotated = rotate_if_larger(log_, 10, 3);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_FALSE(*rotated);
}

TEST_F(LogRotationTest, CopiesThenTruncatesAndTheWriterGoesOnAtTheStart) {
  auto writer = open_writer();
  put(writer, "first line\nsecond line\n");
  ASSERT_EQ(fchmod(writer.get(), 0640), 0);
  auto rotated = rotate_if_larger(log_, 10, 3);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_TRUE(*rotated);
  EXPECT_EQ(contents(log_ + ".1"), "first line\nsecond line\n");
  struct stat st {};
  ASSERT_EQ(stat((log_ + ".1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  // The same open file, not reopened: O_APPEND puts the next write at the new end, so the
  // log holds only it, with no hole of zeros where the old content was.
  put(writer, "third line\n");
  EXPECT_EQ(contents(log_), "third line\n");
}

TEST_F(LogRotationTest, KeepsTheNewestGenerationsAndDropsTheOldest) {
  auto writer = open_writer();
  for (const char* text : {"one\n", "two\n", "three\n", "four\n"}) {
    put(writer, text);
    auto rotated = rotate_if_larger(log_, 2, 2);
    ASSERT_TRUE(rotated.ok()) << rotated.error().message;
    EXPECT_TRUE(*rotated);
  }
  EXPECT_EQ(contents(log_ + ".1"), "four\n");
  EXPECT_EQ(contents(log_ + ".2"), "three\n");
  EXPECT_FALSE(fs::exists(log_ + ".3"));
  EXPECT_EQ(contents(log_), "");
}

TEST_F(LogRotationTest, KeepZeroOnlyTruncates) {
  auto writer = open_writer();
  put(writer, "a long line of output\n");
  auto rotated = rotate_if_larger(log_, 4, 0);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_TRUE(*rotated);
  EXPECT_EQ(contents(log_), "");
  EXPECT_FALSE(fs::exists(log_ + ".1"));
}

TEST_F(LogRotationTest, RefusesWhatIsNotARegularFile) {
  ASSERT_EQ(mkfifo(log_.c_str(), 0600), 0);
  auto rotated = rotate_if_larger(log_, 0, 3);
  ASSERT_FALSE(rotated.ok());
  EXPECT_NE(rotated.error().message.find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace amata::base
