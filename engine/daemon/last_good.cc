#include "engine/daemon/last_good.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <system_error>

#include "base/priority.h"
#include "base/signal_free_thread.h"
#include "base/unique_fd.h"

namespace amata::daemon {
namespace {

namespace fs = std::filesystem;

/// Where `path`'s copy goes under `root`: its absolute, normalised path below it.
fs::path below(const fs::path& root, const std::string& path) {
  return root / fs::absolute(path).lexically_normal().relative_path();
}

Status write_file(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Error{"create " + path.parent_path().string() + ": " + ec.message()};
  base::UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error{"create " + path.string() + ": " + std::strerror(errno)};
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"write " + path.string() + ": " + std::strerror(errno)};
    done += static_cast<std::size_t>(n);
  }
  if (fsync(fd.get()) < 0) return Error{"sync " + path.string() + ": " + std::strerror(errno)};
  return {};
}

/// A directory's entries on disk: a file's own fsync does not make the name that points at
/// it durable, nor does a rename until its directory is synced.
Status sync_dir(const fs::path& dir) {
  base::UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || fsync(fd.get()) < 0)
    return Error{"sync " + dir.string() + ": " + std::strerror(errno)};
  return {};
}

/// Every directory of the tree at `root`, and `root` itself.
Status sync_tree(const fs::path& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (Status s = sync_dir(it->path()); !s) return s;
  }
  if (ec) return Error{"walk " + root.string() + ": " + ec.message()};
  return sync_dir(root);
}

}  // namespace

Status keep_last_good(const std::string& state_dir, const lower::LoadedPolicy& loaded) {
  if (loaded.sources.empty()) return {};
  const fs::path kept = fs::path(state_dir) / "last-good";
  const fs::path next = fs::path(state_dir) / "last-good.new";
  const fs::path old = fs::path(state_dir) / "last-good.old";
  std::error_code ec;
  fs::remove_all(next, ec);
  for (const auto& [path, text] : loaded.sources) {
    if (Status s = write_file(below(next, path), text); !s) {
      fs::remove_all(next, ec);
      return s;
    }
  }
  if (Status s = sync_tree(next); !s) {
    fs::remove_all(next, ec);
    return s;
  }
  // The new copy complete before the old one goes: at any moment one whole copy exists
  // (last-good, or last-good.old while they swap; a start finds either).
  fs::remove_all(old, ec);
  fs::rename(kept, old, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Error{"keep " + kept.string() + ": " + ec.message()};
  }
  fs::rename(next, kept, ec);
  if (ec) return Error{"keep " + kept.string() + ": " + ec.message()};
  fs::remove_all(old, ec);
  return sync_dir(state_dir);
}

PolicyKeeper::PolicyKeeper(std::string state_dir) : state_dir_(std::move(state_dir)) {
  thread_ = base::start_signal_free_thread([this] { run(); });
}

PolicyKeeper::~PolicyKeeper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PolicyKeeper::keep(const lower::LoadedPolicy& loaded) {
  if (loaded.sources.empty()) return;
  lower::LoadedPolicy sources_only;
  sources_only.file = loaded.file;
  sources_only.sources = loaded.sources;
  {
    std::lock_guard lock(mutex_);
    pending_ = std::move(sources_only);
  }
  wake_.notify_all();
}

void PolicyKeeper::run() {
  base::move_this_thread_to_background();  // file copies and fsyncs can wait for the loop
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || pending_; });
    if (!pending_) return;  // stopping, nothing left to write
    lower::LoadedPolicy next = std::move(*pending_);
    pending_.reset();
    lock.unlock();
    try {
      if (Status s = keep_last_good(state_dir_, next); !s) {
        spdlog::warn("cannot keep the policy as the last that loaded: {}", s.error().message);
      }
    } catch (const std::exception& e) {  // out of memory: this copy is lost, not amatad
      spdlog::warn("cannot keep the policy as the last that loaded: {}", e.what());
    }
    lock.lock();
  }
}

std::optional<std::string> last_good_copy(const std::string& state_dir,
                                          const std::string& policy_path) {
  for (const char* dir : {"last-good", "last-good.old"}) {
    const fs::path copy = below(fs::path(state_dir) / dir, policy_path);
    std::error_code ec;
    if (fs::is_regular_file(copy, ec)) return copy.string();
  }
  return std::nullopt;
}

}  // namespace amata::daemon
