#include "engine/supervisor/left_running.h"

#include <dirent.h>
#include <signal.h>

#include <map>
#include <memory>

#include "base/file.h"
#include "base/pidfd.h"
#include "base/proc_stat.h"
#include "base/text.h"

namespace amata::supervisor {
namespace {

// A /proc file of a process that may end at any moment: read() then fails with ESRCH, which
// std::ifstream turns into an exception. Unreadable reads as empty: the entry is passed over.
std::string read_proc_file(const std::string& path) {
  auto text = base::read_regular_file(path);
  return text ? std::move(*text) : std::string();
}

struct Marked {
  std::string service;
  pid_t ppid = 0;
  std::uint64_t start_ticks = 0;
};

}  // namespace

std::string_view environment_value(std::string_view block, std::string_view name) {
  while (!block.empty()) {
    std::size_t end = block.find('\0');
    std::string_view entry = block.substr(0, end);
    if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
        entry[name.size()] == '=') {
      return entry.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    block.remove_prefix(end + 1);
  }
  return {};
}

std::vector<LeftRunning> find_left_running(const std::string& owner, const std::string& proc_root) {
  std::map<pid_t, Marked> marked;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(proc_root.c_str()), closedir);
  if (!dir) return {};
  while (dirent* entry = readdir(dir.get())) {
    auto pid = base::parse_number<pid_t>(entry->d_name);
    if (!pid || *pid <= 0) continue;
    const std::string base_path = proc_root + "/" + entry->d_name;
    std::string text = read_proc_file(base_path + "/stat");
    auto stat = base::parse_pid_stat(text);
    // Services lead their own session; zombies have ended.
    if (!stat || stat->session != *pid || stat->state == 'Z' || stat->state == 'X') continue;
    std::string environ = read_proc_file(base_path + "/environ");
    if (environment_value(environ, kSupervisorVariable) != owner) continue;
    std::string_view service = environment_value(environ, kServiceVariable);
    if (service.empty()) continue;
    marked[*pid] = Marked{std::string(service), stat->ppid, stat->starttime};
  }
  std::vector<LeftRunning> found;
  for (const auto& [pid, m] : marked) {
    if (marked.count(m.ppid)) continue;  // a child of a service, in a session of its own
    found.push_back(LeftRunning{m.service, pid, m.start_ticks});
  }
  return found;
}

Status end_copy(const LeftRunning& copy) {
  auto pidfd = base::open_pidfd(copy.pid);
  if (!pidfd) return pidfd.error();
  auto ticks = base::process_start_time(copy.pid);
  if (!ticks || *ticks != copy.start_ticks) return Error{"no longer running"};
  // Held by the pidfd and checked alive, the leader's pid still names its group.
  kill(-copy.pid, SIGKILL);
  return base::pidfd_signal(pidfd->get(), SIGKILL);
}

}  // namespace amata::supervisor
