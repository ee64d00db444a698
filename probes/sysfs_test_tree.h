// Test-only: a fixture sys tree copied to a fresh directory under /tmp (symlinks kept as
// links), so a test can change files between polls the way the kernel would. Removed when the
// test ends, however it ends.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/event_loop.h"
#include "probes/probe_context.h"

namespace amata::probes {

class SysTreeCopy {
 public:
  /// Copies `fixture` (relative to the source tree, as the tests run there); an empty tree
  /// when `fixture` is empty.
  explicit SysTreeCopy(const std::string& fixture = {}) {
    char tmpl[] = "/tmp/amata-sys-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    root_ = tmpl;
    if (!fixture.empty()) {
      std::filesystem::copy(
          fixture, root_,
          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    }
  }
  ~SysTreeCopy() {
    std::error_code ignored;
    if (!root_.empty()) std::filesystem::remove_all(root_, ignored);
  }
  SysTreeCopy(const SysTreeCopy&) = delete;
  SysTreeCopy& operator=(const SysTreeCopy&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& relative) const { return root_ + "/" + relative; }

  /// Rewrites a file in place (same inode, as sysfs shows a new value in the same file).
  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(path(relative)).parent_path());
    std::ofstream(path(relative), std::ios::trunc) << text;
  }
  void remove(const std::string& relative) const { std::filesystem::remove_all(path(relative)); }
  /// Copies a subtree of another fixture into this one (hardware that appears later).
  void copy_from(const std::string& fixture_root, const std::string& relative) const {
    std::filesystem::create_directories(std::filesystem::path(path(relative)).parent_path());
    std::filesystem::copy(
        fixture_root + "/" + relative, path(relative),
        std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
  }

 private:
  std::string root_;
};

/// A loop and a probe context whose sys root is `sys_root`.
struct ProbeHarness {
  explicit ProbeHarness(MeasurementSink& sink, const std::string& sys_root)
      : loop(base::EventLoop::create().value()), ctx{*loop, sink, options(sys_root)} {}
  static ProbeOptions options(const std::string& sys_root) {
    ProbeOptions o;
    o.sys_root = sys_root;
    o.use_proc_connector = false;
    o.use_rtnetlink = false;
    return o;
  }
  std::unique_ptr<base::EventLoop> loop;
  ProbeContext ctx;
};

}  // namespace amata::probes
