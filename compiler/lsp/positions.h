// Where things are, in the editor's terms: LSP positions are a 0-based line and a 0-based
// character counted in UTF-16 code units, while the tree holds byte offsets. Also the
// `file://` URIs that name documents.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amata::lsp {

/// An LSP position: 0-based line, 0-based UTF-16 code unit within the line.
struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

/// Converts between byte offsets and positions in one text (lines end at '\n'; a '\r'
/// before it belongs to the line break). Holds a view: the text must outlive it.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text);

  /// The position of byte `offset` (clamped to the text); an offset inside a multi-byte
  /// character is the position of that character.
  Position position(std::uint32_t offset) const;
  /// The byte offset of `p`: a line past the end is the end of the text, a character past
  /// the end of its line is the end of that line.
  std::uint32_t offset(Position p) const;
  std::size_t line_count() const { return starts_.size(); }

 private:
  std::uint32_t line_end(std::uint32_t line) const;  // before the '\r\n' or '\n'

  std::string_view text_;
  std::vector<std::uint32_t> starts_;
};

/// The path a `file:` URI names (percent-decoded, "localhost" authority allowed); any other
/// URI (`untitled:1`) is returned as it is, so it still names one document.
std::string uri_to_path(std::string_view uri);
/// `file://` + the path, percent-encoded where RFC 3986 wants it.
std::string path_to_uri(std::string_view path);

}  // namespace amata::lsp
