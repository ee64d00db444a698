#include "engine/daemon/log_rotator.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace amata::daemon {
namespace {

namespace fs = std::filesystem;

class LogRotatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "amata-rotator-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    fs::create_directory(root_ / "logs");
    fs::create_directory(root_ / "elsewhere");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void write(const fs::path& path, std::size_t bytes) {
    std::ofstream(path) << std::string(bytes, 'x');
  }

  fs::path root_;
};

TEST_F(LogRotatorTest, RotatesTheLogsOfItsDirectoryAndTheFilesItIsToldOf) {
  LogRotator rotator({(root_ / "logs").string(), 100, 2, std::chrono::hours(1)});
  write(root_ / "logs/web.log", 150);       // over: rotated
  write(root_ / "logs/db.log", 50);         // within
  write(root_ / "logs/notes.txt", 500);     // not a log
  write(root_ / "elsewhere/own.log", 150);  // a service's own `log`, when told of it
  write(root_ / "elsewhere/other.log", 150);
  rotator.set_files({(root_ / "elsewhere/own.log").string()});
  rotator.rotate_now();
  EXPECT_TRUE(fs::exists(root_ / "logs/web.log.1"));
  EXPECT_EQ(fs::file_size(root_ / "logs/web.log"), 0u);
  EXPECT_FALSE(fs::exists(root_ / "logs/db.log.1"));
  EXPECT_FALSE(fs::exists(root_ / "logs/notes.txt.1"));
  EXPECT_TRUE(fs::exists(root_ / "elsewhere/own.log.1"));
  EXPECT_FALSE(fs::exists(root_ / "elsewhere/other.log.1"));
}

TEST_F(LogRotatorTest, ItsThreadRotatesWithoutBeingAsked) {
  LogRotator rotator({(root_ / "logs").string(), 100, 1, std::chrono::milliseconds(20)});
  write(root_ / "logs/web.log", 150);
  for (int i = 0; i < 500 && !fs::exists(root_ / "logs/web.log.1"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(fs::exists(root_ / "logs/web.log.1"));
}

TEST_F(LogRotatorTest, ZeroMeansNever) {
  LogRotator rotator({(root_ / "logs").string(), 0, 3, std::chrono::milliseconds(20)});
  write(root_ / "logs/web.log", 150);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(fs::exists(root_ / "logs/web.log.1"));
}

}  // namespace
}  // namespace amata::daemon
