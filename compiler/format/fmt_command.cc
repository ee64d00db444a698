#include "compiler/format/fmt_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "base/file.h"
#include "compiler/diag/printer.h"
#include "compiler/format/format.h"
#include "compiler/format/line_diff.h"

namespace amata::format {
namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

/// Replaces `path` by `text` so that a reader sees the old file or the new one, never half
/// of it: a temporary file beside it, with its mode, synced, then renamed over it.
bool replace_file(const std::string& path, const std::string& text, std::string& error) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    error = errno_text("stat " + path);
    return false;
  }
  std::string tmp = path + ".fmt-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) {
    error = errno_text("create a file beside " + path);
    return false;
  }
  bool ok = fchmod(fd, st.st_mode & 07777) == 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && fsync(fd) == 0;
  if (!ok) error = errno_text("write " + tmp);
  close(fd);
  if (ok && rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno_text("rename " + tmp + " to " + path);
    ok = false;
  }
  if (!ok) unlink(tmp.c_str());
  return ok;
}

}  // namespace

int run_fmt(const FmtOptions& options, std::istream& in, std::ostream& out, std::ostream& err) {
  int rc = 0;
  for (const std::string& path : options.files) {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    ast::FileId id = 0;
    if (path == "-") {
      id = sources.add("<stdin>", std::string(std::istreambuf_iterator<char>(in), {}));
    } else {
      auto loaded = sources.load(path);
      if (!loaded.ok()) {
        err << "amatac fmt: " << loaded.error().message << "\n";
        rc = 2;
        continue;
      }
      id = *loaded;
    }
    const std::string& text = sources.file(id).text;
    auto formatted = format_file(sources, id, diags);
    if (!formatted) {
      diag::print_text(err, diags.sorted(), sources);
      rc = std::max(rc, 1);
      continue;
    }
    if (options.check) {
      if (*formatted != text) {
        out << unified_diff(text, *formatted, path, path + " (formatted)");
        rc = std::max(rc, 1);
      }
    } else if (options.write && path != "-") {
      std::string error;
      if (*formatted != text && !replace_file(path, *formatted, error)) {
        err << "amatac fmt: " << error << "\n";
        rc = 2;
      }
    } else {
      out << *formatted;
    }
  }
  return rc;
}

}  // namespace amata::format
