#include "compiler/format/promise.h"

#include <set>

#include "compiler/check/checker.h"
#include "compiler/format/format.h"
#include "compiler/frontend/dump.h"
#include "compiler/parse/parser.h"

namespace amata::format {
namespace {

// Relative includes resolve against a directory that does not exist: never read.
constexpr const char* kName = "/nonexistent-amata-fmt/policy.amata";

/// The JSON without its "at" locations (formatting moves them).
void drop_locations(nlohmann::json& j) {
  if (j.is_object()) {
    j.erase("at");
    for (auto& [key, value] : j.items()) drop_locations(value);
  } else if (j.is_array()) {
    for (auto& e : j) drop_locations(e);
  }
}

std::optional<std::string> format_text(const std::string& text) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  return format_file(sources, sources.add(kName, text), diags);
}

}  // namespace

std::string meaning(const std::string& text) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  ast::Program program;
  program.files.push_back(parse::parse_file(sources, sources.add(kName, text), diags));
  auto tree = frontend::program_to_json(program, sources);
  drop_locations(tree);
  std::string out = frontend::dump_json(tree) + "\n";
  auto policy = check::check_program(program, sources, diags);
  if (policy && !diags.has_errors()) {
    auto checked = frontend::policy_to_json(*policy, sources);
    drop_locations(checked);
    out += frontend::dump_json(checked) + "\n";
  }
  std::multiset<std::string> codes;
  for (const auto& d : diags.diagnostics()) codes.insert(d.code);
  for (const auto& c : codes) out += c + " ";
  return out;
}

std::optional<std::string> broken_promise(const std::string& text) {
  auto once = format_text(text);
  if (!once) return std::nullopt;
  const std::string both = "\n--- input:\n" + text + "\n--- formatted:\n" + *once;
  auto twice = format_text(*once);
  if (!twice) return "the formatted text does not parse" + both;
  if (*twice != *once) return "formatting the formatted text changes it again" + both;
  if (meaning(*once) != meaning(text)) return "the formatted text means something else" + both;
  return std::nullopt;
}

}  // namespace amata::format
