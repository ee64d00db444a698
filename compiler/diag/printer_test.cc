#include "compiler/diag/printer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace amata::diag {
namespace {

TEST(PrinterTest, ClangStyleWithCaretUnderlineNoteAndFixIt) {
  source::SourceManager sources;
  const auto id = sources.add("p.amata", "let x = 1\n\tdiscover hot when self.cpus > 1%\n");
  DiagnosticEngine engine;
  auto& d = engine.report(Code::kUnknownAttribute, {id, 29, 33}, "no attribute 'cpus'");
  d.notes.push_back({{id, 4, 5}, "declared here"});
  d.fixits.push_back({{id, 29, 33}, "cpu"});
  std::ostringstream out;
  print_text(out, engine.sorted(), sources);
  EXPECT_EQ(out.str(),
            "p.amata:2:20: error: no attribute 'cpus' [E0203]\n"
            " 2 | \tdiscover hot when self.cpus > 1%\n"
            "   | \t                  ^~~~\n"
            "   | \t                  cpu\n"
            "p.amata:1:5: note: declared here\n"
            " 1 | let x = 1\n"
            "   |     ^\n");
}

TEST(PrinterTest, IncludeChainAndSortedOutput) {
  source::SourceManager sources;
  const auto root = sources.add("root.amata", "include \"a.amata\"\n");
  const auto inc = sources.add("a.amata", "bad\nworse\n", ast::SourceRange{root, 8, 17});
  DiagnosticEngine engine;
  engine.report(Code::kUnusedConstant, {inc, 4, 9}, "second");
  engine.report(Code::kSyntaxError, {inc, 0, 3}, "first");
  std::ostringstream out;
  print_text(out, engine.sorted(), sources);
  const std::string s = out.str();
  EXPECT_EQ(s.find("In file included from root.amata:1:9:\na.amata:1:1: error: first"), 0u) << s;
  EXPECT_NE(s.find("a.amata:2:1: warning: second [W0203]"), std::string::npos);
  // The chain is printed once per run of diagnostics in the same file.
  EXPECT_EQ(s.find("In file included", 10), std::string::npos);
  std::ostringstream summary;
  print_summary(summary, engine);
  EXPECT_EQ(summary.str(), "1 warning and 1 error generated.\n");
}

TEST(PrinterTest, JsonCarriesPositionsNotesAndIncludes) {
  source::SourceManager sources;
  const auto root = sources.add("root.amata", "include \"a.amata\"\n");
  const auto inc = sources.add("a.amata", "x\xff\n", ast::SourceRange{root, 8, 17});
  DiagnosticEngine engine;
  engine.report(Code::kExpectedDeclaration, {inc, 0, 2}, "bad \xff byte")
      .notes.push_back({{root, 8, 17}, "here"});
  const auto j = nlohmann::json::parse(to_json(engine.sorted(), sources, engine));
  ASSERT_EQ(j["diagnostics"].size(), 1u);
  const auto& d = j["diagnostics"][0];
  EXPECT_EQ(d["code"], "E0102");
  EXPECT_EQ(d["line"], 1);
  EXPECT_EQ(d["column"], 1);
  EXPECT_EQ(d["included_from"][0]["file"], "root.amata");
  EXPECT_EQ(d["notes"][0]["message"], "here");
  EXPECT_EQ(j["errors"], 1);
}

TEST(PrinterTest, UnreadableFileHasNoLocation) {
  source::SourceManager sources;
  DiagnosticEngine engine;
  engine.report(Code::kUnreadableFile, {ast::kNoFile, 0, 0},
                "cannot read policy: open x: No such file");
  std::ostringstream out;
  print_text(out, engine.sorted(), sources);
  EXPECT_EQ(out.str(), "amatac: error: cannot read policy: open x: No such file [E0001]\n");
}

TEST(PrinterTest, EngineCapsErrorsAndSuggests) {
  DiagnosticEngine engine;
  for (int i = 0; i < 1000; ++i) engine.report(Code::kSyntaxError, {0, 0, 0}, "x");
  EXPECT_EQ(engine.error_count(), DiagnosticEngine::kMaxErrors);
  EXPECT_EQ(engine.diagnostics().size(), DiagnosticEngine::kMaxErrors);
  EXPECT_EQ(closest_match("servce", {"node", "service", "process"}), "service");
  EXPECT_EQ(closest_match("zzzzzz", {"node", "service"}), "");
}

}  // namespace
}  // namespace amata::diag
