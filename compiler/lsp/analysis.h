// One policy as the language server sees it: a root document and every file it includes,
// read from the editor's open buffers where it has them and from disk otherwise, parsed,
// checked and indexed. Rebuilt from scratch after every edit (the front end is fast enough:
// docs/benchmarks.md, "amatac lsp").
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ast/ast.h"
#include "compiler/check/checked_policy.h"
#include "compiler/diag/diagnostic.h"
#include "compiler/frontend/frontend.h"
#include "compiler/lsp/index.h"
#include "compiler/lsp/positions.h"
#include "compiler/source/source_manager.h"

namespace amata::lsp {

/// The text of a file the editor holds open, or nullptr to read it from disk.
using OpenText = frontend::OpenText;

class Analysis {
 public:
  /// Loads `root` (from `open`, or from disk), its includes as amatac check does (relative
  /// to the including file, patterns, cycles and depth as diagnostics), parses and checks.
  static std::unique_ptr<Analysis> run(const std::string& root, const OpenText& open);

  const source::SourceManager& sources() const { return sources_; }
  const ast::Program& program() const { return program_; }
  const diag::DiagnosticEngine& diagnostics() const { return diags_; }
  /// The checked policy; nullopt when the policy has errors.
  const std::optional<check::CheckedPolicy>& policy() const { return policy_; }
  /// The symbol index, built on first use (publishing diagnostics does not need it).
  const Index& index() const;
  /// Offset <-> position for file `id`, built on first use.
  const LineIndex& lines(ast::FileId id) const;
  /// The id of the loaded file with this path (as resolved: root, or includer's dir / name).
  std::optional<ast::FileId> file(const std::string& path) const;
  /// The paths of every loaded file, root first.
  std::vector<std::string> paths() const;

 private:
  Analysis() = default;

  source::SourceManager sources_;
  diag::DiagnosticEngine diags_;
  ast::Program program_;
  std::optional<check::CheckedPolicy> policy_;
  mutable std::optional<Index> index_;
  mutable std::vector<std::unique_ptr<LineIndex>> lines_;
};

/// `path` made absolute and lexically normal: the key of a document.
std::string normal_path(const std::string& path);

}  // namespace amata::lsp
