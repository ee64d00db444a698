// Hostile inputs through the whole front end (`amatac check`'s library entry point): every
// one must end in diagnostics and exit code 1 (or 0 when valid), never a crash or a hang.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/file.h"
#include "compiler/frontend/commands.h"

namespace amata::frontend {
namespace {

class RobustnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("amata-robustness-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// Writes `text` to a file and runs `amatac check --format=json` on it.
  int check(const std::string& name, const std::string& text, std::string* output = nullptr) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    CheckOptions opts;
    opts.files = {path.string()};
    opts.format = "json";
    std::ostringstream out, err;
    const int rc = run_check(opts, out, err);
    if (output) *output = out.str();
    return rc;
  }

  std::filesystem::path dir_;
};

TEST_F(RobustnessTest, EmptyFileIsValid) {
  EXPECT_EQ(check("empty.amata", ""), 0);
}

TEST_F(RobustnessTest, BinaryJunk) {
  std::mt19937 rng(42);
  std::string junk(std::size_t{64} * 1024, '\0');
  for (char& c : junk) c = static_cast<char>(rng() & 0xff);
  std::string out;
  EXPECT_EQ(check("junk.amata", junk, &out), 1);
  EXPECT_NE(out.find("\"E01"), std::string::npos);
}

TEST_F(RobustnessTest, NonUtf8InStringsAndNames) {
  std::string out;
  EXPECT_EQ(check("latin1.amata", "service caf\xe9 { start \"/bin/\xff\xfe\" }\n", &out), 1);
  EXPECT_NE(out.find("\"errors\""), std::string::npos);  // JSON survived the bytes
  EXPECT_EQ(check("latin1-ok.amata", "service web { start \"/bin/caf\xe9\" }\n"), 0);
}

TEST_F(RobustnessTest, HundredThousandNestedParentheses) {
  const std::string text = "node self {}\ndiscover d when " + std::string(100000, '(') +
                           "self.cpu > 1%" + std::string(100000, ')') + " raise D(self)\n";
  std::string out;
  EXPECT_EQ(check("parens.amata", text, &out), 1);
  EXPECT_NE(out.find("E0003"), std::string::npos);
}

TEST_F(RobustnessTest, HundredThousandTermExpression) {
  std::string text = "node self {}\nevent D(n: node) notify_only\ndiscover d when self.load1";
  for (int i = 0; i < 100000; ++i) text += " + self.load1";
  text += " > 1 raise D(self)\n";
  std::string out;
  EXPECT_EQ(check("terms.amata", text, &out), 1);
  EXPECT_NE(out.find("E0004"), std::string::npos);
}

TEST_F(RobustnessTest, HundredThousandNots) {
  std::string text = "let x = ";
  for (int i = 0; i < 100000; ++i) text += "not ";
  text += "true\n";
  EXPECT_EQ(check("nots.amata", text), 1);
}

TEST_F(RobustnessTest, TenMegabyteFileHitsTheStatementLimit) {
  std::string text;
  text.reserve(std::size_t{10} * 1024 * 1024);
  for (int i = 0; text.size() < std::size_t{10} * 1024 * 1024; ++i)
    text += "let c" + std::to_string(i) + " = 1\n";
  std::string out;
  EXPECT_EQ(check("big.amata", text, &out), 1);
  EXPECT_NE(out.find("E0005"), std::string::npos);
}

TEST_F(RobustnessTest, TenMegabyteSingleLine) {
  std::string text =
      "let x = \"" + std::string(std::size_t{10} * 1024 * 1024, 'a');  // unterminated
  std::string out;
  EXPECT_EQ(check("line.amata", text, &out), 1);
  EXPECT_NE(out.find("E0101"), std::string::npos);
}

TEST_F(RobustnessTest, UnreadableFileIsAnIoError) {
  CheckOptions opts;
  opts.files = {(dir_ / "does-not-exist.amata").string()};
  std::ostringstream out, err;
  EXPECT_EQ(run_check(opts, out, err), 2);
  EXPECT_NE(err.str().find("E0001"), std::string::npos);
}

// An include that names a FIFO used to wait for a writer forever (and amatad's reload with
// it): it is an error at the include, at once.
TEST_F(RobustnessTest, IncludeOfAFifoIsAnErrorNotAHang) {
  const auto fifo = dir_ / "pipe.amata";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  std::string out;
  EXPECT_EQ(check("main.amata", "include \"pipe.amata\"\nnode self {}\n", &out), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_NE(out.find("\"E0001\""), std::string::npos) << out;
  EXPECT_NE(out.find("not a regular file (a FIFO)"), std::string::npos) << out;
  EXPECT_NE(out.find("\"line\": 1"), std::string::npos) << out;  // located at the include
}

// /dev/zero never ends: read whole, it filled memory until the process died.
TEST_F(RobustnessTest, IncludeOfDevZeroIsAnError) {
  std::string out;
  EXPECT_EQ(check("zero.amata", "include \"/dev/zero\"\n", &out), 1);
  EXPECT_NE(out.find("/dev/zero: not a regular file (a character device)"), std::string::npos)
      << out;
}

TEST_F(RobustnessTest, IncludeLargerThanTheLimitIsAnError) {
  const auto big = dir_ / "big.inc.amata";
  std::ofstream(big) << "";
  std::filesystem::resize_file(big, base::kMaxTextFileBytes + 1);
  std::string out;
  EXPECT_EQ(check("main.amata", "include \"big.inc.amata\"\n", &out), 1);
  EXPECT_NE(out.find("larger than 16 MiB"), std::string::npos) << out;
}

// The policy itself named as a FIFO: an I/O error (exit 2) with the path, at once.
TEST_F(RobustnessTest, PolicyThatIsAFifoIsAnIoError) {
  const auto fifo = dir_ / "policy-pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CheckOptions opts;
  opts.files = {fifo.string()};
  std::ostringstream out, err;
  EXPECT_EQ(run_check(opts, out, err), 2);
  EXPECT_NE(err.str().find(fifo.string() + ": not a regular file (a FIFO) [E0001]"),
            std::string::npos)
      << err.str();
}

TEST_F(RobustnessTest, VerifyModeMatchesInlineExpectations) {
  const std::string good =
      "node self {}\n"
      "event H(n: node) notify_only\n"
      "# expect-error@+1: E0300\n"
      "discover h when self.cpu > 2GB raise H(self)\n"
      "let unused = 1  # expect-warning: W0203\n";
  const auto path = dir_ / "verify.amata";
  std::ofstream(path) << good;
  CheckOptions opts;
  opts.files = {path.string()};
  opts.verify = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_check(opts, out, err), 0) << out.str();
  std::ofstream(path) << "node self {}\n# expect-error@+1: E0300\nlet x = 1s\n";
  std::ostringstream out2;
  EXPECT_EQ(run_check(opts, out2, err), 1);
  EXPECT_NE(out2.str().find("expected error E0300 was not reported"), std::string::npos);
  EXPECT_NE(out2.str().find("unexpected warning W0203"), std::string::npos);
}

// The expectations were read with std::regex, which recursed once per blank of `#\s*`: a '#'
// and 300,000 blanks overflowed the stack of `amatac check --verify`.
TEST_F(RobustnessTest, VerifyModeReadsLongCommentLines) {
  const auto path = dir_ / "long.amata";
  std::ofstream(path) << "node self {}\n#" << std::string(300000, ' ') << "expect-error@+2: E0300\n"
                      << "event H(n: node) notify_only\n"
                      << "discover h when self.cpu > 2GB raise H(self)  # expect-error@-0: E0301 "
                         "# expect-warning:W0203 #expect-error@: E0300 # expect-error: X0300\n";
  CheckOptions opts;
  opts.files = {path.string()};
  opts.verify = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_check(opts, out, err), 1);
  // Read: the long one (E0300 is reported on line 4) and the two well-formed comments of
  // line 4, not the malformed ones.
  EXPECT_EQ(out.str(), path.string() + ":4: expected error E0301 was not reported\n" +
                           path.string() + ":4: expected warning W0203 was not reported\n")
      << out.str();
}

}  // namespace
}  // namespace amata::frontend
