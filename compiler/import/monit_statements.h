// A monitrc's tokens as statements: the `set` statements (only `set daemon` carries over;
// the others are warned as they are read) and each `check TYPE NAME` with its header and the
// statements under it (`if ... then ACTION`, `start program = ...`, `every`, `group`, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/import/import_common.h"
#include "compiler/import/monit_lexer.h"

namespace amata::importer {

struct Check {
  std::string type;       // process, file, filesystem, host, system, network, program, ...
  std::string name;       // as Monit names it
  Loc loc;                // the `check` word
  std::uint32_t end = 0;  // end of the header
  Tokens header;          // after `check TYPE NAME`
  std::vector<Tokens> statements;
};

/// The statements of a control file (and its includes) that the policy is made from.
struct ControlFile {
  double cycle = 30;       // `set daemon N`: Monit's cycle, in seconds
  bool cycle_set = false;  // false: Monit's usual cycle
  Loc cycle_loc;           // the `set daemon`
  std::vector<Check> checks;
};

/// Splits `tokens` into statements; every `set` statement but `set daemon`, and words outside
/// any statement, are warnings.
ControlFile read_statements(Reporter& rep, const Tokens& tokens);

}  // namespace amata::importer
