// Loading a policy and what it includes: drop-in directories (`include "conf.d/*.amata"`).
#include "compiler/frontend/frontend.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace amata::frontend {
namespace {

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("amata-frontend-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "conf.d");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  /// Compiles dir_/main.amata; returns the policy's objects' names, or "error: " and the
  /// diagnostics.
  std::string compile(const std::string& main) {
    write("main.amata", main);
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto policy = compile_file((dir_ / "main.amata").string(), sources, diags);
    std::string out;
    if (!policy) {
      for (const auto& d : diags.diagnostics()) out += d.message + "\n";
      return "error: " + out;
    }
    for (const auto& o : policy->objects) out += o.name + " ";
    return out;
  }

  std::filesystem::path dir_;
};

constexpr const char* kRules =
    "discover down(s: service) when not s.alive raise Down(s)\n"
    "recover Down(s) { restart s }\n";

TEST_F(FrontendTest, APatternIncludesEveryMatchingFileInNameOrder) {
  write("conf.d/20-db.amata", "service db { start \"/bin/db\" }\n");
  write("conf.d/10-web.amata", "service web { start \"/bin/web\" }\n");
  write("conf.d/.10-web.amata.swp", "garbage {{{\n");              // hidden: an editor's
  write("conf.d/.hidden.amata", "garbage {{{\n");                  // hidden: `*` does not match it
  write("conf.d/notes.txt", "garbage {{{\n");                      // does not match the pattern
  std::filesystem::create_directories(dir_ / "conf.d/sub.amata");  // a directory: skipped
  EXPECT_EQ(compile(std::string("include \"conf.d/*.amata\"\n") + kRules), "web db ");
}

TEST_F(FrontendTest, AnEmptyDropInDirectoryIsFine) {
  EXPECT_EQ(compile(std::string("include \"conf.d/*.amata\"\nnode self {}\n") + kRules), "self ");
}

TEST_F(FrontendTest, AMissingDirectoryOrAPatternBeforeTheFileNameIsAnError) {
  const std::string missing = compile("include \"nowhere.d/*.amata\"\nnode self {}\n");
  EXPECT_EQ(missing.rfind("error: cannot read the directory of included files", 0), 0u) << missing;
  const std::string nested = compile("include \"*.d/*.amata\"\nnode self {}\n");
  EXPECT_EQ(nested.rfind("error: only the file name of an include may be a pattern", 0), 0u)
      << nested;
}

}  // namespace
}  // namespace amata::frontend
