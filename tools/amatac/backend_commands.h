// The back end's amatac subcommands: eval (replay a trace), test (offline policy tests) and
// build (print the IR or the LLVM module). main.cc calls add_backend_commands once.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace amata::amatac {

/// Registers `eval`, `test` and `build` on `app`; their callbacks set `exit_code`.
void add_backend_commands(CLI::App& app, int& exit_code);

/// `amatac eval POLICY --trace TRACE [--backend interp|jit]`: 0 ok, 1 on any error.
int run_eval(const std::string& policy, const std::string& trace, const std::string& backend,
             std::ostream& out, std::ostream& err);
/// `amatac test POLICY TESTFILE`: 0 when every test passes in both back ends, else 1.
int run_test(const std::string& policy, const std::string& tests, std::ostream& out,
             std::ostream& err);
/// `amatac build POLICY [--emit-llvm]`: the IR listing, or the LLVM module.
int run_build(const std::string& policy, bool emit_llvm, std::ostream& out, std::ostream& err);

}  // namespace amata::amatac
