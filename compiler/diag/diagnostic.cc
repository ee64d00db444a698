#include "compiler/diag/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace amata::diag {

Diagnostic& DiagnosticEngine::report(Code code, ast::SourceRange range, std::string message) {
  const CodeInfo& row = info(code);
  const Severity severity = row.severity;
  if (severity == Severity::kError) {
    if (errors_ >= kMaxErrors) {
      overflow_ = Diagnostic{};
      return overflow_;
    }
    ++errors_;
  } else if (severity == Severity::kWarning) {
    if (warnings_ >= kMaxErrors) {
      overflow_ = Diagnostic{};
      return overflow_;
    }
    ++warnings_;
  }
  diags_.push_back(Diagnostic{severity, range, std::string(row.code), std::move(message), {}, {}});
  return diags_.back();
}

std::vector<Diagnostic> DiagnosticEngine::sorted() const {
  std::vector<Diagnostic> out = diags_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.range.file, a.range.begin, a.code) <
           std::tie(b.range.file, b.range.begin, b.code);
  });
  return out;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Long garbage words never have a useful suggestion and would cost O(n*m) each.
  if (word.empty() || word.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(1, (word.size() + 2) / 3) + 1;
  for (std::string_view c : candidates) {
    if (c == word) continue;
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return std::string(best);
}

}  // namespace amata::diag
