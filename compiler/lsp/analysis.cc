#include "compiler/lsp/analysis.h"

#include <filesystem>
#include <system_error>

#include "compiler/check/checker.h"
#include "compiler/frontend/frontend.h"

namespace amata::lsp {

std::string normal_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  return p.lexically_normal().string();
}

std::unique_ptr<Analysis> Analysis::run(const std::string& root, const OpenText& open) {
  std::unique_ptr<Analysis> a(new Analysis());
  a->program_ = frontend::parse_program(root, a->sources_, a->diags_, open);
  if (a->program_.files.empty()) return a;
  a->policy_ = check::check_program(a->program_, a->sources_, a->diags_);
  a->lines_.resize(a->sources_.size());
  return a;
}

const Index& Analysis::index() const {
  if (!index_) index_ = Index::build(program_);
  return *index_;
}

const LineIndex& Analysis::lines(ast::FileId id) const {
  if (!lines_[id]) lines_[id] = std::make_unique<LineIndex>(sources_.file(id).text);
  return *lines_[id];
}

std::optional<ast::FileId> Analysis::file(const std::string& path) const {
  return sources_.find(path);
}

std::vector<std::string> Analysis::paths() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sources_.size(); ++i) out.push_back(sources_.file(i).path);
  return out;
}

}  // namespace amata::lsp
