#include "compiler/lsp/formatting.h"

#include "compiler/format/format.h"

namespace amata::lsp {

std::optional<Json> format_edits(const Analysis& a, ast::FileId id, std::string& error) {
  const source::SourceFile& file = a.sources().file(id);
  // A compilation of its own: the formatter reports syntax errors of this file alone.
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  const ast::FileId own = sources.add(file.path, file.text);
  const std::optional<std::string> formatted = format::format_file(sources, own, diags);
  if (!formatted) {
    error = "cannot format a file with syntax errors";
    const auto sorted = diags.sorted();
    if (!sorted.empty()) {
      const source::LineColumn lc = sources.line_column(own, sorted.front().range.begin);
      error += " (" + std::to_string(lc.line) + ":" + std::to_string(lc.column) + ": " +
               sorted.front().message + ")";
    }
    return std::nullopt;
  }
  Json edits = Json::array();
  if (*formatted == file.text) return edits;
  const LineIndex& lines = a.lines(id);
  const Position end = lines.position(static_cast<std::uint32_t>(file.text.size()));
  edits.push_back({{"range",
                    {{"start", {{"line", 0}, {"character", 0}}},
                     {"end", {{"line", end.line}, {"character", end.character}}}}},
                   {"newText", *formatted}});
  return edits;
}

}  // namespace amata::lsp
