#include "engine/supervisor/left_running.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>

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
