#include "compiler/lsp/convert.h"

namespace amata::lsp {
namespace {

Json position_json(const Position& p) {
  return {{"line", p.line}, {"character", p.character}};
}

int severity(diag::Severity s) {
  switch (s) {
    case diag::Severity::kError:
      return 1;
    case diag::Severity::kWarning:
      return 2;
    case diag::Severity::kNote:
      return 3;
  }
  return 1;
}

}  // namespace

Json lsp_range(const Analysis& a, const ast::SourceRange& r) {
  if (r.file == ast::kNoFile || r.file >= a.sources().size()) {
    return {{"start", position_json({})}, {"end", position_json({})}};
  }
  const LineIndex& lines = a.lines(r.file);
  return {{"start", position_json(lines.position(r.begin))},
          {"end", position_json(lines.position(std::max(r.begin, r.end)))}};
}

std::string file_uri(const Analysis& a, ast::FileId id) {
  return path_to_uri(a.sources().file(id).path);
}

Json lsp_location(const Analysis& a, const ast::SourceRange& r) {
  return {{"uri", file_uri(a, r.file)}, {"range", lsp_range(a, r)}};
}

Json lsp_diagnostic(const Analysis& a, const diag::Diagnostic& d) {
  const std::size_t files = a.sources().size();
  const ast::FileId file = d.range.file == ast::kNoFile ? 0 : d.range.file;
  Json j = {{"range", lsp_range(a, d.range)},
            {"severity", severity(d.severity)},
            {"code", d.code},
            {"source", "amatac"},
            {"message", d.message}};
  Json related = Json::array();
  for (const diag::Note& n : d.notes) {
    if (n.range.file == ast::kNoFile || n.range.file >= files) continue;
    related.push_back({{"location", lsp_location(a, n.range)}, {"message", n.message}});
  }
  // As the text printer's "In file included from": where this file was included.
  std::optional<ast::SourceRange> at;
  if (file < files) at = a.sources().file(file).included_from;
  for (int guard = 0; at && guard < 64; ++guard) {
    related.push_back({{"location", lsp_location(a, *at)}, {"message", "included from here"}});
    at = a.sources().file(at->file).included_from;
  }
  if (!related.empty()) j["relatedInformation"] = std::move(related);
  return j;
}

Json lsp_diagnostics(const Analysis& a, ast::FileId id) {
  Json out = Json::array();
  for (const diag::Diagnostic& d : a.diagnostics().sorted()) {
    const ast::FileId file = d.range.file == ast::kNoFile ? 0 : d.range.file;
    if (file == id) out.push_back(lsp_diagnostic(a, d));
  }
  return out;
}

}  // namespace amata::lsp
