#include "base/log_rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace amata::base {
namespace {

Error failed(const std::string& what, const std::string& path) {
  return Error{what + " " + path + ": " + std::strerror(errno)};
}

std::string generation(const std::string& path, int n) {
  return path + "." + std::to_string(n);
}

/// Copies `from` to its end (the end as it is while copying: a writer may still be adding),
/// in the kernel where the filesystem can, else through a buffer.
Result<void> copy_all(int from, int to, const std::string& path) {
  bool in_kernel = true;
  std::array<char, 1 << 16> buffer{};
  while (true) {
    ssize_t n = 0;
    if (in_kernel) {
      n = copy_file_range(from, nullptr, to, nullptr, std::size_t{1} << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        in_kernel = false;
        continue;
      }
    } else {
      n = read(from, buffer.data(), buffer.size());
      for (ssize_t done = 0; n > 0 && done < n;) {
        ssize_t w = write(to, buffer.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno != EINTR) return failed("write copy of", path);
        if (w > 0) done += w;
      }
    }
    if (n == 0) return {};
    if (n < 0 && errno != EINTR) return failed("copy", path);
  }
}

}  // namespace

Result<bool> rotate_if_larger(const std::string& path, std::uint64_t max_bytes, int keep) {
  // Looked at before it is opened: a service may log to /dev/console, which amatad must not
  // open (without a controlling terminal, opening a terminal would make it amatad's).
  struct stat st {};
  if (lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return false;
    return failed("stat", path);
  }
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  if (static_cast<std::uint64_t>(st.st_size) <= max_bytes) return false;
  UniqueFd log(open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!log) {
    if (errno == ENOENT) return false;
    return failed("open", path);
  }
  if (fstat(log.get(), &st) < 0) return failed("stat", path);
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};

  if (keep > 0) {
    if (unlink(generation(path, keep).c_str()) < 0 && errno != ENOENT) {
      return failed("remove", generation(path, keep));
    }
    for (int n = keep - 1; n >= 1; --n) {
      if (rename(generation(path, n).c_str(), generation(path, n + 1).c_str()) < 0 &&
          errno != ENOENT) {
        return failed("rename", generation(path, n));
      }
    }
    const std::string first = generation(path, 1);
    UniqueFd copy(open(first.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       st.st_mode & 07777));
    if (!copy) return failed("create", first);
    // Owner and mode of the original: a service's log may be readable by its group.
    if (fchown(copy.get(), st.st_uid, st.st_gid) < 0 && errno != EPERM) {
      return failed("chown", first);
    }
    if (fchmod(copy.get(), st.st_mode & 07777) < 0) return failed("chmod", first);
    if (auto copied = copy_all(log.get(), copy.get(), path); !copied) {
      // A full disk is when rotation matters most: the log is emptied all the same (losing
      // old output beats filling the disk), the partial copy removed, and the error says so.
      unlink(first.c_str());
      if (ftruncate(log.get(), 0) < 0) return failed("truncate", path);
      return Error{copied.error().message + "; " + path + " emptied without a copy"};
    }
  }
  if (ftruncate(log.get(), 0) < 0) return failed("truncate", path);
  return true;
}

}  // namespace amata::base
