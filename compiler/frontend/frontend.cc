#include "compiler/frontend/frontend.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "compiler/check/checker.h"
#include "compiler/parse/parser.h"

namespace amata::frontend {
namespace {

/// Includes nest at most this deep (each level is a file on the include stack).
constexpr int kMaxIncludeDepth = 32;

bool is_pattern(std::string_view name) {
  return name.find_first_of("*?[") != std::string_view::npos;
}

std::string canonical(const std::string& path) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : p.string();
}

class Loader {
 public:
  Loader(source::SourceManager& sources, diag::DiagnosticEngine& diags, const OpenText& open)
      : sources_(sources), diags_(diags), open_(open) {}

  /// Adds the file at `path` from `open_` if it holds it, else from disk.
  Result<ast::FileId> add(const std::string& path, std::optional<ast::SourceRange> included_from) {
    if (const std::string* text = open_ ? open_(path) : nullptr) {
      return sources_.add(path, *text, included_from);
    }
    return sources_.load(path, included_from);
  }

  void load(ast::FileId id, std::vector<std::string>& stack, ast::Program& program) {
    canonical_of_.resize(std::max<std::size_t>(canonical_of_.size(), id + 1));
    canonical_of_[id] = canonical(sources_.file(id).path);
    stack.push_back(canonical_of_[id]);
    program.files.push_back(parse::parse_file(sources_, id, diags_));
    const std::size_t index = program.files.size() - 1;
    // Collect first: loading appends to program.files and would invalidate references.
    std::vector<std::pair<std::string, ast::SourceRange>> includes;
    for (const auto& st : program.files[index].statements) {
      if (st.kind == ast::Statement::Kind::kInclude) {
        includes.emplace_back(st.include->path, st.include->path_range);
      }
    }
    for (const auto& [path, range] : includes) include(id, path, range, stack, program);
    stack.pop_back();
  }

 private:
  void include(ast::FileId from, const std::string& path, ast::SourceRange range,
               std::vector<std::string>& stack, ast::Program& program) {
    std::filesystem::path p(path);
    if (p.is_relative()) p = std::filesystem::path(sources_.file(from).path).parent_path() / p;
    if (is_pattern(p.filename().string())) {
      include_matches(from, p, range, stack, program);
      return;
    }
    const std::string resolved = p.lexically_normal().string();
    const std::string canon = canonical(resolved);
    for (std::size_t i = 0; i < stack.size(); ++i) {
      if (stack[i] == canon) {
        auto& d = diags_.report(diag::Code::kIncludeCycle, range,
                                "include cycle: '" + path + "' is already being included");
        std::optional<ast::SourceRange> at = sources_.file(from).included_from;
        for (int guard = 0; at && guard < kMaxIncludeDepth; ++guard) {
          d.notes.push_back({*at, "included from here"});
          at = sources_.file(at->file).included_from;
        }
        return;
      }
    }
    if (static_cast<int>(stack.size()) >= kMaxIncludeDepth) {
      diags_.report(
          diag::Code::kNestingTooDeep, range,
          "includes nested too deep (the limit is " + std::to_string(kMaxIncludeDepth) + " files)");
      return;
    }
    // A file included twice along different paths (a diamond) is loaded once.
    for (std::size_t i = 0; i < canonical_of_.size(); ++i) {
      if (canonical_of_[i] == canon) return;
    }
    auto loaded = add(resolved, range);
    if (!loaded) {
      diags_.report(diag::Code::kUnreadableFile, range,
                    "cannot read included file: " + loaded.error().message);
      return;
    }
    load(*loaded, stack, program);
  }

  /// `include "conf.d/*.amata"`: every file of the directory whose name matches, in name
  /// order (as drop-in directories are read). None is fine, an empty drop-in directory; a
  /// directory that cannot be read is an error, and so is a pattern before the file name.
  void include_matches(ast::FileId from, const std::filesystem::path& pattern,
                       ast::SourceRange range, std::vector<std::string>& stack,
                       ast::Program& program) {
    const std::filesystem::path dir = pattern.parent_path();
    if (is_pattern(dir.string())) {
      diags_.report(
          diag::Code::kUnreadableFile, range,
          "only the file name of an include may be a pattern, not '" + dir.string() + "'");
      return;
    }
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    std::vector<std::string> matches;
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      // FNM_PERIOD: `*` does not match a hidden file (an editor's swap file, `.#x.amata`).
      if (fnmatch(pattern.filename().c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
      std::error_code type_ec;
      if (it->is_directory(type_ec)) continue;
      matches.push_back(it->path().string());
    }
    if (ec) {
      diags_.report(
          diag::Code::kUnreadableFile, range,
          "cannot read the directory of included files '" + dir.string() + "': " + ec.message());
      return;
    }
    std::sort(matches.begin(), matches.end());
    for (const std::string& file : matches) include(from, file, range, stack, program);
  }

  source::SourceManager& sources_;
  diag::DiagnosticEngine& diags_;
  const OpenText& open_;
  std::vector<std::string> canonical_of_;  // by FileId
};

}  // namespace

ast::Program parse_program(ast::FileId root, source::SourceManager& sources,
                           diag::DiagnosticEngine& diags) {
  ast::Program program;
  const OpenText disk_only;
  Loader loader(sources, diags, disk_only);
  std::vector<std::string> stack;
  loader.load(root, stack, program);
  return program;
}

ast::Program parse_program(const std::string& path, source::SourceManager& sources,
                           diag::DiagnosticEngine& diags, const OpenText& open) {
  Loader loader(sources, diags, open);
  auto loaded = loader.add(path, std::nullopt);
  if (!loaded) {
    diags.report(diag::Code::kUnreadableFile, {ast::kNoFile, 0, 0},
                 "cannot read policy: " + loaded.error().message);
    return {};
  }
  ast::Program program;
  std::vector<std::string> stack;
  loader.load(*loaded, stack, program);
  return program;
}

std::optional<check::CheckedPolicy> compile_file(const std::string& path,
                                                 source::SourceManager& sources,
                                                 diag::DiagnosticEngine& diags) {
  ast::Program program = parse_program(path, sources, diags);
  if (program.files.empty()) return std::nullopt;
  auto policy = check::check_program(program, sources, diags);
  if (diags.has_errors()) return std::nullopt;
  return policy;
}

std::optional<check::CheckedPolicy> compile_text(const std::string& name, std::string text,
                                                 source::SourceManager& sources,
                                                 diag::DiagnosticEngine& diags) {
  const ast::FileId id = sources.add(name, std::move(text));
  ast::Program program = parse_program(id, sources, diags);
  auto policy = check::check_program(program, sources, diags);
  if (diags.has_errors()) return std::nullopt;
  return policy;
}

}  // namespace amata::frontend
