#include "engine/supervisor/left_running.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "base/pidfd.h"
#include "base/proc_stat.h"
#include "base/spawn.h"

namespace amata::supervisor {
namespace {

using namespace std::chrono_literals;

/// Children of this test, killed and reaped at the end.
struct Children {
  std::vector<base::Spawned> list;
  ~Children() {
    for (auto& c : list) base::kill_and_reap(c.pid, c.pidfd.get());
  }
};

base::SpawnSpec marked(const std::string& owner, const std::string& service,
                       const std::string& script) {
  base::SpawnSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "AMATA_SUPERVISOR=" + owner, "AMATA_SERVICE=" + service};
  return spec;
}

bool has(const std::vector<LeftRunning>& found, const std::string& service, pid_t pid) {
  return std::any_of(found.begin(), found.end(),
                     [&](const LeftRunning& l) { return l.service == service && l.pid == pid; });
}

TEST(LeftRunning, FindsTheServicesOfItsOwnerOnly) {
  const std::string owner = "/tmp/amata-left-" + std::to_string(getpid());
  Children children;
  // A service whose own child makes itself a session leader (it carries the mark too).
  auto web = base::spawn(marked(owner, "web", "setsid sleep 60 & exec sleep 60"));
  auto db = base::spawn(marked(owner, "db", "exec sleep 60"));
  auto other = base::spawn(marked(owner + "-other", "web", "exec sleep 60"));
  ASSERT_TRUE(web && db && other);
  const pid_t web_pid = web->pid, db_pid = db->pid, other_pid = other->pid;
  children.list.push_back(std::move(*web));
  children.list.push_back(std::move(*db));
  children.list.push_back(std::move(*other));
  std::vector<LeftRunning> found;
  for (int i = 0; i < 200; ++i) {  // until the shell has exec'd and started its child
    found = find_left_running(owner);
    if (found.size() >= 2) break;
    usleep(10'000);
  }
  usleep(50'000);
  found = find_left_running(owner);
  EXPECT_EQ(found.size(), 2u);
  EXPECT_TRUE(has(found, "web", web_pid));
  EXPECT_TRUE(has(found, "db", db_pid));
  EXPECT_FALSE(has(found, "web", other_pid));  // another amatad's
  for (const auto& l : found) EXPECT_EQ(l.start_ticks, *base::process_start_time(l.pid));

  // A copy is ended with its whole group.
  auto db_copy = std::find_if(found.begin(), found.end(),
                              [](const LeftRunning& l) { return l.service == "db"; });
  ASSERT_TRUE(end_copy(*db_copy));
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(db_pid), &info, WEXITED | WNOWAIT), 0);
  EXPECT_EQ(info.si_status, SIGKILL);
  // A stale record (wrong start time) is refused.
  LeftRunning stale{"web", web_pid, 1};
  EXPECT_FALSE(end_copy(stale));
}

// A process that ends while its /proc files are being read makes read() fail (ESRCH); an
// unreadable entry is passed over, never an exception that ends amatad's start (found under
// ASan: "basic_filebuf::underflow error reading the file: No such process", and amatad exited
// leaving its service unsupervised). A directory where a file should be fails read() the same
// way, deterministically.
TEST(LeftRunning, AnEntryThatCannotBeReadIsPassedOver) {
  char root_template[] = "/tmp/amata-proc-XXXXXX";
  ASSERT_NE(mkdtemp(root_template), nullptr);
  const std::string root = root_template;
  // 4242: a session leader whose environ cannot be read; 4343: a readable marked service.
  for (const char* pid : {"4242", "4343"}) {
    const std::string dir = root + "/" + pid;
    ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
    FILE* stat = fopen((dir + "/stat").c_str(), "w");
    ASSERT_NE(stat, nullptr);
    fprintf(stat, "%s (sleep) S 1 %s %s 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0\n", pid, pid, pid);
    fclose(stat);
  }
  ASSERT_EQ(mkdir((root + "/4242/environ").c_str(), 0700), 0);
  FILE* environ = fopen((root + "/4343/environ").c_str(), "w");
  ASSERT_NE(environ, nullptr);
  const char block[] = "AMATA_SUPERVISOR=/var/lib/amata\0AMATA_SERVICE=web\0";
  fwrite(block, 1, sizeof block - 1, environ);
  fclose(environ);

  std::vector<LeftRunning> found;
  EXPECT_NO_THROW(found = find_left_running("/var/lib/amata", root));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].service, "web");
  EXPECT_EQ(found[0].pid, 4343);
  EXPECT_EQ(found[0].start_ticks, 777u);
  std::filesystem::remove_all(root);
}

TEST(LeftRunning, EnvironmentValues) {
  using namespace std::string_view_literals;
  constexpr auto block = "A=1\0AMATA_SERVICE=web\0AMATA_SERVICEX=no\0B="sv;
  EXPECT_EQ(environment_value(block, "AMATA_SERVICE"), "web");
  EXPECT_EQ(environment_value(block, "A"), "1");
  EXPECT_EQ(environment_value(block, "B"), "");
  EXPECT_EQ(environment_value(block, "C"), "");
  EXPECT_EQ(environment_value("", "A"), "");
}

}  // namespace
}  // namespace amata::supervisor
