// Reading sysfs trees for the hardware probes: directory listings, small attribute files and
// symlinks while a probe resolves what it measures (allocates; done once, or while the
// hardware is missing), and kept-open numeric attributes while it polls (allocates nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "probes/procfs.h"

namespace amata::probes {

/// The entries of a directory (without . and ..) in natural order, "hwmon2" before
/// "hwmon10", so that which of two equal candidates wins does not depend on the filesystem's
/// listing order. Empty when the directory cannot be read.
std::vector<std::string> list_directory(const std::string& path);

/// The trimmed text of a small attribute file; nullopt when it cannot be read.
std::optional<std::string> read_attribute(const std::string& path);

/// The last component of a symlink's target ("coretemp.0" for a `device` link); empty when
/// `path` is not a symlink.
std::string link_basename(const std::string& path);

bool path_exists(const std::string& path);

/// Whether kept-open attribute `file`, whose read just failed, is gone for good: its `path` is
/// missing, or names another file now — the device was removed and created again within one
/// poll (`mdadm --stop` then `--assemble`, a driver reloaded, a chip re-registered under the
/// same hwmonN), and the old fd fails with ENODEV for ever. A file that is there but reads
/// garbage is not gone.
bool went_away(const ProcFile& file, const std::string& path);

/// Opens `path` as a kept-open attribute (a small buffer: sysfs values are a few bytes);
/// a closed ProcFile when it does not exist.
ProcFile open_attribute(const std::string& path);

/// A kept-open numeric attribute's value; nullopt when it is closed, cannot be read (the
/// device went away: sysfs then fails with ENODEV) or does not hold a number.
std::optional<std::int64_t> read_int(ProcFile& file);

}  // namespace amata::probes
