#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>

#include "base/unique_fd.h"

namespace amata::base {
namespace {

/// What a file that is not a regular file is, for the error message.
const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

}  // namespace

std::string describe_size(std::size_t bytes) {
  if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0) {
    return std::to_string(bytes >> 20) + " MiB";
  }
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

Result<std::uint64_t> parse_size(std::string_view text) {
  const std::string shown(text);
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) {
    return Error{"'" + shown + "' is not a size (512K, 10M, 1G or bytes)"};
  }
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K" || unit == "KB" || unit == "KIB") {
    shift = 10;
  } else if (unit == "M" || unit == "MB" || unit == "MIB") {
    shift = 20;
  } else if (unit == "G" || unit == "GB" || unit == "GIB") {
    shift = 30;
  } else {
    return Error{"'" + shown + "': unknown unit (K, M or G)"};
  }
  if (value > (UINT64_MAX >> shift)) return Error{"'" + shown + "' is too large"};
  return value << shift;
}

Result<std::string> read_regular_file(const std::string& path, std::size_t limit) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever.
  // O_NOCTTY: a terminal named by mistake must not become our controlling terminal.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return errno_error("open " + path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return errno_error("stat " + path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Error{path + ": not a regular file (" + file_type(st.st_mode) + ")"};
  }
  const auto too_large = [&] {
    return Error{path + ": larger than " + describe_size(limit) +
                 " (the limit for files amata reads)"};
  };
  if (static_cast<unsigned long long>(st.st_size) > limit) return too_large();
  std::string text;
  // st_size is a hint only (files under /proc say 0): read until EOF or one byte past the
  // limit, whichever comes first.
  text.resize(std::min<std::size_t>(static_cast<std::size_t>(st.st_size), limit) + 1);
  std::size_t have = 0;
  while (true) {
    if (have == text.size()) {
      if (have > limit) return too_large();
      text.resize(std::min(limit + 1, std::max<std::size_t>(have * 2, 4096)));
    }
    const ssize_t n = ::read(fd.get(), text.data() + have, text.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("read " + path, errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
  }
  if (have > limit) return too_large();
  text.resize(have);
  return text;
}

}  // namespace amata::base
