#include "probes/procfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "probes/filesystem_probe.h"
#include "probes/node_probe.h"
#include "probes/process_probe.h"
#include "probes/test_sink.h"

namespace amata::probes {
namespace {

const std::string kModern = "tests/fixtures/proc/modern";
const std::string kOld = "tests/fixtures/proc/old";

std::string fixture(const std::string& path) {
  auto text = read_small_file(path, 1 << 20);
  EXPECT_TRUE(text.ok()) << path << ": " << (text.ok() ? "" : text.error().message);
  return text.ok() ? *text : std::string();
}

TEST(ProcStat, ModernKernelHasStealAndGuestColumns) {
  auto cpu = parse_proc_stat_cpu(fixture(kModern + "/stat"));
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->columns, 10);
  EXPECT_EQ(cpu->user, 36047u);
  EXPECT_EQ(cpu->system, 5863u);
  EXPECT_EQ(cpu->idle, 138918u);
  EXPECT_EQ(cpu->iowait, 588u);
  EXPECT_EQ(cpu->softirq, 80u);
  EXPECT_EQ(cpu->steal, 24u);
  // The per-CPU lines ("cpu0") are not the aggregate.
  EXPECT_EQ(cpu->total(), 36047u + 5863 + 138918 + 588 + 80 + 24);
}

TEST(ProcStat, OldKernelWithoutStealColumn) {
  auto cpu = parse_proc_stat_cpu(fixture(kOld + "/stat"));
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->columns, 7);
  EXPECT_EQ(cpu->steal, 0u);
  EXPECT_EQ(cpu->softirq, 20u);
}

TEST(ProcStat, Linux24HasFourColumns) {
  auto cpu = parse_proc_stat_cpu("cpu  10 20 30 40\n");
  ASSERT_TRUE(cpu);
  EXPECT_EQ(cpu->columns, 4);
  EXPECT_EQ(cpu->total(), 100u);
}

TEST(ProcStat, MalformedIsRejected) {
  EXPECT_FALSE(parse_proc_stat_cpu(""));
  EXPECT_FALSE(parse_proc_stat_cpu("cpu  1 2\n"));
  EXPECT_FALSE(parse_proc_stat_cpu("cpu  1 x 3 4\n"));
  EXPECT_FALSE(parse_proc_stat_cpu("cpu0 1 2 3 4\n"));
}

TEST(ProcStat, PercentagesOfTheInterval) {
  CpuTimes a{100, 0, 100, 700, 50, 0, 0, 50, 8};
  CpuTimes b{200, 0, 150, 950, 100, 0, 0, 100, 8};  // 500 ticks: 100 user, 50 sys, 250 idle
  auto p = cpu_percent(a, b);
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->user, 20);
  EXPECT_DOUBLE_EQ(p->system, 10);
  EXPECT_DOUBLE_EQ(p->iowait, 10);
  EXPECT_DOUBLE_EQ(p->steal, 10);
  EXPECT_DOUBLE_EQ(p->busy, 40);    // everything but idle and iowait
  EXPECT_FALSE(cpu_percent(b, b));  // no tick passed
  EXPECT_FALSE(cpu_percent(b, a));  // counters went backwards
}

TEST(Meminfo, ModernHasMemAvailable) {
  auto m = parse_meminfo(fixture(kModern + "/meminfo"));
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->available_estimated);
  EXPECT_GT(m->total, 0u);
  EXPECT_LE(m->available, m->total);
  EXPECT_EQ(m->total % 1024, 0u);  // kB converted to bytes
}

TEST(Meminfo, OldKernelEstimatesAvailable) {
  auto m = parse_meminfo(fixture(kOld + "/meminfo"));
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->available_estimated);
  EXPECT_EQ(m->available, (100000u + 50000u + 200000u) * 1024u);
  EXPECT_EQ(m->swap_total, 500000u * 1024u);
  EXPECT_EQ(m->swap_free, 250000u * 1024u);
}

TEST(Meminfo, MissingTotalIsRejected) {
  EXPECT_FALSE(parse_meminfo("MemFree: 100 kB\n"));
  EXPECT_FALSE(parse_meminfo("garbage"));
}

TEST(Loadavg, Fields) {
  auto l = parse_loadavg(fixture(kOld + "/loadavg"));
  ASSERT_TRUE(l);
  EXPECT_DOUBLE_EQ(l->load1, 0.5);
  EXPECT_DOUBLE_EQ(l->load5, 0.4);
  EXPECT_DOUBLE_EQ(l->load15, 0.3);
  EXPECT_EQ(l->running, 2u);
  EXPECT_EQ(l->tasks, 150u);
  EXPECT_FALSE(parse_loadavg("0.1 0.2\n"));
  EXPECT_TRUE(parse_loadavg(fixture(kModern + "/loadavg")));
}

TEST(Uptime, AndFileNr) {
  EXPECT_DOUBLE_EQ(*parse_uptime(fixture(kOld + "/uptime")), 3600.5);
  EXPECT_FALSE(parse_uptime("x"));
  EXPECT_EQ(*parse_file_nr(fixture(kOld + "/sys/fs/file-nr")), 512u);
  EXPECT_FALSE(parse_file_nr(""));
}

TEST(PidIo, StorageBytes) {
  auto io = parse_pid_io(fixture(kModern + "/4242/io"));
  ASSERT_TRUE(io);
  EXPECT_EQ(io->read_bytes, 40960u);
  EXPECT_EQ(io->write_bytes, 8192u);
  EXPECT_FALSE(parse_pid_io("rchar: 1\n"));
}

TEST(PidFiles, ChildrenCmdlinePidfile) {
  EXPECT_EQ(count_pids(fixture(kModern + "/4242/task/4242/children")), 3u);
  EXPECT_EQ(count_pids(""), 0u);
  std::string line;
  cmdline_to_string(fixture(kModern + "/4242/cmdline"), line);
  EXPECT_EQ(line, "/usr/bin/my daemon --flag (a) b)");
  EXPECT_EQ(*parse_pidfile(" 123\n"), 123);
  EXPECT_FALSE(parse_pidfile("abc"));
  EXPECT_FALSE(parse_pidfile("-5"));
  EXPECT_FALSE(parse_pidfile(""));
}

TEST(Diskstats, ModernAndOldFormats) {
  std::string modern = fixture(kModern + "/diskstats");  // name points into it
  auto vda = find_diskstats(modern, 254, 0);
  ASSERT_TRUE(vda);
  EXPECT_EQ(vda->name, "vda");
  EXPECT_EQ(vda->sectors_read, 4655642u);
  EXPECT_EQ(vda->sectors_written, 6206312u);
  EXPECT_EQ(vda->io_ticks_ms, 10352u);
  EXPECT_TRUE(vda->has_io_ticks);
  std::string old = fixture(kOld + "/diskstats");
  auto hda1 = find_diskstats(old, 3, 1);
  ASSERT_TRUE(hda1);
  EXPECT_FALSE(hda1->has_io_ticks);
  EXPECT_EQ(hda1->sectors_read, 38030u);
  auto by_name = find_diskstats(old, 0, 0, "hda");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->io_ticks_ms, 3376340u);
  EXPECT_FALSE(find_diskstats(old, 9, 9));
  EXPECT_FALSE(parse_diskstats_line("8 0 sda 1 2"));
}

TEST(Mountinfo, EscapesAndDeepestMountWins) {
  std::string text = fixture(kModern + "/self/mountinfo");
  auto root = find_mount(text, "/etc");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->mount_point, "/");
  EXPECT_EQ(root->major, 254u);
  EXPECT_EQ(root->minor, 0u);
  EXPECT_EQ(root->fstype, "ext4");
  EXPECT_EQ(root->source, "/dev/vda");
  auto data = find_mount(text, "/srv/my data/sub");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->mount_point, "/srv/my data");  // \040 decoded
  EXPECT_EQ(data->minor, 16u);
  // "/srv/my data2" is not under "/srv/my data".
  EXPECT_EQ(find_mount(text, "/srv/my data2")->mount_point, "/");
  EXPECT_EQ(find_mount(text, "/sys/fs/cgroup/cpu")->fstype, "cgroup");
  EXPECT_FALSE(parse_mountinfo_line("1 2 3:4 / /x rw"));  // no " - " separator
}

TEST(ProcFile, RereadsWithoutReopening) {
  char path[] = "/tmp/amata-procfile-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "first", 5), 5);
  auto f = ProcFile::open(path, AT_FDCWD, 2);  // tiny buffer: must grow
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->read(), "first");
  ASSERT_EQ(pwrite(fd, "second!", 7, 0), 7);
  EXPECT_EQ(*f->read(), "second!");
  close(fd);
  unlink(path);
  EXPECT_FALSE(ProcFile::open("/nonexistent/file"));
}

TEST(ProcFileText, AWholeTextIsReadInOneGoAndStillGrows) {
  // /proc/self/stat is made whole by each read: one pread, the text complete.
  auto stat = ProcFile::open("/proc/self/stat", AT_FDCWD, 1024, ProcFile::Text::kWhole);
  ASSERT_TRUE(stat);
  auto text = stat->read();
  ASSERT_TRUE(text);
  auto parsed = base::parse_pid_stat(*text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->pid, getpid());
  // A text longer than the buffer still comes whole: the full buffer grows and reads again.
  char path[] = "/tmp/amata-procfile-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string long_text(100, 'x');
  ASSERT_EQ(write(fd, long_text.data(), long_text.size()), 100);
  auto f = ProcFile::open(path, AT_FDCWD, 64, ProcFile::Text::kWhole);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->read(), long_text);
  close(fd);
  unlink(path);
}

TEST(OpenFds, TheDirectorysSizeCountsAsTheListingDoes) {
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(proc, 0);
  utsname u{};
  uname(&u);
  int major = 0, minor = 0;
  std::sscanf(u.release, "%d.%d", &major, &minor);
  const bool sized = major > 6 || (major == 6 && minor >= 2);
  EXPECT_EQ(fd_counting(proc), sized ? FdCounting::kDirSize : FdCounting::kListing) << u.release;
  int fixture_root = open(kModern.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fixture_root, 0);
  EXPECT_EQ(fd_counting(fixture_root), FdCounting::kListing);  // no procfs: sizes of its own
  close(fixture_root);
  int fds = openat(proc, "self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fds, 0);
  auto listed = count_open_fds(fds, FdCounting::kListing);
  ASSERT_TRUE(listed);
  EXPECT_GE(*listed, 3u);
  if (sized) {
    EXPECT_EQ(*count_open_fds(fds, FdCounting::kDirSize), *listed);
  }
  int more[4];
  for (int& m : more) m = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(*count_open_fds(fds, FdCounting::kListing), *listed + 4);
  if (sized) {
    EXPECT_EQ(*count_open_fds(fds, FdCounting::kDirSize), *listed + 4);
  }
  for (int m : more) close(m);
  if (sized) {
    EXPECT_EQ(*count_open_fds(fds, FdCounting::kDirSize), *listed);
  }
  close(fds);
  close(proc);
}

TEST(DirEntries, CountsPidsAndFds) {
  int fd = open((kModern + "/4242/fd").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(*count_dir_entries(fd, false), 4u);
  close(fd);
  // The two ways of counting pids agree on a tree that holds still (the fixture: one pid
  // directory beside `self` and files)...
  int fixture = open(kModern.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fixture, 0);
  std::size_t listed = 0;
  ASSERT_TRUE(for_each_pid(fixture, [&](pid_t pid) {
    ++listed;
    EXPECT_EQ(pid, 4242);
  }));
  EXPECT_EQ(listed, 1u);
  EXPECT_EQ(*count_dir_entries(fixture, true), 1u);
  close(fixture);
  // ...and the live /proc lists us once. Its count is not compared between two listings:
  // processes start and end between them (seen under ctest -j2).
  int proc = open("/proc", O_RDONLY | O_DIRECTORY);
  std::size_t seen_self = 0;
  ASSERT_TRUE(for_each_pid(proc, [&](pid_t pid) {
    if (pid == getpid()) ++seen_self;
  }));
  EXPECT_EQ(seen_self, 1u);
  EXPECT_GE(*count_dir_entries(proc, true), 1u);
  close(proc);
}

// --- Probes on the fixture trees -----------------------------------------------------------

struct Harness {
  std::unique_ptr<base::EventLoop> loop = base::EventLoop::create().value();
  TestSink sink;
};

TEST(ProbeSetPeriods, APeriodBeyondAnyClockDoesNotSpin) {
  // A period of 10^20 s overflowed the timer's nanoseconds into the past: the set polled in a
  // loop at 100% CPU. It must poll once, at start, and then wait (for ever, in effect).
  struct CountingSink : TestSink {
    void sampled(int) override { ++samples; }
    int samples = 0;
  } sink;
  auto loop = base::EventLoop::create().value();
  ProbeOptions options;
  options.proc_root = kModern;
  auto set = ProbeSet::create(*loop, sink, options).value();
  catalog::ObjectSpec spec;
  spec.name = "self";
  spec.kind = catalog::Kind::kNode;
  spec.every = 1e20;
  ASSERT_TRUE(set->add(0, spec));
  set->start();
  // Twenty turns that each wait 5 ms for nothing take at least 100 ms; a timer armed in the
  // past wakes every turn at once.
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(loop->run_once(std::chrono::milliseconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(95));
  EXPECT_EQ(sink.samples, 1);
}

TEST(NodeProbeFixture, OldKernelLeavesStealUnknown) {
  Harness h;
  ProbeOptions options;
  options.proc_root = kOld;
  auto set = ProbeSet::create(*h.loop, h.sink, options);
  ASSERT_TRUE(set);
  catalog::ObjectSpec spec;
  spec.name = "self";
  spec.kind = catalog::Kind::kNode;
  ASSERT_TRUE((*set)->add(0, spec));
  (*set)->poll_all();
  EXPECT_DOUBLE_EQ(h.sink.number(0, "load1"), 0.5);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "uptime"), 3600.5);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "open_files"), 512);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "swap"), 50);
  double total = 1026060.0 * 1024, available = 350000.0 * 1024;
  EXPECT_DOUBLE_EQ(h.sink.number(0, "mem_available"), available);
  EXPECT_DOUBLE_EQ(h.sink.number(0, "mem_used"), total - available);
  EXPECT_NEAR(h.sink.number(0, "mem"), (total - available) / total * 100, 1e-9);
  EXPECT_FALSE(h.sink.has(0, "cpu"));       // needs two samples
  EXPECT_EQ(h.sink.number(0, "procs"), 0);  // no pid directories in the fixture
  (*set)->poll_all();
  // Same file twice: no tick passed, so cpu stays unknown rather than a made-up 0.
  EXPECT_FALSE(h.sink.has(0, "cpu"));
  EXPECT_FALSE(h.sink.has(0, "cpu_steal"));
}

TEST(ProcessProbeFixture, MeasuresAHandedOverPid) {
  Harness h;
  ProbeOptions options;
  options.proc_root = kModern;
  options.use_proc_connector = false;
  auto set = ProbeSet::create(*h.loop, h.sink, options);
  ASSERT_TRUE(set);
  catalog::ObjectSpec spec;
  spec.name = "svc";
  spec.kind = catalog::Kind::kService;
  ASSERT_TRUE((*set)->add(0, spec));
  ASSERT_EQ(h.sink.notices().size(), 1u);  // the polling fallback is said once
  ASSERT_TRUE((*set)->follow(0, 4242));
  // The supervisor, not the probe, says whether its child is alive and which pid it has.
  EXPECT_FALSE(h.sink.has(0, "alive"));
  EXPECT_FALSE(h.sink.has(0, "pid"));
  EXPECT_EQ(h.sink.string(0, "state"), "S");
  EXPECT_EQ(h.sink.number(0, "rss"), 2560.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(h.sink.number(0, "threads"), 3);
  EXPECT_EQ(h.sink.number(0, "children"), 3);
  EXPECT_EQ(h.sink.number(0, "fds"), 4);
  EXPECT_NEAR(h.sink.number(0, "uptime"), 910.23 - 12345.0 / sysconf(_SC_CLK_TCK), 1e-6);
  ASSERT_TRUE((*set)->follow(0, 0));
  EXPECT_FALSE(h.sink.has(0, "rss"));
  EXPECT_EQ(h.sink.string(0, "state"), "");
  EXPECT_FALSE(h.sink.has(0, "alive"));
  EXPECT_FALSE(h.sink.has(0, "exit_code"));
}

TEST(FilesystemProbeFixture, DeviceFoundThroughMountinfo) {
  Harness h;
  ProbeOptions options;
  options.proc_root = kModern;
  auto set = ProbeSet::create(*h.loop, h.sink, options).value();
  catalog::ObjectSpec root, data;
  root.name = "root";
  root.kind = catalog::Kind::kFilesystem;
  root.path = "/";
  data = root;
  data.name = "data";
  data.path = "/srv/my data/sub";  // does not exist here: only the recorded mount table knows it
  ASSERT_TRUE(set->add(0, root));
  ASSERT_TRUE(set->add(1, data));
  EXPECT_EQ(dynamic_cast<FilesystemProbe*>(set->find(0))->device(), "vda");
  EXPECT_EQ(dynamic_cast<FilesystemProbe*>(set->find(1))->device(), "vdb");
  set->poll_all();
  set->poll_all();
  // Space comes from statvfs on this machine's "/"; I/O from the recorded (unchanging) file.
  EXPECT_GT(h.sink.number(0, "size"), 0);
  EXPECT_EQ(h.sink.number(0, "read_rate"), 0);
  EXPECT_EQ(h.sink.number(0, "busy"), 0);
  EXPECT_FALSE(h.sink.has(1, "size"));  // statvfs of a missing path: unknown
  EXPECT_EQ(h.sink.number(1, "write_rate"), 0);
}

TEST(FilesystemProbeFixture, OldPartitionLineHasNoBusyTime) {
  Harness h;
  ProbeOptions options;
  options.proc_root = kOld;
  auto set = ProbeSet::create(*h.loop, h.sink, options).value();
  catalog::ObjectSpec root;
  root.name = "root";
  root.kind = catalog::Kind::kFilesystem;
  root.path = "/";
  ASSERT_TRUE(set->add(0, root));
  EXPECT_EQ(dynamic_cast<FilesystemProbe*>(set->find(0))->device(), "hda1");
  set->poll_all();
  set->poll_all();
  EXPECT_EQ(h.sink.number(0, "read_rate"), 0);
  EXPECT_FALSE(h.sink.has(0, "busy"));  // 2.6 partition lines carry no io_ticks
}

TEST(ProcessProbeFixture, BadRegexIsAnError) {
  Harness h;
  auto set = ProbeSet::create(*h.loop, h.sink, {});
  catalog::ObjectSpec spec;
  spec.name = "p";
  spec.kind = catalog::Kind::kProcess;
  spec.match = "([unclosed";
  EXPECT_FALSE((*set)->add(0, spec));
}

}  // namespace
}  // namespace amata::probes
