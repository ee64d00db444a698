// Keeps docs/language.md and tests/diagnostics/ in step with the catalog and the code table:
// every attribute of every kind is documented in its kind's table; every diagnostic code is
// documented with the table's meaning, has a golden test and is reported by the compiler;
// no file names a code that the table lacks.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

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
    // The heading is the table's one-line meaning.
    EXPECT_NE(doc.find("### " + std::string(c.code) + " — " + std::string(c.summary) + "\n"),
              std::string::npos)
        << c.code << " is not documented in docs/language.md as '" << c.summary << "'";
    // A golden test proves the compiler emits the code (ctest compares the output with it).
    if (c.code == "E0005") continue;  // needs a 500,000-statement file: robustness_test
    EXPECT_NE(golden.find("[" + std::string(c.code) + "]"), std::string::npos)
        << c.code << " has no golden test in tests/diagnostics/";
  }
}

/// The codes named in `text`: in source code the string literals ("E0201"); in golden
/// files, policies and docs every word such as E0201 or W0203.
std::vector<std::string> codes_in(const std::string& text, bool source_code) {
  static const std::regex kLiteral(R"re("([EW][0-9]{4})")re");
  static const std::regex kWord(R"((?:^|[^A-Za-z0-9_])([EW][0-9]{4})(?![A-Za-z0-9_]))");
  std::vector<std::string> out;
  const std::regex& pattern = source_code ? kLiteral : kWord;
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

TEST(DocsTest, EveryCodeNamedAnywhereIsInTheTable) {
  std::vector<std::filesystem::path> files{"README.md"};
  for (const char* dir : {"compiler", "catalog", "engine", "tools", "tests", "docs"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      files.push_back(entry.path());
    }
  }
  std::size_t read_files = 0;
  for (const auto& file : files) {
    const auto ext = file.extension();
    const bool source_code = ext == ".h" || ext == ".cc" || ext == ".py";
    if (!source_code && ext != ".err" && ext != ".amata" && ext != ".md") continue;
    ++read_files;
    for (const auto& code : codes_in(read(file), source_code)) {
      EXPECT_NE(diag::find_code(code), nullptr)
          << file << " names " << code << ", which diag/codes.h does not have";
    }
  }
  EXPECT_GT(read_files, 100u);
}

TEST(DocsTest, EveryCodeIsReportedByTheCompiler) {
  // Reporting takes a diag::Code, so a code is used when its enumerator is named outside the
  // table. The enumerator is the short name in CamelCase: unused-constant is kUnusedConstant.
  std::string sources;
  for (const auto& entry : std::filesystem::recursive_directory_iterator("compiler")) {
    const std::string name = entry.path().filename().string();
    const auto ext = entry.path().extension();
    if ((ext == ".h" || ext == ".cc") && name.find("_test.") == std::string::npos &&
        name != "codes.h") {
      sources += read(entry.path());
    }
  }
  ASSERT_FALSE(sources.empty());
  for (const auto& c : diag::kCodes) {
    std::string enumerator = "Code::k";
    bool upper = true;
    for (char ch : c.name) {
      if (ch == '-') {
        upper = true;
        continue;
      }
      enumerator += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      upper = false;
    }
    const std::regex use(enumerator + "\\b");
    EXPECT_TRUE(std::regex_search(sources, use))
        << c.code << " (" << enumerator << ") is never reported by compiler/";
  }
}

TEST(DocsTest, OfflineTestsSectionIsLast) {
  const std::string doc = read("docs/language.md");
  EXPECT_NE(doc.find("## Offline policy tests"), std::string::npos);
}

}  // namespace
}  // namespace amata
