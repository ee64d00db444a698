// Owns the text of every loaded .amata file and turns byte offsets into line:column.
// Positions in the tree are byte offsets; line and column are computed only when printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compiler/ast/ast.h"

namespace amata::source {

/// A 1-based line and column (column counts bytes, as compilers do).
struct LineColumn {
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

/// One loaded file.
struct SourceFile {
  std::string path;  // as given, or resolved relative to the includer
  std::string text;
  std::optional<ast::SourceRange> included_from;  // the `include` that loaded it
  std::vector<std::uint32_t> line_starts;         // byte offset of each line's first byte
};

/// The set of files of one compilation.
class SourceManager {
 public:
  /// Adds a file from memory (tests, fuzzers, stdin).
  ast::FileId add(std::string path, std::string text,
                  std::optional<ast::SourceRange> included_from = std::nullopt);
  /// Reads a regular file from disk (base::read_regular_file: never a FIFO or a device, at
  /// most base::kMaxTextFileBytes); an I/O failure is an Error, not a diagnostic.
  Result<ast::FileId> load(const std::string& path,
                           std::optional<ast::SourceRange> included_from = std::nullopt);

  const SourceFile& file(ast::FileId id) const { return files_[id]; }
  std::size_t size() const { return files_.size(); }
  /// The id of an already-loaded file with this path, if any.
  std::optional<ast::FileId> find(std::string_view path) const;

  LineColumn line_column(ast::FileId id, std::uint32_t offset) const;
  /// The text of the 1-based line `line` without its newline.
  std::string_view line_text(ast::FileId id, std::uint32_t line) const;
  /// The text a range covers.
  std::string_view text(const ast::SourceRange& range) const;

 private:
  std::vector<SourceFile> files_;
};

}  // namespace amata::source
