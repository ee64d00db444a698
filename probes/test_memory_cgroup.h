// A memory cgroup of a test's own with a hard limit, so that a real OOM kill can be caused
// without putting the machine under pressure: cgroup v2, or v1's memory controller. Test-only.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace amata::probes {

class TestMemoryCgroup {
 public:
  /// Makes PARENT/amata-oom-test-PID under this process's own memory cgroup, limited to
  /// `limit_bytes` (swap included where the kernel can). path() is empty, and why() says why,
  /// when there is no writable memory controller.
  explicit TestMemoryCgroup(unsigned long limit_bytes) {
    const std::string parent = own_memory_cgroup();
    if (parent.empty()) {
      why_ = "no memory cgroup controller";
      return;
    }
    const std::string dir = parent + "/amata-oom-test-" + std::to_string(getpid());
    if (mkdir(dir.c_str(), 0755) != 0) {
      why_ = "cannot make " + dir + ": " + std::strerror(errno);
      return;
    }
    const std::string limit = std::to_string(limit_bytes);
    const bool v1 = dir.starts_with("/sys/fs/cgroup/memory/");
    if (!write(dir + (v1 ? "/memory.limit_in_bytes" : "/memory.max"), limit)) {
      why_ = "cannot limit " + dir;
      rmdir(dir.c_str());
      return;
    }
    // No escape into swap; not every kernel accounts swap, so this one may fail.
    (void)write(dir + (v1 ? "/memory.memsw.limit_in_bytes" : "/memory.swap.max"), v1 ? limit : "0");
    path_ = dir;
  }
  ~TestMemoryCgroup() {
    if (!path_.empty()) rmdir(path_.c_str());  // empty once its processes are gone
  }
  TestMemoryCgroup(const TestMemoryCgroup&) = delete;
  TestMemoryCgroup& operator=(const TestMemoryCgroup&) = delete;

  const std::string& path() const { return path_; }
  const std::string& why() const { return why_; }

  static bool write(const std::string& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    out.flush();
    return static_cast<bool>(out);
  }

 private:
  /// The memory controller's directory of this process's cgroup, v1 or v2; empty if none.
  static std::string own_memory_cgroup() {
    std::ifstream in("/proc/self/cgroup");
    std::string line, v2;
    while (std::getline(in, line)) {
      const auto a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (controllers == "memory") return "/sys/fs/cgroup/memory" + path;
      if (controllers.empty()) v2 = path;
    }
    for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
      std::string dir = std::string(root) + v2;
      std::ifstream controllers(dir + "/cgroup.controllers");
      std::string words;
      std::getline(controllers, words);
      if (words.find("memory") != std::string::npos) return dir;
    }
    return "";
  }

  std::string path_, why_;
};

}  // namespace amata::probes
