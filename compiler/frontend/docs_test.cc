// Keeps docs/language.md and tests/diagnostics/ in step with the catalog and the code table:
// every attribute of every kind is documented in its kind's table, every diagnostic code is
// documented and has a golden test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/catalog.h"
#include "compiler/diag/codes.h"

namespace amata {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DocsTest, EveryCatalogAttributeIsInItsKindsTable) {
  const std::string doc = read("docs/language.md");
  ASSERT_FALSE(doc.empty()) << "run from the repository root";
  for (catalog::Kind k : catalog::all_kinds()) {
    const std::string heading = "### `" + std::string(catalog::kind_name(k)) + "`";
    const auto begin = doc.find(heading);
    ASSERT_NE(begin, std::string::npos) << heading;
    const auto end = doc.find("\n#", begin + heading.size());
    const std::string section = doc.substr(begin, end - begin);
    for (const auto& a : catalog::attributes(k)) {
      const std::string row = "| `" + std::string(a.name) + "` | " + catalog::type_name(a.type);
      EXPECT_NE(section.find(row), std::string::npos)
          << "docs/language.md lacks " << row << " under " << heading;
    }
  }
  for (const auto& u : catalog::units()) {
    EXPECT_NE(doc.find("| `" + std::string(u.suffix) + "` |"), std::string::npos) << u.suffix;
  }
}

TEST(DocsTest, EveryDiagnosticCodeIsDocumentedAndTested) {
  const std::string doc = read("docs/language.md");
  std::string golden;
  for (const auto& entry : std::filesystem::directory_iterator("tests/diagnostics")) {
    if (entry.path().extension() == ".err") golden += read(entry.path());
  }
  ASSERT_FALSE(golden.empty());
  for (const auto& c : diag::kCodes) {
    EXPECT_NE(doc.find("### " + std::string(c.code)), std::string::npos)
        << c.code << " is not documented in docs/language.md";
    if (c.code == "E0005") continue;  // needs a 500,000-statement file: robustness_test
    EXPECT_NE(golden.find("[" + std::string(c.code) + "]"), std::string::npos)
        << c.code << " has no golden test in tests/diagnostics/";
  }
}

TEST(DocsTest, OfflineTestsSectionIsLast) {
  const std::string doc = read("docs/language.md");
  EXPECT_NE(doc.find("## Offline policy tests"), std::string::npos);
}

}  // namespace
}  // namespace amata
