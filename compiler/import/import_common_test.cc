#include "compiler/import/import_common.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace amata::importer {
namespace {

std::vector<std::string> split(std::string_view text) {
  auto r = shell_split(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::vector<std::string>{};
}

TEST(ShellSplit, SplitsAsPythonShlexDoes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("/bin/cat"), V({"/bin/cat"}));
  EXPECT_EQ(split("  python3 -m   http.server 8000 "), V({"python3", "-m", "http.server", "8000"}));
  EXPECT_EQ(split("sh -c 'echo $HOME; exit 1'"), V({"sh", "-c", "echo $HOME; exit 1"}));
  EXPECT_EQ(split(R"(echo "a \"quoted\" \\ word" b)"), V({"echo", R"(a "quoted" \ word)", "b"}));
  EXPECT_EQ(split(R"(echo "keep \n as is")"), V({"echo", R"(keep \n as is)"}));
  EXPECT_EQ(split(R"(a\ b c)"), V({"a b", "c"}));
  EXPECT_EQ(split("x''y \"\""), V({"xy", ""}));
  EXPECT_EQ(split(""), V{});
}

TEST(ShellSplit, UnclosedQuotesAndTrailingBackslashAreErrors) {
  EXPECT_FALSE(shell_split("echo 'open").ok());
  EXPECT_FALSE(shell_split("echo \"open").ok());
  EXPECT_FALSE(shell_split("echo \\").ok());
  EXPECT_NE(shell_split("echo 'x").error().message.find("single quote"), std::string::npos);
}

TEST(Names, ValidUniqueAndNeverReserved) {
  Names n;
  EXPECT_EQ(n.claim("pdns-recursor"), "pdns_recursor");
  EXPECT_EQ(n.claim("pdns.recursor"), "pdns_recursor_2");
  EXPECT_EQ(n.claim("web"), "web");
  EXPECT_EQ(n.claim("web"), "web_2");
  EXPECT_EQ(n.claim("node"), "node_");
  EXPECT_EQ(n.claim("stop"), "stop_");
  EXPECT_EQ(n.claim("8080"), "_8080");
  EXPECT_EQ(n.claim(""), "_");
  EXPECT_EQ(n.claim("café"), "caf__");
  EXPECT_EQ(n.claim("$HOST"), "_HOST");
}

TEST(Text, CamelCaseQuoteDurationArgv) {
  EXPECT_EQ(camel_case("apache_cpu"), "ApacheCpu");
  EXPECT_EQ(camel_case("pdns_recursor_port53_failed"), "PdnsRecursorPort53Failed");
  EXPECT_EQ(camel_case("_8080_exited"), "E8080Exited");
  EXPECT_EQ(quote("a \"b\" \\ c\n\t\r"), R"("a \"b\" \\ c\n\t\r")");
  EXPECT_EQ(duration(120), "2min");
  EXPECT_EQ(duration(90), "90s");
  EXPECT_EQ(duration(3600), "1h");
  EXPECT_EQ(duration(86400 * 2), "2d");
  EXPECT_EQ(duration(0.5), "500ms");
  EXPECT_EQ(duration(0.001), "1ms");
  EXPECT_EQ(duration(1.2345), "1.234s");
  EXPECT_EQ(argv_text({"/bin/sh", "-c", "echo \"hi\""}), R"("/bin/sh" "-c" "echo \"hi\"")");
}

TEST(Text, Numbers) {
  EXPECT_TRUE(is_number("30"));
  EXPECT_TRUE(is_number("2.5"));
  EXPECT_FALSE(is_number("2."));
  EXPECT_FALSE(is_number(".5"));
  EXPECT_FALSE(is_number("1.2.3"));
  EXPECT_FALSE(is_number("80%"));
  EXPECT_FALSE(is_number(""));
}

TEST(Reporter, WarningsAreLocatedAndSortable) {
  Reporter rep;
  const auto id = rep.sources().add("x.conf", "first line\n  second line\n");
  rep.warn({id, 14}, "later");
  rep.warn({id, 2}, "earlier");
  EXPECT_EQ(rep.where({id, 14}), "x.conf:2");
  EXPECT_EQ(rep.excerpt({id, 13}, 24), "second line");
  auto sorted = rep.take_warnings(true);
  ASSERT_EQ(sorted.size(), 2u);
  EXPECT_EQ(format_warning(sorted[0]), "x.conf:1:3: warning: earlier");
  EXPECT_EQ(format_warning(sorted[1]), "x.conf:2:4: warning: later");
  EXPECT_EQ(rep.error({id, 13}, "bad").message, "x.conf:2:3: error: bad");
}

TEST(Paths, FindInPathAndDirOf) {
  EXPECT_EQ(find_in_path("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(find_in_path("no-such-program-anywhere", "/bin:/usr/bin"), std::nullopt);
  EXPECT_EQ(find_in_path("sh", "relative/dir"), std::nullopt);
  EXPECT_EQ(dir_of("/etc/monit/monitrc"), "/etc/monit");
  EXPECT_EQ(dir_of("/monitrc"), "/");
  EXPECT_EQ(dir_of("monitrc"), ".");
}

}  // namespace
}  // namespace amata::importer
