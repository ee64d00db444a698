#include "compiler/import/supervisord_values.h"

#include <cctype>
#include <csignal>

#include "compiler/import/import_common.h"

namespace amata::importer {
namespace {

/// The signal names amata knows (compiler/check/signals.cc), by number.
const std::pair<const char*, int> kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"WINCH", SIGWINCH}, {"PWR", SIGPWR},   {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}};

}  // namespace

bool parse_bool(std::string_view v, bool& out) {
  const std::string l = lower(v);
  if (l == "true" || l == "yes" || l == "on" || l == "1") {
    out = true;
    return true;
  }
  if (l == "false" || l == "no" || l == "off" || l == "0") {
    out = false;
    return true;
  }
  return false;
}

bool parse_int(std::string_view v, long min, long max, long& out) {
  if (v.empty() || v.size() > 12) return false;
  std::size_t i = v[0] == '-' ? 1 : 0;
  if (i == v.size()) return false;
  long n = 0;
  for (; i < v.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    n = n * 10 + (v[i] - '0');
  }
  if (v[0] == '-') n = -n;
  if (n < min || n > max) return false;
  out = n;
  return true;
}

std::optional<std::string> signal_name(std::string_view v) {
  std::string u(v);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (u.starts_with("SIG")) u = u.substr(3);
  long n = 0;
  const bool numeric = parse_int(u, 1, 64, n);
  for (const auto& [name, number] : kSignals) {
    if (numeric ? number == n : u == name) return std::string(name);
  }
  return std::nullopt;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_environment(std::string_view v) {
  std::vector<std::pair<std::string, std::string>> out;
  std::vector<std::string> parts;
  std::string cur;
  char in_quote = 0;
  for (char c : v) {
    if (in_quote) {
      if (c == in_quote) {
        in_quote = 0;
      } else {
        cur += c;
      }
    } else if (c == '"' || c == '\'') {
      in_quote = c;
    } else if (c == ',') {
      parts.push_back(std::move(cur));
      cur.clear();
    } else if (c == '\n') {
      cur += ' ';
    } else {
      cur += c;
    }
  }
  if (in_quote) return Error{"an unclosed quote"};
  parts.push_back(std::move(cur));
  for (auto& p : parts) {
    const std::string_view s = strip(p);
    if (s.empty()) continue;
    const auto eq = s.find('=');
    if (eq == std::string_view::npos) return Error{"'" + std::string(s) + "' is not KEY=value"};
    // Quotes were removed above; the blanks around KEY and value are not part of them.
    out.emplace_back(std::string(strip(s.substr(0, eq))), std::string(s.substr(eq + 1)));
    auto& value = out.back().second;
    const auto first = value.find_first_not_of(' ');
    value = first == std::string::npos ? "" : value.substr(first);
  }
  return out;
}

}  // namespace amata::importer
