#include "compiler/import/import_common.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace amata::importer {
namespace {

// The language's reserved words and kind names, and the words of recovery actions (a
// service called `stop` would read oddly in `stop stop`): a name never takes one of them.
constexpr std::array<std::string_view, 48> kAvoid = {
    "and",         "or",      "not",       "true",       "false",    "when",      "else",
    "raise",       "for",     "within",    "times",      "time",     "checks",    "check",
    "let",         "include", "policy",    "event",      "discover", "recover",   "node",
    "service",     "process", "interface", "filesystem", "host",     "peer",      "cluster",
    "notify_only", "restart", "start",     "stop",       "monitor",  "unmonitor", "signal",
    "run",         "notify",  "wait",      "failover",   "to",       "backoff",   "limit",
    "reload",      "sensor",  "ecc",       "disk",       "raid",     "unit"};

}  // namespace

std::string format_warning(const Warning& w) {
  return w.file + ":" + std::to_string(w.line) + ":" + std::to_string(w.column) +
         ": warning: " + w.message;
}

void Reporter::warn(Loc at, std::string message) {
  Warning w;
  w.message = std::move(message);
  if (at.file != ast::kNoFile) {
    auto lc = sources_.line_column(at.file, at.offset);
    w.file = sources_.file(at.file).path;
    w.line = lc.line;
    w.column = lc.column;
    // A file read through an include: say from where (the same template may be included
    // by many checks).
    if (const auto& from = sources_.file(at.file).included_from) {
      w.message += " (included from " + where({from->file, from->begin}) + ")";
    }
  }
  warnings_.push_back(std::move(w));
  locs_.push_back(at);
}

Error Reporter::error(Loc at, const std::string& message) const {
  if (at.file == ast::kNoFile) return Error{"error: " + message};
  auto lc = sources_.line_column(at.file, at.offset);
  return Error{sources_.file(at.file).path + ":" + std::to_string(lc.line) + ":" +
               std::to_string(lc.column) + ": error: " + message};
}

std::vector<Warning> Reporter::take_warnings(bool sorted) {
  if (sorted) {
    std::vector<std::size_t> order(warnings_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::pair(locs_[a].file, locs_[a].offset) < std::pair(locs_[b].file, locs_[b].offset);
    });
    std::vector<Warning> out;
    out.reserve(order.size());
    for (std::size_t i : order) out.push_back(std::move(warnings_[i]));
    warnings_.clear();
    locs_.clear();
    return out;
  }
  locs_.clear();
  return std::move(warnings_);
}

std::string Reporter::where(Loc at) const {
  if (at.file == ast::kNoFile) return "?";
  return sources_.file(at.file).path + ":" +
         std::to_string(sources_.line_column(at.file, at.offset).line);
}

std::string Reporter::excerpt(Loc begin, std::uint32_t end) const {
  if (begin.file == ast::kNoFile) return "";
  auto text = sources_.text({begin.file, begin.offset, end});
  std::string out;
  bool blank = false;
  char quote_char = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote_char == 0 && c == '#') {  // a Monit comment inside a statement
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') quote_char = quote_char == c ? 0 : quote_char == 0 ? c : quote_char;
    if (std::isspace(static_cast<unsigned char>(c))) {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  if (out.size() > 100) out = out.substr(0, 97) + "...";
  return out;
}

std::string sanitize_name(std::string_view wanted) {
  std::string out;
  for (char c : wanted) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    out += (ok && static_cast<unsigned char>(c) < 0x80) ? c : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "_" + out;
  if (std::find(kAvoid.begin(), kAvoid.end(), out) != kAvoid.end()) out += '_';
  return out;
}

std::string Names::claim(std::string_view wanted) {
  const std::string base = sanitize_name(wanted);
  std::string name = base;
  for (int n = 2; taken_.contains(name); ++n) name = base + "_" + std::to_string(n);
  taken_.insert(name);
  return name;
}

std::string camel_case(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_' || c == '-' || c == '.') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "E" + out;
  return out;
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out + "\"";
}

std::string duration(double seconds) {
  auto whole = [](double v) { return std::fabs(v - std::round(v)) < 1e-9; };
  auto num = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return std::string(buf);
  };
  if (seconds >= 86400 && whole(seconds / 86400)) return num(seconds / 86400) + "d";
  if (seconds >= 3600 && whole(seconds / 3600)) return num(seconds / 3600) + "h";
  if (seconds >= 60 && whole(seconds / 60)) return num(seconds / 60) + "min";
  if (whole(seconds)) return num(seconds) + "s";
  if (whole(seconds * 1000)) return num(std::round(seconds * 1000)) + "ms";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "s";
}

std::string argv_text(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += quote(a);
  }
  return out;
}

Result<std::vector<std::string>> shell_split(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
    } else if (c == '\'') {
      const auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return Error{"no closing single quote"};
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        const char d = text[i];
        if (d == '"') {
          closed = true;
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < text.size() &&
            (text[i + 1] == '"' || text[i + 1] == '\\' || text[i + 1] == '$' ||
             text[i + 1] == '`')) {
          word += text[i + 1];
          i += 2;
          continue;
        }
        word += d;
        ++i;
      }
      if (!closed) return Error{"no closing double quote"};
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Error{"no character after the last backslash"};
      word += text[i + 1];
      in_word = true;
      i += 2;
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::optional<std::string> find_in_path(const std::string& name, const std::string& path) {
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

std::vector<std::string> expand_glob(const std::string& pattern, const std::string& base) {
  const std::string full =
      pattern.empty() || pattern[0] == '/' || base.empty() ? pattern : base + "/" + pattern;
  std::vector<std::string> out;
  glob_t g{};
  if (glob(full.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool is_number(std::string_view text) {
  if (text.empty()) return false;
  bool dot = false, digit = false;
  for (char c : text) {
    if (c == '.') {
      if (dot) return false;
      dot = true;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      digit = true;
    } else {
      return false;
    }
  }
  return digit && text.back() != '.' && text.front() != '.';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view strip(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace amata::importer
