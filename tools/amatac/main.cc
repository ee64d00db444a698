// amatac: checks, dumps and (through the backend's subcommands) evaluates .amata policies.
// Thin: every subcommand's logic lives in a library (compiler/frontend/commands.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "base/version.h"
#include "compiler/format/fmt_command.h"
#include "compiler/frontend/commands.h"
#include "tools/amatac/backend_commands.h"
#include "tools/amatac/import_command.h"
#include "tools/amatac/lsp_command.h"

namespace {

/// `amatac check FILE... [--format=text|json] [--werror] [--verify]`
void add_check_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<amata::frontend::CheckOptions>();
  CLI::App* cmd = app.add_subcommand("check", "check policies and report diagnostics");
  cmd->add_option("files", opts->files, "policy files")->required();
  cmd->add_option("--format", opts->format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--werror", opts->werror, "treat warnings as errors");
  cmd->add_flag("--verify", opts->verify,
                "check diagnostics against '# expect-error@+1: E0123' comments");
  cmd->callback([opts, &exit_code] {
    opts->color = opts->format == "text" && isatty(STDERR_FILENO);
    exit_code = amata::frontend::run_check(*opts, std::cout, std::cerr);
  });
}

/// `amatac dump FILE [--after=parse|PASS|check]`
void add_dump_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<amata::frontend::DumpOptions>();
  CLI::App* cmd = app.add_subcommand("dump", "print the syntax tree or the checked policy as JSON");
  cmd->add_option("file", opts->file, "policy file")->required();
  cmd->add_option("--after", opts->after, "stage to dump")
      ->check(CLI::IsMember(amata::frontend::dump_stages()));
  cmd->callback(
      [opts, &exit_code] { exit_code = amata::frontend::run_dump(*opts, std::cout, std::cerr); });
}

/// `amatac fmt FILE... [--check | -w]`
void add_fmt_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<amata::format::FmtOptions>();
  CLI::App* cmd =
      app.add_subcommand("fmt", "lay policies out canonically (to stdout, --check, -w)");
  cmd->add_option("files", opts->files, "policy files ('-': standard input)")->required();
  auto* check = cmd->add_flag("--check", opts->check,
                              "print a diff for each file not formatted; exit 1 if any");
  cmd->add_flag("-w,--write", opts->write, "rewrite files that are not formatted")->excludes(check);
  cmd->callback([opts, &exit_code] {
    exit_code = amata::format::run_fmt(*opts, std::cin, std::cout, std::cerr);
  });
}

}  // namespace

int main(int argc, char** argv) try {
  CLI::App app{"amatac: the amata policy compiler", "amatac"};
  app.set_help_all_flag("--help-all", "Print the help of every subcommand and exit");
  app.set_version_flag("--version", amata::base::version_line("amatac"));
  app.require_subcommand(1);
  int exit_code = 0;
  add_check_command(app, exit_code);
  add_dump_command(app, exit_code);
  add_fmt_command(app, exit_code);
  amata::amatac::add_backend_commands(app, exit_code);
  amata::amatac::add_import_command(app, exit_code);
  amata::amatac::add_lsp_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // CLI11 uses 0 for --help/--version and 1xx for usage errors; usage errors exit 2.
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
} catch (const std::exception& e) {
  // Out of memory or a file system failure: an environment problem, exit code 2.
  std::cerr << "amatac: error: " << e.what() << "\n";
  return 2;
}
