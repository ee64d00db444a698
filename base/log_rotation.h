// Size-bounded rotation of a log that other processes are writing: the services' output, which
// they hold open as their stdout and stderr (O_APPEND), whoever started them.
//
// Copy, then truncate — not rename: a renamed file keeps its writers, who would go on filling
// it unseen, and a service cannot be told to reopen its stdout. After the truncate, an
// O_APPEND writer's next write lands at the new end, offset 0. What is written between the
// end of the copy and the truncate (microseconds) is lost; that is the price of not being in
// the services' data path, where amatad's death would block or kill them.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"

namespace amata::base {

/// When the regular file `path` holds more than `max_bytes`: PATH.1 .. PATH.(keep-1) become
/// PATH.2 .. PATH.keep (the oldest dropped), PATH is copied to PATH.1 (same mode and owner)
/// and truncated. `keep` 0 only truncates. True when it rotated; false when `path` is within
/// its bound or does not exist. An error names the step and the file.
Result<bool> rotate_if_larger(const std::string& path, std::uint64_t max_bytes, int keep);

}  // namespace amata::base
