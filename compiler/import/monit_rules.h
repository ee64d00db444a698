// A check's `if TEST then ACTION` statements as rules: each one a discover rule raising its
// event and, unless the action only alerts, a recover rule that runs the check's programs
// (or unmonitors, monitors, execs). The test itself is read by monit_conditions.h.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "compiler/import/import_common.h"
#include "compiler/import/monit_lexer.h"

namespace amata::importer {

/// One translated test: a discover rule, its event and (unless the action only alerts) a
/// recover rule.
struct Rule {
  std::string comment;
  std::vector<std::string> notes;
  std::string name_hint;
  std::string object;  // the object the event carries
  std::string kind;
  std::string condition;
  std::string temporal;
  std::vector<std::string> actions;  // empty: notify_only
};

/// The check being translated, as its statements and tests see it; what they add to the
/// policy is written after the check's object.
struct CheckContext {
  Reporter& rep;
  Names& names;
  double cycle = 30;                              // Monit's cycle (`set daemon`), in seconds
  std::string obj;                                // the object the check became
  std::string kind;                               // its amata kind
  std::string host_address;                       // `check host NAME with address A`
  std::vector<std::string> start, stop, restart;  // the check's programs
  double every = 30;                              // the object's probe period
  std::vector<Rule> pending;                      // its rules, in order
  std::vector<std::string> pending_objects;       // host objects its port and ping tests probe
  bool explicit_nonexist = false;  // a test of its own replaces the default `does not exist`
};

/// What Monit's `restart` runs: the restart program, else stop and start; empty when the
/// check has no start program.
std::vector<std::string> restart_actions(const CheckContext& x);

/// `if TEST then ACTION [else ...]` as a rule appended to `x.pending`, or a warning.
void if_statement(CheckContext& x, const Tokens& s);

/// The discover rule of `r`, its event and its recover rule (or `notify_only`), named after
/// the check's object.
void write_rule(CheckContext& x, const Rule& r, std::ostream& out);

}  // namespace amata::importer
