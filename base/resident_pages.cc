#include "base/resident_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/file.h"

namespace amata::base {
namespace {

struct Mapping {
  std::uintptr_t start = 0, end = 0;
  bool writable = false;
  std::string path;
  std::size_t rss_kib = 0, anonymous_kib = 0;
};

std::uintptr_t parse_hex(std::string_view text) {
  std::uintptr_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return value;
}

/// "start-end perms offset dev inode   path": the header of one mapping, or nullopt for a
/// field line ("Rss:   12 kB").
std::optional<Mapping> parse_header(std::string_view line) {
  const std::size_t dash = line.find('-');
  const std::size_t space = line.find(' ');
  if (dash == std::string_view::npos || space == std::string_view::npos || dash > space ||
      line.substr(0, dash).find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  Mapping m;
  m.start = parse_hex(line.substr(0, dash));
  m.end = parse_hex(line.substr(dash + 1, space - dash - 1));
  m.writable = line.size() > space + 2 && line[space + 2] == 'w';
  // The path starts after five fields; it may hold spaces.
  std::size_t at = space;
  for (int field = 0; field < 4 && at != std::string_view::npos; ++field) {
    at = line.find_first_not_of(' ', at);
    at = at == std::string_view::npos ? at : line.find(' ', at);
  }
  if (at != std::string_view::npos) at = line.find_first_not_of(' ', at);
  if (at != std::string_view::npos) m.path = std::string(line.substr(at));
  return m;
}

/// The kB of a field line "Name:   123 kB" if its name is `name`.
std::optional<std::size_t> field_kib(std::string_view line, std::string_view name) {
  if (line.substr(0, name.size()) != name || line.size() <= name.size() ||
      line[name.size()] != ':') {
    return std::nullopt;
  }
  std::string_view rest = line.substr(name.size() + 1);
  rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
  std::size_t value = 0;
  std::from_chars(rest.data(), rest.data() + rest.size(), value);
  return value;
}

}  // namespace

Result<ReleasedPages> release_file_pages(const std::function<bool(std::string_view path)>& wanted) {
  auto text = read_regular_file("/proc/self/smaps");
  if (!text) return text.error();
  std::vector<Mapping> mappings;
  std::string_view rest = *text;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (auto header = parse_header(line)) {
      mappings.push_back(std::move(*header));
    } else if (!mappings.empty()) {
      if (auto kib = field_kib(line, "Rss")) mappings.back().rss_kib = *kib;
      if (auto kib = field_kib(line, "Anonymous")) mappings.back().anonymous_kib = *kib;
    }
  }
  ReleasedPages released;
  for (const Mapping& m : mappings) {
    // A path starts with '/' for a file ("[heap]", "[stack]" and anonymous mappings do not).
    if (m.writable || m.anonymous_kib != 0 || m.rss_kib == 0 || m.path.empty() ||
        m.path.front() != '/' || !wanted(m.path)) {
      continue;
    }
    // An address the kernel printed: a pointer made from an integer is what it is.
    void* start = reinterpret_cast<void*>(m.start);  // NOLINT(performance-no-int-to-ptr)
    if (madvise(start, m.end - m.start, MADV_DONTNEED) == 0) {
      ++released.mappings;
      released.bytes += m.rss_kib * 1024;
    }
  }
  return released;
}

}  // namespace amata::base
