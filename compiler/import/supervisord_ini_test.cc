#include "compiler/import/supervisord_ini.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace amata::importer {
namespace {

/// The sections of `text` (named s.conf), or the reader's error message.
Result<std::vector<Section>> read_text(Reporter& rep, std::string text) {
  std::vector<Section> sections;
  const auto id = rep.sources().add("s.conf", std::move(text));
  if (auto s = read_ini(rep, id, sections); !s) return s.error();
  return sections;
}

std::string expanded(std::string_view text, const std::map<std::string, std::string>& vars) {
  auto r = expand(text, vars);
  return r ? *r : "error: " + r.error().message;
}

TEST(SupervisordIni, SectionsKeysCommentsAndContinuationLines) {
  Reporter rep;
  auto r = read_text(rep,
                     "; a comment\n"
                     "[program:web]\n"
                     "Command = /bin/web --port 80 ; inline comment\n"
                     "environment=A=1,\n"
                     "    B=2\n"
                     "\n"
                     "    C=3\n"
                     "directory: /srv#not a comment\n"
                     "command=/bin/web2\n"
                     "[other]\n"
                     "[program:web]\n"
                     "user=www\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  const Section& web = (*r)[0];
  EXPECT_EQ(web.name, "program:web");
  ASSERT_EQ(web.entries.size(), 4u);  // the second [program:web] merged into the first
  EXPECT_EQ(web.find("environment")->value, "A=1,\nB=2\nC=3");
  EXPECT_EQ(web.find("directory")->value, "/srv#not a comment");
  EXPECT_EQ(web.find("command")->value, "/bin/web2");  // the last one wins, with a warning
  EXPECT_EQ(web.find("user")->value, "www");
  EXPECT_EQ(rep.where(web.find("directory")->value_loc), "s.conf:8");
  const auto warnings = rep.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(format_warning(warnings[0]),
            "s.conf:3:1: warning: 'command' is given again at s.conf:9; supervisord uses the "
            "last one, and so does the import");
}

TEST(SupervisordIni, UnparseableLinesAreErrorsAtTheirLine) {
  Reporter rep;
  auto r = read_text(rep, "command=/bin/true\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "s.conf:1:1: error: a setting before any [section] header");
  r = read_text(rep, "[program:x]\ncommand=/bin/true\n  \n just words\n");
  ASSERT_TRUE(r.ok());  // an indented line continues the value, as configparser reads it
  r = read_text(rep, "[program:x]\ncommand /bin/true\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "s.conf:2:1: error: expected 'key = value' or a [section] header");
  r = read_text(rep, "[]\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("s.conf:1:1: error:"), std::string::npos);
  r = read_text(rep, std::string("[a]\nx=\0\n", 7));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("NUL"), std::string::npos);
}

TEST(SupervisordIni, ExpansionsAsPythonsPercentFormatting) {
  const std::map<std::string, std::string> vars = {
      {"program_name", "web"}, {"process_num", "7"}, {"here", "/etc/supervisor"}};
  EXPECT_EQ(expanded("%(program_name)s_%(process_num)02d", vars), "web_07");
  EXPECT_EQ(expanded("%(process_num)3d|%(here)s/x", vars), "  7|/etc/supervisor/x");
  EXPECT_EQ(expanded("100%% sure", vars), "100% sure");
  EXPECT_EQ(expanded("%(nope)s", vars), "error: unknown expansion %(nope)s");
  EXPECT_EQ(expanded("%(ENV_X)s", vars),
            "error: unknown expansion %(ENV_X)s (the variable is not set in this environment)");
  EXPECT_EQ(expanded("50%", vars),
            "error: a '%' that starts no %(name)s expansion (write %% for a percent sign)");
  EXPECT_EQ(expanded("%(here", vars), "error: an unclosed %(name) expansion");
  EXPECT_EQ(expanded("%(here)x", vars),
            "error: the expansion %(here) needs a conversion such as s or d");
}

}  // namespace
}  // namespace amata::importer
