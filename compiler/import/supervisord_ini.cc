#include "compiler/import/supervisord_ini.h"

#include <cctype>
#include <sstream>
#include <utility>

namespace amata::importer {
namespace {

/// Cuts an inline comment: `;` or `#` after a blank.
std::string_view cut_comment(std::string_view line) {
  for (std::size_t i = 1; i < line.size(); ++i) {
    if ((line[i] == ';' || line[i] == '#') &&
        std::isspace(static_cast<unsigned char>(line[i - 1]))) {
      return line.substr(0, i);
    }
  }
  return line;
}

/// Parses one file's sections into `sections` (merging sections of the same name, as
/// supervisord's non-strict parser does). An Error for a line configparser refuses.
Status parse_ini(Reporter& rep, ast::FileId file, std::vector<Section>& sections) {
  const std::string& text = rep.sources().file(file).text;
  if (text.find('\0') != std::string::npos) {
    return rep.error({file, static_cast<std::uint32_t>(text.find('\0'))},
                     "a NUL byte: this is not a supervisord configuration file");
  }
  Section* current = nullptr;
  Entry* last = nullptr;
  std::size_t last_indent = 0;
  std::uint32_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::uint32_t line_start = pos;
    pos = static_cast<std::uint32_t>(eol + 1);

    const std::string_view stripped = strip(line);
    if (stripped.empty() || stripped[0] == ';' || stripped[0] == '#') continue;
    std::size_t indent = 0;
    while (indent < line.size() && std::isspace(static_cast<unsigned char>(line[indent]))) {
      ++indent;
    }
    const std::string_view content = strip(cut_comment(line));
    if (last != nullptr && indent > last_indent) {
      if (!content.empty()) {
        if (!last->value.empty()) last->value += '\n';
        last->value += content;
      }
      continue;
    }
    const Loc at{file, static_cast<std::uint32_t>(line_start + indent)};
    if (content.front() == '[') {
      const auto close = content.rfind(']');
      if (close == std::string_view::npos || close < 2) {
        return rep.error(at, "a section header needs a name in brackets, as in [program:web]");
      }
      std::string name(content.substr(1, close - 1));
      last = nullptr;
      current = nullptr;
      for (auto& s : sections) {
        if (s.name == name) current = &s;
      }
      if (current == nullptr) {
        sections.push_back(Section{name, at, {}});
        current = &sections.back();
      }
      continue;
    }
    if (current == nullptr) {
      return rep.error(at, "a setting before any [section] header");
    }
    const auto delim = content.find_first_of("=:");
    if (delim == std::string_view::npos || delim == 0) {
      return rep.error(at, "expected 'key = value' or a [section] header");
    }
    Entry e;
    e.key = lower(strip(content.substr(0, delim)));
    e.value = std::string(strip(content.substr(delim + 1)));
    e.key_loc = at;
    const std::size_t value_col = line.find_first_not_of(" \t", indent + delim + 1);
    e.value_loc = {
        file, static_cast<std::uint32_t>(
                  line_start + (value_col == std::string_view::npos ? indent + delim : value_col))};
    for (auto it = current->entries.begin(); it != current->entries.end(); ++it) {
      if (it->key == e.key) {
        rep.warn(it->key_loc, "'" + e.key + "' is given again at " + rep.where(at) +
                                  "; supervisord uses the last one, and so does the import");
        current->entries.erase(it);
        break;
      }
    }
    current->entries.push_back(std::move(e));
    last = &current->entries.back();
    last_indent = indent;
  }
  return {};
}

/// [include] files=...: each pattern relative to the main file's directory, in order.
Status follow_includes(Reporter& rep, const std::string& root_path,
                       std::vector<Section>& sections) {
  std::size_t n = sections.size();
  std::vector<Section> included;
  for (std::size_t i = 0; i < n; ++i) {
    if (sections[i].name != "include") continue;
    const Section& inc = sections[i];
    for (const auto& e : inc.entries) {
      if (e.key != "files") {
        rep.warn(e.key_loc, "'" + e.key + "' is not a setting of [include] (only 'files')");
        continue;
      }
      std::istringstream patterns(e.value);
      std::string pattern;
      while (patterns >> pattern) {
        auto expanded = expand(pattern, {{"here", dir_of(root_path)}});
        if (!expanded) {
          rep.warn(e.value_loc,
                   "[include] pattern '" + pattern + "' not followed: " + expanded.error().message);
          continue;
        }
        for (const auto& path : expand_glob(*expanded, dir_of(root_path))) {
          if (rep.sources().find(path)) continue;
          auto id = rep.sources().load(path);
          if (!id) {
            return rep.error(e.value_loc, "cannot read included file: " + id.error().message);
          }
          std::vector<Section> more;
          if (auto s = parse_ini(rep, *id, more); !s) return s.error();
          for (auto& m : more) {
            if (m.name == "include") {
              rep.warn(m.loc,
                       "an included file cannot include files (supervisord ignores this "
                       "[include], and so does the import)");
              continue;
            }
            included.push_back(std::move(m));
          }
        }
      }
    }
  }
  for (auto& m : included) {
    bool merged = false;
    for (auto& s : sections) {
      if (s.name == m.name) {
        for (auto& e : m.entries) s.entries.push_back(std::move(e));
        merged = true;
        break;
      }
    }
    if (!merged) sections.push_back(std::move(m));
  }
  return {};
}

}  // namespace

Status read_ini(Reporter& rep, ast::FileId root, std::vector<Section>& sections) {
  if (auto s = parse_ini(rep, root, sections); !s) return s;
  return follow_includes(rep, rep.sources().file(root).path, sections);
}

Result<std::string> expand(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '(') {
      return Error{"a '%' that starts no %(name)s expansion (write %% for a percent sign)"};
    }
    const auto close = text.find(')', i + 2);
    if (close == std::string_view::npos) return Error{"an unclosed %(name) expansion"};
    const std::string name(text.substr(i + 2, close - i - 2));
    std::size_t j = close + 1;
    bool zero = false;
    if (j < text.size() && text[j] == '0') {
      zero = true;
      ++j;
    }
    std::size_t width = 0;
    while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
      width = width * 10 + static_cast<std::size_t>(text[j] - '0');
      if (width > 64) return Error{"an expansion width over 64"};
      ++j;
    }
    if (j >= text.size() || (text[j] != 's' && text[j] != 'd' && text[j] != 'i')) {
      return Error{"the expansion %(" + name + ") needs a conversion such as s or d"};
    }
    auto it = vars.find(name);
    if (it == vars.end()) {
      return Error{
          "unknown expansion %(" + name + ")s" +
          (name.starts_with("ENV_") ? " (the variable is not set in this environment)" : "")};
    }
    std::string v = it->second;
    if (v.size() < width) v = std::string(width - v.size(), zero ? '0' : ' ') + v;
    out += v;
    i = j;
  }
  return out;
}

}  // namespace amata::importer
