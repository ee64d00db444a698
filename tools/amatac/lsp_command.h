// `amatac lsp`: the language server on stdin/stdout (compiler/lsp/server.h). main.cc calls
// add_lsp_command once.
#pragma once

#include <CLI/CLI.hpp>

namespace amata::amatac {

/// Registers `lsp` on `app`; its callback runs the server and sets `exit_code`.
void add_lsp_command(CLI::App& app, int& exit_code);

}  // namespace amata::amatac
