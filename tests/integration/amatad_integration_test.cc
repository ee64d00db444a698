// amatad end to end: the real binary, real services (sh + sleep), kill -9, SIGHUP, hooks,
// sd_notify, adoption. Each service writes its pid to DIR/NAME.pid so the test sees it from
// outside, as an operator would.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

int count_events(const std::vector<store::EventRecord>& events, const std::string& event,
                 const std::string& object, const std::string& edge) {
  int n = 0;
  for (const auto& e : events) {
    n += e.event == event && !e.objects.empty() && e.objects[0] == object && e.edge == edge;
  }
  return n;
}

int count_actions(const std::vector<store::ActionRecord>& actions, const std::string& kind,
                  const std::string& object, const std::string& outcome) {
  int n = 0;
  for (const auto& a : actions) n += a.kind == kind && a.object == object && a.outcome == outcome;
  return n;
}

class AmatadBackends : public ::testing::TestWithParam<const char*> {};

TEST_P(AmatadBackends, Kill9RestartsTheServiceAndStoresEventAndAction) {
  Amatad a;
  a.write_policy("policy itest\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", GetParam()});
  pid_t first = a.wait_new_pid("web", 0);
  ASSERT_GT(first, 0) << a.log();
  ASSERT_EQ(kill(first, SIGKILL), 0);
  pid_t second = a.wait_new_pid("web", first);
  ASSERT_GT(second, 0) << a.log();
  ASSERT_TRUE(Amatad::wait_for([&] {
    return count_events(a.events(), "ServiceDown", "web", "clear") == 1;
  })) << a.log();
  auto events = a.events();
  EXPECT_EQ(count_events(events, "ServiceDown", "web", "raise"), 1);
  auto raised =
      std::find_if(events.begin(), events.end(), [](const auto& e) { return e.edge == "raise"; });
  ASSERT_NE(raised, events.end());
  EXPECT_EQ(raised->rule, "down[web]");
  EXPECT_NE(raised->values.find("\"web.alive\":0"), std::string::npos) << raised->values;
  auto actions = a.actions();
  ASSERT_EQ(count_actions(actions, "restart", "web", "ok"), 1);
  EXPECT_EQ(actions[0].event_id, raised->id);
  EXPECT_TRUE(a.zombie_children().empty());
  EXPECT_EQ(a.stop(SIGTERM), 0);
  EXPECT_FALSE(process_alive(second));  // a normal shutdown stops the services
}

INSTANTIATE_TEST_SUITE_P(Backends, AmatadBackends, ::testing::Values("interp", "jit"));

TEST(Amatad, ThreeServicesKilledAtOnceAllComeBack) {
  Amatad a;
  a.write_policy("policy three\n" + sleeper_service("s1") + sleeper_service("s2") +
                 sleeper_service("s3") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  pid_t p[3];
  for (int i = 0; i < 3; ++i) ASSERT_GT(p[i] = a.wait_new_pid("s" + std::to_string(i + 1), 0), 0);
  for (pid_t pid : p) kill(pid, SIGKILL);
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(a.wait_new_pid("s" + std::to_string(i + 1), p[i]), 0) << a.log();
  }
  ASSERT_TRUE(Amatad::wait_for([&] {
    auto actions = a.actions();
    return count_actions(actions, "restart", "s1", "ok") +
               count_actions(actions, "restart", "s2", "ok") +
               count_actions(actions, "restart", "s3", "ok") ==
           3;
  })) << a.log();
  ASSERT_TRUE(Amatad::wait_for([&] { return a.zombie_children().empty(); }, 2));
}

/// The nice value of `pid` (field 19 of /proc/PID/stat).
int nice_of(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 19 && fields >> field; ++i) {
  }
  return std::stoi(field);
}

TEST(Amatad, RunsAheadOfTheServicesItStarts) {
  // A storm of restarted services must not starve the loop that restarts them: amatad
  // raises its own priority, and its services keep the one it was started with.
  const int own = nice_of(getpid());
  for (const auto& [args, boost] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{}, 10}, {{"--priority-boost", "0"}, 0}}) {
    Amatad a;
    a.write_policy("policy itest\n" + sleeper_service("web") + kRestartWhenDown);
    a.start(args);
    const pid_t web = a.wait_new_pid("web", 0);
    ASSERT_GT(web, 0) << a.log();
    EXPECT_EQ(nice_of(a.pid()), std::max(-20, own - boost)) << a.log();
    // A child runs at amatad's priority from its exec until the spawn barrier stops it (base/
    // spawner.h), long enough on a busy machine to write its pid file: what counts is the
    // priority it is left at.
    const auto settles_at_own = [&](pid_t pid) {
      return Amatad::wait_for([&] { return nice_of(pid) == own; }, 5);
    };
    EXPECT_TRUE(settles_at_own(web)) << nice_of(web);
    ASSERT_EQ(kill(web, SIGKILL), 0);
    const pid_t again = a.wait_new_pid("web", web);
    ASSERT_GT(again, 0) << a.log();
    EXPECT_TRUE(settles_at_own(again)) << nice_of(again);
    EXPECT_EQ(a.stop(SIGTERM), 0);
  }
}

/// Resident KiB of the code (r-x mappings) of `pid`'s executable and of libLLVM: where the
/// compiler's code is, linked statically or not (the sanitizers' runtimes are not counted).
std::size_t resident_code_kib(pid_t pid) {
  std::error_code error;
  const std::string executable =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", error).string();
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::size_t kib = 0;
  bool code = false;
  for (std::string line; std::getline(smaps, line);) {
    const bool header =
        !line.empty() && (std::isdigit(line[0]) != 0 || (line[0] >= 'a' && line[0] <= 'f'));
    if (header) {
      std::istringstream fields(line);
      std::string range, perms, offset, dev, inode, path;
      fields >> range >> perms >> offset >> dev >> inode >> path;
      code = perms.rfind("r-x", 0) == 0 &&
             (path == executable || path.find("/libLLVM") != std::string::npos);
    } else if (code && line.rfind("Rss:", 0) == 0) {
      kib += std::stoul(line.substr(4));
    }
  }
  return kib;
}

TEST(Amatad, GivesBackTheCompilersCodeOnceAPolicyIsCompiled) {
  // Compiling with LLVM touches tens of MiB of its code (in libLLVM for this build, in the
  // executable for the release build); none of it runs again until the next reload.
  Amatad a;
  a.write_policy("policy v1\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "jit"});
  ASSERT_GT(a.wait_new_pid("web", 0), 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("amatad ready"));
  EXPECT_LT(resident_code_kib(a.pid()), 12u * 1024) << a.log();

  a.write_policy("policy v2\n" + sleeper_service("web") + sleeper_service("api") +
                 kRestartWhenDown);
  a.signal(SIGHUP);
  ASSERT_TRUE(a.wait_for_log("reloaded policy v2")) << a.log();
  ASSERT_GT(a.wait_new_pid("api", 0), 0) << a.log();
  EXPECT_LT(resident_code_kib(a.pid()), 12u * 1024) << "after the reload's compile";
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, CrashLoopBacksOffThenGivesUpWithLowCpu) {
  Amatad a;
  a.write_hook("GaveUp", "echo \"$AMATA_OBJECT: $AMATA_MESSAGE\" > \"@DIR@/gaveup\"");
  std::string hook = read_file(a.hooks_dir() + "/GaveUp");
  a.write_hook("GaveUp", "echo \"$AMATA_OBJECT: $AMATA_MESSAGE\" > " + a.dir() + "/gaveup");
  a.write_policy(
      "policy crash\n"
      "service crasher { start \"/bin/false\" }\n"
      "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
      "recover ServiceDown(s) { restart s backoff 50ms .. 400ms limit 6 within 1min }\n");
  a.start({"--backend", "interp"});
  ASSERT_TRUE(Amatad::wait_for([&] { return a.log().find("amatad ready") != std::string::npos; }))
      << a.log();
  double cpu0 = a.cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Amatad::wait_for(
      [&] { return count_events(a.events(), "GaveUp", "crasher", "raise") == 1; }, 20))
      << a.log();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Six restarts: at once, then 50, 100, 200, 400, 400 ms apart.
  EXPECT_GE(elapsed, 0.8);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // given up: nothing more happens
  double cpu = a.cpu_seconds() - cpu0;
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RecordProperty("cpu_fraction", std::to_string(cpu / total));
  EXPECT_LT(cpu / total, 0.25) << "amatad used " << cpu << " s CPU in " << total << " s";
  auto actions = a.actions();
  EXPECT_EQ(count_actions(actions, "restart", "crasher", "ok"), 6);
  EXPECT_EQ(count_actions(actions, "restart", "crasher", "failed"), 1);
  ASSERT_TRUE(Amatad::wait_for([&] { return !read_file(a.dir() + "/gaveup").empty(); }, 5));
  EXPECT_NE(read_file(a.dir() + "/gaveup").find("crasher: gave up after 6 restarts"),
            std::string::npos);
  EXPECT_TRUE(a.zombie_children().empty());
}

/// The services in the order amatad started them, from its log ("NAME running (pid N)").
std::vector<std::string> start_order(const std::string& log) {
  std::vector<std::string> order;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    auto at = line.find(" running (pid ");
    if (at == std::string::npos) continue;
    auto begin = line.rfind(' ', at - 1);
    order.push_back(line.substr(begin + 1, at - begin - 1));
  }
  return order;
}

TEST(Amatad, StartsInDependencyOrderAndRestartsDependants) {
  Amatad a;
  a.write_policy("policy deps\n" + sleeper_service("web", "  depends app\n") +
                 sleeper_service("app", "  depends db\n") + sleeper_service("db") +
                 sleeper_service("other") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  pid_t db = a.wait_new_pid("db", 0), app = a.wait_new_pid("app", 0),
        web = a.wait_new_pid("web", 0), other = a.wait_new_pid("other", 0);
  ASSERT_GT(db, 0);
  ASSERT_GT(app, 0);
  ASSERT_GT(web, 0);
  ASSERT_GT(other, 0);
  // A service may write its pidfile before amatad has logged its start.
  ASSERT_TRUE(Amatad::wait_for([&] { return start_order(a.log()).size() == 4; })) << a.log();
  auto order = start_order(a.log());
  auto pos = [&](const std::string& n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  EXPECT_LT(pos("db"), pos("app"));
  EXPECT_LT(pos("app"), pos("web"));

  kill(db, SIGKILL);
  ASSERT_GT(a.wait_new_pid("db", db), 0);
  // Restarted with what they depend on, in order; `other` is left alone.
  ASSERT_GT(a.wait_new_pid("app", app), 0) << a.log();
  ASSERT_GT(a.wait_new_pid("web", web), 0) << a.log();
  EXPECT_EQ(a.service_pid("other"), other);
  ASSERT_TRUE(Amatad::wait_for([&] { return start_order(a.log()).size() == 7; })) << a.log();
  order = start_order(a.log());
  EXPECT_EQ(std::vector<std::string>(order.begin() + 4, order.end()),
            (std::vector<std::string>{"db", "app", "web"}))
      << a.log();
}

TEST(Amatad, ReloadGoodThenBadKeepsServicesAndTheOldPolicy) {
  Amatad a;
  a.write_policy("policy v1\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  ASSERT_TRUE(a.wait_for_log("amatad ready"));

  a.write_policy("policy v2\n" + sleeper_service("web") + sleeper_service("api") +
                 kRestartWhenDown);
  a.signal(SIGHUP);
  pid_t api = a.wait_new_pid("api", 0);
  ASSERT_GT(api, 0) << a.log();
  ASSERT_TRUE(a.wait_for_log("reloaded policy v2"));
  EXPECT_EQ(a.service_pid("web"), web);  // kept across the reload
  EXPECT_TRUE(process_alive(web));

  a.write_policy("policy v3\nservice web { start }\ndiscover broken when nothing.at.all\n");
  a.signal(SIGHUP);
  ASSERT_TRUE(a.wait_for_log("rejected")) << a.log();
  EXPECT_TRUE(process_alive(web));
  EXPECT_TRUE(process_alive(api));
  // v2 is still the running policy: a killed api is restarted.
  kill(api, SIGKILL);
  EXPECT_GT(a.wait_new_pid("api", api), 0) << a.log();
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, Kill9OfAmatadDuringARestartThenAdoptsWithoutDuplicates) {
  Amatad a;
  a.write_policy("policy adopt\n" + sleeper_service("web") + sleeper_service("slow") +
                 "discover down(s: service) when not s.alive raise ServiceDown(s)\n"
                 "recover ServiceDown(s) { wait 2s\n restart s }\n");
  a.start({"--backend", "interp"});
  pid_t web = a.wait_new_pid("web", 0), slow = a.wait_new_pid("slow", 0);
  ASSERT_GT(web, 0);
  ASSERT_GT(slow, 0);
  kill(slow, SIGKILL);
  // The event is stored at once; the restart waits 2 s: kill amatad in between.
  ASSERT_TRUE(Amatad::wait_for(
      [&] { return count_events(a.events(), "ServiceDown", "slow", "raise") == 1; }));
  a.kill9();
  EXPECT_TRUE(process_alive(web));  // services outlive amatad
  a.track(web);

  a.start({"--backend", "interp"});
  ASSERT_TRUE(a.wait_for_log("adopted web (pid " + std::to_string(web) + ")")) << a.log();
  pid_t slow2 = a.wait_new_pid("slow", slow);
  ASSERT_GT(slow2, 0) << a.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(a.service_pid("web"), web);     // no second web
  EXPECT_EQ(a.service_pid("slow"), slow2);  // started once
  auto events = a.events();
  EXPECT_EQ(count_events(events, "ServiceDown", "slow", "raise"), 1);  // not lost
  EXPECT_EQ(a.stop(SIGTERM), 0);
  EXPECT_FALSE(process_alive(web));  // the adopted one is stopped like the others
  EXPECT_FALSE(process_alive(slow2));
}

// What a package upgrade does (debian/amata.postinst): SIGUSR2 makes amatad exit 0 and leave
// its services running; the next amatad (the new binary) adopts them, never starting twice.
TEST(Amatad, Usr2HandsTheServicesOverToTheNextAmatad) {
  Amatad a;
  a.write_policy("policy handover\n" + sleeper_service("web") + kRestartWhenDown);
  a.start();
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  a.track(web);
  EXPECT_EQ(a.stop(SIGUSR2), 0) << a.log();
  EXPECT_TRUE(process_alive(web)) << "a handover must not stop the services";

  a.start();
  ASSERT_TRUE(a.wait_for_log("adopted web (pid " + std::to_string(web) + ")")) << a.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(a.service_pid("web"), web);  // no second web
  kill(web, SIGKILL);                    // and the adopted service is supervised
  pid_t web2 = a.wait_new_pid("web", web);
  EXPECT_GT(web2, 0) << a.log();
  EXPECT_EQ(a.stop(SIGTERM), 0);
  EXPECT_FALSE(process_alive(web2));
}

TEST(Amatad, RotatesAChattyServicesLogWhileTheServiceWritesOn) {
  Amatad a;
  // ~270 KB of output at once, then a line every 50 ms, through the stdout amatad gave it.
  a.write_policy(
      "policy chatty\nservice chatty {\n  start \"/bin/sh\" \"-c\" \"echo $$ > @DIR@/chatty.pid; "
      "head -c 200000 /dev/urandom | base64; while true; do echo tick; sleep 0.05; done\"\n}\n");
  a.start({"--rotate-logs-at", "64K", "--rotate-logs-keep", "2"});
  pid_t chatty = a.wait_new_pid("chatty", 0);
  ASSERT_GT(chatty, 0) << a.log();
  a.track(chatty);
  const std::string log = a.state_dir() + "/logs/chatty.log";
  // The rotation creates LOG.1 and then copies into it (copytruncate): wait for the copy, not
  // for the name, or a busy machine shows the file before its bytes.
  auto rotated_size = [&] {
    std::error_code ec;
    const auto size = std::filesystem::file_size(log + ".1", ec);
    return ec ? std::uintmax_t{0} : size;
  };
  ASSERT_TRUE(Amatad::wait_for([&] { return rotated_size() > (64u << 10); }, 20))
      << "no rotation of " << log << " (LOG.1: " << rotated_size() << " bytes)\n"
      << a.log();
  // The service was not told, and goes on writing into the truncated log from its start:
  // its ticks arrive, and there is no hole of zeros where the old output was.
  auto read_log = [&] {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_TRUE(Amatad::wait_for([&] { return read_log().find("tick\n") != std::string::npos; }))
      << "the service's output no longer reaches its log after rotation";
  EXPECT_EQ(read_log().find('\0'), std::string::npos) << "a hole in the log after rotation";
  EXPECT_LT(std::filesystem::file_size(log), 200000u);  // truncated: not all 270 KB
  EXPECT_EQ(a.service_pid("chatty"), chatty);
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, StartsOnTheLastPolicyThatLoadedWhenItsFileIsBroken) {
  Amatad a;
  // The recovery rules come from an include, so the kept copy must hold it too.
  std::ofstream(a.dir() + "/rules.amata") << kRestartWhenDown;
  a.write_policy("policy kept\ninclude \"rules.amata\"\n" + sleeper_service("web"));
  a.start();
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0) << a.log();
  a.track(web);
  ASSERT_EQ(a.stop(SIGUSR2), 0) << a.log();

  // Both files broken, as a bad edit leaves them; amatad restarts (a crash, a reboot).
  a.write_policy("policy kept\nservice web {\n");
  std::ofstream(a.dir() + "/rules.amata") << "discover when\n";
  a.start();
  ASSERT_TRUE(a.wait_for_log("running the last policy that loaded")) << a.log();
  ASSERT_TRUE(a.wait_for_log("adopted web (pid " + std::to_string(web) + ")")) << a.log();
  kill(web, SIGKILL);  // the kept include's rules still recover it
  pid_t web2 = a.wait_new_pid("web", web);
  ASSERT_GT(web2, 0) << a.log();
  a.track(web2);

  // Fixed, the file itself is what a reload reads.
  std::ofstream(a.dir() + "/rules.amata") << kRestartWhenDown;
  a.write_policy("policy fixed\ninclude \"rules.amata\"\n" + sleeper_service("web") +
                 sleeper_service("db"));
  a.signal(SIGHUP);
  ASSERT_TRUE(a.wait_for_log("reloaded policy fixed")) << a.log();
  pid_t db = a.wait_new_pid("db", 0);
  EXPECT_GT(db, 0) << a.log();
  a.track(db);
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, HooksGetTheEventAndASlowHookDoesNotSlowRecovery) {
  Amatad a;
  // The pid first: once hook.env exists, hook.pid is complete.
  a.write_hook("ServiceDown", "echo $$ > " + a.dir() + "/hook.pid; env | grep ^AMATA_ | sort > " +
                                  a.dir() + "/hook.env.tmp && mv " + a.dir() + "/hook.env.tmp " +
                                  a.dir() + "/hook.env; exec sleep 30");
  a.write_policy("policy hooks\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp", "--hook-timeout", "60"});
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  auto t0 = std::chrono::steady_clock::now();
  kill(web, SIGKILL);
  pid_t web2 = a.wait_new_pid("web", web);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_GT(web2, 0);
  EXPECT_LT(took, 5.0);  // far less than the hook's 30 s
  ASSERT_TRUE(Amatad::wait_for([&] { return !read_file(a.dir() + "/hook.env").empty(); }));
  pid_t hook = static_cast<pid_t>(std::stoi("0" + read_file(a.dir() + "/hook.pid")));
  EXPECT_TRUE(process_alive(hook));  // still sleeping while the service is back
  std::string env = read_file(a.dir() + "/hook.env");
  EXPECT_NE(env.find("AMATA_EVENT=ServiceDown\n"), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_OBJECT=web\n"), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_RULE=down[web]\n"), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_EDGE=raise\n"), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_POLICY=hooks\n"), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_EVENT_ID="), std::string::npos) << env;
  EXPECT_NE(env.find("AMATA_TIME="), std::string::npos) << env;
  EXPECT_EQ(a.stop(SIGTERM), 0);
  EXPECT_FALSE(process_alive(hook));  // hooks never outlive amatad
}

TEST(Amatad, SpeaksSdNotify) {
  Amatad a;
  std::string sock_path = a.dir() + "/notify.sock";
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  a.write_policy("policy notify\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp"}, {"NOTIFY_SOCKET=" + sock_path, "WATCHDOG_USEC=400000"});
  std::vector<std::string> messages;
  auto drain = [&] {
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
      messages.emplace_back(buf, static_cast<size_t>(n));
  };
  ASSERT_TRUE(Amatad::wait_for([&] {
    drain();
    return std::count(messages.begin(), messages.end(), "WATCHDOG=1") >= 4;
  })) << a.log();
  EXPECT_NE(std::find(messages.begin(), messages.end(), "READY=1"), messages.end());
  EXPECT_NE(std::find(messages.begin(), messages.end(), "STATUS=1/1 services running"),
            messages.end());
  // The service must not inherit amatad's NOTIFY_SOCKET.
  pid_t web = a.wait_new_pid("web", 0);
  std::string environ_text = read_file("/proc/" + std::to_string(web) + "/environ");
  EXPECT_EQ(environ_text.find("NOTIFY_SOCKET"), std::string::npos);
  EXPECT_EQ(a.stop(SIGTERM), 0);
  drain();
  EXPECT_NE(std::find(messages.begin(), messages.end(), "STOPPING=1"), messages.end());
  close(fd);
}

TEST(Amatad, AnswersAmatactl) {
  Amatad a;
  a.write_policy("policy ctl\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp"});
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  ASSERT_TRUE(a.wait_for_log("console on"));
  std::string out;
  ASSERT_EQ(a.ctl({"--json", "status"}, out), 0) << out;
  EXPECT_NE(out.find("\"policy\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"pid\": " + std::to_string(web)), std::string::npos) << out;

  // An operator restart: a new process, recorded as an action.
  ASSERT_EQ(a.ctl({"restart", "web"}, out), 0) << out;
  pid_t web2 = a.wait_new_pid("web", web);
  ASSERT_GT(web2, 0) << a.log();
  ASSERT_TRUE(
      Amatad::wait_for([&] { return count_actions(a.actions(), "restart", "web", "ok") == 1; }));

  // stop means stopped: its death is not a fault, nothing restarts it.
  ASSERT_EQ(a.ctl({"stop", "web"}, out), 0) << out;
  ASSERT_TRUE(Amatad::wait_for([&] { return !process_alive(web2); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(a.service_pid("web"), web2);
  ASSERT_EQ(a.ctl({"start", "web"}, out), 0) << out;
  EXPECT_GT(a.wait_new_pid("web", web2), 0) << a.log();

  ASSERT_EQ(a.ctl({"--json", "events"}, out), 0) << out;
  EXPECT_NE(out.find("ServiceDown"), std::string::npos) << out;
  EXPECT_NE(out.find("operator"), std::string::npos) << out;
  EXPECT_NE(a.ctl({"restart", "nosuch"}, out), 0);
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, RulesShowsAPendingForRuleAndExplainHasItsValues) {
  Amatad a;
  a.write_policy("policy pending\n" + sleeper_service("web") + kRestartWhenDown +
                 "discover steady(s: service) when s.alive and s.restarts < 5 for 600s "
                 "raise Steady(s)\n");
  a.start({"--backend", "interp"});
  ASSERT_GT(a.wait_new_pid("web", 0), 0);
  ASSERT_TRUE(a.wait_for_log("console on"));
  std::string out;
  // Pending once the service is seen alive; 600 s cannot elapse within the test.
  ASSERT_TRUE(Amatad::wait_for([&] {
    return a.ctl({"--json", "rules"}, out) == 0 && out.find("\"pending\"") != std::string::npos;
  })) << out;
  EXPECT_NE(out.find("\"pending_left_ms\""), std::string::npos) << out;
  ASSERT_EQ(a.ctl({"--json", "explain", "steady"}, out), 0) << out;
  EXPECT_NE(out.find("\"state\": \"pending\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"web.alive\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"web.restarts\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"left_s\""), std::string::npos) << out;
  EXPECT_NE(out.find("s left"), std::string::npos) << out;
  // The human form shows the tree with the note.
  ASSERT_EQ(a.ctl({"explain", "steady"}, out), 0) << out;
  EXPECT_NE(out.find("pending"), std::string::npos) << out;
  EXPECT_NE(out.find("web.restarts"), std::string::npos) << out;
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

/// GET http://127.0.0.1:PORT/metrics with a plain socket; the body ("" on failure).
std::string http_get_metrics(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    close(fd);
    return "";
  }
  std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (write(fd, request.data(), request.size()) < 0) {
    close(fd);
    return "";
  }
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

TEST(Amatad, ServesMetricsThatFollowRecovery) {
  Amatad a;
  a.write_policy("policy metered\n" + sleeper_service("web") + kRestartWhenDown);
  a.start({"--backend", "interp", "--metrics-listen", "127.0.0.1:0"});
  pid_t web = a.wait_new_pid("web", 0);
  ASSERT_GT(web, 0);
  ASSERT_TRUE(a.wait_for_log("metrics on 127.0.0.1:")) << a.log();
  std::string log = a.log();
  int port = std::stoi(log.substr(log.find("metrics on 127.0.0.1:") + 21));
  kill(web, SIGKILL);
  ASSERT_GT(a.wait_new_pid("web", web), 0);
  std::string body;
  // Published once a second: wait for the restart to show.
  ASSERT_TRUE(Amatad::wait_for(
      [&] {
        body = http_get_metrics(port);
        return body.find("amata_actions_total{action=\"restart\",outcome=\"ok\"} 1") !=
               std::string::npos;
      },
      5))
      << body;
  EXPECT_NE(body.find("amata_events_total{event=\"ServiceDown\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("amata_recovery_duration_seconds_count"), std::string::npos) << body;
  EXPECT_EQ(a.stop(SIGTERM), 0);
}

TEST(Amatad, BadPolicyPrintsDiagnosticsAndExits1) {
  Amatad a;
  a.write_policy(
      "policy bad\nservice web { start \"/bin/true\" }\ndiscover d when web.nonsense > 3 raise "
      "X(web)\n");
  std::string out, err;
  EXPECT_EQ(
      a.run_to_exit({a.policy_path(), "--state-dir", a.state_dir(), "--socket", ""}, out, err), 1);
  EXPECT_NE(err.find("error"), std::string::npos) << err;
  EXPECT_NE(err.find("policy.amata:3"), std::string::npos) << err;
}

TEST(Amatad, OncePrintsEveryObjectAsJson) {
  Amatad a;
  a.write_policy("policy once\nnode self { every 1s }\nfilesystem root { path \"/\" }\n");
  std::string out, err;
  ASSERT_EQ(a.run_to_exit({"--once", "--json", a.policy_path()}, out, err), 0) << err;
  EXPECT_NE(out.find("\"self\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"root\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"cpu\""), std::string::npos) << out;
}

}  // namespace
}  // namespace amata::itest
