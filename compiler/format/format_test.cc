#include "compiler/format/format.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/file.h"
#include "compiler/format/fmt_command.h"
#include "compiler/format/promise.h"

namespace amata::format {
namespace {

namespace fs = std::filesystem;

/// Formats `text`; "<syntax error>" when it does not parse.
std::string fmt(const std::string& text) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  const auto id = sources.add("t.amata", text);
  auto out = format_file(sources, id, diags);
  return out ? *out : "<syntax error>";
}

TEST(Format, LetsAlignTheirEqualsAndBlankLinesAreKeptOnce) {
  EXPECT_EQ(fmt("policy p\n\n\n\nlet a=1\nlet long_name   =  2 + 3*4\n\nlet c = -1\n"),
            "policy p\n"
            "\n"
            "let a         = 1\n"
            "let long_name = 2 + 3 * 4\n"
            "\n"
            "let c = -1\n");
}

TEST(Format, OneLineObjectsStayOnOneLineAndAlignTheirBraces) {
  EXPECT_EQ(fmt("node self {every 1s}\nfilesystem logs {path \"/var/log\" ; every 10s;}\n"
                "service bare\n"),
            "node self       { every 1s }\n"
            "filesystem logs { path \"/var/log\"; every 10s }\n"
            "service bare\n");
}

TEST(Format, SettingsGoOnePerLineWithTheirValuesAligned) {
  EXPECT_EQ(fmt("service web\n{ start \"/bin/web\"; grace 2s\n"
                "    health tcp \"127.0.0.1:80\" every 1s   # the port\n"
                "  stop TERM then KILL after 2s # why\n"
                "\n\n"
                "      # the user\n"
                "user \"www\"}\n"),
            "service web {\n"
            "  start  \"/bin/web\"\n"
            "  grace  2s\n"
            "  health tcp \"127.0.0.1:80\" every 1s  # the port\n"
            "  stop   TERM then KILL after 2s      # why\n"
            "\n"
            "  # the user\n"
            "  user \"www\"\n"
            "}\n");
}

TEST(Format, OneLineDiscoverRulesAlignWhenAndRaise) {
  EXPECT_EQ(fmt("discover down(s:service) when not s.alive raise Down( s )\n"
                "discover hot when avg(self.cpu,1min)>90% for 30s raise Hot(self)\n"),
            "discover down(s: service) when not s.alive                       raise Down(s)\n"
            "discover hot              when avg(self.cpu, 1min) > 90% for 30s raise Hot(self)\n");
}

TEST(Format, ABrokenRuleKeepsItsBreaksAsContinuationLines) {
  EXPECT_EQ(fmt("let x = 1\n"
                "discover slow(s: service)\n"
                "when s.alive and\n"
                "  (s.health.latency > 2s or s.cpu > 90%)\n"
                "        for 3 checks\n"
                "raise Slow(s)\n"
                "let y = 2\n"),
            "let x = 1\n"
            "\n"
            "discover slow(s: service)\n"
            "    when s.alive and\n"
            "    (s.health.latency > 2s or s.cpu > 90%)\n"
            "    for 3 checks\n"
            "    raise Slow(s)\n"
            "\n"
            "let y = 2\n");
}

TEST(Format, RecoveryBlocksNestAndJoinElse) {
  EXPECT_EQ(fmt("recover Down(s)\n{\nrestart s backoff 100ms..30s limit 5 within 10min; "
                "notify \"ops\"\n"
                "when s.restarts within 5min > 3 { unmonitor s }\n"
                "when s.cpu > 1\n{\n  stop s\n}\nelse when s.cpu < -1 {\nstart s\n}\n"
                "else\n{ signal s HUP }\n"
                "    # before the end\n"
                "}\n"),
            "recover Down(s) {\n"
            "  restart s backoff 100ms .. 30s limit 5 within 10min\n"
            "  notify \"ops\"\n"
            "  when s.restarts within 5min > 3 { unmonitor s }\n"
            "  when s.cpu > 1 {\n"
            "    stop s\n"
            "  } else when s.cpu < -1 {\n"
            "    start s\n"
            "  } else { signal s HUP }\n"
            "  # before the end\n"
            "}\n");
}

TEST(Format, StatementsThatSpanLinesStandApart) {
  EXPECT_EQ(fmt("# header\n"
                "event A(n: node) notify_only\n"
                "recover A(n) { notify \"x\" }\n"
                "recover B(s) {\n  restart s\n}\n"
                "# about c\n"
                "let c = 1\n"
                "# trailing\n"),
            "# header\n"
            "event A(n: node) notify_only\n"
            "recover A(n) { notify \"x\" }\n"
            "\n"
            "recover B(s) {\n"
            "  restart s\n"
            "}\n"
            "\n"
            "# about c\n"
            "let c = 1\n"
            "# trailing\n");
}

TEST(Format, CommentsAfterAnOpeningBraceAndInsideExpressionsStay) {
  EXPECT_EQ(fmt("service web {  # the shop\n  start \"/bin/web\"\n}\n"
                "discover d(s: service) when s.alive and # why\n"
                "# more\n"
                "not s.ready raise D(s)\n"),
            "service web {  # the shop\n"
            "  start \"/bin/web\"\n"
            "}\n"
            "\n"
            "discover d(s: service) when s.alive and  # why\n"
            "    # more\n"
            "    not s.ready raise D(s)\n");
}

TEST(Format, LayoutBytesAreNormalised) {
  // A byte-order mark, CRLF line ends, tabs and trailing blanks.
  EXPECT_EQ(fmt("\xEF\xBB\xBFpolicy p\r\n\tlet a\t= 1   # c  \r\n"), "policy p\nlet a = 1  # c\n");
  EXPECT_EQ(fmt(""), "");
  EXPECT_EQ(fmt("\n\n# only a comment"), "# only a comment\n");
}

TEST(Format, AFileThatDoesNotParseIsLeftAlone) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  const auto id = sources.add("bad.amata", "let a = \nservice web { start \"x }\n");
  EXPECT_FALSE(format_file(sources, id, diags).has_value());
  EXPECT_TRUE(diags.has_errors());
}

// --- Every policy the project holds: a fixed point that keeps the meaning ------------------

/// Checks one file; returns false when it does not parse (nothing to check).
bool keeps_its_promise(const fs::path& path) {
  auto text = base::read_regular_file(path.string());
  if (!text.ok()) return false;
  if (auto broken = broken_promise(*text)) {
    ADD_FAILURE() << path << ": " << *broken;
    return true;
  }
  return fmt(*text) != "<syntax error>";
}

std::vector<fs::path> files_under(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && (extension.empty() || e.path().extension() == extension)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FormatCorpus, ExamplesAreFormattedAlready) {
  const auto examples = files_under("dsl-examples", ".amata");
  ASSERT_GE(examples.size(), 8u);
  for (const auto& path : examples) {
    EXPECT_TRUE(keeps_its_promise(path)) << path;
    auto text = base::read_regular_file(path.string());
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(fmt(*text), *text) << path << " is not formatted: run amatac fmt -w " << path;
  }
}

TEST(FormatCorpus, GoldenDiagnosticInputsThatParse) {
  int parsed = 0;
  const auto inputs = files_under("tests/diagnostics", ".amata");
  for (const auto& path : inputs) parsed += keeps_its_promise(path);
  EXPECT_GE(parsed, 60) << "of " << inputs.size();
}

TEST(FormatCorpus, FuzzCorpusInputsThatParse) {
  int parsed = 0;
  std::size_t total = 0;
  for (const char* dir : {"tests/fuzz/corpus/policy_fuzzer", "tests/fuzz/corpus/loader_fuzzer"}) {
    const auto inputs = files_under(dir, "");
    total += inputs.size();
    for (const auto& path : inputs) parsed += keeps_its_promise(path);
  }
  EXPECT_GE(parsed, 200) << "of " << total;
}

// --- amatac fmt ----------------------------------------------------------------------------

class FmtCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amata-fmt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  static std::string read(const std::string& path) { return base::read_regular_file(path).value(); }

  int run(const FmtOptions& options, std::string* out = nullptr, std::string* err = nullptr,
          const std::string& input = "") {
    std::istringstream in(input);
    std::ostringstream o, e;
    const int rc = run_fmt(options, in, o, e);
    if (out) *out = o.str();
    if (err) *err = e.str();
    return rc;
  }

  fs::path dir_;
};

TEST_F(FmtCommand, CheckPrintsADiffAndWriteRewritesKeepingTheMode) {
  const std::string messy = write("messy.amata", "policy p\nlet a=1\n");
  const std::string clean = write("clean.amata", "policy p\nlet a = 1\n");
  chmod(messy.c_str(), 0640);
  std::string out;
  EXPECT_EQ(run({{clean}, true, false}, &out), 0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(run({{clean, messy}, true, false}, &out), 1);
  EXPECT_EQ(out, "--- " + messy + "\n+++ " + messy +
                     " (formatted)\n@@ -1,2 +1,2 @@\n policy p\n-let a=1\n+let a = 1\n");
  EXPECT_EQ(read(messy), "policy p\nlet a=1\n") << "--check changes nothing";

  EXPECT_EQ(run({{messy}, false, true}, &out), 0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(read(messy), "policy p\nlet a = 1\n");
  struct stat st {};
  ASSERT_EQ(stat(messy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}), 2)
      << "no temporary file left behind";
}

TEST_F(FmtCommand, StandardInputToStandardOutput) {
  std::string out;
  EXPECT_EQ(run({{"-"}, false, false}, &out, nullptr, "let  a = 1"), 0);
  EXPECT_EQ(out, "let a = 1\n");
}

TEST_F(FmtCommand, SyntaxErrorsAndUnreadableFilesAreReportedAndNothingIsWritten) {
  const std::string bad = write("bad.amata", "let a = = 1\n");
  std::string out, err;
  EXPECT_EQ(run({{bad}, false, true}, &out, &err), 1);
  EXPECT_NE(err.find("bad.amata:1:"), std::string::npos) << err;
  EXPECT_EQ(read(bad), "let a = = 1\n");
  EXPECT_EQ(run({{(dir_ / "missing.amata").string()}, false, false}, &out, &err), 2);
  EXPECT_NE(err.find("missing.amata"), std::string::npos) << err;
}

}  // namespace
}  // namespace amata::format
