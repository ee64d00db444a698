#include "engine/daemon/policy_loader.h"

#include <exception>
#include <sstream>

#include "compiler/diag/printer.h"
#include "compiler/frontend/frontend.h"
#include "compiler/interp/interpreter.h"
#include "compiler/jit/jit.h"
#include "compiler/lower/lower.h"

namespace amata::engine {
namespace {

std::string render(const diag::DiagnosticEngine& diags, const source::SourceManager& sources,
                   bool color) {
  std::ostringstream out;
  diag::print_text(out, diags.sorted(), sources, diag::PrintOptions{color});
  diag::print_summary(out, diags);
  return out.str();
}

}  // namespace

LoadedPolicy load_policy(const std::string& path, Backend backend, bool color) {
  LoadedPolicy loaded;
  loaded.file = path;
  try {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto checked = frontend::compile_file(path, sources, diags);
    loaded.errors = static_cast<int>(diags.error_count());
    loaded.warnings = static_cast<int>(diags.warning_count());
    if (!diags.diagnostics().empty()) loaded.diagnostics = render(diags, sources, color);
    if (!checked || diags.has_errors()) {
      if (loaded.errors == 0) loaded.errors = 1;
      return loaded;
    }
    auto program = lower::lower(
        *checked, [&](const ast::SourceRange& range) { return std::string(sources.text(range)); });
    if (!program) {
      loaded.errors++;
      loaded.diagnostics += path + ": error: " + program.error().message + "\n";
      return loaded;
    }
    Result<std::shared_ptr<const ir::CompiledPolicy>> compiled = Error{"no back end"};
    if (backend == Backend::kJit) {
      auto jit = jit::Jit::create();
      if (!jit) {
        compiled = jit.error();
      } else {
        compiled = (*jit)->compile(*program);
      }
    } else {
      compiled = interp::interpret(*program);
    }
    if (!compiled) {
      loaded.errors++;
      loaded.diagnostics += path + ": error: " + compiled.error().message + "\n";
      return loaded;
    }
    loaded.policy = *compiled;
  } catch (const std::exception& e) {
    loaded.errors++;
    loaded.diagnostics += path + ": internal error: " + e.what() + "\n";
    loaded.policy.reset();
  }
  return loaded;
}

std::optional<std::vector<catalog::ObjectSpec>> load_objects(const std::string& path,
                                                             std::string& diagnostics, bool color) {
  try {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto checked = frontend::compile_file(path, sources, diags);
    if (!diags.diagnostics().empty()) diagnostics = render(diags, sources, color);
    if (!checked || diags.has_errors()) return std::nullopt;
    return checked->objects;
  } catch (const std::exception& e) {
    diagnostics += path + ": internal error: " + e.what() + "\n";
    return std::nullopt;
  }
}

}  // namespace amata::engine
