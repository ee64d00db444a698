#include "compiler/import/monit_import.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "compiler/import/import_test_support.h"

namespace amata::importer {
namespace {

namespace fs = std::filesystem;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string warnings_text(const Imported& im) {
  std::string s;
  for (const auto& w : im.warnings) s += format_warning(w) + "\n";
  return s;
}

bool has_warning(const Imported& im, int line, const std::string& needle,
                 const std::string& file = "") {
  for (const auto& w : im.warnings) {
    if (static_cast<int>(w.line) == line && w.message.find(needle) != std::string::npos &&
        (file.empty() || w.file == file)) {
      return true;
    }
  }
  return false;
}

/// No silent drop: every line of `text` (named `name`) that starts a statement is either
/// named by a comment of the policy ("# NAME:LINE: ...") or holds a warning.
void expect_every_statement_accounted(const std::string& name, const std::string& text,
                                      const Imported& im) {
  static const std::regex kStatement(
      "^\\s*(set|check|if|start|stop|restart|group|depends?|alert|noalert|every|mode|"
      "onreboot)\\b",
      std::regex::icase);
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (!std::regex_search(line, kStatement)) continue;
    const bool commented =
        im.policy.find("# " + name + ":" + std::to_string(n) + ":") != std::string::npos;
    const bool warned = has_warning(im, n, "", name);
    // start/stop/restart programs are used by the recover rules; `every` sets the period.
    const bool used = std::regex_search(
        line, std::regex("^\\s*(start|stop|restart|every|mode active)", std::regex::icase));
    EXPECT_TRUE(commented || warned || used)
        << name << ":" << n << ": '" << line << "' is neither imported nor warned about\n"
        << im.policy << warnings_text(im);
  }
}

TEST(MonitImport, DebiansMonitrcImportsAndChecks) {
  const std::string path = "/etc/monit/monitrc";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (apt install monit)";
  auto r = import_monit(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(check_errors(r->policy), "");
  EXPECT_NE(r->policy.find(path + ":19: set daemon 120: every object is probed every 2min"),
            std::string::npos)
      << r->policy;
  expect_every_statement_accounted(path, read(path), *r);
  EXPECT_TRUE(has_warning(*r, 27, "set log /var/log/monit.log' not imported", path))
      << warnings_text(*r);
}

/// Every file of /etc/monit/conf-available (with the templates they include) imports, and
/// the policy checks clean.
TEST(MonitImport, DebiansConfAvailableFilesImportAndCheck) {
  const std::string dir = "/etc/monit/conf-available";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is absent (apt install monit)";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string path = entry.path();
    auto r = import_monit(path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(check_errors(r->policy), "") << path;
    EXPECT_NE(r->policy.find("\nprocess "), std::string::npos) << path << "\n" << r->policy;
    expect_every_statement_accounted(path, read(path), *r);
    ++files;
  }
  EXPECT_GE(files, 10);
}

TEST(MonitImport, DebiansApacheFileInDetail) {
  const std::string path = "/etc/monit/conf-available/apache2";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (apt install monit)";
  auto r = import_monit(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_NE(p.find("process apache { pidfile \"/var/run/apache2/apache2.pid\"; every 30s }"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("host apache_port80 { address \"localhost\"; port 80; timeout 25s; every 30s }"),
            std::string::npos);
  EXPECT_NE(p.find("discover apache_down when not apache.alive raise ApacheDown(apache)\n"
                   "recover ApacheDown(p) { run \"/etc/init.d/apache2\" \"stop\"; run "
                   "\"/etc/init.d/apache2\" \"start\"; }"),
            std::string::npos);
  EXPECT_NE(p.find("discover apache_port80_failed when not apache_port80.reachable for 4 checks "
                   "raise ApachePort80Failed(apache)"),
            std::string::npos);
  EXPECT_NE(p.find("discover apache_flapping when not apache.alive 4 times within 10min raise "
                   "ApacheFlapping(apache)\nrecover ApacheFlapping(p) { unmonitor p; }"),
            std::string::npos);
  EXPECT_TRUE(has_warning(*r, 7, "'protocol http request /server-status' is not imported"))
      << warnings_text(*r);
  // The template's statements are warned at the template, with the include that read them.
  EXPECT_TRUE(has_warning(*r, 1, "(included from " + path + ":13)", "/etc/monit/templates/rootbin"))
      << warnings_text(*r);
}

/// monitrc's own commented examples, turned on: every kind of check Monit documents there.
TEST(MonitImport, TheShippedExamplesTurnedOnImportAndCheck) {
  const std::string path = "/etc/monit/monitrc";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (apt install monit)";
  TempDir dir;
  std::string text =
      std::regex_replace(read(path), std::regex("^#([^#]|$)", std::regex::multiline), "$1");
  // The examples' includes name directories of another distribution.
  text = std::regex_replace(text, std::regex("^\\s*include .*$", std::regex::multiline), "");
  const std::string file = dir.write("monitrc", text);
  auto r = import_monit(file);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_EQ(check_errors(p), "");
  expect_every_statement_accounted(file, text, *r);
  EXPECT_NE(p.find("node self { every 2min }"), std::string::npos) << p;
  EXPECT_NE(p.find("discover self_cpu when self.cpu > 95% for 10 checks raise SelfCpu(self)"),
            std::string::npos);
  EXPECT_NE(p.find("discover apache_memory when apache.rss > 200.0MiB for 5 checks"),
            std::string::npos);
  EXPECT_NE(p.find("discover apache_disk_read when apache.read_rate > 500KiB/s for 10 checks"),
            std::string::npos);
  EXPECT_NE(p.find("host myserver_ping { address \"192.168.1.1\"; method icmp; every 2min }"),
            std::string::npos);
  EXPECT_NE(p.find("interface public { name \"eth0\"; every 2min }"), std::string::npos);
  EXPECT_NE(p.find("when delta(public.tx_bytes, 1h) > 1GiB"), std::string::npos);
  EXPECT_NE(p.find("check myscript { command \"/usr/local/bin/myscript.sh\"; every 2min }"),
            std::string::npos);
  EXPECT_NE(p.find("when myscript.exit_code != 0 raise MyscriptStatus(myscript)"),
            std::string::npos);
  EXPECT_TRUE(has_warning(*r, 182, "not divided by the number of cores")) << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 236, "is a device"));
  EXPECT_TRUE(has_warning(*r, 294, "saturation"));
  EXPECT_TRUE(has_warning(*r, 159, "set httpd"));
}

TEST(MonitImport, AUserWrittenControlFile) {
  TempDir dir;
  dir.write("conf.d/db",
            "check process db matching \"^/usr/sbin/postgres\"\n"
            "  if does not exist then alert\n"
            "  if changed pid then alert\n");
  const std::string name =
      dir.write("monitrc",
                "set daemon 10\n"                                                               // 1
                "set log syslog\n"                                                              // 2
                "\n"                                                                            // 3
                "check process web with pidfile /run/web.pid\n"                                 // 4
                "  start program = \"/usr/bin/systemctl start web\" with timeout 60 seconds\n"  // 5
                "  stop program = \"/usr/bin/systemctl stop web\"\n"                            // 6
                "  if failed port 8080 protocol http for 2 cycles then restart\n"               // 7
                "  if cpu usage > 90% for 3 cycles then restart\n"                              // 8
                "  if mem > 1.5 GB then alert\n"                                                // 9
                "  if threads > 500 then exec \"/usr/local/bin/dump-threads web\"\n"  // 10
                "  if 3 restarts within 10 cycles then unmonitor\n"                   // 11
                "  if uptime < 1 minute then alert\n"                                 // 12
                "  group www\n"                                                       // 13
                "\n"                                                                  // 14
                "check filesystem root with path /\n"                                 // 15
                "  if space usage > 90% then alert\n"                                 // 16
                "  if space free < 500 MB then alert\n"                               // 17
                "  if inode usage > 85% for 5 times within 10 cycles then alert\n"    // 18
                "  every 6 cycles\n"                                                  // 19
                "\n"                                                                  // 20
                "check system node-1\n"                                               // 21
                "  if loadavg (5min) > 8 then alert\n"                                // 22
                "  if cpu (wait) > 30% for 3 cycles then alert\n"                     // 23
                "  if memory usage > 3 GB then alert\n"                               // 24
                "\n"                                                                  // 25
                "check host gateway with address 10.0.0.1\n"                          // 26
                "  if failed ping then alert\n"                                       // 27
                "  if failed port 22 type udp then alert\n"                           // 28
                "\n"                                                                  // 29
                "check program backup with path \"/usr/local/bin/check-backup --max-age 1d\" with "
                "timeout 30 seconds\n"                          // 30
                "  if status > 1 then alert\n"                  // 31
                "  if status != 0 then exec relative-script\n"  // 32
                "include conf.d/*\n");                          // 33
  auto r = import_monit(name);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_EQ(check_errors(p), "");
  expect_every_statement_accounted(name, read(name), *r);

  EXPECT_NE(p.find("process web { pidfile \"/run/web.pid\"; every 10s }"), std::string::npos) << p;
  EXPECT_NE(p.find("host web_port8080 { address \"localhost\"; port 8080; every 10s }"),
            std::string::npos);
  const std::string restart =
      "{ run \"/usr/bin/systemctl\" \"stop\" \"web\"; run \"/usr/bin/systemctl\" \"start\" "
      "\"web\"; }";
  EXPECT_NE(p.find("discover web_down when not web.alive raise WebDown(web)\nrecover WebDown(p) " +
                   restart),
            std::string::npos);
  EXPECT_NE(p.find("when not web_port8080.reachable for 2 checks raise WebPort8080Failed(web)\n"
                   "recover WebPort8080Failed(p) " +
                   restart),
            std::string::npos);
  EXPECT_NE(p.find("when web.cpu > 90% for 3 checks raise WebCpu(web)"), std::string::npos);
  EXPECT_NE(p.find("when web.rss > 1.5GiB raise WebMemory(web)\nevent WebMemory(p: process) "
                   "notify_only"),
            std::string::npos);
  EXPECT_NE(p.find("recover WebThreads(p) { run \"/usr/local/bin/dump-threads\" \"web\"; }"),
            std::string::npos);
  EXPECT_NE(p.find("when not web.alive 3 times within 100s raise WebFlapping(web)"),
            std::string::npos);
  EXPECT_NE(p.find("when web.uptime < 1min raise"), std::string::npos);
  EXPECT_NE(p.find("filesystem root { path \"/\"; every 1min }"), std::string::npos);
  EXPECT_NE(p.find("when root.used > 90% raise"), std::string::npos);
  EXPECT_NE(p.find("when root.free < 500MiB raise"), std::string::npos);
  EXPECT_NE(p.find("when root.inodes > 85% for 5 checks raise"), std::string::npos);
  EXPECT_NE(p.find("# Monit: 5 failures within 10 cycles; amata: 5 consecutive checks"),
            std::string::npos);
  EXPECT_NE(p.find("node node_1 { every 10s }"), std::string::npos);
  EXPECT_NE(p.find("when node_1.load5 > 8 raise"), std::string::npos);
  EXPECT_NE(p.find("when node_1.cpu_iowait > 30% for 3 checks raise"), std::string::npos);
  EXPECT_NE(p.find("when node_1.mem_used > 3GiB raise"), std::string::npos);
  EXPECT_NE(p.find("host gateway_ping { address \"10.0.0.1\"; method icmp; every 10s }"),
            std::string::npos);
  EXPECT_NE(p.find("check backup { command \"/usr/local/bin/check-backup\" \"--max-age\" \"1d\"; "
                   "timeout 30s; every 10s }"),
            std::string::npos);
  EXPECT_NE(p.find("when backup.exit_code > 1 raise"), std::string::npos);
  // From the included file.
  EXPECT_NE(p.find("process db { match \"^/usr/sbin/postgres\"; every 10s }"), std::string::npos);
  EXPECT_NE(p.find("discover db_down when not db.alive raise DbDown(db)\nevent DbDown(p: process) "
                   "notify_only"),
            std::string::npos);
  EXPECT_NE(p.find("when changed(db.pid) raise"), std::string::npos);
  EXPECT_EQ(p.find("db_down_2"), std::string::npos);  // the explicit test replaces the default

  EXPECT_TRUE(has_warning(*r, 2, "set log syslog' not imported")) << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 5, "the program's timeout"));
  EXPECT_TRUE(has_warning(*r, 7, "'protocol http' is not imported"));
  EXPECT_TRUE(has_warning(*r, 13, "no service groups"));
  EXPECT_TRUE(has_warning(*r, 28, "not UDP"));
  EXPECT_TRUE(has_warning(*r, 32, "exec 'relative-script'"));
}

TEST(MonitImport, ChecksThatCannotBeImportedAreWarnedStatementByStatement) {
  auto r = import_monit_text("m.rc",
                             "check process nopid\n"                                     // 1
                             "  if cpu > 50% then alert\n"                               // 2
                             "check process badre matching \"a(?=b)\"\n"                 // 3
                             "check file f with path /etc/passwd\n"                      // 4
                             "  if changed checksum then alert\n"                        // 5
                             "check process p with pidfile /run/p.pid\n"                 // 6
                             "  if totalcpu > 50% then alert\n"                          // 7
                             "  if memory usage > 5% then alert\n"                       // 8
                             "  if cpu > 50 MB then alert\n"                             // 9
                             "  if failed unixsocket /run/p.sock then restart\n"         // 10
                             "  if cpu > 90% then restart\n"                             // 11
                             "  if cpu > 80% then alert else if succeeded then alert\n"  // 12
                             "  frobnicate\n"                                            // 13
                             "bogus top level\n"                                         // 14
                             "check gizmo g\n");                                         // 15
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(check_errors(r->policy), "");
  EXPECT_TRUE(has_warning(*r, 1, "neither a pidfile")) << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 2, "its check is not imported"));
  EXPECT_TRUE(has_warning(*r, 3, "not RE2 syntax"));
  EXPECT_TRUE(has_warning(*r, 4, "does not watch files"));
  EXPECT_TRUE(has_warning(*r, 5, "its check is not imported"));
  EXPECT_TRUE(has_warning(*r, 7, "no equivalent of 'totalcpu > 50%'"));
  EXPECT_TRUE(has_warning(*r, 8, "share of the machine"));
  EXPECT_TRUE(has_warning(*r, 9, "compares this with a percentage"));
  EXPECT_TRUE(has_warning(*r, 10, "Unix sockets"));
  EXPECT_TRUE(has_warning(*r, 11, "no start program"));
  EXPECT_TRUE(has_warning(*r, 12, "else if succeeded then alert"));
  EXPECT_TRUE(has_warning(*r, 13, "not a Monit statement"));
  EXPECT_TRUE(has_warning(*r, 13, "'frobnicate bogus top level': not a Monit statement"));
  EXPECT_TRUE(has_warning(*r, 15, "not a Monit check type"));
  EXPECT_EQ(r->policy.find("process nopid"), std::string::npos);
  EXPECT_NE(r->policy.find("process p {"), std::string::npos);
  // No start program: the default rule only reports.
  EXPECT_NE(r->policy.find("discover p_down when not p.alive raise PDown(p)\nevent PDown(p: "
                           "process) notify_only"),
            std::string::npos)
      << r->policy;
}

/// Warnings of `im` at `line`.
int warnings_at(const Imported& im, int line) {
  int n = 0;
  for (const auto& w : im.warnings) n += static_cast<int>(w.line) == line ? 1 : 0;
  return n;
}

/// `exec ... repeat every N cycles`: the exec is imported, its repeat warned; the check's
/// probe period stays the cycle.
TEST(MonitImport, ARepeatedExecIsImportedOnceAndKeepsTheProbePeriod) {
  auto r = import_monit_text(
      "m.rc",
      "set daemon 10\n"                                                                  // 1
      "check process web with pidfile /run/web.pid\n"                                    // 2
      "  if failed port 80 then exec \"/bin/x\" repeat every 3 cycles\n"                 // 3
      "  if failed port 81 then exec \"/bin/y\" as uid www and gid www repeat every 5 "  // 4
      "cycles\n"
      "  if cpu > 90% then alert\n");  // 5
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_EQ(check_errors(p), "");
  EXPECT_NE(p.find("process web { pidfile \"/run/web.pid\"; every 10s }"), std::string::npos) << p;
  EXPECT_NE(p.find("host web_port80 { address \"localhost\"; port 80; every 10s }"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("recover WebPort80Failed(p) { run \"/bin/x\"; }"), std::string::npos) << p;
  EXPECT_NE(p.find("recover WebPort81Failed(p) { run \"/bin/y\"; }"), std::string::npos) << p;
  EXPECT_NE(p.find("when web.cpu > 90% raise"), std::string::npos) << p;
  EXPECT_EQ(format_warning(r->warnings.at(0)),
            "m.rc:3:40: warning: not imported: 'repeat every 3 cycles': amatad runs the "
            "program once per raise, not again every N cycles while the failure lasts")
      << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 4, "'uid www and gid www': amatad runs a program as itself"))
      << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 4, "'repeat every 5 cycles': amatad runs the program once"))
      << warnings_text(*r);
  EXPECT_EQ(warnings_at(*r, 3), 1) << warnings_text(*r);
  EXPECT_EQ(warnings_at(*r, 4), 2) << warnings_text(*r);
  EXPECT_EQ(r->warnings.size(), 3u) << warnings_text(*r);
}

/// `every "CRON"` and `not every "CRON"`: one warning each; the probe period stays the cycle.
TEST(MonitImport, CronSchedulesAreWarnedAndKeepTheProbePeriod) {
  auto r = import_monit_text("m.rc",
                             "set daemon 10\n"                                // 1
                             "check process db with pidfile /run/db.pid\n"    // 2
                             "  not every \"* 0-3 * * 0\"\n"                  // 3
                             "check process web with pidfile /run/web.pid\n"  // 4
                             "  every \"* 8-19 * * 1-5\"\n");                 // 5
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_EQ(check_errors(p), "");
  EXPECT_NE(p.find("process db { pidfile \"/run/db.pid\"; every 10s }"), std::string::npos) << p;
  EXPECT_NE(p.find("process web { pidfile \"/run/web.pid\"; every 10s }"), std::string::npos) << p;
  ASSERT_EQ(r->warnings.size(), 2u) << warnings_text(*r);
  EXPECT_EQ(format_warning(r->warnings[0]),
            "m.rc:3:3: warning: not imported: 'not every \"* 0-3 * * 0\"': amata has no cron "
            "schedules in a policy; to pause an object's recovery for a window, open a "
            "maintenance window (amatactl maintenance OBJECT --for D --reason TEXT); the check "
            "is probed every 10s");
  EXPECT_EQ(format_warning(r->warnings[1]),
            "m.rc:5:3: warning: not imported: 'every \"* 8-19 * * 1-5\"': amata has no cron "
            "schedules in a policy ('every N cycles' is imported); the check is probed every "
            "10s");
}

/// The lexer's errors (monit_lexer_test.cc) come back as the import's.
TEST(MonitImport, UnreadableOrUntokenizableInputIsAnError) {
  auto r = import_monit_text("m.rc", "check process x with pidfile \"/run/x.pid\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "m.rc:1:30: error: a string opened here is never closed (no \")");
  r = import_monit("/nonexistent/monitrc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

TEST(MonitImport, EmptyFilesGiveAPolicyThatChecks) {
  for (const char* text : {"", "# only a comment\n", "set daemon 60\n"}) {
    auto r = import_monit_text("m.rc", text);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(check_errors(r->policy), "") << text;
  }
}

}  // namespace
}  // namespace amata::importer
