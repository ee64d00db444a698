#include "compiler/parse/parser.h"

#include <gtest/gtest.h>

#include <string>

namespace amata::parse {
namespace {

struct Parsed {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  ast::File file;
};

std::unique_ptr<Parsed> parse_text(std::string text) {
  auto p = std::make_unique<Parsed>();
  const ast::FileId id = p->sources.add("test.amata", std::move(text));
  p->file = parse_file(p->sources, id, p->diags);
  return p;
}

std::vector<std::string> codes(const Parsed& p) {
  std::vector<std::string> out;
  for (const auto& d : p.diags.sorted()) out.push_back(d.code);
  return out;
}

TEST(ParserTest, BuildsObjectsWithSettings) {
  auto p = parse_text(
      "policy web\n"
      "service web {\n"
      "  start \"/usr/bin/web\" \"--port\" \"8080\"   # argv\n"
      "  stop TERM then KILL after 5s; every 1s\n"
      "}\n");
  ASSERT_EQ(p->diags.error_count(), 0u);
  ASSERT_EQ(p->file.statements.size(), 2u);
  const auto& o = *p->file.statements[1].object;
  EXPECT_EQ(o.kind.text, "service");
  EXPECT_EQ(o.name.text, "web");
  ASSERT_EQ(o.settings.size(), 3u);
  EXPECT_EQ(o.settings[0].name.text, "start");
  ASSERT_EQ(o.settings[0].args.size(), 3u);
  EXPECT_EQ(o.settings[0].args[2].text, "8080");
  EXPECT_EQ(o.settings[1].args[4].kind, ast::SettingArg::Kind::kNumber);
  EXPECT_EQ(o.settings[1].args[4].number, 5);
  EXPECT_EQ(o.settings[1].args[4].text, "s");
  EXPECT_EQ(o.settings[2].name.text, "every");
  EXPECT_EQ(p->sources.text(o.name.range), "web");
}

TEST(ParserTest, ExpressionPrecedenceAndRanges) {
  auto p = parse_text("let x = 1 + 2 * 3 > 4 and not a.b\n");
  ASSERT_EQ(p->diags.error_count(), 0u);
  const ast::Expr& e = *p->file.statements[0].let->value;
  ASSERT_EQ(e.kind, ast::ExprKind::kBinary);
  EXPECT_EQ(e.binary_op, ast::BinaryOp::kAnd);
  const ast::Expr& cmp = *e.args[0];
  EXPECT_EQ(cmp.binary_op, ast::BinaryOp::kGt);
  EXPECT_EQ(cmp.args[0]->binary_op, ast::BinaryOp::kAdd);
  EXPECT_EQ(cmp.args[0]->args[1]->binary_op, ast::BinaryOp::kMul);
  EXPECT_EQ(p->sources.text(cmp.range), "1 + 2 * 3 > 4");
  const ast::Expr& n = *e.args[1];
  EXPECT_EQ(n.kind, ast::ExprKind::kUnary);
  ASSERT_EQ(n.args[0]->path.size(), 2u);
  EXPECT_EQ(n.args[0]->path[1].text, "b");
}

TEST(ParserTest, RulesTemporalAndRecovery) {
  auto p = parse_text(
      "discover down(s: service) when not s.alive for 3 checks raise ServiceDown(s)\n"
      "discover flap when changed(up.carrier) 3 times within 1min raise Flap(up)\n"
      "recover ServiceDown(s) {\n"
      "  restart s backoff 100ms .. 30s limit 5 within 10min\n"
      "  when s.restarts within 5min > 3 { unmonitor s; notify \"pager\" \"gave up\" }\n"
      "  else when s.alive { wait 1s } else { run \"/bin/x\" s.name }\n"
      "}\n");
  ASSERT_EQ(p->diags.error_count(), 0u) << p->diags.diagnostics().front().message;
  const auto& d = *p->file.statements[0].discover;
  EXPECT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.params[0].kind.text, "service");
  EXPECT_EQ(d.temporal.kind, ast::Temporal::Kind::kForChecks);
  EXPECT_EQ(d.raise.event.text, "ServiceDown");
  const auto& f = *p->file.statements[1].discover;
  EXPECT_EQ(f.temporal.kind, ast::Temporal::Kind::kTimesWithin);
  EXPECT_EQ(f.condition->kind, ast::ExprKind::kCall);
  const auto& r = *p->file.statements[2].recover;
  ASSERT_EQ(r.body.size(), 2u);
  EXPECT_TRUE(r.body[0].backoff_min && r.body[0].limit_window);
  EXPECT_EQ(r.body[1].kind, ast::Action::Kind::kWhen);
  EXPECT_EQ(r.body[1].condition->args[0]->kind, ast::ExprKind::kWithin);
  ASSERT_TRUE(r.body[1].else_body);
  ASSERT_EQ(r.body[1].else_body->size(), 1u);
  const auto& nested = (*r.body[1].else_body)[0];
  EXPECT_EQ(nested.kind, ast::Action::Kind::kWhen);
  ASSERT_TRUE(nested.else_body);
  EXPECT_EQ((*nested.else_body)[0].argv.size(), 2u);
  EXPECT_TRUE((*nested.else_body)[0].argv[1].is_ref);
}

TEST(ParserTest, RecoversAtStatementBoundariesAndReportsAll) {
  auto p = parse_text(
      "let a = (1 + \n"
      "service web { start \"/bin/web\" extra( }\n"
      "let ok = 1\n"
      "12 34\n"
      "let b = \"unterminated\n"
      "let c = 2\n");
  EXPECT_EQ(codes(*p), (std::vector<std::string>{"E0100", "E0100", "E0102", "E0101"}));
  // Declarations cut short by an error are kept, marked incomplete, so that their names
  // are still declared: `a`, `web` and `b` here.
  ASSERT_EQ(p->file.statements.size(), 5u);
  EXPECT_TRUE(p->file.statements[0].let->incomplete);
  EXPECT_EQ(p->file.statements[0].let->name.text, "a");
  EXPECT_TRUE(p->file.statements[1].object->incomplete);
  EXPECT_EQ(p->file.statements[1].object->name.text, "web");
  EXPECT_EQ(p->file.statements[2].let->name.text, "ok");
  EXPECT_FALSE(p->file.statements[2].let->incomplete);
  EXPECT_TRUE(p->file.statements[3].let->incomplete);
  EXPECT_EQ(p->file.statements[4].let->name.text, "c");
}

TEST(ParserTest, SettingEndErrorPointsAtTheSameLine) {
  auto p = parse_text("service web {\n  every 1s )\n}\n");
  ASSERT_EQ(p->diags.error_count(), 1u);
  const auto& d = p->diags.diagnostics()[0];
  EXPECT_EQ(d.code, "E0100");
  EXPECT_EQ(p->sources.line_column(d.range.file, d.range.begin).line, 2u);
}

TEST(ParserTest, DeepNestingIsADiagnosticNotACrash) {
  auto p = parse_text("let x = " + std::string(100000, '(') + "1" + std::string(100000, ')'));
  EXPECT_EQ(codes(*p), std::vector<std::string>{"E0003"});
}

TEST(ParserTest, HugeFlatExpressionIsCapped) {
  std::string text = "let x = a";
  for (int i = 0; i < 100000; ++i) text += " + a";
  auto p = parse_text(text);
  EXPECT_EQ(codes(*p), std::vector<std::string>{"E0004"});
}

TEST(ParserTest, EmptyAndBinaryInputs) {
  EXPECT_EQ(parse_text("")->diags.error_count(), 0u);
  EXPECT_EQ(parse_text("# only a comment")->diags.error_count(), 0u);
  EXPECT_EQ(parse_text("\xEF\xBB\xBFnode self {}\n")->diags.error_count(), 0u);
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xff);
  auto p = parse_text(junk);
  EXPECT_GT(p->diags.error_count(), 0u);
  auto q = parse_text("let x = \"caf\xe9\xff\"\nlet \xc3\x28 = 1\n");
  EXPECT_EQ(q->diags.error_count(), 1u);
}

// `service café { ... }` used to end the name at the 'é' and say "service 'caf' needs start".
TEST(ParserTest, ACharacterNoNameMayHoldIsReportedAtIt) {
  auto p = parse_text("service caf\xc3\xa9 { start \"/bin/x\" }\n");
  ASSERT_EQ(codes(*p), std::vector<std::string>{"E0103"});
  const auto& d = p->diags.diagnostics().at(0);
  EXPECT_EQ(d.range.begin, 11u);
  EXPECT_EQ(d.range.end, 13u);  // both bytes of the UTF-8 character
  EXPECT_NE(d.message.find("'caf\xc3\xa9'"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("U+00E9"), std::string::npos) << d.message;
  // A control character or a byte that is not UTF-8, where a statement starts.
  auto q = parse_text("node self {}\n\x01\nlet x = \xff\n");
  EXPECT_EQ(codes(*q), (std::vector<std::string>{"E0103", "E0103"}));
}

// `1e400` used to be the number 1 with unit "e" and then a stray 400 ("expected raise ...").
TEST(ParserTest, AMalformedOrHugeNumberIsReportedAsANumber) {
  auto p = parse_text("let a = 1e400\nlet b = 0x10\nlet c = 2GiB2\n");
  ASSERT_EQ(codes(*p), (std::vector<std::string>{"E0104", "E0104", "E0104"}));
  EXPECT_EQ(p->sources.text(p->diags.sorted().at(0).range), "1e400");
  EXPECT_EQ(p->sources.text(p->diags.sorted().at(1).range), "0x10");
  auto q = parse_text("let big = 1" + std::string(400, '0') + "\n");
  EXPECT_EQ(codes(*q), std::vector<std::string>{"E0104"});
  // Still numbers: ranges (`100ms..30s`), rates and fractions.
  auto ok = parse_text("let a = 1.5s\nlet b = 10MB/s\nlet c = 5/s\n");
  EXPECT_EQ(p->diags.error_count(), 3u);
  EXPECT_EQ(ok->diags.error_count(), 0u);
}

// A NUL in a string would cut an argument, a path or a user name short at exec.
TEST(ParserTest, StringsHoldNoNulByte) {
  auto escaped = parse_text("service web { start \"/bin/web\" \"a\\0b\" }\n");
  EXPECT_EQ(codes(*escaped), std::vector<std::string>{"E0101"});
  auto raw = parse_text(std::string("service web { user \"a\0b\" }\n", 27));
  EXPECT_EQ(codes(*raw), std::vector<std::string>{"E0101"});
  auto backslash_zero = parse_text("service web { start \"/bin/web\" \"a\\\\0\" }\n");  // "a\\0"
  EXPECT_EQ(backslash_zero->diags.error_count(), 0u);
}

}  // namespace
}  // namespace amata::parse
