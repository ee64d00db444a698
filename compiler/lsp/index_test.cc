#include "compiler/lsp/index.h"

#include <gtest/gtest.h>

#include "compiler/lsp/test_policy.h"

namespace amata::lsp {
namespace {

using testing::at;
using testing::kPolicy;

TEST(Index, ResolvesObjectsConstantsEventsAndParameters) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  ASSERT_FALSE(a->diagnostics().has_errors());
  const Index& ix = a->index();

  const Occurrence* web_use = ix.occurrence_at(0, at(text, "depends web", 8));
  ASSERT_NE(web_use, nullptr);
  const Symbol& web = ix.symbol(web_use->symbol);
  EXPECT_EQ(web.kind, SymbolKind::kObject);
  EXPECT_EQ(web.object_kind, catalog::Kind::kService);
  EXPECT_EQ(web.name_range.begin, at(text, "web {"));

  const Occurrence* c = ix.occurrence_at(0, at(text, "> cpu_high", 3));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ix.symbol(c->symbol).kind, SymbolKind::kConstant);

  // `s` in the discover rule is that rule's parameter, not the recover rule's.
  const Occurrence* s = ix.occurrence_at(0, at(text, "s.alive"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(ix.symbol(s->symbol).kind, SymbolKind::kParameter);
  EXPECT_EQ(ix.symbol(s->symbol).name_range.begin, at(text, "s: service"));
  const Occurrence* rs = ix.occurrence_at(0, at(text, "restart s", 8));
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(ix.symbol(rs->symbol).name_range.begin, at(text, "(s) {", 1));
  EXPECT_EQ(ix.symbol(rs->symbol).object_kind, catalog::Kind::kService);  // from the event
}

TEST(Index, InfersAnEventFromItsFirstRaise) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const Index& ix = a->index();
  const int ev = ix.find_event("ServiceDown");
  ASSERT_GE(ev, 0);
  EXPECT_FALSE(ix.symbol(ev).declared);
  ASSERT_EQ(ix.symbol(ev).params.size(), 1u);
  EXPECT_EQ(ix.symbol(ev).params[0].kind, catalog::Kind::kService);
  const auto uses = ix.occurrences(ev);
  ASSERT_EQ(uses.size(), 2u);  // the raise (its definition) and the recover rule
  EXPECT_TRUE(uses[0].definition);
  EXPECT_EQ(uses[1].range.begin, at(text, "ServiceDown(s) {"));

  const int overload = ix.find_event("Overload");
  ASSERT_GE(overload, 0);
  EXPECT_TRUE(ix.symbol(overload).declared);
  EXPECT_TRUE(ix.symbol(overload).notify_only);
}

TEST(Index, MentionsAttributesKindsSettingsAndFunctions) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const Index& ix = a->index();
  const Mention* attr = ix.mention_at(0, at(text, "alive", 2));
  ASSERT_NE(attr, nullptr);
  EXPECT_EQ(attr->what, Mention::What::kAttribute);
  EXPECT_EQ(attr->text, "alive");
  EXPECT_EQ(attr->kind, catalog::Kind::kService);
  const Mention* kind = ix.mention_at(0, at(text, "service web"));
  ASSERT_NE(kind, nullptr);
  EXPECT_EQ(kind->what, Mention::What::kKind);
  const Mention* setting = ix.mention_at(0, at(text, "health tcp"));
  ASSERT_NE(setting, nullptr);
  EXPECT_EQ(setting->what, Mention::What::kSetting);
  EXPECT_EQ(setting->text, "health");
  EXPECT_EQ(ix.mention_at(0, at(text, "policy web_node")), nullptr);
}

TEST(Index, NamesAcrossIncludedFiles) {
  const std::map<std::string, std::string> files = {
      {"/m/root.amata", "include \"objects.amata\"\ndiscover d when not web.alive raise E(web)\n"},
      {"/m/objects.amata", "service web { start \"/bin/web\" }\n"}};
  auto a = testing::analyse(files, "/m/root.amata");
  const Index& ix = a->index();
  const Occurrence* o = ix.occurrence_at(0, at(files.at("/m/root.amata"), "web.alive"));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(ix.symbol(o->symbol).name_range.file, 1u);
  EXPECT_EQ(ix.occurrences(o->symbol).size(), 3u);
}

TEST(Index, KeepsWhatParsedInAPolicyWithSyntaxErrors) {
  const std::string text =
      "service web { start \"/bin/web\" }\ndiscover d when web. raise\n"
      "recover E(s) { restart web }\n";
  auto a = testing::analyse(text);
  EXPECT_TRUE(a->diagnostics().has_errors());
  const Occurrence* o = a->index().occurrence_at(0, at(text, "restart web", 8));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(a->index().symbol(o->symbol).name, "web");
}

}  // namespace
}  // namespace amata::lsp
