#include "compiler/lsp/positions.h"

#include <algorithm>

namespace amata::lsp {
namespace {

/// The length in bytes of the UTF-8 sequence that starts with `lead` (1 for a stray byte),
/// and its length in UTF-16 code units.
struct CharSize {
  std::uint32_t bytes, units;
};

CharSize char_size(unsigned char lead) {
  if (lead >= 0xF0 && lead <= 0xF7) return {4, 2};
  if (lead >= 0xE0) return {lead <= 0xEF ? 3u : 1u, 1};
  if (lead >= 0xC0) return {2, 1};
  return {1, 1};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (std::uint32_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') starts_.push_back(i + 1);
  }
}

std::uint32_t LineIndex::line_end(std::uint32_t line) const {
  std::uint32_t end =
      line + 1 < starts_.size() ? starts_[line + 1] - 1 : static_cast<std::uint32_t>(text_.size());
  if (end > starts_[line] && line + 1 < starts_.size() && text_[end - 1] == '\r') --end;
  return end;
}

Position LineIndex::position(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  const auto line = static_cast<std::uint32_t>(it - starts_.begin() - 1);
  std::uint32_t units = 0;
  for (std::uint32_t i = starts_[line]; i < offset;) {
    const CharSize c = char_size(static_cast<unsigned char>(text_[i]));
    if (i + c.bytes > offset) break;  // offset inside this character
    units += c.units;
    i += c.bytes;
  }
  return {line, units};
}

std::uint32_t LineIndex::offset(Position p) const {
  if (p.line >= starts_.size()) return static_cast<std::uint32_t>(text_.size());
  const std::uint32_t end = line_end(p.line);
  std::uint32_t i = starts_[p.line];
  std::uint32_t units = 0;
  while (i < end && units < p.character) {
    const CharSize c = char_size(static_cast<unsigned char>(text_[i]));
    units += c.units;
    i = std::min(i + c.bytes, end);
  }
  return i;
}

std::string uri_to_path(std::string_view uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.substr(0, kScheme.size()) != kScheme) return std::string(uri);
  std::string_view rest = uri.substr(kScheme.size());
  if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
  std::string path;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 &&
        hex_value(rest[i + 2]) >= 0) {
      path.push_back(static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2])));
      i += 2;
    } else {
      path.push_back(rest[i]);
    }
  }
  return path;
}

std::string path_to_uri(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string uri = "file://";
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      uri.push_back(ch);
    } else {
      uri.push_back('%');
      uri.push_back(kHex[c >> 4]);
      uri.push_back(kHex[c & 15]);
    }
  }
  return uri;
}

}  // namespace amata::lsp
