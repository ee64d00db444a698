// `amatac import supervisord` end to end: a supervisord.conf with two programs (a Python HTTP
// server on a loopback port, a shell loop) is imported, the policy is checked, and the real
// amatad runs it: both programs run as supervisord would run them, and each one killed is
// started again. Everything is found by its exact command line, which holds this test's
// port or temp dir, and killed by pid.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/diag/printer.h"
#include "compiler/frontend/frontend.h"
#include "compiler/import/import_common.h"
#include "compiler/import/supervisord_import.h"
#include "tests/integration/amatad_harness.h"

namespace amata::itest {
namespace {

/// A loopback port nobody listens on now.
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

bool accepts_connection(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

/// The one live process running exactly `argv`, 0 while there is none (or more than one).
pid_t only_process(const std::vector<std::string>& argv) {
  auto pids = processes_running(argv);
  return pids.size() == 1 ? pids[0] : 0;
}

pid_t wait_process(const std::vector<std::string>& argv, pid_t other_than) {
  pid_t found = 0;
  Amatad::wait_for(
      [&] {
        found = only_process(argv);
        return found != 0 && found != other_than;
      },
      20);
  return found != other_than ? found : 0;
}

TEST(ImportSupervisord, TheImportedPolicySupervisesTheSamePrograms) {
  const auto python = importer::find_in_path("python3", "/usr/local/bin:/usr/bin:/bin");
  if (!python) GTEST_SKIP() << "python3 is not installed";
  Amatad a;
  const int port = free_port();
  ASSERT_GT(port, 0);
  // (No '#' in a value: after a blank, supervisord's parser takes it for a comment.)
  const std::string loop = "while true; do sleep 1; done; echo " + a.dir();
  const std::string conf = a.dir() + "/supervisord.conf";
  std::ofstream(conf) << "[supervisord]\n"
                         "logfile=/tmp/never-written.log\n"
                         "\n"
                         "[program:web]\n"
                         "command=python3 -m http.server "
                      << port
                      << " --bind 127.0.0.1\n"
                         "directory="
                      << a.dir()
                      << "\n"
                         "stdout_logfile="
                      << a.dir()
                      << "/web.log\n"
                         "redirect_stderr=true\n"
                         "stopsignal=INT\n"
                         "stopwaitsecs=3\n"
                         "autorestart=true\n"
                         "\n"
                         "[program:ticker]\n"
                         "command=/bin/sh -c '"
                      << loop << "'\n";

  // Import with the PATH supervisord would search (python3 is found there).
  importer::SupervisordOptions options = importer::SupervisordOptions::from_process();
  options.environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  auto imported = importer::import_supervisord(conf, options);
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  ASSERT_EQ(imported->warnings.size(), 1u);  // [supervisord] logfile
  EXPECT_EQ(imported->warnings[0].line, 2u);

  // The real checker accepts it...
  {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto checked = frontend::compile_text("imported.amata", imported->policy, sources, diags);
    std::ostringstream out;
    diag::print_text(out, diags.sorted(), sources);
    ASSERT_TRUE(checked && !diags.has_errors()) << out.str() << imported->policy;
  }
  // ...and the real amatad runs it.
  a.write_policy(imported->policy);
  a.start({"--backend", "interp"});

  const std::vector<std::string> web = {*python,  "-m",       "http.server", std::to_string(port),
                                        "--bind", "127.0.0.1"};
  const std::vector<std::string> ticker = {"/bin/sh", "-c", loop};
  const pid_t web1 = wait_process(web, 0);
  ASSERT_GT(web1, 0) << a.log() << imported->policy;
  a.track(web1);
  const pid_t ticker1 = wait_process(ticker, 0);
  ASSERT_GT(ticker1, 0) << a.log();
  a.track(ticker1);
  ASSERT_TRUE(Amatad::wait_for([&] { return accepts_connection(port); }, 20)) << a.log();

  // Killed, each is started again (autorestart=true; a death by a signal is unexpected).
  ASSERT_EQ(kill(web1, SIGKILL), 0);
  const pid_t web2 = wait_process(web, web1);
  ASSERT_GT(web2, 0) << a.log();
  a.track(web2);
  EXPECT_TRUE(Amatad::wait_for([&] { return accepts_connection(port); }, 20)) << a.log();
  ASSERT_EQ(kill(ticker1, SIGKILL), 0);
  const pid_t ticker2 = wait_process(ticker, ticker1);
  ASSERT_GT(ticker2, 0) << a.log();
  a.track(ticker2);

  // The web server ran in its directory, with its output in its log.
  char cwd[4096] = {};
  const auto n = readlink(("/proc/" + std::to_string(web2) + "/cwd").c_str(), cwd, sizeof cwd - 1);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(cwd, static_cast<std::size_t>(n)), a.dir());

  EXPECT_EQ(a.stop(SIGTERM), 0);  // a normal stop stops both
  EXPECT_TRUE(
      Amatad::wait_for([&] { return !process_alive(web2) && !process_alive(ticker2); }, 10));
}

}  // namespace
}  // namespace amata::itest
