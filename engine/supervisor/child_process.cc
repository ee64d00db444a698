#include "engine/supervisor/child_process.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char** environ;

namespace amata::engine {
namespace {

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

/// The program execve will run: argv[0] itself when it has a '/', else the first executable
/// match in PATH. Resolved before fork, because the child may only make async-signal-safe calls.
std::string resolve_program(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve fails with ENOENT and the child reports it
}

/// Writes the decimal `value` into `out` (async-signal-safe), returns the length.
std::size_t format_int(int value, char* out) {
  char tmp[16];
  std::size_t n = 0;
  unsigned v = value < 0 ? static_cast<unsigned>(-value) : static_cast<unsigned>(value);
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < sizeof tmp);
  std::size_t len = 0;
  if (value < 0) out[len++] = '-';
  while (n > 0) out[len++] = tmp[--n];
  return len;
}

/// Everything the child needs, prepared in the parent.
struct Prepared {
  std::string program;
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;
  std::string workdir;
  bool change_ids = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string fail_prefix;  // "amatad: exec /usr/bin/x failed, errno "
};

Result<Prepared> prepare(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Error{"empty argv"};
  Prepared p;
  p.argv_storage = spec.argv;
  p.env_storage = spec.env;
  p.program = resolve_program(spec.argv[0], spec.env);
  for (auto& a : p.argv_storage) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : p.env_storage) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  p.workdir = spec.workdir.empty() ? "/" : spec.workdir;
  if (!spec.user.empty() || !spec.group.empty()) {
    p.change_ids = true;
    p.uid = getuid();
    p.gid = getgid();
    if (!spec.user.empty()) {
      errno = 0;
      passwd* pw = getpwnam(spec.user.c_str());
      if (!pw) return Error{"unknown user '" + spec.user + "'"};
      p.uid = pw->pw_uid;
      p.gid = pw->pw_gid;
    }
    if (!spec.group.empty()) {
      group* gr = getgrnam(spec.group.c_str());
      if (!gr) return Error{"unknown group '" + spec.group + "'"};
      p.gid = gr->gr_gid;
    }
    p.groups.push_back(p.gid);
    if (!spec.user.empty()) {
      int n = 64;
      std::vector<gid_t> list(static_cast<std::size_t>(n));
      if (getgrouplist(spec.user.c_str(), p.gid, list.data(), &n) < 0) {
        list.resize(static_cast<std::size_t>(n));
        getgrouplist(spec.user.c_str(), p.gid, list.data(), &n);
      }
      list.resize(static_cast<std::size_t>(n));
      p.groups = list;
    }
  }
  p.fail_prefix = "amatad: cannot start " + p.program + ": errno ";
  return p;
}

[[noreturn]] void child_fail(const Prepared& p, const char* step, int err) {
  char buf[512];
  std::size_t len = 0;
  auto append = [&](const char* s, std::size_t n) {
    for (std::size_t i = 0; i < n && len < sizeof buf - 1; ++i) buf[len++] = s[i];
  };
  append(p.fail_prefix.data(), p.fail_prefix.size());
  char num[16];
  append(num, format_int(err, num));
  append(" in ", 4);
  append(step, strlen(step));
  append("\n", 1);
  ssize_t ignored = write(STDERR_FILENO, buf, len);
  (void)ignored;
  _exit(127);
}

/// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const Prepared& p, int stdin_fd, int log_fd) {
  // The loop blocks the signals it reads through signalfd; a blocked mask is inherited
  // across exec, and a service with SIGTERM blocked could not be stopped.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  }
  setsid();  // own session and process group: a stop reaches its whole group
  if (dup2(stdin_fd, STDIN_FILENO) < 0) child_fail(p, "dup2 stdin", errno);
  if (dup2(log_fd, STDOUT_FILENO) < 0) child_fail(p, "dup2 stdout", errno);
  if (dup2(log_fd, STDERR_FILENO) < 0) _exit(127);
  if (chdir(p.workdir.c_str()) < 0) child_fail(p, "chdir", errno);
  if (p.change_ids) {
    if (setgroups(p.groups.size(), p.groups.data()) < 0 && getuid() == 0) {
      child_fail(p, "setgroups", errno);
    }
    if (setgid(p.gid) < 0) child_fail(p, "setgid", errno);
    if (setuid(p.uid) < 0) child_fail(p, "setuid", errno);
  }
  close_range(3, ~0U, 0);
  execve(p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(p, "execve", errno);
}

struct CloneArgs {
  const Prepared* prepared;
  int stdin_fd, log_fd;
};

int clone_child(void* arg) {
  auto* a = static_cast<CloneArgs*>(arg);
  exec_child(*a->prepared, a->stdin_fd, a->log_fd);
}

/// Starts the child. Without an id change it shares amatad's memory until exec
/// (CLONE_VM | CLONE_VFORK, as posix_spawn does): no page tables are copied, which is most of
/// the cost of fork() in a process that maps libLLVM. Changing ids needs fork(): glibc's
/// setuid() signals every thread of the process, and a CLONE_VM child would reach amatad's.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kShareMemoryUntilExec = false;  // ASan cannot follow a CLONE_VM child's stack
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kShareMemoryUntilExec = false;
#else
constexpr bool kShareMemoryUntilExec = true;
#endif
#else
constexpr bool kShareMemoryUntilExec = true;
#endif

pid_t start_child(const Prepared& p, int stdin_fd, int log_fd) {
  if (p.change_ids || !kShareMemoryUntilExec) {
    pid_t pid = fork();
    if (pid == 0) exec_child(p, stdin_fd, log_fd);
    return pid;
  }
  constexpr std::size_t kStack = 256 * 1024;
  void* stack =
      mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  CloneArgs args{&p, stdin_fd, log_fd};
  // The parent resumes once the child has exec'd (or exited), so the stack is free again.
  pid_t pid = clone(clone_child, static_cast<char*>(stack) + kStack,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int err = errno;
  munmap(stack, kStack);
  errno = err;
  return pid;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (!known) return "ended (status unknown)";
  if (signaled) {
    const char* name = sigabbrev_np(signal);
    return std::string("killed by ") + (name ? std::string("SIG") + name : std::to_string(signal));
  }
  return "exited " + std::to_string(exit_code);
}

Result<unsigned long long> process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return Error{"no process " + std::to_string(pid)};
  // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return Error{"malformed /proc/" + std::to_string(pid) + "/stat"};
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // Fields 3..22; the state (field 3) comes first.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return Error{"short /proc/" + std::to_string(pid) + "/stat"};
    if (i == 3 && field == "Z") return Error{"process " + std::to_string(pid) + " is a zombie"};
  }
  return std::stoull(field);
}

std::vector<std::string> current_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  return env;
}

std::vector<std::string> merge_environment(
    std::vector<std::string> base,
    const std::vector<std::pair<std::string, std::string>>& overrides) {
  for (const auto& [name, value] : overrides) {
    std::string prefix = name + "=";
    bool replaced = false;
    for (auto& e : base) {
      if (e.rfind(prefix, 0) == 0) {
        e = prefix + value;
        replaced = true;
      }
    }
    if (!replaced) base.push_back(prefix + value);
  }
  return base;
}

ChildSet::~ChildSet() {
  release_all();
}

void ChildSet::release_all() {
  for (auto& [pid, child] : children_) {
    loop_.unwatch(child.pidfd);
    close(child.pidfd);
  }
  children_.clear();
}

void ChildSet::kill_all() {
  for (auto& [pid, child] : children_) {
    loop_.unwatch(child.pidfd);
    if (child.ours) {
      // A child that has not reached setsid() yet has no group of its own: kill it alone.
      if (kill(-pid, SIGKILL) < 0) pidfd_send_signal(child.pidfd, SIGKILL);
      siginfo_t info;
      waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd), &info, WEXITED);
    } else {
      pidfd_send_signal(child.pidfd, SIGKILL);
    }
    close(child.pidfd);
  }
  children_.clear();
}

Result<pid_t> ChildSet::spawn(const SpawnSpec& spec, ExitCallback on_exit) {
  auto prepared = prepare(spec);
  if (!prepared) return prepared.error();
  int stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (stdin_fd < 0) return errno_error("open /dev/null", errno);
  int log_fd = spec.log_path.empty()
                   ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                   : open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    int err = errno;
    close(stdin_fd);
    return errno_error("open " + spec.log_path, err);
  }
  pid_t pid = start_child(*prepared, stdin_fd, log_fd);
  int fork_errno = errno;
  close(stdin_fd);
  close(log_fd);
  if (pid < 0) return errno_error("fork", fork_errno);
  // Our own unreaped child cannot be recycled, so opening its pidfd after fork is race-free.
  int pidfd = pidfd_open(pid);
  if (pidfd < 0) {
    int err = errno;
    kill(pid, SIGKILL);
    siginfo_t info;
    waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED);
    return errno_error("pidfd_open", err);
  }
  if (Status s = watch_child(pid, pidfd, true, std::move(on_exit)); !s) {
    pidfd_send_signal(pidfd, SIGKILL);
    siginfo_t info;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED);
    close(pidfd);
    return s.error();
  }
  return pid;
}

Status ChildSet::adopt(pid_t pid, ExitCallback on_exit) {
  int pidfd = pidfd_open(pid);
  if (pidfd < 0) return errno_error("pidfd_open " + std::to_string(pid), errno);
  if (Status s = watch_child(pid, pidfd, false, std::move(on_exit)); !s) {
    close(pidfd);
    return s;
  }
  return {};
}

Status ChildSet::watch_child(pid_t pid, int pidfd, bool ours, ExitCallback on_exit) {
  if (Status s = loop_.watch(pidfd, EPOLLIN, [this, pid](std::uint32_t) { on_pidfd_ready(pid); });
      !s) {
    return s;
  }
  children_[pid] = Child{pidfd, ours, std::move(on_exit)};
  return {};
}

void ChildSet::on_pidfd_ready(pid_t pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  Child& child = it->second;
  ExitStatus status;
  if (child.ours) {
    // The exited leader is a zombie until reaped, so its pid (= the group id) cannot be
    // reused yet: now is the one safe moment to kill whatever it left in its group.
    kill(-pid, SIGKILL);
    siginfo_t info{};
    if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd), &info,
               WEXITED | WNOHANG) < 0) {
      status.known = false;
    } else if (info.si_pid == 0) {
      return;  // not ended yet (spurious wake-up)
    } else if (info.si_code == CLD_EXITED) {
      status.exit_code = info.si_status;
    } else {
      status.signaled = true;
      status.signal = info.si_status;
      status.exit_code = -1;
    }
  } else {
    status.known = false;
  }
  loop_.unwatch(child.pidfd);
  close(child.pidfd);
  ExitCallback callback = std::move(child.on_exit);
  children_.erase(it);
  if (callback) callback(pid, status);
}

Status ChildSet::signal_group(pid_t pid, int sig) {
  auto it = children_.find(pid);
  if (it == children_.end()) return Error{"no child " + std::to_string(pid)};
  // A group id is the leader's pid; while we hold the leader unreaped (our child) it cannot
  // name another group. An adopted leader is checked alive through its pidfd first.
  if (!it->second.ours && pidfd_send_signal(it->second.pidfd, 0) < 0) {
    return errno_error("signal " + std::to_string(pid), errno);
  }
  if (kill(-pid, sig) < 0) {
    // Not a group leader (an adopted process that changed group): the process alone.
    return signal_process(pid, sig);
  }
  return {};
}

Status ChildSet::signal_process(pid_t pid, int sig) {
  auto it = children_.find(pid);
  if (it == children_.end()) return Error{"no child " + std::to_string(pid)};
  if (pidfd_send_signal(it->second.pidfd, sig) < 0) {
    return errno_error("signal " + std::to_string(pid), errno);
  }
  return {};
}

}  // namespace amata::engine
