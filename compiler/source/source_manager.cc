#include "compiler/source/source_manager.h"

#include <algorithm>

#include "base/file.h"

namespace amata::source {

ast::FileId SourceManager::add(std::string path, std::string text,
                               std::optional<ast::SourceRange> included_from) {
  SourceFile f;
  f.path = std::move(path);
  f.text = std::move(text);
  f.included_from = included_from;
  f.line_starts.push_back(0);
  for (std::uint32_t i = 0; i < f.text.size(); ++i) {
    if (f.text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  files_.push_back(std::move(f));
  return static_cast<ast::FileId>(files_.size() - 1);
}

Result<ast::FileId> SourceManager::load(const std::string& path,
                                        std::optional<ast::SourceRange> included_from) {
  // Never blocks (a FIFO, /dev/zero) and never reads past base::kMaxTextFileBytes, which
  // also keeps every offset well inside 32 bits.
  auto text = base::read_regular_file(path);
  if (!text) return text.error();
  return add(path, std::move(*text), included_from);
}

std::optional<ast::FileId> SourceManager::find(std::string_view path) const {
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].path == path) return static_cast<ast::FileId>(i);
  }
  return std::nullopt;
}

LineColumn SourceManager::line_column(ast::FileId id, std::uint32_t offset) const {
  const SourceFile& f = files_[id];
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(f.text.size()));
  auto it = std::upper_bound(f.line_starts.begin(), f.line_starts.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - f.line_starts.begin());
  return {line, offset - f.line_starts[line - 1] + 1};
}

std::string_view SourceManager::line_text(ast::FileId id, std::uint32_t line) const {
  const SourceFile& f = files_[id];
  if (line == 0 || line > f.line_starts.size()) return {};
  const std::uint32_t begin = f.line_starts[line - 1];
  std::uint32_t end = line < f.line_starts.size() ? f.line_starts[line] - 1
                                                  : static_cast<std::uint32_t>(f.text.size());
  if (end > begin && f.text[end - 1] == '\r') --end;
  return std::string_view(f.text).substr(begin, end - begin);
}

std::string_view SourceManager::text(const ast::SourceRange& range) const {
  const SourceFile& f = files_[range.file];
  const std::uint32_t b = std::min<std::uint32_t>(range.begin, f.text.size());
  const std::uint32_t e = std::clamp<std::uint32_t>(range.end, b, f.text.size());
  return std::string_view(f.text).substr(b, e - b);
}

}  // namespace amata::source
