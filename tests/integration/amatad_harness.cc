#include "tests/integration/amatad_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef AMATAD_PATH
#error "AMATAD_PATH must name the amatad binary"
#endif

namespace amata::itest {

std::string sleeper_service(const std::string& name, const std::string& extra) {
  return "service " + name + " {\n  start \"/bin/sh\" \"-c\" \"echo $$ > @DIR@/" + name +
         ".pid.tmp && mv @DIR@/" + name + ".pid.tmp @DIR@/" + name +
         ".pid; exec sleep 1000\"\n  stop TERM then KILL after 2s\n" + extra + "}\n";
}
namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

/// Field `n` (1-based, as in proc(5)) of /proc/PID/stat, "" if the process is gone.
std::string stat_field(pid_t pid, int n) {
  std::string line = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = line.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  for (int i = 3; i <= n; ++i) {
    if (!(rest >> field)) return "";
  }
  return field;
}

pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            int out_fd, int err_fd) {
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  for (const auto& e : extra_env) env_storage.push_back(e);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0].c_str(), args.data(), envp.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  std::string state = stat_field(pid, 3);
  return !state.empty() && state != "Z" && state != "X";
}

std::vector<pid_t> processes_running(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const auto& a : argv) wanted += a + '\0';
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (read_file("/proc/" + name + "/cmdline") == wanted && process_alive(pid)) {
      found.push_back(pid);
    }
  }
  return found;
}

Amatad::Amatad() {
  char tmpl[] = "/tmp/amata-itest-XXXXXX";
  dir_ = mkdtemp(tmpl);
  fs::create_directories(state_dir());
  fs::create_directories(hooks_dir());
}

Amatad::~Amatad() {
  if (pid_ > 0) stop(SIGTERM, 15);
  if (pid_ > 0) kill9();
  // Services left behind (e.g. after kill -9 of amatad): by pid, never by name.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().extension() == ".pid") tracked_.push_back(service_pid(entry.path().stem()));
  }
  for (pid_t p : tracked_) {
    if (process_alive(p)) kill(p, SIGKILL);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void Amatad::write_policy(const std::string& text) {
  std::string out = text;
  for (std::size_t at; (at = out.find("@DIR@")) != std::string::npos;) out.replace(at, 5, dir_);
  std::string tmp = policy_path() + ".tmp";
  std::ofstream(tmp) << out;
  fs::rename(tmp, policy_path());  // atomic: a reload never reads half a file
}

void Amatad::write_hook(const std::string& name, const std::string& body) {
  std::string path = hooks_dir() + "/" + name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
}

void Amatad::start(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv = {
      AMATAD_PATH, policy_path(), "--state-dir",         state_dir(),   "--hooks",
      hooks_dir(), "--socket",    dir_ + "/amatad.sock", "--log-level", "debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  int err = open((dir_ + "/amatad.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  pid_ = spawn(argv, env, out, err);
  close(err);
  close(out);
}

int Amatad::stop(int sig, double timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = -1;
  bool done = wait_for(
      [&] {
        pid_t r = waitpid(pid_, &status, WNOHANG);
        return r == pid_;
      },
      timeout);
  if (!done) return -1;
  pid_ = 0;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Amatad::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

void Amatad::signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

int Amatad::run_to_exit(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::vector<std::string> argv = {AMATAD_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out_path = dir_ + "/run.out", err_path = dir_ + "/run.err";
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = spawn(argv, {}, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  out = read_file(out_path);
  err = read_file(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Amatad::ctl(const std::vector<std::string>& args, std::string& out) {
#ifdef AMATACTL_PATH
  std::vector<std::string> argv = {AMATACTL_PATH, "--socket", dir_ + "/amatad.sock"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out_path = dir_ + "/ctl.out";
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = open((dir_ + "/ctl.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = spawn(argv, {}, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  int status = 0;
  waitpid(pid, &status, 0);
  out = read_file(out_path) + read_file(dir_ + "/ctl.err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
#else
  (void)args;
  out = "amatactl was not built";
  return 127;
#endif
}

std::string Amatad::log() const {
  return read_file(dir_ + "/amatad.log");
}

bool Amatad::wait_for(const std::function<bool()>& pred, double timeout) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(timeout));
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool Amatad::wait_for_log(const std::string& needle, double timeout) const {
  return wait_for([&] { return log().find(needle) != std::string::npos; }, timeout);
}

pid_t Amatad::service_pid(const std::string& name) const {
  std::string text = read_file(dir_ + "/" + name + ".pid");
  try {
    return text.empty() ? 0 : static_cast<pid_t>(std::stoi(text));
  } catch (...) {
    return 0;
  }
}

pid_t Amatad::wait_new_pid(const std::string& name, pid_t old, double timeout) const {
  pid_t found = 0;
  wait_for(
      [&] {
        pid_t p = service_pid(name);
        if (p > 0 && p != old && process_alive(p)) found = p;
        return found != 0;
      },
      timeout);
  return found;
}

std::vector<store::EventRecord> Amatad::events() const {
  auto store = store::EventStore::open(state_dir() + "/events.db");
  if (!store) return {};
  auto events = (*store)->events_after(0, 100000);
  return events ? *events : std::vector<store::EventRecord>{};
}

std::vector<store::ActionRecord> Amatad::actions() const {
  auto store = store::EventStore::open(state_dir() + "/events.db");
  if (!store) return {};
  auto actions = (*store)->actions_after(0, 100000);
  return actions ? *actions : std::vector<store::ActionRecord>{};
}

std::vector<pid_t> Amatad::zombie_children() const {
  std::vector<pid_t> zombies;
  if (pid_ <= 0) return zombies;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t p = static_cast<pid_t>(std::stoi(name));
    if (stat_field(p, 4) == std::to_string(pid_) && stat_field(p, 3) == "Z") zombies.push_back(p);
  }
  return zombies;
}

double Amatad::cpu_seconds() const {
  std::string utime = stat_field(pid_, 14), stime = stat_field(pid_, 15);
  if (utime.empty() || stime.empty()) return 0;
  return static_cast<double>(std::stoll(utime) + std::stoll(stime)) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace amata::itest
