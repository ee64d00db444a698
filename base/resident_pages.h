// Giving back the resident pages of code that has done its work.
//
// amatad links LLVM (statically in the release build): compiling a policy touches some
// 25 MiB of its code, which then stays resident, counted in amatad's RSS, until the next
// reload needs it again. Those pages are clean copies of the file: dropping them from the
// process costs nothing but a minor fault (from the page cache) for a page used again.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "base/result.h"

namespace amata::base {

/// What release_file_pages() gave back.
struct ReleasedPages {
  std::size_t mappings = 0;  ///< mappings it dropped pages of
  std::size_t bytes = 0;     ///< their resident bytes before (the RSS it gave back)
};

/// Drops this process's resident pages of every file mapping whose path `wanted` accepts
/// and that holds nothing but the file's own content: not writable, no anonymous (written,
/// copied-on-write) page. Such pages come back from the page cache when touched again.
/// Errors: /proc/self/smaps unreadable.
Result<ReleasedPages> release_file_pages(const std::function<bool(std::string_view path)>& wanted);

}  // namespace amata::base
