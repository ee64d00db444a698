#include "compiler/format/line_diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace amata::format {
namespace {

constexpr std::size_t kContext = 3;

/// The lines of `text`, each with its '\n' (the last one may lack it).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

struct Edit {
  char op;  // ' ', '-', '+'
  std::string_view line;
};

/// The edits that turn a[..] into b[..]: a longest common subsequence when affordable.
void middle_edits(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
                  std::size_t lo, std::size_t a_hi, std::size_t b_hi, std::vector<Edit>& out) {
  const std::size_t n = a_hi - lo;
  const std::size_t m = b_hi - lo;
  if (n == 0 || m == 0 || (n + 1) * (m + 1) > kMaxDiffCells) {
    for (std::size_t i = lo; i < a_hi; ++i) out.push_back({'-', a[i]});
    for (std::size_t j = lo; j < b_hi; ++j) out.push_back({'+', b[j]});
    return;
  }
  // suffix[i][j]: the longest common subsequence of a[lo+i..] and b[lo+j..].
  std::vector<std::uint32_t> suffix((n + 1) * (m + 1), 0);
  auto cell = [&](std::size_t i, std::size_t j) -> std::uint32_t& {
    return suffix[i * (m + 1) + j];
  };
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      cell(i, j) = a[lo + i] == b[lo + j] ? cell(i + 1, j + 1) + 1
                                          : std::max(cell(i + 1, j), cell(i, j + 1));
    }
  }
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[lo + i] == b[lo + j]) {
      out.push_back({' ', a[lo + i]});
      ++i;
      ++j;
    } else if (j == m || (i < n && cell(i + 1, j) >= cell(i, j + 1))) {
      out.push_back({'-', a[lo + i++]});
    } else {
      out.push_back({'+', b[lo + j++]});
    }
  }
}

void print_line(std::string& out, char op, std::string_view line) {
  out += op;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view before_name, std::string_view after_name) {
  if (before == after) return "";
  const auto a = split_lines(before);
  const auto b = split_lines(after);
  std::size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  std::size_t a_hi = a.size(), b_hi = b.size();
  while (a_hi > prefix && b_hi > prefix && a[a_hi - 1] == b[b_hi - 1]) {
    --a_hi;
    --b_hi;
  }
  std::vector<Edit> edits;
  for (std::size_t i = 0; i < prefix; ++i) edits.push_back({' ', a[i]});
  middle_edits(a, b, prefix, a_hi, b_hi, edits);
  for (std::size_t i = a_hi; i < a.size(); ++i) edits.push_back({' ', a[i]});

  std::string out;
  out.append("--- ").append(before_name).append("\n+++ ").append(after_name).append("\n");
  std::size_t k = 0;
  std::size_t a_line = 0, b_line = 0;  // lines of a and b before edits[k]
  while (k < edits.size()) {
    // The next change, and the hunk around it: context before, then changes until a run of
    // unchanged lines longer than two contexts.
    std::size_t first = k;
    while (first < edits.size() && edits[first].op == ' ') ++first;
    if (first == edits.size()) break;
    const std::size_t start = first - std::min(kContext, first - k);
    for (; k < start; ++k) ++a_line, ++b_line;
    std::size_t end = first;
    std::size_t same = 0;
    for (std::size_t e = first; e < edits.size(); ++e) {
      if (edits[e].op != ' ') {
        end = e + 1;
        same = 0;
      } else if (++same > 2 * kContext) {
        break;
      }
    }
    end = std::min(edits.size(), end + kContext);
    std::size_t a_len = 0, b_len = 0;
    for (std::size_t e = start; e < end; ++e) {
      a_len += edits[e].op != '+';
      b_len += edits[e].op != '-';
    }
    out += "@@ -" + std::to_string(a_len == 0 ? a_line : a_line + 1) + "," + std::to_string(a_len) +
           " +" + std::to_string(b_len == 0 ? b_line : b_line + 1) + "," + std::to_string(b_len) +
           " @@\n";
    for (; k < end; ++k) {
      print_line(out, edits[k].op, edits[k].line);
      a_line += edits[k].op != '+';
      b_line += edits[k].op != '-';
    }
  }
  return out;
}

}  // namespace amata::format
