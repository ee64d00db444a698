#include "compiler/source/source_manager.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

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
  std::error_code ec;
  // A directory opens as an empty stream; say what it is instead of checking "nothing".
  if (std::filesystem::is_directory(path, ec)) return errno_error("read " + path, EISDIR);
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno_error("open " + path, errno);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return errno_error("read " + path, errno);
  std::string text = std::move(buf).str();
  // Offsets are 32-bit; a policy of 4 GiB is not a policy.
  if (text.size() > 0x7fffffffu) return Error{"read " + path + ": file too large"};
  return add(path, std::move(text), included_from);
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
