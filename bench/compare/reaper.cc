// compare_reaper: runs one supervisor as its child and reaps every orphan under it.
//
// Monit starts a program with a double fork, so the service is orphaned at once; whoever
// adopts orphans must reap them, or a killed service lingers as a zombie that still "exists"
// for kill(pid, 0) and for Monit's own process table. On this machine PID 1 is not a classic
// init, so the harness puts every supervisor under this subreaper (the same for all tools).
//
//   compare_reaper PIDFILE CMD ARGS...
// PIDFILE receives the supervisor's pid (the process whose CPU and RSS are measured).
// SIGTERM/SIGINT are forwarded to it; the reaper exits with its status once it has ended and
// every adopted orphan has been reaped too (the harness kills those by pid).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PIDFILE CMD ARGS...\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    std::perror("compare_reaper: PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);

  pid_t child = fork();
  if (child < 0) {
    std::perror("compare_reaper: fork");
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    execv(argv[2], argv + 2);
    std::perror("compare_reaper: exec");
    _exit(127);
  }
  if (FILE* f = std::fopen(argv[1], "w")) {
    std::fprintf(f, "%d\n", static_cast<int>(child));
    std::fclose(f);
  }
  int exit_code = 0;
  bool child_alive = true, any_left = true;
  while (any_left) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      if (child_alive) kill(child, sig);
      continue;
    }
    for (;;) {
      int status = 0;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p < 0) any_left = false;  // ECHILD: nobody left to reap
      if (p <= 0) break;
      if (p == child) {
        child_alive = false;
        exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
  }
  return exit_code;
}
