#include "compiler/import/monit_statements.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amata::importer {
namespace {

/// The statements of `text` (named m.rc); its warnings in `warnings`.
ControlFile read_text(const std::string& text, std::vector<Warning>* warnings = nullptr) {
  Reporter rep;
  Tokens tokens;
  const auto id = rep.sources().add("m.rc", text);
  EXPECT_TRUE(lex_monit(rep, id, tokens).ok());
  ControlFile file = read_statements(rep, tokens);
  if (warnings != nullptr) *warnings = rep.take_warnings();
  return file;
}

/// Each statement of `c` as its first word and its number of tokens.
std::vector<std::string> statements(const Check& c) {
  std::vector<std::string> out;
  for (const auto& s : c.statements) out.push_back(s[0].text + "/" + std::to_string(s.size()));
  return out;
}

TEST(MonitStatements, ChecksAndTheirStatements) {
  std::vector<Warning> warnings;
  auto file = read_text(
      "set daemon 60 with start delay 240\n"
      "set log syslog\n"
      "check process web with pidfile /run/web.pid\n"
      "  start program = \"/bin/web start\" as uid www and gid www\n"
      "  if cpu > 80% for 2 cycles then restart else if succeeded then alert\n"
      "  if failed port 80 then exec \"/bin/x\" as uid www\n"
      "  every 2 cycles\n"
      "  group www\n"
      "check system $HOST\n",
      &warnings);
  EXPECT_EQ(file.cycle, 60);
  EXPECT_TRUE(file.cycle_set);
  ASSERT_EQ(file.checks.size(), 2u);
  const Check& web = file.checks[0];
  EXPECT_EQ(web.type, "process");
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.header.size(), 3u);  // with pidfile /run/web.pid
  // An `if` runs to the end of its action (`as uid U`, an `else if`), the others to the next
  // keyword.
  using V = std::vector<std::string>;
  EXPECT_EQ(statements(web), V({"start/10", "if/14", "if/10", "every/3", "group/2"}));
  EXPECT_EQ(file.checks[1].name, "$HOST");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].message.find("'start delay' not imported"), std::string::npos);
  EXPECT_NE(warnings[1].message.find("'set log syslog' not imported"), std::string::npos);
}

/// `repeat every N cycles` ends an `exec` action: its `every` is not the check's.
TEST(MonitStatements, ARepeatEveryBelongsToTheExecAction) {
  auto file = read_text(
      "check process web with pidfile /run/web.pid\n"
      "  if failed port 80 then exec \"/x\" repeat every 3 cycles\n"
      "  if failed port 81 then exec \"/y\" as uid www and gid www repeat every 5 cycles\n"
      "  if failed port 82 then exec \"/z\" repeat every 2 cycles else if succeeded then alert\n"
      "  every 2 cycles\n");
  ASSERT_EQ(file.checks.size(), 1u);
  using V = std::vector<std::string>;
  EXPECT_EQ(statements(file.checks[0]), V({"if/11", "if/17", "if/16", "every/3"}));
}

/// `not every "CRON"` is one statement, as `every "CRON"` is.
TEST(MonitStatements, NotEveryIsOneStatement) {
  auto file = read_text(
      "check process db with pidfile /run/db.pid\n"
      "  not every \"* 0-3 * * 0\"\n"
      "  every \"* 8-19 * * 1-5\"\n"
      "  group db\n");
  ASSERT_EQ(file.checks.size(), 1u);
  using V = std::vector<std::string>;
  EXPECT_EQ(statements(file.checks[0]), V({"not/3", "every/2", "group/2"}));
}

TEST(MonitStatements, WordsOutsideAnyStatementAreWarned) {
  std::vector<Warning> warnings;
  auto file = read_text("bogus words\nset daemon 5\ncheck process\n", &warnings);
  EXPECT_EQ(file.cycle, 5);
  EXPECT_TRUE(file.checks.empty());
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(format_warning(warnings[0]),
            "m.rc:1:1: warning: not imported: 'bogus words' is not a Monit statement (expected "
            "set, check or include)");
  EXPECT_NE(warnings[1].message.find("needs 'check TYPE NAME'"), std::string::npos);
}

TEST(MonitStatements, ACycleOutOfRangeKeepsTheLastGoodOne) {
  std::vector<Warning> warnings;
  auto file = read_text("set daemon 10\nset daemon 100000\n", &warnings);
  EXPECT_EQ(file.cycle, 10);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].message.find("the import uses 10s"), std::string::npos);
}

}  // namespace
}  // namespace amata::importer
