#include "base/watchdog_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace amata::base {
namespace {

// A FIFO standing in for the device, as the cluster's lab tests use one: what amatad writes
// to it is what a driver would see.
class FifoDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/amata-watchdog-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/watchdog";
    ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  }
  void TearDown() override {
    if (reader_ >= 0) close(reader_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  void open_reader() { reader_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC); }
  // What the writer has sent by now (waiting up to a second for the first byte); "EOF"
  // appended once every writer has closed.
  std::string drain() {
    std::string got;
    int wait_ms = 1000;
    for (;;) {
      pollfd p{reader_, POLLIN, 0};
      if (poll(&p, 1, wait_ms) <= 0) return got;
      char buffer[64];
      ssize_t n = read(reader_, buffer, sizeof buffer);
      if (n == 0) return got + "EOF";
      if (n < 0) return got;
      got.append(buffer, static_cast<std::size_t>(n));
      wait_ms = 0;  // then only what is there already
    }
  }

  std::string dir_;
  std::string path_;
  int reader_ = -1;
};

TEST_F(FifoDevice, OpeningFeedsAndEveryFeedIsAWrite) {
  open_reader();
  ASSERT_GE(reader_, 0);
  auto device = WatchdogDevice::open(path_, 10);
  ASSERT_TRUE(device.ok()) << device.error().message;
  EXPECT_EQ(drain(), "k");
  ASSERT_TRUE(device->feed().ok());
  ASSERT_TRUE(device->feed().ok());
  EXPECT_EQ(drain(), "kk");
  EXPECT_FALSE(device->device_timeout()) << "a FIFO reports no timeout";
}

TEST_F(FifoDevice, DisarmWritesTheMagicCharacterThenCloses) {
  open_reader();
  auto device = WatchdogDevice::open(path_, 10);
  ASSERT_TRUE(device.ok()) << device.error().message;
  device->disarm();
  EXPECT_EQ(drain(), "kVEOF");
  EXPECT_FALSE(device->feed().ok()) << "closed";
}

TEST_F(FifoDevice, ClosingWithoutDisarmLeavesNoMagicCharacter) {
  open_reader();
  {
    auto device = WatchdogDevice::open(path_, 10);
    ASSERT_TRUE(device.ok()) << device.error().message;
  }
  EXPECT_EQ(drain(), "kEOF");
}

TEST_F(FifoDevice, NoReaderOrNoFileIsAnErrorNotAWait) {
  auto unread = WatchdogDevice::open(path_, 10);
  ASSERT_FALSE(unread.ok());
  EXPECT_NE(unread.error().message.find(path_), std::string::npos);
  auto missing = WatchdogDevice::open(dir_ + "/none", 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace amata::base
