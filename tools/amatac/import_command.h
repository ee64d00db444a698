// `amatac import monit|supervisord FILE [-o OUT]`: an existing Monit or supervisord
// configuration as an .amata policy (compiler/import/). main.cc calls add_import_command once.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace amata::amatac {

/// Registers `import` with its `monit` and `supervisord` subcommands; their callbacks set
/// `exit_code`.
void add_import_command(CLI::App& app, int& exit_code);

/// Imports `file` (`format` is "monit" or "supervisord"): the policy to `out_path` (or `out`
/// when empty), one `FILE:LINE:COL: warning: ...` line per statement not carried over to
/// `err`. 0 when the policy is written (with or without warnings), 1 when the input cannot
/// be read or parsed, or the output cannot be written.
int run_import(const std::string& format, const std::string& file, const std::string& out_path,
               std::ostream& out, std::ostream& err);

}  // namespace amata::amatac
