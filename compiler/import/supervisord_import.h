// `amatac import supervisord FILE`: a supervisord.conf (and the files its [include] names) as
// an .amata policy. Each [program:x] becomes a service (numprocs of them: one per process,
// named by process_name), its death a discover rule and its autorestart, startretries and
// startsecs a recover rule with a restart limit; every setting the policy cannot carry over
// is a warning at its line.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "compiler/import/import_common.h"

namespace amata::importer {

struct SupervisordOptions {
  /// The environment supervisord would run in: `%(ENV_X)s` reads it, and a command without
  /// a '/' is looked up in its PATH (or in the program's own `environment=PATH=...`).
  std::map<std::string, std::string> environment;
  /// `%(host_node_name)s`.
  std::string host_name;

  /// The importing process's environment and host name.
  static SupervisordOptions from_process();
};

/// Reads `path` (and its [include] files) and writes the policy. An Error when the file
/// cannot be read or is not an INI file supervisord would parse.
Result<Imported> import_supervisord(const std::string& path, const SupervisordOptions& options);

/// The same for configuration text held in memory; `name` locates the warnings, and its
/// directory is where relative [include] patterns and `%(here)s` point.
Result<Imported> import_supervisord_text(const std::string& name, std::string text,
                                         const SupervisordOptions& options);

}  // namespace amata::importer
