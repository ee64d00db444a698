#include "engine/supervisor/supervisor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/proc_stat.h"

namespace amata::supervisor {
namespace {

namespace fs = std::filesystem;

class SupervisorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    char tmpl[] = "/tmp/amata-supervisor-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    SupervisorEvents events;
    events.started = [this](int, const std::string& name, pid_t pid, std::uint64_t) {
      log_.push_back("started " + name);
      last_pid_[name] = pid;
    };
    events.exited = [this](int, const std::string& name, pid_t, const base::ExitStatus& st,
                           bool expected) {
      log_.push_back("exited " + name + (expected ? " expected " : " unexpected ") + st.describe());
      if (!expected && on_crash_) on_crash_(name);
    };
    events.gave_up = [this](int, const std::string& name, const std::string& reason) {
      log_.push_back("gave-up " + name + ": " + reason);
    };
    sup_ = std::make_unique<Supervisor>(*loop_, events);
  }
  void TearDown() override {
    bool stopped = false;
    sup_->stop_all([&](bool, const std::string&) { stopped = true; });
    run_until([&] { return stopped; });
    sup_.reset();
    fs::remove_all(dir_);
  }

  /// Configures the supervisor as a policy with these services, in this order, would: each
  /// service's object is its index.
  void configure(std::vector<ServiceConfig> services) {
    ids_.clear();
    for (std::size_t i = 0; i < services.size(); ++i) {
      services[i].object = static_cast<int>(i);
      ids_[services[i].name] = static_cast<int>(i);
    }
    sup_->configure(services);
  }
  /// The object of the service named `name` in the last configure().
  int id(const std::string& name) const {
    auto it = ids_.find(name);
    return it == ids_.end() ? -1 : it->second;
  }

  ServiceConfig service(const std::string& name, std::vector<std::string> argv) {
    ServiceConfig c;
    c.name = name;
    c.argv = std::move(argv);
    c.log_path = dir_ + "/" + name + ".log";
    c.kill_after = 2;
    c.grace = 0.5;
    return c;
  }

  /// start_all(), then the loop until the spawner has answered for every service.
  void start_all_and_wait() {
    sup_->start_all();
    ASSERT_TRUE(run_until([&] {
      for (const auto& st : sup_->statuses()) {
        if (st.state == ServiceState::kStarting) return false;
      }
      return true;
    }));
  }

  /// Runs the loop until `pred` holds or 10 s pass; returns pred().
  template <typename Pred>
  bool run_until(Pred pred, double limit = 10) {
    auto deadline = base::Clock::now() + std::chrono::duration_cast<base::Clock::duration>(
                                             std::chrono::duration<double>(limit));
    while (!pred() && base::Clock::now() < deadline) {
      auto st = loop_->run_once(std::chrono::milliseconds(50));
      EXPECT_TRUE(st);
    }
    return pred();
  }

  bool contains(const std::string& needle) const {
    for (const auto& l : log_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  int count(const std::string& prefix) const {
    int n = 0;
    for (const auto& l : log_) n += l.rfind(prefix, 0) == 0;
    return n;
  }

  std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// True when `pid` is a zombie child of this test process.
  static bool is_zombie(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) return false;
    auto close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<Supervisor> sup_;
  std::map<std::string, int> ids_;
  std::string dir_;
  std::vector<std::string> log_;
  std::map<std::string, pid_t> last_pid_;
  std::function<void(const std::string&)> on_crash_;
};

TEST_F(SupervisorTest, StartsWithEnvironmentWorkdirAndLog) {
  auto c = service("env", {"sh", "-c", "echo FOO=$FOO; pwd; echo oops >&2"});
  c.env = {{"FOO", "bar"}};
  c.workdir = dir_;
  configure({c});
  sup_->start_all();
  ASSERT_TRUE(run_until([&] { return contains("exited env"); }));
  EXPECT_TRUE(contains("exited env unexpected exited 0"));
  std::string out = read_file(dir_ + "/env.log");
  EXPECT_NE(out.find("FOO=bar"), std::string::npos) << out;
  EXPECT_NE(out.find(dir_ + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("oops"), std::string::npos) << out;
  EXPECT_FALSE(is_zombie(last_pid_["env"]));
}

TEST_F(SupervisorTest, MissingProgramExits127WithReasonInLog) {
  configure({service("ghost", {"/nonexistent/amata-ghost"})});
  sup_->start_all();
  ASSERT_TRUE(run_until([&] { return contains("exited ghost"); }));
  EXPECT_TRUE(contains("exited ghost unexpected exited 127"));
  EXPECT_NE(read_file(dir_ + "/ghost.log").find("cannot start /nonexistent/amata-ghost"),
            std::string::npos);
}

TEST_F(SupervisorTest, SignalsAreUnblockedInChildren) {
  // The loop blocks SIGTERM for itself; a child must still die of it.
  ASSERT_TRUE(loop_->watch_signals({SIGTERM, SIGHUP}, [](const signalfd_siginfo&) {}));
  configure({service("sleeper", {"sleep", "30"})});
  start_all_and_wait();
  ASSERT_EQ(sup_->status(id("sleeper"))->state, ServiceState::kRunning);
  bool stopped = false;
  sup_->stop(id("sleeper"), [&](bool ok, const std::string&) { stopped = ok; });
  ASSERT_TRUE(run_until([&] { return stopped; }, 1.5));  // before kill_after (2 s)
  EXPECT_TRUE(contains("exited sleeper expected killed by SIGTERM"));
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
}

TEST_F(SupervisorTest, StopEscalatesToKillForTheWholeGroup) {
  // The shell ignores SIGTERM, and so does its background child: only SIGKILL ends them.
  auto c = service("stubborn", {"sh", "-c", "trap '' TERM; sleep 30 & echo $! > child.pid; wait"});
  c.workdir = dir_;
  c.kill_after = 0.3;
  configure({c});
  sup_->start_all();
  ASSERT_TRUE(run_until(
      [&] { return fs::exists(dir_ + "/child.pid") && !read_file(dir_ + "/child.pid").empty(); }));
  pid_t grandchild = std::stoi(read_file(dir_ + "/child.pid"));
  bool stopped = false;
  sup_->stop(id("stubborn"), [&](bool, const std::string&) { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_TRUE(contains("exited stubborn expected killed by SIGKILL"));
  // The grandchild was in the group: it is gone (or a zombie of init, not ours).
  ASSERT_TRUE(run_until([&] { return kill(grandchild, 0) != 0 || is_zombie(grandchild); }, 3));
}

TEST_F(SupervisorTest, AStoppedServiceEndsOnItsStopSignalWithoutWaitingForKill) {
  // A stopped (SIGSTOP) process cannot act on the SIGTERM it handles until it is continued:
  // the stop signal is followed by SIGCONT, as systemd does, so the hung service ends at once
  // instead of after `kill_after`.
  // One process that handles SIGTERM (a shell loop would fork, and a child stopped between
  // vfork and exec leaves the shell in D, not T).
  auto c = service("hung", {"/usr/bin/python3", "-c",
                            "import signal, sys, time\n"
                            "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
                            "open('ready', 'w').write('up')\n"
                            "time.sleep(3600)\n"});
  c.workdir = dir_;
  c.kill_after = 60;
  configure({c});
  sup_->start_all();
  ASSERT_TRUE(run_until([&] { return !read_file(dir_ + "/ready").empty(); }));
  const pid_t pid = sup_->status(id("hung"))->pid;
  // Whatever fails below, the stopped process must not outlive the test (kill_after is 60 s).
  struct KillAtEnd {
    Supervisor& sup;
    int object;
    pid_t group;
    ~KillAtEnd() {
      if (sup.status(object)->pid == group) kill(-group, SIGKILL);  // still ours, unreaped
    }
  } kill_at_end{*sup_, id("hung"), pid};
  ASSERT_EQ(kill(-pid, SIGSTOP), 0);
  const std::string stat = "/proc/" + std::to_string(pid) + "/stat";
  ASSERT_TRUE(run_until([&] { return read_file(stat).find(") T ") != std::string::npos; }))
      << read_file(stat);
  bool stopped = false;
  sup_->stop(id("hung"), [&](bool, const std::string&) { stopped = true; });
  ASSERT_TRUE(run_until([&] { return stopped; }));  // far before kill_after
  EXPECT_TRUE(contains("exited hung expected exited 0")) << log_.back();
}

// The spawner's barrier (base/spawner_test.cc) holds each new process stopped while others
// are still to be spawned: after a start of many, none is left stopped.
TEST_F(SupervisorTest, ProcessesStartedTogetherAreAllContinued) {
  std::vector<ServiceConfig> services;
  services.reserve(20);
  for (int i = 0; i < 20; ++i)
    services.push_back(service("s" + std::to_string(i), {"sleep", "30"}));
  configure(services);
  start_all_and_wait();
  auto state = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto close = line.rfind(')');
    return close == std::string::npos ? '?' : line[close + 2];
  };
  EXPECT_TRUE(run_until([&] {
    for (const auto& st : sup_->statuses()) {
      if (st.state != ServiceState::kRunning || state(st.pid) != 'S') return false;
    }
    return true;
  }));
}

// A spawn that cannot finish (its log's open waits, as on a stalled disk) leaves the service
// starting and the loop turning; a stop asked meanwhile stops the process once it exists,
// and a start asked meanwhile hears of it then.
TEST_F(SupervisorTest, AStopAskedWhileStartingStopsTheProcessOnceItRuns) {
  const std::string fifo = dir_ + "/fifo.log";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ServiceConfig slow = service("slow", {"sleep", "30"});
  slow.log_path = fifo;
  configure({slow});
  std::vector<std::string> said;
  sup_->start(id("slow"), [&](bool ok, const std::string& d) {
    said.push_back(std::string("start ") + (ok ? "ok " : "failed ") + d);
  });
  EXPECT_TRUE(said.empty());
  EXPECT_EQ(sup_->status(id("slow"))->state, ServiceState::kStarting);
  sup_->start(id("slow"), [&](bool ok, const std::string&) {
    said.push_back(std::string("second start ") + (ok ? "ok" : "failed"));
  });
  bool stopped = false;
  sup_->stop(id("slow"), [&](bool ok, const std::string&) { stopped = ok; });
  int turns = 0;
  run_until([&] { return ++turns == 10; });
  EXPECT_TRUE(said.empty());
  EXPECT_EQ(sup_->status(id("slow"))->state, ServiceState::kStarting);
  const int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(run_until([&] { return stopped; }));
  close(reader);
  ASSERT_EQ(said.size(), 2U);
  EXPECT_EQ(said[0].rfind("start ok pid ", 0), 0U) << said[0];
  EXPECT_EQ(said[1], "second start ok");
  EXPECT_TRUE(contains("started slow"));
  EXPECT_TRUE(contains("exited slow expected"));
  EXPECT_EQ(sup_->status(id("slow"))->state, ServiceState::kStopped);
}

TEST_F(SupervisorTest, RestartAfterKillGivesANewProcess) {
  configure({service("web", {"sleep", "30"})});
  start_all_and_wait();
  pid_t first = sup_->status(id("web"))->pid;
  ASSERT_GT(first, 0);
  on_crash_ = [&](const std::string& name) {
    sup_->restart(id(name), RestartPolicy{}, [&](bool ok, const std::string& d) {
      log_.push_back(std::string("restart ") + (ok ? "ok " : "failed ") + d);
    });
  };
  ASSERT_EQ(kill(first, SIGKILL), 0);
  ASSERT_TRUE(run_until([&] { return contains("restart ok"); }));
  auto st = sup_->status(id("web"));
  EXPECT_EQ(st->state, ServiceState::kRunning);
  EXPECT_NE(st->pid, first);
  EXPECT_EQ(st->restarts, 1);
  EXPECT_TRUE(contains("exited web unexpected killed by SIGKILL"));
  EXPECT_FALSE(is_zombie(first));
}

TEST_F(SupervisorTest, CrashLoopBacksOffThenGivesUp) {
  configure({service("crash", {"false"})});
  RestartPolicy policy{0.05, 0.2, 4, 60};
  on_crash_ = [&](const std::string& name) { sup_->restart(id(name), policy, nullptr); };
  auto t0 = base::Clock::now();
  sup_->start_all();
  ASSERT_TRUE(run_until([&] { return contains("gave-up crash"); }));
  double took = std::chrono::duration<double>(base::Clock::now() - t0).count();
  // 4 restarts: at once, then 50, 100, 200 ms of backoff.
  EXPECT_GE(took, 0.3);
  EXPECT_EQ(count("started crash"), 5);
  EXPECT_TRUE(contains("gave up after 4 restarts within 60s"));
  auto st = sup_->status(id("crash"));
  EXPECT_EQ(st->state, ServiceState::kGaveUp);
  EXPECT_FALSE(st->monitored);
  // monitor again clears the give-up.
  sup_->monitor(id("crash"));
  EXPECT_EQ(sup_->status(id("crash"))->state, ServiceState::kStopped);
}

TEST_F(SupervisorTest, AStartAfterAGiveUpGetsTheWholeLimitAgain) {
  configure({service("crash", {"false"})});
  RestartPolicy policy{0, 0, 2, 60};
  on_crash_ = [&](const std::string& name) { sup_->restart(id(name), policy, nullptr); };
  sup_->start_all();
  ASSERT_TRUE(run_until([&] { return count("gave-up crash") == 1; }));
  EXPECT_EQ(count("started crash"), 3);
  // The operator's start is one more start and two more restarts, not an instant give-up.
  sup_->start(id("crash"), nullptr);
  ASSERT_TRUE(run_until([&] { return count("gave-up crash") == 2; }));
  EXPECT_EQ(count("started crash"), 6);
  EXPECT_EQ(sup_->status(id("crash"))->state, ServiceState::kGaveUp);
}

TEST_F(SupervisorTest, AGiveUpWhileRunningEndsGivenUpNotStopped) {
  // A restart asked for a service that still runs (a failed health check) past its limit:
  // the service is stopped and then reads as given up.
  configure({service("web", {"sleep", "30"})});
  start_all_and_wait();
  RestartPolicy policy{0, 0, 1, 60};
  bool first = false;
  sup_->restart(id("web"), policy, [&](bool ok, const std::string&) { first = ok; });
  ASSERT_TRUE(run_until([&] { return first; }));
  sup_->restart(id("web"), policy, nullptr);
  ASSERT_TRUE(run_until([&] { return sup_->status(id("web"))->pid == 0; }));
  EXPECT_EQ(sup_->status(id("web"))->state, ServiceState::kGaveUp);
  EXPECT_FALSE(sup_->status(id("web"))->monitored);
}

TEST_F(SupervisorTest, RestartRequestedTwiceIsOneRestart) {
  configure({service("web", {"sleep", "30"})});
  start_all_and_wait();
  int done = 0;
  sup_->restart(id("web"), {}, [&](bool, const std::string&) { ++done; });
  sup_->restart(id("web"), {}, [&](bool, const std::string&) { ++done; });
  ASSERT_TRUE(run_until([&] { return done == 2; }));
  EXPECT_EQ(count("started web"), 2);
  EXPECT_EQ(sup_->status(id("web"))->restarts, 1);
}

TEST_F(SupervisorTest, DependenciesStartFirstAndDependantsFollowARestart) {
  auto app = service("app", {"sleep", "30"});
  app.depends = {"db"};
  auto web = service("web", {"sleep", "30"});
  web.depends = {"app"};
  configure({web, app, service("db", {"sleep", "30"}), service("other", {"sleep", "30"})});
  EXPECT_EQ(sup_->start_order(), (std::vector<std::string>{"db", "app", "other", "web"}));
  start_all_and_wait();
  std::vector<std::string> expect{"started db", "started app", "started other", "started web"};
  EXPECT_EQ(log_, expect);
  pid_t other = sup_->status(id("other"))->pid;
  pid_t web_pid = sup_->status(id("web"))->pid;
  log_.clear();
  bool done = false;
  sup_->restart(id("app"), {}, [&](bool, const std::string&) { done = true; });
  // The restart's own outcome is app's; web, its dependant, follows it.
  ASSERT_TRUE(run_until([&] { return done && count("started web") > 0; }));
  EXPECT_EQ(count("started app"), 1);
  EXPECT_EQ(count("started web"), 1);
  EXPECT_EQ(count("started db"), 0);
  EXPECT_EQ(sup_->status(id("other"))->pid, other);
  EXPECT_NE(sup_->status(id("web"))->pid, web_pid);
  // app starts before web.
  auto app_at = std::find(log_.begin(), log_.end(), "started app");
  auto web_at = std::find(log_.begin(), log_.end(), "started web");
  EXPECT_LT(app_at, web_at);
}

// A clustered service placed elsewhere is never started here: not by a start, a restart, a
// monitor followed by start_all, nor as a dependency; once the hold is lifted it starts.
TEST_F(SupervisorTest, AServiceHeldByTheClusterIsStartedByNothingElse) {
  auto app = service("app", {"sleep", "30"});
  app.depends = {"db"};
  configure({service("db", {"sleep", "30"}), app});
  sup_->unmonitor(id("db"));
  sup_->set_cluster_hold(id("db"), true);
  std::vector<std::string> refusals;
  const auto refused = [&](bool ok, const std::string& detail) {
    if (!ok) refusals.push_back(detail);
  };
  sup_->start(id("db"), refused);
  sup_->restart(id("db"), {}, refused);
  sup_->start(id("app"), refused);  // would start db first
  sup_->monitor(id("db"));
  sup_->start_all();
  run_until([] { return false; }, 0.3);
  EXPECT_EQ(count("started db"), 0) << ::testing::PrintToString(log_);
  ASSERT_EQ(refusals.size(), 3u);
  for (const auto& r : refusals)
    EXPECT_NE(r.find("db is a clustered service"), std::string::npos) << r;
  EXPECT_FALSE(sup_->status(id("db"))->monitored);

  sup_->set_cluster_hold(id("db"), false);
  bool started = false;
  sup_->start(id("db"), [&](bool ok, const std::string&) { started = ok; });
  EXPECT_TRUE(run_until([&] { return started; }));
  EXPECT_EQ(count("started db"), 1);
}

TEST_F(SupervisorTest, AdoptsOnlyTheSameProcess) {
  configure({service("old", {"sleep", "30"})});
  pid_t pid = fork();
  if (pid == 0) {
    execlp("sleep", "sleep", "30", nullptr);
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  auto ticks = base::process_start_time(pid);
  ASSERT_TRUE(ticks);
  EXPECT_FALSE(sup_->adopt(id("old"), pid, *ticks + 1));  // another process with that pid
  EXPECT_TRUE(sup_->adopt(id("old"), pid, *ticks));
  EXPECT_TRUE(sup_->status(id("old"))->adopted);
  sup_->start_all();  // no second copy
  EXPECT_EQ(count("started old"), 1);
  kill(pid, SIGKILL);
  int status;
  waitpid(pid, &status, 0);  // the test is its parent: reaping it is the test's job
  ASSERT_TRUE(run_until([&] { return contains("exited old"); }));
  EXPECT_TRUE(contains("exited old unexpected ended (status unknown)"));
}

// A reload that removes a service still starting: its process, once there, is stopped and
// forgotten without being announced as a service of the new policy.
TEST_F(SupervisorTest, AServiceRemovedWhileStartingIsStoppedOnceItRuns) {
  configure({service("gone", {"sleep", "30"})});
  sup_->start_all();
  ASSERT_EQ(sup_->status(id("gone"))->state, ServiceState::kStarting);
  configure({});
  ASSERT_TRUE(run_until([&] { return sup_->running_children() == 0 && contains("exited gone"); }));
  EXPECT_FALSE(contains("started gone"));
  EXPECT_TRUE(contains("exited gone expected")) << log_.back();
}

TEST_F(SupervisorTest, ReloadKeepsRunningServicesAndStopsRemovedOnes) {
  configure({service("keep", {"sleep", "30"}), service("drop", {"sleep", "30"})});
  start_all_and_wait();
  pid_t keep = sup_->status(id("keep"))->pid;
  configure({service("keep", {"sleep", "30"}), service("new", {"sleep", "30"})});
  ASSERT_TRUE(run_until([&] { return !sup_->has(id("drop")); }));
  start_all_and_wait();
  EXPECT_EQ(sup_->status(id("keep"))->pid, keep);
  EXPECT_EQ(sup_->status(id("new"))->state, ServiceState::kRunning);
}

}  // namespace
}  // namespace amata::supervisor

namespace amata::supervisor {
namespace {

TEST_F(SupervisorTest, ADependantsOwnRestartJoinsItsDependencysRestart) {
  auto app = service("app", {"sleep", "30"});
  app.depends = {"db"};
  configure({app, service("db", {"sleep", "30"})});
  start_all_and_wait();
  log_.clear();
  std::vector<std::string> done;
  sup_->restart(id("db"), {}, [&](bool ok, const std::string& d) {
    done.push_back("db " + d + (ok ? "" : " failed"));
  });
  sup_->restart(id("app"), {}, [&](bool ok, const std::string& d) {
    done.push_back("app " + d + (ok ? "" : " failed"));
  });
  ASSERT_TRUE(run_until([&] { return done.size() == 2; }));
  EXPECT_EQ(count("started app"), 1);
  EXPECT_EQ(count("started db"), 1);
  EXPECT_EQ(log_.back(), "started app");  // after db
  EXPECT_NE(done[1].find("restarted with db"), std::string::npos) << done[1];
}

}  // namespace
}  // namespace amata::supervisor
