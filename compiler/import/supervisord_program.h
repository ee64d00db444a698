// One [program:x] as services: numprocs of them, each named by process_name, with the
// settings amata has (command, directory, user, environment, logs, stop signal and wait),
// its death a discover rule and its autorestart, startretries and startsecs a recover rule
// with a restart limit. Every setting the policy cannot carry over is a warning, once per
// program.
#pragma once

#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "compiler/import/import_common.h"
#include "compiler/import/supervisord_import.h"
#include "compiler/import/supervisord_ini.h"

namespace amata::importer {

/// What the translation of every program reads and writes.
struct ProgramContext {
  Reporter& rep;
  Names& names;
  std::ostream& out;
  const SupervisordOptions& options;
  /// [group:x] programs=...: each listed program's group, for %(group_name)s.
  const std::map<std::string, std::string>& group_of;
  /// [supervisord] environment=...: what every program inherits.
  const std::vector<std::pair<std::string, std::string>>& global_env;
};

/// The services of the [program:x] section `s`, written to `cx.out`; `vars` are the
/// expansions every section has (%(ENV_X)s, %(here)s, %(host_node_name)s). Returns how many
/// services were written.
int import_program(const ProgramContext& cx, const Section& s,
                   const std::map<std::string, std::string>& vars);

}  // namespace amata::importer
