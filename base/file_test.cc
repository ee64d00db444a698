#include "base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace amata::base {
namespace {

class ReadRegularFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("amata-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(ReadRegularFile, ReadsARegularFileWhole) {
  std::ofstream(path("a.amata")) << "node self {}\n";
  auto text = read_regular_file(path("a.amata"));
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_EQ(*text, "node self {}\n");
}

TEST_F(ReadRegularFile, MissingFileSaysOpen) {
  auto text = read_regular_file(path("none.amata"));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, "open " + path("none.amata") + ": No such file or directory");
}

// Before O_NONBLOCK and fstat, opening a FIFO waited for a writer forever.
TEST_F(ReadRegularFile, FifoIsRefusedAtOnce) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  auto text = read_regular_file(path("fifo"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message, path("fifo") + ": not a regular file (a FIFO)");
}

// /dev/zero never ends: read whole, it would fill memory.
TEST_F(ReadRegularFile, DevicesAndDirectoriesAreRefused) {
  auto zero = read_regular_file("/dev/zero");
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "/dev/zero: not a regular file (a character device)");
  auto dir = read_regular_file(dir_.string());
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().message, dir_.string() + ": not a regular file (a directory)");
}

TEST_F(ReadRegularFile, LargerThanTheLimitIsRefusedWithoutReadingIt) {
  // A sparse file: 17 MiB of size and no blocks, so the test writes nothing.
  { std::ofstream(path("big")) << ""; }
  std::filesystem::resize_file(path("big"), kMaxTextFileBytes + (1 << 20));
  auto text = read_regular_file(path("big"));
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().message,
            path("big") + ": larger than 16 MiB (the limit for files amata reads)");
}

TEST_F(ReadRegularFile, TheLimitHoldsWhileReading) {
  std::ofstream(path("eleven")) << "0123456789\n";
  EXPECT_TRUE(read_regular_file(path("eleven"), 11));
  auto text = read_regular_file(path("eleven"), 10);
  ASSERT_FALSE(text);
  EXPECT_NE(text.error().message.find("larger than 10 bytes"), std::string::npos);
}

// Kernel files say size 0 and are regular: they are read to EOF (and held to the limit).
TEST_F(ReadRegularFile, ProcFilesOfSizeZeroAreReadToTheEnd) {
  auto status = read_regular_file("/proc/self/status");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_NE(status->find("Pid:"), std::string::npos);
  EXPECT_FALSE(read_regular_file("/proc/self/status", 16));
}

TEST(DescribeSize, AsAPersonWritesIt) {
  EXPECT_EQ(describe_size(16 << 20), "16 MiB");
  EXPECT_EQ(describe_size(512 << 10), "512 KiB");
  EXPECT_EQ(describe_size(100), "100 bytes");
}

TEST(ParseSize, BytesAndPowersOf1024) {
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("512K"), 512u << 10);
  EXPECT_EQ(*parse_size("10M"), 10u << 20);
  EXPECT_EQ(*parse_size("10mib"), 10u << 20);
  EXPECT_EQ(*parse_size("1G"), 1u << 30);
}

TEST(ParseSize, SaysWhatIsWrong) {
  EXPECT_NE(parse_size("ten").error().message.find("is not a size"), std::string::npos);
  EXPECT_NE(parse_size("").error().message.find("is not a size"), std::string::npos);
  EXPECT_NE(parse_size("-1M").error().message.find("is not a size"), std::string::npos);
  EXPECT_NE(parse_size("10X").error().message.find("unknown unit"), std::string::npos);
  EXPECT_NE(parse_size("99999999999999G").error().message.find("too large"), std::string::npos);
}

}  // namespace
}  // namespace amata::base
