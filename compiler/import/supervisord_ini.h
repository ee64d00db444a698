// supervisord.conf as Python's configparser reads it when supervisord sets it up: sections
// `[name]`, `key = value` or `key: value` (keys in lower case), `;` and `#` comments (inline
// ones after a blank), continuation lines indented under their key, no interpolation by the
// parser itself; then the files [include] names. supervisord expands `%(name)s` in some
// values afterwards, each with its own names: expand() does it for the importer.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "compiler/import/import_common.h"

namespace amata::importer {

struct Entry {
  std::string key;
  std::string value;  // continuation lines joined by '\n'
  Loc key_loc;
  Loc value_loc;
};

struct Section {
  std::string name;
  Loc loc;
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const {
    for (const auto& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

/// The sections of `root` and of the files its [include] files= patterns name (relative to
/// its directory, `%(here)s` expanded), sections of the same name merged as supervisord's
/// non-strict parser does. An Error for a line configparser refuses or an unreadable
/// included file.
Status read_ini(Reporter& rep, ast::FileId root, std::vector<Section>& sections);

/// supervisord's `%(name)s` expansions (Python %-formatting with a dict): `%(x)s`, `%(x)d`,
/// `%(x)02d`, and `%%` for a percent sign. An Error names an unknown or malformed expansion.
Result<std::string> expand(std::string_view text, const std::map<std::string, std::string>& vars);

}  // namespace amata::importer
