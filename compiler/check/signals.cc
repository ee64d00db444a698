#include "compiler/check/signals.h"

#include <csignal>

#include "compiler/check/checker.h"

namespace amata::check {
namespace {

struct SignalName {
  std::string_view name;
  int number;
};
const SignalName kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"WINCH", SIGWINCH}, {"PWR", SIGPWR},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

}  // namespace

std::optional<int> signal_number(std::string_view name) {
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& s : kSignals) {
    if (s.name == name) return s.number;
  }
  return std::nullopt;
}

std::vector<std::string_view> signal_names() {
  std::vector<std::string_view> names;
  for (const auto& s : kSignals) names.push_back(s.name);
  return names;
}

}  // namespace amata::check
