#include "base/spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <vector>

#include "base/pidfd.h"
#include "base/priority.h"

namespace amata::base {
namespace {

/// The program execve will run: argv[0] itself when it has a '/', else the first executable
/// match in PATH. Resolved before the fork: the child may only make async-signal-safe calls.
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
  std::string fail_prefix;  // "amatad: cannot start /usr/bin/x: errno "
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  int report_fd = -1;         // close-on-exec: a failure before exec is written here
  bool to_background = true;  // moved to the background nice once it has exec'd
};

/// What the child writes to report_fd when it cannot exec.
struct StartFailure {
  int err;
  char step[28];
};

Result<Prepared> prepare(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) return Error{"empty argv"};
  Prepared p;
  p.to_background = !spec.caller_moves_to_background;
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
    // The reentrant look-ups: services are spawned on a thread of their own (base/spawner.h)
    // while the loop may spawn a hook.
    std::vector<char> buffer(std::size_t{16} * 1024);
    if (!spec.user.empty()) {
      passwd entry{};
      passwd* pw = nullptr;
      getpwnam_r(spec.user.c_str(), &entry, buffer.data(), buffer.size(), &pw);
      if (!pw) return Error{"unknown user '" + spec.user + "'"};
      p.uid = pw->pw_uid;
      p.gid = pw->pw_gid;
    }
    if (!spec.group.empty()) {
      group entry{};
      group* gr = nullptr;
      getgrnam_r(spec.group.c_str(), &entry, buffer.data(), buffer.size(), &gr);
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
  ssize_t to_stderr = write(STDERR_FILENO, buf, len);
  StartFailure failure{err, {}};
  for (std::size_t i = 0; step[i] != '\0' && i + 1 < sizeof failure.step; ++i) {
    failure.step[i] = step[i];
  }
  ssize_t to_parent = write(p.report_fd, &failure, sizeof failure);
  // Best effort: the child exits next and has nowhere else to report a failed write.
  (void)to_stderr;
  (void)to_parent;
  _exit(127);
}

/// The calling process's start time, field 22 of /proc/self/stat (0 when unreadable).
/// Async-signal-safe: the child reads it before its exec.
std::uint64_t own_start_ticks() {
  char buf[1024];
  const int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  // After the command name's last ')' come the state (field 3) and then, space-separated,
  // the fields up to starttime (22).
  ssize_t i = n - 1;
  while (i >= 0 && buf[i] != ')') --i;
  if (i < 0) return 0;
  int field = 2;
  for (++i; i < n && field < 22; ++i) {
    if (buf[i] == ' ') ++field;
  }
  std::uint64_t ticks = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    ticks = ticks * 10 + static_cast<std::uint64_t>(buf[i] - '0');
  }
  return ticks;
}

/// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const Prepared& p) {
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
  // The start time goes first on the report pipe, before any failure can be told there.
  // Read by the parent after this exec, it would wait for the exec to finish (/proc/PID/stat
  // takes a lock the exec holds), behind whatever else the machine runs. The pipe's buffer
  // holds it; a failed write leaves 0.
  const std::uint64_t ticks = own_start_ticks();
  ssize_t told = write(p.report_fd, &ticks, sizeof ticks);
  (void)told;
  setsid();  // own session and process group: a stop reaches its whole group
  if (dup2(p.stderr_fd, STDERR_FILENO) < 0) _exit(127);
  if (dup2(p.stdin_fd, STDIN_FILENO) < 0) child_fail(p, "dup2 stdin", errno);
  if (dup2(p.stdout_fd, STDOUT_FILENO) < 0) child_fail(p, "dup2 stdout", errno);
  if (chdir(p.workdir.c_str()) < 0) child_fail(p, "chdir", errno);
  if (p.change_ids) {
    if (setgroups(p.groups.size(), p.groups.data()) < 0 && getuid() == 0) {
      child_fail(p, "setgroups", errno);
    }
    if (setgid(p.gid) < 0) child_fail(p, "setgid", errno);
    if (setuid(p.uid) < 0) child_fail(p, "setuid", errno);
  }
  // Everything but the report pipe, which exec closes (O_CLOEXEC) when it succeeds.
  if (p.report_fd > 3) close_range(3, static_cast<unsigned>(p.report_fd) - 1, 0);
  close_range(static_cast<unsigned>(p.report_fd) + 1, ~0U, 0);
  execve(p.program.c_str(), p.argv.data(), p.envp.data());
  child_fail(p, "execve", errno);
}

int clone_child(void* arg) {
  exec_child(*static_cast<const Prepared*>(arg));
}

/// Without an id change the child shares amatad's memory until exec (CLONE_VM | CLONE_VFORK,
/// as posix_spawn does): no page tables are copied, which is most of the cost of fork() in a
/// process that maps libLLVM. Changing ids needs fork(): glibc's setuid() signals every
/// thread of the process, and a CLONE_VM child would reach amatad's.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// ASan cannot follow a CLONE_VM child's stack; TSan counts the child's steps as the parent
// thread's and then reports races that are not there.
constexpr bool kShareMemoryUntilExec = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kShareMemoryUntilExec = false;
#else
constexpr bool kShareMemoryUntilExec = true;
#endif
#else
constexpr bool kShareMemoryUntilExec = true;
#endif

pid_t start_child(const Prepared& p) {
  if (p.change_ids || !kShareMemoryUntilExec) {
    pid_t pid = fork();
    if (pid == 0) exec_child(p);
    return pid;
  }
  constexpr std::size_t kStack = std::size_t{256} * 1024;
  void* stack =
      mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return -1;
  // The parent resumes once the child has exec'd (or exited), so the stack is free again.
  pid_t pid = clone(clone_child, static_cast<char*>(stack) + kStack,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, const_cast<Prepared*>(&p));
  int err = errno;
  munmap(stack, kStack);
  errno = err;
  return pid;
}

Result<UniqueFd> open_fd(const char* path, int flags) {
  UniqueFd fd(open(path, flags | O_CLOEXEC, 0640));
  if (!fd) return errno_error(std::string("open ") + path, errno);
  return fd;
}

/// A pipe whose ends close on exec (the child gets its end through dup2, which clears that).
Status make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return errno_error("pipe2", errno);
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return {};
}

}  // namespace

Result<Spawned> spawn(const SpawnSpec& spec) {
  if (spec.stdin_text.size() > kMaxStdinText) return Error{"stdin text too long"};
  auto prepared = prepare(spec);
  if (!prepared) return prepared.error();
  Prepared& p = *prepared;

  UniqueFd stdin_read, stdin_write, stdout_read, stdout_write;
  if (spec.stdin_text.empty()) {
    auto null_in = open_fd("/dev/null", O_RDONLY);
    if (!null_in) return null_in.error();
    stdin_read = std::move(*null_in);
  } else if (Status s = make_pipe(stdin_read, stdin_write); !s) {
    return s.error();
  }
  auto log = spec.log_path.empty() ? open_fd("/dev/null", O_WRONLY)
                                   : open_fd(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND);
  if (!log) return log.error();
  if (spec.capture_stdout) {
    if (Status s = make_pipe(stdout_read, stdout_write); !s) return s.error();
  }
  UniqueFd report_read, report_write;
  if (Status s = make_pipe(report_read, report_write); !s) return s.error();
  p.report_fd = report_write.get();
  p.stdin_fd = stdin_read.get();
  p.stdout_fd = spec.capture_stdout ? stdout_write.get() : log->get();
  p.stderr_fd = log->get();

  pid_t pid = start_child(p);
  if (pid < 0) return errno_error("fork", errno);
  // Lowered by the parent, not by the child before its exec: the calling thread waits for that
  // exec (CLONE_VFORK), and a child already at its services' priority would queue behind them
  // in a storm of restarts. CLONE_VFORK returns once the child has its new memory, before execve
  // is done (the program still to map, the exec's locks still held), so the rest of the exec
  // runs at the background priority: see SpawnSpec::caller_moves_to_background.
  if (p.to_background) (void)move_to_background(pid);
  // The child has exec'd (the pipe closed without a word) or failed before it (the pipe says
  // why). With CLONE_VFORK it is already one or the other; after fork() this waits the
  // microseconds until exec.
  report_write.reset();
  std::uint64_t start_ticks = 0;
  ssize_t got = 0;
  do {
    got = read(report_read.get(), &start_ticks, sizeof start_ticks);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof start_ticks)) start_ticks = 0;
  StartFailure failure{};
  do {
    got = read(report_read.get(), &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  std::string start_failure;
  if (got == static_cast<ssize_t>(sizeof failure)) {
    failure.step[sizeof failure.step - 1] = '\0';
    start_failure = p.program + ": " + failure.step + ": " + strerror(failure.err);
  }
  // Our own unreaped child cannot be recycled, so opening its pidfd after the fork is safe.
  auto pidfd = open_pidfd(pid);
  if (!pidfd) {
    kill_and_reap(pid, -1);
    return pidfd.error();
  }
  if (stdin_write) {
    // It fits the pipe (kMaxStdinText): this write does not block.
    const std::string& text = spec.stdin_text;
    std::size_t off = 0;
    while (off < text.size()) {
      ssize_t n = write(stdin_write.get(), text.data() + off, text.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child closed its stdin: what it reads is its business
      off += static_cast<std::size_t>(n);
    }
  }
  if (stdout_read) fcntl(stdout_read.get(), F_SETFL, O_NONBLOCK);
  return Spawned{pid, std::move(*pidfd), std::move(stdout_read), std::move(start_failure),
                 start_ticks};
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

}  // namespace amata::base
