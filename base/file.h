// Reading a text file the user named (a policy, an include, a test or trace file) without
// ever blocking and without reading without end. A FIFO, /dev/zero, a terminal or a
// directory named by mistake must give an error at once, not hang `amatac check` or
// amatad's reload; a regular file is read up to a limit (kernel files such as /proc/...
// report size 0, so the limit is enforced while reading, not taken from fstat).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace amata::base {

/// The most a file amata reads as text may hold: 16 MiB. The largest example policy is a
/// few kilobytes; a file a thousand times larger than any policy a person writes is a
/// mistake (or an attack), and reading it whole must stay cheap.
inline constexpr std::size_t kMaxTextFileBytes = std::size_t{16} << 20;

/// The whole content of the regular file `path`, read with O_NONBLOCK (opening a FIFO never
/// waits for a writer) and refused unless fstat says it is a regular file. Errors:
/// "open PATH: <errno>", "PATH: not a regular file (a FIFO)", "PATH: larger than 16 MiB
/// (the limit for files amata reads)", "read PATH: <errno>".
Result<std::string> read_regular_file(const std::string& path,
                                      std::size_t limit = kMaxTextFileBytes);

/// "16 MiB", "512 KiB", "100 bytes": a size limit as a person writes it.
std::string describe_size(std::size_t bytes);

/// A size as an operator writes one on a command line: "4096" (bytes), "512K", "10M", "1G"
/// (powers of 1024; "KiB", "MB" and lower case too). An error says what is wrong.
Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace amata::base
