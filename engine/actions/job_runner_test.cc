#include "engine/actions/job_runner.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace amata::actions {
namespace {

namespace fs = std::filesystem;

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = base::EventLoop::create();
    ASSERT_TRUE(loop);
    loop_ = std::move(*loop);
    jobs_ = std::make_unique<JobRunner>(*loop_);
    char tmpl[] = "/tmp/amata-jobs-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directory(dir_ + "/hooks");
  }
  void TearDown() override {
    jobs_.reset();
    fs::remove_all(dir_);
  }

  template <typename Pred>
  bool run_until(Pred pred, double limit = 10) {
    auto deadline = base::Clock::now() + std::chrono::duration_cast<base::Clock::duration>(
                                             std::chrono::duration<double>(limit));
    while (!pred() && base::Clock::now() < deadline) {
      EXPECT_TRUE(loop_->run_once(std::chrono::milliseconds(50)));
    }
    return pred();
  }

  void write_hook(const std::string& name, const std::string& body, bool executable = true) {
    std::string path = dir_ + "/hooks/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    chmod(path.c_str(), executable ? 0755 : 0644);
  }

  static std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::unique_ptr<base::EventLoop> loop_;
  std::unique_ptr<JobRunner> jobs_;
  std::string dir_;
};

TEST_F(JobRunnerTest, AHookAnyoneElseCouldChangeIsRefused) {
  HookRunner hooks(*jobs_, dir_ + "/hooks", 5, dir_ + "/hooks.log");
  EventEnvironment env;
  env.event = "ServiceDown";
  auto run = [&](const std::string& event) {
    env.event = event;
    std::vector<std::string> outcomes;
    int started = hooks.run(
        env, [&](const std::string&, const JobOutcome& o) { outcomes.push_back(o.describe()); });
    run_until([&] { return outcomes.size() == 1; });
    return std::make_pair(started, outcomes.empty() ? "" : outcomes.front());
  };
  write_hook("Open", "exit 0");
  chmod((dir_ + "/hooks/Open").c_str(), 0777);
  auto open = run("Open");
  EXPECT_EQ(open.first, 0);
  EXPECT_EQ(open.second, "refused to run: the hook " + dir_ +
                             "/hooks/Open is writable by others "
                             "(mode 0777)");
  write_hook("Foreign", "exit 0");
  ASSERT_EQ(chown((dir_ + "/hooks/Foreign").c_str(), 65534, 65534), 0);
  EXPECT_NE(run("Foreign").second.find("belongs to uid 65534"), std::string::npos);
  write_hook("Fine", "exit 0");
  EXPECT_EQ(run("Fine"), std::make_pair(1, std::string("exited 0")));
  // A directory anyone may write to: anyone could have put the hook there.
  chmod((dir_ + "/hooks").c_str(), 0777);
  EXPECT_NE(run("Fine").second.find("its directory " + dir_ + "/hooks is writable by others"),
            std::string::npos);
}

TEST_F(JobRunnerTest, ReportsExitCodes) {
  std::vector<JobOutcome> outcomes;
  ASSERT_TRUE(jobs_->run({{"true"}}, [&](const JobOutcome& o) { outcomes.push_back(o); }));
  ASSERT_TRUE(
      jobs_->run({{"sh", "-c", "exit 3"}}, [&](const JobOutcome& o) { outcomes.push_back(o); }));
  ASSERT_TRUE(run_until([&] { return outcomes.size() == 2; }));
  int ok = 0, three = 0;
  for (const auto& o : outcomes) {
    ok += o.ok();
    three += o.status.exit_code == 3 && !o.ok();
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(three, 1);
}

TEST_F(JobRunnerTest, KillsAJobAtItsDeadline) {
  std::optional<JobOutcome> outcome;
  JobSpec job{{"sleep", "30"}, {}, 0.2};
  ASSERT_TRUE(jobs_->run(job, [&](const JobOutcome& o) { outcome = o; }));
  ASSERT_TRUE(run_until([&] { return outcome.has_value(); }, 5));
  EXPECT_TRUE(outcome->timed_out);
  EXPECT_FALSE(outcome->ok());
  EXPECT_TRUE(outcome->status.signaled);
  EXPECT_NE(outcome->describe().find("timed out"), std::string::npos);
  EXPECT_EQ(jobs_->running(), 0u);
}

TEST_F(JobRunnerTest, HooksSeeTheEventInTheirEnvironment) {
  write_hook(
      "ServiceDown",
      "env | grep ^AMATA_ | sort > \"$PWD/../down.env\"; echo arg=$1 >> \"$PWD/../down.env\"");
  write_hook("any", "echo \"$AMATA_EVENT $AMATA_EDGE\" >> \"$PWD/../any.log\"");
  write_hook("Overload", "exit 0", false);  // not executable: not a hook
  HookRunner hooks(*jobs_, dir_ + "/hooks", 10, dir_ + "/hooks.log");
  EXPECT_EQ(hooks.hooks_for("Overload"), std::vector<std::string>{dir_ + "/hooks/any"});
  EXPECT_TRUE(hooks.hooks_for("../etc").size() == 1);  // only `any`: no path escapes DIR

  EventEnvironment env;
  env.event = "ServiceDown";
  env.rule = "down[web]";
  env.objects = {"web", "db"};
  env.edge = "raise";
  env.time = 1700000000.25;
  env.event_id = 42;
  env.values = R"({"web.alive":0})";
  env.policy = "demo";
  std::vector<std::string> finished;
  EXPECT_EQ(hooks.run(env,
                      [&](const std::string& hook, const JobOutcome& o) {
                        finished.push_back(fs::path(hook).filename().string() +
                                           (o.ok() ? " ok" : " failed"));
                      }),
            2);
  ASSERT_TRUE(run_until([&] { return finished.size() == 2; }));
  std::string vars = read_file(dir_ + "/down.env");
  EXPECT_NE(vars.find("AMATA_EVENT=ServiceDown\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_RULE=down[web]\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_OBJECT=web\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_OBJECTS=web db\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_EDGE=raise\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_TIME=1700000000.250000\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_EVENT_ID=42\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("AMATA_VALUES={\"web.alive\":0}\n"), std::string::npos) << vars;
  EXPECT_NE(vars.find("arg=ServiceDown"), std::string::npos) << vars;
  EXPECT_EQ(read_file(dir_ + "/any.log"), "ServiceDown raise\n");
}

TEST_F(JobRunnerTest, ASlowHookDoesNotHoldBackOtherWork) {
  write_hook("ServiceDown", "sleep 30");
  HookRunner hooks(*jobs_, dir_ + "/hooks", 60, "");
  EventEnvironment env;
  env.event = "ServiceDown";
  bool hook_done = false;
  ASSERT_EQ(hooks.run(env, [&](const std::string&, const JobOutcome&) { hook_done = true; }), 1);
  bool quick_done = false;
  ASSERT_TRUE(jobs_->run({{"true"}}, [&](const JobOutcome&) { quick_done = true; }));
  ASSERT_TRUE(run_until([&] { return quick_done; }, 5));
  EXPECT_FALSE(hook_done);
  EXPECT_EQ(jobs_->running(), 1u);
  // TearDown's ~JobRunner kills and reaps the sleeping hook.
}

// Found by hook_env_fuzzer: a value is a C string in the child, so a NUL (a policy's
// `notify "pager" "a\0b"`) cut AMATA_MESSAGE short, and a time of more than 31 characters
// was truncated by a fixed buffer. Now a NUL is written as \0 and the time in full.
TEST(EventEnvironmentTest, NothingIsCutShort) {
  using namespace std::string_literals;
  EventEnvironment env;
  env.event = "pager";
  env.objects = {"web"s, "d\0b"s};
  env.message = "disk\0full"s;
  env.args = {"--tag"s, "a\0"s};
  env.time = 1e30;
  const auto vars = env.variables();
  auto value = [&](const std::string& name) {
    for (const auto& [n, v] : vars)
      if (n == name) return v;
    ADD_FAILURE() << "no " << name;
    return std::string();
  };
  for (const auto& [name, v] : vars) EXPECT_EQ(v.find('\0'), std::string::npos) << name;
  EXPECT_EQ(value("AMATA_MESSAGE"), "disk\\0full");
  EXPECT_EQ(value("AMATA_OBJECTS"), "web d\\0b");
  EXPECT_EQ(value("AMATA_ARGS"), "--tag a\\0");
  EXPECT_EQ(value("AMATA_TIME"), "1000000000000000019884624838656.000000");
  EXPECT_EQ(std::strtod(value("AMATA_TIME").c_str(), nullptr), 1e30);
}

TEST_F(JobRunnerTest, MissingHookDirectoryMeansNoHooks) {
  HookRunner hooks(*jobs_, dir_ + "/nowhere", 10, "");
  EventEnvironment env;
  env.event = "ServiceDown";
  EXPECT_EQ(hooks.run(env, nullptr), 0);
}

}  // namespace
}  // namespace amata::actions
