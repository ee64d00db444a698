#include "compiler/frontend/commands.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "compiler/check/checker.h"
#include "compiler/diag/printer.h"
#include "compiler/frontend/dump.h"
#include "compiler/frontend/frontend.h"

namespace amata::frontend {
namespace {

/// One expected diagnostic: file, line, severity, code.
using Expectation = std::tuple<std::string, std::uint32_t, std::string, std::string>;

/// The text at `p` starts with `word` (then `p` is past it).
bool take(std::string_view text, std::size_t& p, std::string_view word) {
  if (text.substr(p, word.size()) != word) return false;
  p += word.size();
  return true;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// One `# expect-error@+1: E0123` comment at `p` (a '#'): its severity, offset ("" when
/// none, "+1", "-2" or "7") and code; `p` moves past it. A scanner, not std::regex: the
/// comment is in the policy, a line may be megabytes long, and libstdc++'s matcher recurses
/// once per character of `\s*` (a '#' and 300,000 blanks overflowed the stack).
bool expectation_at(std::string_view text, std::size_t& p, std::string& severity,
                    std::string& offset, std::string& code) {
  std::size_t i = p + 1;
  while (i < text.size() && is_blank(text[i])) ++i;
  if (!take(text, i, "expect-")) return false;
  if (take(text, i, "error")) {
    severity = "error";
  } else if (take(text, i, "warning")) {
    severity = "warning";
  } else {
    return false;
  }
  offset.clear();
  if (i < text.size() && text[i] == '@') {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    const std::size_t digits = j;
    while (j < text.size() && is_digit(text[j])) ++j;
    if (j == digits) return false;
    offset = std::string(text.substr(i + 1, j - i - 1));
    i = j;
  }
  if (!take(text, i, ":")) return false;
  while (i < text.size() && is_blank(text[i])) ++i;
  if (i + 5 > text.size() || (text[i] != 'E' && text[i] != 'W') ||
      !std::all_of(text.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                   text.begin() + static_cast<std::ptrdiff_t>(i) + 5, is_digit)) {
    return false;
  }
  code = std::string(text.substr(i, 5));
  p = i + 5;
  return true;
}

/// Reads `# expect-error@+1: E0123` style comments from every loaded file.
std::multiset<Expectation> expectations(const source::SourceManager& sources) {
  std::multiset<Expectation> out;
  std::string severity, offset, code;
  for (ast::FileId id = 0; id < sources.size(); ++id) {
    const auto& f = sources.file(id);
    for (std::uint32_t line = 1; line <= f.line_starts.size(); ++line) {
      const std::string_view text = sources.line_text(id, line);
      for (std::size_t p = text.find('#'); p != std::string_view::npos; p = text.find('#', p)) {
        if (!expectation_at(text, p, severity, offset, code)) {
          ++p;
          continue;
        }
        long target = line;
        if (!offset.empty()) {
          // strtol, not stol: an absurd offset must not throw out of the command.
          const long n = std::strtol(offset.c_str(), nullptr, 10);
          target = (offset[0] == '+' || offset[0] == '-') ? line + n : n;
        }
        out.emplace(f.path, static_cast<std::uint32_t>(target), severity, code);
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
