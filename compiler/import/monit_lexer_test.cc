#include "compiler/import/monit_lexer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace amata::importer {
namespace {

namespace fs = std::filesystem;

/// The tokens of `text` (named m.rc), or the lexer's error message.
Result<Tokens> lex_text(Reporter& rep, std::string text) {
  Tokens tokens;
  const auto id = rep.sources().add("m.rc", std::move(text));
  if (auto s = lex_monit(rep, id, tokens); !s) return s.error();
  return tokens;
}

std::vector<std::string> texts(const Tokens& tokens) {
  std::vector<std::string> out;
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}

TEST(MonitLexer, WordsStringsBlocksAndOperators) {
  Reporter rep;
  auto r = lex_text(rep,
                    "set mail-format { from: x # a } in a comment\n }  # comment\n"
                    "check process \"web\" matching 'a b'\n"
                    "  if cpu >= 80% then alert\n"
                    "  depends on db, cache\n"
                    "  if loadavg (5min) <> 3 then alert\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  using V = std::vector<std::string>;
  EXPECT_EQ(texts(*r), V({"set",      "mail-format", " from: x # a } in a comment\n ",
                          "check",    "process",     "web",
                          "matching", "a b",         "if",
                          "cpu",      ">=",          "80%",
                          "then",     "alert",       "depends",
                          "on",       "db",          ",",
                          "cache",    "if",          "loadavg",
                          "(",        "5min",        ")",
                          "<>",       "3",           "then",
                          "alert"}));
  EXPECT_EQ((*r)[2].kind, Token::Kind::kBlock);
  EXPECT_EQ((*r)[5].kind, Token::Kind::kString);
  EXPECT_EQ((*r)[10].kind, Token::Kind::kPunct);
  EXPECT_EQ(lw((*r)[3]), "check");
  EXPECT_EQ(lw((*r)[5]), "");  // a string is no keyword
  EXPECT_TRUE(noise((*r)[15]));
  EXPECT_EQ(text_of(rep, *r, 3, 8), "check process \"web\" matching 'a b'");
}

TEST(MonitLexer, UnclosedStringsAndBracesAndNulBytesAreErrors) {
  Reporter rep;
  auto r = lex_text(rep, "check process x with pidfile \"/run/x.pid\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "m.rc:1:30: error: a string opened here is never closed (no \")");
  r = lex_text(rep, "set daemon 30\nset mail-format { from: x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "m.rc:2:17: error: a '{' opened here is never closed");
  r = lex_text(rep, std::string("set daemon \0", 12));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("NUL"), std::string::npos);
}

TEST(MonitLexer, IncludesAreFollowedAndCyclesStopped) {
  char tmpl[] = "/tmp/amata-import-test-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::ofstream(dir + "/a") << "include " << dir << "/b\n";
  std::ofstream(dir + "/b") << "include " << dir << "/a\n";
  std::ofstream(dir + "/c") << "set daemon 5\n";
  Reporter rep;
  auto r = lex_text(rep, "include " + dir + "/a\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("includes nested more than 16 deep"), std::string::npos);

  Reporter rep2;
  r = lex_text(rep2, "include /nonexistent/exactly-this-file\ninclude " + dir + "/c\nset x\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(texts(*r), std::vector<std::string>({"set", "daemon", "5", "set", "x"}));
  EXPECT_EQ(rep2.sources().file((*r)[0].loc.file).path, dir + "/c");
  const auto warnings = rep2.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].line, 1u);
  EXPECT_NE(warnings[0].message.find("names no file"), std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace amata::importer
