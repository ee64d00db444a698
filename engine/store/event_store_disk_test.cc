// The event store when the disk is not kind: full, read-only, or holding a damaged database.
// Each test mounts what it needs in a mount namespace of its own (as root), so nothing the
// host sees is touched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/store/event_store.h"

namespace amata::store {
namespace {

namespace fs = std::filesystem;

/// Threads of this process (a mount namespace can be unshared only by a single thread).
int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

class StoreDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace";
    static bool unshared = false;
    if (!unshared) {
      ASSERT_EQ(thread_count(), 1);
      ASSERT_EQ(unshare(CLONE_NEWNS), 0);
      // Nothing mounted here propagates back to the host.
      ASSERT_EQ(mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
      unshared = true;
    }
    char tmpl[] = "/tmp/amata-disk-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/events.db";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    umount2(dir_.c_str(), MNT_DETACH);
    fs::remove_all(dir_);
  }

  /// A tmpfs of `kib` KiB on the test's directory.
  void small_disk(int kib) {
    const std::string options = "size=" + std::to_string(kib) + "k,mode=0700";
    ASSERT_EQ(mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()), 0);
  }
  /// Fills the disk with one file; returns its path.
  std::string fill() {
    std::string filler = dir_ + "/filler";
    int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    std::string block(4096, 'x');
    while (write(fd, block.data(), block.size()) > 0) {
    }
    close(fd);
    return filler;
  }

  static EventRecord event(int n) {
    return EventRecord{0, 1000.0 + n, "down[web]", "ServiceDown", {"web"}, "{}", "raise"};
  }

  std::string dir_, path_;
};

TEST_F(StoreDiskTest, AFullDiskKeepsWritesInOrderUntilSpaceReturns) {
  small_disk(1024);
  Retention retention;
  retention.max_pending = 300;
  auto store = EventStore::open(path_, retention);
  ASSERT_TRUE(store) << store.error().message;
  EventStore& s = **store;
  ASSERT_TRUE(s.add_event(event(0)));
  ASSERT_TRUE(s.flush());
  ASSERT_FALSE(s.degraded());
  const std::string filler = fill();
  // Enough rows that SQLite must grow its files; every id is given at once.
  std::int64_t last = 0;
  for (int n = 1; n <= 400 && !s.degraded(); ++n) {
    last = *s.add_event(event(n));
    (void)s.flush();
  }
  ASSERT_TRUE(s.degraded()) << "the disk never filled";
  EXPECT_NE(s.last_error().find("full"), std::string::npos) << s.last_error();
  const std::int64_t first_queued = last;
  for (int n = 0; n < 10; ++n) last = *s.add_event(event(1000 + n));
  ASSERT_TRUE(s.record_process({"web", 42, 7, {"/bin/web"}, 1000}));
  EXPECT_EQ(s.pending(), static_cast<std::size_t>(last - first_queued + 1) + 1);
  EXPECT_FALSE(s.flush());  // still full
  fs::remove(filler);
  ASSERT_TRUE(s.flush()) << s.last_error();
  EXPECT_FALSE(s.degraded());
  EXPECT_EQ(s.dropped(), 0u);
  auto rows = s.events_after(first_queued - 1, 1000);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), static_cast<std::size_t>(last - first_queued + 1));
  for (std::size_t i = 0; i < rows->size(); ++i) {
    EXPECT_EQ((*rows)[i].id, first_queued + static_cast<std::int64_t>(i));  // the ids given
  }
  auto processes = s.processes();
  ASSERT_TRUE(processes);
  ASSERT_EQ(processes->size(), 1u);
  EXPECT_EQ((*processes)[0].pid, 42);
}

TEST_F(StoreDiskTest, BeyondItsBoundTheQueueDropsTheOldestAndCountsThem) {
  small_disk(1024);
  Retention retention;
  retention.max_pending = 5;
  auto store = EventStore::open(path_, retention);
  ASSERT_TRUE(store);
  EventStore& s = **store;
  const std::string filler = fill();
  int n = 0;
  while (!s.degraded() && n < 400) {
    (void)s.add_event(event(n++));
    (void)s.flush();
  }
  ASSERT_TRUE(s.degraded());
  for (int i = 0; i < 20; ++i) (void)s.add_event(event(n++));
  EXPECT_EQ(s.pending(), 5u);
  EXPECT_GE(s.dropped(), 15u);
  fs::remove(filler);
  EXPECT_TRUE(s.flush());
}

TEST_F(StoreDiskTest, AReadOnlyDirectoryIsAClearError) {
  ASSERT_EQ(mount(dir_.c_str(), dir_.c_str(), nullptr, MS_BIND, nullptr), 0);
  ASSERT_EQ(mount(nullptr, dir_.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr), 0);
  std::string aside;
  auto store = EventStore::open_or_replace(path_, Retention{}, aside);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("Read-only file system"), std::string::npos)
      << store.error().message;
  EXPECT_TRUE(aside.empty());
}

TEST_F(StoreDiskTest, ADatabaseThatIsNotOneIsMovedAsideAndAFreshOneMade) {
  std::ofstream(path_) << "this is not a database, but an operator's mistake\n";
  EXPECT_FALSE(EventStore::open(path_));
  std::string aside;
  auto store = EventStore::open_or_replace(path_, Retention{}, aside);
  ASSERT_TRUE(store) << store.error().message;
  ASSERT_FALSE(aside.empty());
  std::ifstream kept(aside);
  std::string first;
  std::getline(kept, first);
  EXPECT_EQ(first, "this is not a database, but an operator's mistake");
  EXPECT_TRUE((*store)->add_event(event(1)));
}

TEST_F(StoreDiskTest, ADamagedDatabaseIsMovedAsideToo) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store);
    for (int n = 0; n < 2000; ++n) (void)(*store)->add_event(event(n));
    ASSERT_TRUE((*store)->flush());
  }  // closing the last connection checkpoints the WAL into the file
  fs::remove(path_ + "-wal");
  // Garbage over pages in the middle of the file, the header left intact.
  const auto size = fs::file_size(path_);
  ASSERT_GT(size, 16384u);
  std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(8192);
  std::string garbage(static_cast<std::size_t>(size) - 12288, '\xA5');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  f.close();
  std::string aside;
  auto store = EventStore::open_or_replace(path_, Retention{}, aside);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_FALSE(aside.empty());
  EXPECT_TRUE(fs::exists(aside));
}

TEST_F(StoreDiskTest, OnlyAmatadsUserMayReadTheStore) {
  umask(022);
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->add_event(event(1)));
  for (const std::string& file : {path_, path_ + "-wal", path_ + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  // A store an older amatad left 0644 is tightened.
  store->reset();
  chmod(path_.c_str(), 0644);
  ASSERT_TRUE(EventStore::open(path_));
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace amata::store
