#include "engine/web/control.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace amata::web {
namespace {

bool name_ok(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool token_ok(std::string_view token) {
  if (token.size() < 16 || token.size() > 256) return false;
  return std::all_of(token.begin(), token.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

}  // namespace

Result<std::vector<Operator>> read_token_file(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return Error{path + ": " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return Error{path + ": not a regular file"};
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return Error{path + ": owned by uid " + std::to_string(st.st_uid) +
                 "; the token file must belong to root or to amatad's user"};
  }
  if ((st.st_mode & 077) != 0) {
    return Error{path + ": group or others may read or write it (chmod 600 " + path + ")"};
  }
  std::ifstream in(path);
  if (!in) return Error{path + ": cannot be read"};
  std::vector<Operator> operators;
  std::set<std::string> names;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    std::istringstream words(line);
    Operator op;
    std::string extra;
    words >> op.name >> op.token >> extra;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (op.token.empty() || !extra.empty()) return Error{where + "expected NAME TOKEN"};
    if (!name_ok(op.name)) {
      return Error{where + "a name is 1 to 32 of letters, digits, '_', '.' and '-'"};
    }
    if (!token_ok(op.token)) {
      return Error{where + "a token is 16 to 256 printable characters without blanks " +
                   "(openssl rand -hex 32 makes one)"};
    }
    if (!names.insert(op.name).second) return Error{where + "'" + op.name + "' is named twice"};
    operators.push_back(std::move(op));
  }
  if (operators.empty()) return Error{path + ": names no operator (NAME TOKEN per line)"};
  return operators;
}

bool same_secret(std::string_view a, std::string_view b) {
  // Every byte of the longer one is looked at, whatever the lengths and contents.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) std::abort();  // no randomness: a guessable session is worse than no amatad
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes * 2);
  for (char c : raw) {
    const auto u = static_cast<unsigned char>(c);
    out += kHex[u >> 4];
    out += kHex[u & 15];
  }
  return out;
}

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t end = std::min(header.find(';'), header.size());
    std::string_view pair = header.substr(0, end);
    header.remove_prefix(std::min(end + 1, header.size()));
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

Sessions::Sessions(std::vector<Operator> operators, std::chrono::seconds lifetime,
                   std::size_t max_sessions)
    : operators_(std::move(operators)), lifetime_(lifetime), max_sessions_(max_sessions) {}

std::optional<std::string> Sessions::check_login(std::string_view name,
                                                 std::string_view token) const {
  std::optional<std::string> found;
  for (const auto& op : operators_) {
    const bool match = same_secret(op.name, name) & same_secret(op.token, token);
    if (match) found = op.name;
  }
  return found;
}

std::string Sessions::open(const std::string& operator_name) {
  std::string id = random_hex(32);
  Session session{operator_name, random_hex(32), std::chrono::steady_clock::now() + lifetime_};
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(sessions_, [now](const auto& s) { return s.second.expires <= now; });
  if (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires < b.second.expires;
    });
    sessions_.erase(oldest);
  }
  sessions_.emplace(id, std::move(session));
  return id;
}

std::optional<Sessions::Session> Sessions::find(std::string_view id) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= std::chrono::steady_clock::now()) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void Sessions::close(std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto it = sessions_.find(id); it != sessions_.end()) sessions_.erase(it);
}

bool web_control_verb(std::string_view verb) {
  return verb == "restart" || verb == "start" || verb == "stop";
}

}  // namespace amata::web
