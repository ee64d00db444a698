#include "compiler/lsp/navigation.h"

#include <gtest/gtest.h>

#include "compiler/lsp/positions.h"
#include "compiler/lsp/test_policy.h"

namespace amata::lsp {
namespace {

using testing::at;
using testing::kPolicy;

TEST(Navigation, DefinitionOfAnObjectUse) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const Json loc = definition(*a, 0, at(text, "depends web", 8));
  ASSERT_TRUE(loc.is_object());
  EXPECT_EQ(loc["uri"], "file:///mem/p.amata");
  EXPECT_EQ(loc["range"]["start"]["line"], 3);  // service web {
  EXPECT_EQ(loc["range"]["start"]["character"], 8);
  EXPECT_TRUE(definition(*a, 0, at(text, "notify \"pager\"", 9)).is_null());
}

TEST(Navigation, ReferencesOfAParameterStayInItsRule) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  // recover ServiceDown(s): the parameter, restart s, s.restarts, unmonitor s
  const Json refs = references(*a, 0, at(text, "restart s", 8), true);
  EXPECT_EQ(refs.size(), 4u) << refs.dump();
  EXPECT_EQ(references(*a, 0, at(text, "restart s", 8), false).size(), 3u);
  EXPECT_TRUE(references(*a, 0, at(text, "policy"), true).empty());
}

TEST(Navigation, RenameEditsEveryOccurrenceAcrossFiles) {
  const std::map<std::string, std::string> files = {
      {"/m/root.amata",
       "include \"objects.amata\"\ndiscover d when not web.alive raise E(web)\n"
       "recover E(s) { restart web }\n"},
      {"/m/objects.amata", "service web { start \"/bin/web\" }\n"}};
  auto a = testing::analyse(files, "/m/root.amata");
  std::string error;
  auto edit = rename(*a, 0, at(files.at("/m/root.amata"), "web.alive"), "frontend", error);
  ASSERT_TRUE(edit) << error;
  const Json& changes = (*edit)["changes"];
  EXPECT_EQ(changes["file:///m/root.amata"].size(), 3u);
  ASSERT_EQ(changes["file:///m/objects.amata"].size(), 1u);
  EXPECT_EQ(changes["file:///m/objects.amata"][0]["newText"], "frontend");
  EXPECT_EQ(changes["file:///m/objects.amata"][0]["range"]["start"]["character"], 8);
}

TEST(Navigation, RenameRefusesWhatIsNotAFreeName) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  std::string error;
  EXPECT_FALSE(rename(*a, 0, at(text, "depends web", 8), "9lives", error));
  EXPECT_NE(error.find("not a name"), std::string::npos);
  EXPECT_FALSE(rename(*a, 0, at(text, "depends web", 8), "service", error));
  EXPECT_NE(error.find("reserved"), std::string::npos);
  EXPECT_FALSE(rename(*a, 0, at(text, "depends web", 8), "db", error));
  EXPECT_NE(error.find("already defined"), std::string::npos);
  EXPECT_FALSE(rename(*a, 0, at(text, "\"pager\""), "x", error));
  EXPECT_TRUE(prepare_rename(*a, 0, at(text, "\"pager\"")).is_null());
  EXPECT_EQ(prepare_rename(*a, 0, at(text, "depends web", 8))["placeholder"], "web");
}

TEST(Navigation, DocumentSymbolsOutlineTheFile) {
  const std::string text = kPolicy;
  auto a = testing::analyse(text);
  const Json symbols = document_symbols(*a, 0);
  std::vector<std::string> names;
  for (const auto& s : symbols) names.push_back(s["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"web_node", "cpu_high", "self", "web", "db", "down",
                                             "hot", "Overload", "recover ServiceDown", "pager"}));
  const Json& web = symbols[3];
  EXPECT_EQ(web["kind"], 19);
  ASSERT_EQ(web["children"].size(), 2u);
  EXPECT_EQ(web["children"][1]["name"], "health");
}

TEST(Navigation, CodeActionsApplyFixIts) {
  const std::string text =
      "service web { start \"/bin/web\" }\ndiscover d when web.alvie raise E(web)\n"
      "recover E(s) { restart s }\n";
  auto a = testing::analyse(text);
  ASSERT_TRUE(a->diagnostics().has_errors());
  const std::uint32_t typo = at(text, "alvie");
  const Json actions = code_actions(*a, 0, typo, typo);
  ASSERT_EQ(actions.size(), 1u) << actions.dump();
  EXPECT_EQ(actions[0]["kind"], "quickfix");
  EXPECT_EQ(actions[0]["diagnostics"][0]["code"], "E0203");
  const Json& edits = actions[0]["edit"]["changes"]["file:///mem/p.amata"];
  ASSERT_EQ(edits.size(), 1u);
  EXPECT_EQ(edits[0]["newText"], "alive");
  EXPECT_NE(actions[0]["title"].get<std::string>().find("'alvie' with 'alive'"), std::string::npos);
  // Elsewhere in the file: none.
  EXPECT_TRUE(code_actions(*a, 0, 0, 3).empty());
}

}  // namespace
}  // namespace amata::lsp
