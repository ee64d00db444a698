// A real file mapped and read: its pages leave the process's RSS, its content stays; a
// mapping that was written keeps what was written.
#include "base/resident_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <string>

namespace amata::base {
namespace {

constexpr std::size_t kBytes = std::size_t{4} << 20;

/// The resident kB of the mapping that starts at `start`, from /proc/self/smaps.
std::size_t resident_kib(const void* start) {
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%lx-", reinterpret_cast<unsigned long>(start));
  std::ifstream smaps("/proc/self/smaps");
  bool in_mapping = false;
  for (std::string line; std::getline(smaps, line);) {
    // A mapping's header starts with its address in lower-case hex; a field with a capital.
    if (!line.empty() && (std::isdigit(line[0]) != 0 || (line[0] >= 'a' && line[0] <= 'f'))) {
      in_mapping = line.rfind(prefix, 0) == 0;
    } else if (in_mapping && line.rfind("Rss:", 0) == 0) {
      return std::strtoul(line.c_str() + 4, nullptr, 10);
    }
  }
  return 0;
}

class ResidentPagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/amata-pages-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/code.bin";
    std::string content(kBytes, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 + 1);
    std::ofstream(path_, std::ios::binary) << content;
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  /// The file mapped private, every page read (or written when `write`).
  char* map_and_touch(int protection) {
    void* at = mmap(nullptr, kBytes, protection, MAP_PRIVATE, fd_, 0);
    EXPECT_NE(at, MAP_FAILED);
    auto* bytes = static_cast<char*>(at);
    volatile char sum = 0;
    for (std::size_t i = 0; i < kBytes; i += 4096) {
      if ((protection & PROT_WRITE) != 0) bytes[i] = 'w';
      sum = static_cast<char>(sum + bytes[i]);
    }
    return bytes;
  }
  auto only_ours() {
    return [this](std::string_view path) { return path == path_; };
  }

  std::string dir_, path_;
  int fd_ = -1;
};

TEST_F(ResidentPagesTest, AReadOnlyMappingLeavesTheRssAndKeepsItsContent) {
  char* bytes = map_and_touch(PROT_READ);
  ASSERT_GE(resident_kib(bytes), kBytes / 1024 - 4);

  auto released = release_file_pages(only_ours());
  ASSERT_TRUE(released) << released.error().message;
  EXPECT_EQ(released->mappings, 1u);
  EXPECT_GE(released->bytes, kBytes - 16384);
  EXPECT_LT(resident_kib(bytes), 64u);
  for (std::size_t i = 0; i < kBytes; i += 4093) {
    ASSERT_EQ(bytes[i], static_cast<char>(i * 7 + 1)) << "at " << i;
  }
  munmap(bytes, kBytes);
}

TEST_F(ResidentPagesTest, WrittenAndUnwantedMappingsAreLeftAlone) {
  // Written, then made read-only: as the dynamic linker leaves relocated data (RELRO).
  char* written = map_and_touch(PROT_READ | PROT_WRITE);
  ASSERT_EQ(mprotect(written, kBytes, PROT_READ), 0);
  char* unwanted = map_and_touch(PROT_READ);
  auto released = release_file_pages([](std::string_view) { return false; });
  ASSERT_TRUE(released);
  EXPECT_EQ(released->mappings, 0u);
  EXPECT_GE(resident_kib(unwanted), kBytes / 1024 - 4);

  released = release_file_pages(only_ours());
  ASSERT_TRUE(released);
  EXPECT_EQ(released->mappings, 1u) << "the read-only one only";
  EXPECT_EQ(written[0], 'w') << "a written page would revert to the file's content";
  EXPECT_EQ(written[4096], 'w');
  EXPECT_GE(resident_kib(written), kBytes / 1024 - 4);
  munmap(written, kBytes);
  munmap(unwanted, kBytes);
}

}  // namespace
}  // namespace amata::base
