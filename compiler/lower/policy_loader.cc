#include "compiler/lower/policy_loader.h"

#include <exception>
#include <sstream>

#include "compiler/diag/printer.h"
#include "compiler/frontend/frontend.h"

namespace amata::lower {
namespace {

std::string render(const diag::DiagnosticEngine& diags, const source::SourceManager& sources,
                   diag::PrintOptions options) {
  std::ostringstream out;
  diag::print_text(out, diags.sorted(), sources, options);
  diag::print_summary(out, diags);
  return out.str();
}

/// Every rendering of the diagnostics a caller of the loader may want.
void render_all(LoadedPolicy& loaded, const diag::DiagnosticEngine& diags,
                const source::SourceManager& sources, bool color) {
  if (diags.diagnostics().empty()) return;
  loaded.diagnostics = render(diags, sources, diag::PrintOptions{color, true});
  loaded.diagnostics_brief = render(diags, sources, diag::PrintOptions{false, false});
  loaded.diagnostics_json = diag::to_json(diags.sorted(), sources, diags);
}

/// A failure after checking (the back end, an internal error): in every rendering.
void add_failure(LoadedPolicy& loaded, const std::string& line) {
  loaded.errors++;
  loaded.diagnostics += line;
  loaded.diagnostics_brief += line;
}

/// Checks what `parse` parsed into `sources`/`diags` and compiles it with `backend`.
template <typename Parse>
LoadedPolicy load(const std::string& name, Backend backend, bool color, Parse parse) {
  LoadedPolicy loaded;
  loaded.file = name;
  try {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto checked = parse(sources, diags);
    loaded.errors = static_cast<int>(diags.error_count());
    loaded.warnings = static_cast<int>(diags.warning_count());
    render_all(loaded, diags, sources, color);
    if (!checked || diags.has_errors()) {
      if (loaded.errors == 0) loaded.errors = 1;
      return loaded;
    }
    auto compiled = compile_checked(
        *checked, BackendOptions{backend, {}},
        [&](const ast::SourceRange& range) { return std::string(sources.text(range)); });
    if (!compiled) {
      add_failure(loaded, name + ": error: " + compiled.error().message + "\n");
      return loaded;
    }
    loaded.policy = *compiled;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const auto& file = sources.file(static_cast<ast::FileId>(i));
      loaded.sources.emplace_back(file.path, file.text);
    }
  } catch (const std::exception& e) {
    add_failure(loaded, name + ": internal error: " + e.what() + "\n");
    loaded.policy.reset();
  }
  return loaded;
}

}  // namespace

LoadedPolicy load_policy(const std::string& path, Backend backend, bool color) {
  return load(path, backend, color,
              [&](source::SourceManager& sources, diag::DiagnosticEngine& diags) {
                return frontend::compile_file(path, sources, diags);
              });
}

LoadedPolicy load_policy_text(const std::string& name, std::string text, Backend backend) {
  return load(name, backend, false,
              [&](source::SourceManager& sources, diag::DiagnosticEngine& diags) {
                return frontend::compile_text(name, std::move(text), sources, diags);
              });
}

std::optional<std::vector<catalog::ObjectSpec>> load_objects(const std::string& path,
                                                             std::string& diagnostics, bool color) {
  try {
    source::SourceManager sources;
    diag::DiagnosticEngine diags;
    auto checked = frontend::compile_file(path, sources, diags);
    if (!diags.diagnostics().empty()) {
      diagnostics = render(diags, sources, diag::PrintOptions{color, true});
    }
    if (!checked || diags.has_errors()) return std::nullopt;
    return checked->objects;
  } catch (const std::exception& e) {
    diagnostics += path + ": internal error: " + e.what() + "\n";
    return std::nullopt;
  }
}

}  // namespace amata::lower
