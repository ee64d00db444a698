#include "compiler/import/supervisord_import.h"

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

SupervisordOptions test_options() {
  SupervisordOptions o;
  o.environment = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/home/ops"}};
  o.host_name = "alpha";
  return o;
}

Imported import_ok(const std::string& text, const std::string& name = "supervisord.conf") {
  auto r = import_supervisord_text(name, text, test_options());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : Imported{};
}

bool has_warning(const Imported& im, int line, const std::string& needle) {
  for (const auto& w : im.warnings) {
    if (static_cast<int>(w.line) == line && w.message.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string warnings_text(const Imported& im) {
  std::string s;
  for (const auto& w : im.warnings) s += format_warning(w) + "\n";
  return s;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SupervisordImport, DebiansSupervisordConfImportsAndChecks) {
  const std::string path = "/etc/supervisor/supervisord.conf";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (apt install supervisor)";
  auto r = import_supervisord(path, test_options());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(check_errors(r->policy), "");
  // Every setting of Debian's file configures supervisord itself: each one is a warning.
  const std::string text = read(path);
  std::istringstream lines(text);
  std::string line;
  int n = 0, settings = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (std::regex_search(line, std::regex("^[a-z_.]+\\s*="))) {
      ++settings;
      if (line.starts_with("files")) continue;  // [include] files=: followed
      EXPECT_TRUE(has_warning(*r, n, "not imported")) << "line " << n << ": " << line << "\n"
                                                      << warnings_text(*r);
    }
  }
  EXPECT_GE(settings, 7);
  EXPECT_NE(r->policy.find("policy supervisord"), std::string::npos);
}

/// The sample configuration supervisor ships (what echo_supervisord_conf prints), with
/// every commented-out setting turned on: all of supervisord's settings at once.
TEST(SupervisordImport, TheShippedSampleWithEverySettingOnImportsAndChecks) {
  const std::string path = "/usr/share/doc/supervisor/examples/sample.conf";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is absent (apt install supervisor)";
  std::string text =
      std::regex_replace(read(path), std::regex("^;([^ ;])", std::regex::multiline), "$1");
  auto im = import_ok(text, "sample.conf");
  EXPECT_EQ(check_errors(im.policy), "");
  EXPECT_NE(im.policy.find("service theprogramname {"), std::string::npos) << im.policy;
  EXPECT_NE(im.policy.find("  start \"/bin/cat\"\n"), std::string::npos);
  EXPECT_NE(im.policy.find("  dir \"/tmp\"\n"), std::string::npos);
  EXPECT_NE(im.policy.find("  user \"chrism\"\n"), std::string::npos);
  EXPECT_NE(im.policy.find("  env A \"1\"\n  env B \"2\"\n"), std::string::npos);
  EXPECT_NE(im.policy.find("  log \"/a/path\"\n"), std::string::npos);
  EXPECT_NE(im.policy.find("  stop QUIT then KILL after 10s\n"), std::string::npos);
  EXPECT_NE(im.policy.find("restart s backoff 1s .. 3s limit 3 within 10s"), std::string::npos);

  // No silent drop: every setting outside [program:x] (but [supervisord]'s environment,
  // which every service receives) is a warning at its line, and so is every program setting
  // that has no equivalent.
  std::istringstream lines(text);
  std::string line, section;
  int n = 0;
  const std::set<std::string> imported = {
      "command",        "directory",      "user",         "environment",
      "stopsignal",     "stopwaitsecs",   "autorestart",  "exitcodes",
      "startsecs",      "startretries",   "autostart",    "redirect_stderr",
      "stdout_logfile", "stderr_logfile", "process_name", "numprocs"};
  int checked = 0;
  while (std::getline(lines, line)) {
    ++n;
    std::smatch m;
    if (std::regex_search(line, m, std::regex("^\\[(.*)\\]"))) {
      section = m[1];
      continue;
    }
    if (!std::regex_search(line, m, std::regex("^([a-z_.]+)\\s*="))) continue;
    const std::string key = m[1];
    if (section == "supervisord" && key == "environment") continue;
    if (section == "include") continue;  // followed (here it names no file)
    if (section.starts_with("program:") && imported.contains(key)) continue;
    ++checked;
    EXPECT_TRUE(has_warning(im, n, ""))
        << "line " << n << " [" << section << "] " << key << " has no warning\n"
        << warnings_text(im);
  }
  EXPECT_GT(checked, 60);
}

TEST(SupervisordImport, AUserWrittenConfiguration) {
  TempDir dir;
  fs::create_directories(dir.path + "/conf.d");
  dir.write("conf.d/worker.conf",
            "[program:worker]\n"
            "command=/usr/bin/python3 worker.py --queue=%(program_name)s_%(process_num)02d\n"
            "process_name=%(program_name)s_%(process_num)02d\n"
            "numprocs=2\n"
            "directory=%(here)s\n"
            "autorestart=true\n"
            "stopwaitsecs=30\n");
  dir.write("supervisord.conf",
            "; a user's configuration\n"
            "[supervisord]\n"
            "logfile=/var/log/supervisord.log\n"
            "environment=LANG=\"C.UTF-8\",TZ=UTC\n"
            "\n"
            "[program:web-app]\n"
            "command = sh -c \"exec gunicorn --bind 127.0.0.1:8000 app:wsgi\" ; inline\n"
            "environment=PORT=\"8000\",HOME=\"%(ENV_HOME)s\",\n"
            "    EXTRA='a,b'\n"
            "user=www-data\n"
            "stopsignal=SIGINT\n"
            "exitcodes=0,2\n"
            "startsecs=5\n"
            "startretries=2\n"
            "priority=10\n"
            "stdout_logfile=/var/log/web.log\n"
            "stderr_logfile=/var/log/web.err\n"
            "\n"
            "[program:once]\n"
            "command=/bin/true\n"
            "autorestart=false\n"
            "autostart=false\n"
            "\n"
            "[include]\n"
            "files = conf.d/*.conf\n");
  auto r = import_supervisord(dir.path + "/supervisord.conf", test_options());
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string& p = r->policy;
  EXPECT_EQ(check_errors(p), "");
  // A command without '/' is looked up in PATH; expansions and quoting as supervisord does.
  EXPECT_NE(p.find("service web_app {\n  start \"/usr/bin/sh\" \"-c\" \"exec gunicorn --bind "
                   "127.0.0.1:8000 app:wsgi\"\n"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("  user \"www-data\"\n"), std::string::npos);
  EXPECT_NE(p.find("  env LANG \"C.UTF-8\"\n  env TZ \"UTC\"\n  env PORT \"8000\"\n  env HOME "
                   "\"/home/ops\"\n  env EXTRA \"a,b\"\n"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("  log \"/var/log/web.log\"\n"), std::string::npos);
  EXPECT_NE(p.find("  stop INT then KILL after 10s\n"), std::string::npos);
  EXPECT_NE(p.find("when not web_app.alive and web_app.exit_code != 0 and web_app.exit_code != 2 "
                   "raise WebAppExited(web_app)"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("restart s backoff 1s .. 2s limit 2 within 18s"), std::string::npos) << p;
  // autorestart=false: reported, never restarted.
  EXPECT_NE(p.find("discover once_exited when not once.alive raise OnceExited(once)\n"
                   "# autorestart=false: amatad reports the exit and leaves the service stopped\n"
                   "event OnceExited(s: service) notify_only\n"),
            std::string::npos)
      << p;
  // numprocs=2 from the included file: two services, named by process_name.
  EXPECT_NE(p.find("service worker_00 {\n  start \"/usr/bin/python3\" \"worker.py\" "
                   "\"--queue=worker_00\"\n  dir \"" +
                   dir.path + "/conf.d\"\n"),
            std::string::npos)
      << p;
  EXPECT_NE(p.find("service worker_01 {"), std::string::npos);
  EXPECT_NE(p.find("  stop TERM then KILL after 30s\n"), std::string::npos);
  EXPECT_NE(p.find("discover worker_01_exited when not worker_01.alive raise"), std::string::npos);

  const std::string main = dir.path + "/supervisord.conf";
  EXPECT_TRUE(has_warning(*r, 3, "[supervisord] logfile not imported")) << warnings_text(*r);
  EXPECT_TRUE(has_warning(*r, 15, "priority not imported"));
  EXPECT_TRUE(has_warning(*r, 17, "stderr_logfile not imported"));
  EXPECT_TRUE(has_warning(*r, 22, "autostart=false not imported"));
  for (const auto& w : r->warnings) {
    EXPECT_EQ(w.file, main) << format_warning(w);  // nothing to say about worker.conf
  }
  EXPECT_EQ(r->warnings.size(), 4u) << warnings_text(*r);
}

TEST(SupervisordImport, WhatCannotBeImportedIsAWarningAndTheRestStillChecks) {
  auto im = import_ok(
      "[program:a]\n"                            // 1
      "command=/bin/sleep 100\n"                 // 2
      "user=1000\n"                              // 3
      "directory=relative/dir\n"                 // 4
      "stopsignal=BOGUS\n"                       // 5
      "environment=1BAD=x,GOOD=y\n"              // 6
      "stdout_logfile=NONE\n"                    // 7
      "umask=022\n"                              // 8
      "frobnicate=yes\n"                         // 9
      "stopasgroup=false\n"                      // 10
      "[program:nocommand]\n"                    // 11
      "directory=/tmp\n"                         // 12
      "[program:many]\n"                         // 13
      "command=/bin/sleep 1\n"                   // 14
      "numprocs=3\n"                             // 15
      "[program:bad_expansion]\n"                // 16
      "command=/bin/echo %(ENV_NOT_SET)s\n"      // 17
      "[program:relative_path]\n"                // 18
      "command=bin/run\n"                        // 19
      "[program:not_on_path]\n"                  // 20
      "command=surely-not-a-program-anywhere\n"  // 21
      "[eventlistener:mem]\n"                    // 22
      "command=memmon -p x=200MB\n"              // 23
      "[group:g]\n"                              // 24
      "programs=a\n"                             // 25
      "[weird]\n");                              // 26
  EXPECT_EQ(check_errors(im.policy), "");
  EXPECT_TRUE(has_warning(im, 3, "user '1000' not imported")) << warnings_text(im);
  EXPECT_TRUE(has_warning(im, 4, "absolute path"));
  EXPECT_TRUE(has_warning(im, 5, "unknown signal"));
  EXPECT_TRUE(has_warning(im, 6, "'1BAD' not imported"));
  EXPECT_TRUE(has_warning(im, 7, "NONE not imported"));
  EXPECT_TRUE(has_warning(im, 8, "umask not imported"));
  EXPECT_TRUE(has_warning(im, 9, "'frobnicate' not imported"));
  EXPECT_TRUE(has_warning(im, 10, "stopasgroup=false not imported"));
  EXPECT_TRUE(has_warning(im, 11, "it has no command"));
  EXPECT_TRUE(has_warning(im, 13, "process_name must hold"));
  EXPECT_TRUE(has_warning(im, 17, "unknown expansion %(ENV_NOT_SET)s"));
  EXPECT_TRUE(has_warning(im, 19, "relative path"));
  EXPECT_TRUE(has_warning(im, 21, "/usr/bin/env"));
  EXPECT_TRUE(has_warning(im, 23, "event listeners"));
  EXPECT_TRUE(has_warning(im, 25, "no process groups"));
  EXPECT_TRUE(has_warning(im, 26, "unknown section"));
  EXPECT_NE(im.policy.find("service a {\n  start \"/bin/sleep\" \"100\"\n  env GOOD \"y\"\n  stop "
                           "TERM then KILL after 10s\n}\n"),
            std::string::npos)
      << im.policy;
  EXPECT_NE(im.policy.find("start \"/usr/bin/env\" \"surely-not-a-program-anywhere\""),
            std::string::npos);
  EXPECT_EQ(im.policy.find("service nocommand"), std::string::npos);
  EXPECT_EQ(im.policy.find("service many"), std::string::npos);
  // Sorted by position.
  for (std::size_t i = 1; i < im.warnings.size(); ++i) {
    EXPECT_LE(im.warnings[i - 1].line, im.warnings[i].line);
  }
}

/// The INI reader's errors (supervisord_ini_test.cc) come back as the import's.
TEST(SupervisordImport, UnparseableInputIsAnErrorAtItsLine) {
  auto r = import_supervisord_text("s.conf", "command=/bin/true\n", test_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "s.conf:1:1: error: a setting before any [section] header");
  r = import_supervisord("/nonexistent/supervisord.conf", test_options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
  r = import_supervisord("/dev/zero", test_options());  // never read without end
  ASSERT_FALSE(r.ok());
}

TEST(SupervisordImport, EmptyAndCommentOnlyFilesGiveAnEmptyPolicyThatChecks) {
  for (const char* text : {"", "; nothing\n# here\n", "[supervisord]\n"}) {
    auto im = import_ok(text);
    EXPECT_EQ(check_errors(im.policy), "") << text;
  }
}

}  // namespace
}  // namespace amata::importer
