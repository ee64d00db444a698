#include "tools/amatac/backend_commands.h"

#include <iostream>
#include <sstream>

#include "base/file.h"
#include "compiler/diag/printer.h"
#include "compiler/frontend/frontend.h"
#include "compiler/jit/jit.h"
#include "compiler/lower/backend.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/replay.h"
#include "compiler/lower/scenario.h"

namespace amata::amatac {
namespace {

// Parses, checks and lowers a policy file; prints diagnostics to `err` on failure.
std::shared_ptr<const ir::Program> load(const std::string& path, std::ostream& err) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  auto checked = frontend::compile_file(path, sources, diags);
  if (!checked || diags.has_errors()) {
    diag::print_text(err, diags.sorted(), sources);
    diag::print_summary(err, diags);
    return nullptr;
  }
  auto program = lower::lower(
      *checked, [&](const ast::SourceRange& r) { return std::string(sources.text(r)); });
  if (!program.ok()) {
    err << path << ": error: " << program.error().message << "\n";
    return nullptr;
  }
  return std::move(program).value();
}

std::shared_ptr<const ir::CompiledPolicy> compile(std::shared_ptr<const ir::Program> program,
                                                  lower::Backend backend, std::ostream& err) {
  auto policy = lower::compile_program(std::move(program), lower::BackendOptions{backend, {}});
  if (!policy.ok()) {
    err << "error: " << policy.error().message << "\n";
    return nullptr;
  }
  return std::move(policy).value();
}

}  // namespace

int run_eval(const std::string& policy_path, const std::string& trace_path,
             const std::string& backend, std::ostream& out, std::ostream& err) {
  auto program = load(policy_path, err);
  if (!program) return 1;
  auto policy =
      compile(program, backend == "interp" ? lower::Backend::kInterp : lower::Backend::kJit, err);
  if (!policy) return 1;
  // Read whole and up front: a trace named by mistake (a FIFO, /dev/zero) is refused at once.
  auto trace_text = base::read_regular_file(trace_path);
  if (!trace_text) {
    err << trace_path << ": error: cannot read the trace: " << trace_text.error().message << "\n";
    return 1;
  }
  std::istringstream trace(*trace_text);
  lower::Replayer replayer(policy);
  std::string line;
  int n = 0;
  std::vector<lower::ReplayRecord> records;
  while (std::getline(trace, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto step = lower::parse_trace_line(policy->tables(), line, trace_path, n);
    if (!step.ok()) {
      err << step.error().message << "\n";
      return 1;
    }
    records.clear();
    if (auto s = replayer.step(*step, records); !s.ok()) {
      err << trace_path << ":" << n << ":1: error: " << s.error().message << "\n";
      return 1;
    }
    for (const auto& r : records) out << replayer.json(r) << "\n";
  }
  return 0;
}

int run_test(const std::string& policy_path, const std::string& tests_path, std::ostream& out,
             std::ostream& err) {
  auto program = load(policy_path, err);
  if (!program) return 1;
  auto text = base::read_regular_file(tests_path);
  if (!text) {
    err << tests_path << ": error: cannot read the test file: " << text.error().message << "\n";
    return 1;
  }
  auto scenarios = lower::parse_scenarios(program->tables, *text, tests_path);
  if (!scenarios.ok()) {
    err << scenarios.error().message << "\n";
    return 1;
  }
  auto interp = compile(program, lower::Backend::kInterp, err);
  auto jit = compile(program, lower::Backend::kJit, err);
  if (!interp || !jit) return 1;
  int failed = 0;
  for (const auto& s : *scenarios) {
    const std::string a = lower::run_scenario(interp, s);
    const std::string b = lower::run_scenario(jit, s);
    if (a.empty() && b.empty()) {
      out << "PASS " << s.name << "\n";
      continue;
    }
    ++failed;
    out << "FAIL " << s.name << " (" << tests_path << ":" << s.line << ")\n";
    if (a == b) {
      out << a;
    } else {
      out << " interp:\n" << a << " jit:\n" << b;
    }
  }
  out << scenarios->size() << " tests, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}

int run_build(const std::string& policy_path, bool emit_llvm, std::ostream& out,
              std::ostream& err) {
  auto program = load(policy_path, err);
  if (!program) return 1;
  if (!emit_llvm) {
    out << ir::dump(*program);
    return 0;
  }
  auto text = jit::emit_llvm(*program);
  if (!text.ok()) {
    err << "error: " << text.error().message << "\n";
    return 1;
  }
  out << *text;
  return 0;
}

void add_backend_commands(CLI::App& app, int& exit_code) {
  struct EvalOptions {
    std::string policy, trace, backend = "jit";
  };
  auto eval = std::make_shared<EvalOptions>();
  CLI::App* e = app.add_subcommand("eval", "replay a JSON-lines trace through a policy");
  e->add_option("policy", eval->policy, "policy file")->required();
  e->add_option("--trace", eval->trace, "trace file, one JSON object a line")->required();
  e->add_option("--backend", eval->backend, "interp or jit")
      ->check(CLI::IsMember({"interp", "jit"}));
  e->callback([eval, &exit_code] {
    exit_code = run_eval(eval->policy, eval->trace, eval->backend, std::cout, std::cerr);
  });

  auto test = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* t = app.add_subcommand("test", "run offline policy tests");
  t->add_option("policy", test->first, "policy file")->required();
  t->add_option("tests", test->second, "test file")->required();
  t->callback([test, &exit_code] {
    exit_code = run_test(test->first, test->second, std::cout, std::cerr);
  });

  struct BuildOptions {
    std::string policy;
    bool emit_llvm = false;
  };
  auto build = std::make_shared<BuildOptions>();
  CLI::App* b = app.add_subcommand("build", "compile a policy and print its IR or LLVM module");
  b->add_option("policy", build->policy, "policy file")->required();
  b->add_flag("--emit-llvm", build->emit_llvm, "print the LLVM module instead of the IR");
  b->callback([build, &exit_code] {
    exit_code = run_build(build->policy, build->emit_llvm, std::cout, std::cerr);
  });
}

}  // namespace amata::amatac
