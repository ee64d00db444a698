#include "engine/daemon/log_rotator.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <filesystem>
#include <system_error>

#include "base/log_rotation.h"
#include "base/priority.h"
#include "base/signal_free_thread.h"

namespace amata::daemon {

LogRotator::LogRotator(Options options) : options_(std::move(options)) {
  if (options_.max_bytes == 0) return;
  thread_ = base::start_signal_free_thread([this] { run(); });
}

LogRotator::~LogRotator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LogRotator::set_files(std::vector<std::string> files) {
  std::lock_guard lock(mutex_);
  extra_ = std::move(files);
}

std::vector<std::string> LogRotator::files() const {
  std::vector<std::string> out;
  std::error_code ec;
  // Error codes, not exceptions, all the way: an exception escaping this thread would end
  // amatad (std::terminate).
  for (std::filesystem::directory_iterator it(options_.dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() == ".log") out.push_back(it->path().string());
  }
  std::lock_guard lock(mutex_);
  for (const auto& f : extra_) {
    // A service may log to a terminal or a FIFO (its `log "/dev/console"`): not a file to
    // rotate, and not an error either.
    const auto status = std::filesystem::symlink_status(f, ec);
    if (!ec && status.type() != std::filesystem::file_type::regular) continue;
    if (std::filesystem::path(f).parent_path() != options_.dir) out.push_back(f);
  }
  return out;
}

void LogRotator::rotate_now() {
  if (options_.max_bytes == 0) return;
  for (const auto& file : files()) {
    auto rotated = base::rotate_if_larger(file, options_.max_bytes, options_.keep);
    std::lock_guard lock(mutex_);
    if (!rotated) {
      if (failing_.insert(file).second) {
        spdlog::error("log rotation: {}", rotated.error().message);
      }
      continue;
    }
    if (*rotated) {
      failing_.erase(file);
      spdlog::debug("log rotation: {} over {} bytes, rotated", file, options_.max_bytes);
    }
  }
}

void LogRotator::run() {
  base::move_this_thread_to_background();  // file copies and fsyncs can wait for the loop
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.period, [this] { return stopping_; })) {
    lock.unlock();
    try {
      rotate_now();
    } catch (const std::exception& e) {  // out of memory, say: this pass is lost, not amatad
      spdlog::error("log rotation: {}", e.what());
    }
    lock.lock();
  }
}

}  // namespace amata::daemon
