#include "compiler/frontend/commands.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "compiler/check/checker.h"
#include "compiler/diag/printer.h"
#include "compiler/frontend/dump.h"
#include "compiler/frontend/frontend.h"

namespace amata::frontend {
namespace {

/// One expected diagnostic: file, line, severity, code.
using Expectation = std::tuple<std::string, std::uint32_t, std::string, std::string>;

/// Reads `# expect-error@+1: E0123` style comments from every loaded file.
std::multiset<Expectation> expectations(const source::SourceManager& sources) {
  static const std::regex kPattern(R"(#\s*expect-(error|warning)(@([+-]?\d+))?:\s*([EW]\d{4}))");
  std::multiset<Expectation> out;
  for (ast::FileId id = 0; id < sources.size(); ++id) {
    const auto& f = sources.file(id);
    for (std::uint32_t line = 1; line <= f.line_starts.size(); ++line) {
      const std::string text(sources.line_text(id, line));
      for (auto it = std::sregex_iterator(text.begin(), text.end(), kPattern);
           it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        long target = line;
        if (m[3].matched) {
          const std::string off = m[3].str();
          // strtol, not stol: an absurd offset must not throw out of the command.
          const long n = std::strtol(off.c_str(), nullptr, 10);
          target = (off[0] == '+' || off[0] == '-') ? line + n : n;
        }
        out.emplace(f.path, static_cast<std::uint32_t>(target), m[1].str(), m[4].str());
      }
    }
  }
  return out;
}

int verify(const std::vector<diag::Diagnostic>& diags, const source::SourceManager& sources,
           std::ostream& out) {
  std::multiset<Expectation> expected = expectations(sources);
  std::multiset<Expectation> actual;
  for (const auto& d : diags) {
    if (d.severity == diag::Severity::kNote) continue;
    const std::string sev = d.severity == diag::Severity::kError ? "error" : "warning";
    if (d.range.file >= sources.size()) {
      actual.emplace("", 0, sev, d.code);
      continue;
    }
    actual.emplace(sources.file(d.range.file).path,
                   sources.line_column(d.range.file, d.range.begin).line, sev, d.code);
  }
  int failures = 0;
  for (const auto& e : expected) {
    auto it = actual.find(e);
    if (it != actual.end()) {
      actual.erase(it);
      continue;
    }
    out << std::get<0>(e) << ":" << std::get<1>(e) << ": expected " << std::get<2>(e) << " "
        << std::get<3>(e) << " was not reported\n";
    ++failures;
  }
  for (const auto& a : actual) {
    out << std::get<0>(a) << ":" << std::get<1>(a) << ": unexpected " << std::get<2>(a) << " "
        << std::get<3>(a) << "\n";
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

std::vector<std::string> dump_stages() {
  std::vector<std::string> out{"parse"};
  for (auto p : check::kPassNames) out.emplace_back(p);
  out.emplace_back("check");
  return out;
}

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  if (options.format != "text" && options.format != "json") {
    err << "amatac: --format must be text or json\n";
    return 2;
  }
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  bool io_error = false;
  for (const std::string& file : options.files) {
    const std::size_t before = diags.error_count();
    auto program = parse_program(file, sources, diags);
    if (program.files.empty()) {
      io_error = true;
      continue;
    }
    (void)before;
    (void)check::check_program(program, sources, diags);
  }
  const auto sorted = diags.sorted();
  if (options.verify) return io_error ? 2 : verify(sorted, sources, out);
  if (options.format == "json") {
    out << diag::to_json(sorted, sources, diags) << "\n";
  } else {
    diag::print_text(err, sorted, sources, {options.color});
    diag::print_summary(err, diags);
  }
  if (io_error) return 2;
  if (diags.has_errors()) return 1;
  if (options.werror && diags.warning_count() > 0) return 1;
  return 0;
}

int run_dump(const DumpOptions& options, std::ostream& out, std::ostream& err) {
  const auto stages = dump_stages();
  if (std::find(stages.begin(), stages.end(), options.after) == stages.end()) {
    err << "amatac: unknown stage '" << options.after << "' for --after (one of:";
    for (const auto& s : stages) err << " " << s;
    err << ")\n";
    return 2;
  }
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  auto program = parse_program(options.file, sources, diags);
  if (program.files.empty()) {
    diag::print_text(err, diags.sorted(), sources);
    return 2;
  }
  nlohmann::json result;
  if (options.after == "parse") {
    result = program_to_json(program, sources);
  } else {
    const std::string wanted = options.after == "check" ? "lint" : options.after;
    auto policy = check::check_program(program, sources, diags,
                                       [&](std::string_view pass, const check::CheckedPolicy& p) {
                                         if (pass == wanted) result = policy_to_json(p, sources);
                                       });
    if (options.after == "check" && policy) result = policy_to_json(*policy, sources);
  }
  diag::print_text(err, diags.sorted(), sources);
  if (options.after == "check" && diags.has_errors()) return 1;
  out << dump_json(result) << "\n";
  return diags.has_errors() ? 1 : 0;
}

}  // namespace amata::frontend
