#include "compiler/diag/printer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace amata::diag {
namespace {

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kNote:
      return "note";
  }
  return "?";
}

const char* severity_color(Severity s) {
  switch (s) {
    case Severity::kError:
      return "\033[1;31m";
    case Severity::kWarning:
      return "\033[1;35m";
    case Severity::kNote:
      return "\033[1;36m";
  }
  return "";
}

/// A diagnostic about a file that could not be read at all points nowhere.
bool has_location(const source::SourceManager& sources, const ast::SourceRange& r) {
  return r.file < sources.size();
}

std::string location(const source::SourceManager& sources, const ast::SourceRange& r) {
  if (r.file >= sources.size()) return "<unknown>";
  const auto lc = sources.line_column(r.file, r.begin);
  return sources.file(r.file).path + ":" + std::to_string(lc.line) + ":" +
         std::to_string(lc.column);
}

void include_chain(std::ostream& out, const source::SourceManager& sources, ast::FileId file,
                   ast::FileId& last_printed) {
  if (file == last_printed) return;
  last_printed = file;
  std::optional<ast::SourceRange> from = sources.file(file).included_from;
  int guard = 0;
  while (from && guard++ < 64) {
    out << "In file included from " << location(sources, *from) << ":\n";
    from = sources.file(from->file).included_from;
  }
}

void snippet(std::ostream& out, const source::SourceManager& sources, const ast::SourceRange& r,
             const std::vector<FixIt>& fixits, const PrintOptions& opt) {
  if (r.file >= sources.size()) return;
  const auto begin = sources.line_column(r.file, r.begin);
  std::string_view line = sources.line_text(r.file, begin.line);
  // A 10 MB single-line file must not be echoed whole.
  constexpr std::size_t kMaxShown = 200;
  std::size_t col0 = begin.column - 1;
  std::size_t shift = 0;
  if (line.size() > kMaxShown && col0 > kMaxShown / 2) shift = col0 - kMaxShown / 2;
  line = line.substr(std::min(shift, line.size()), kMaxShown);
  col0 -= shift;
  const std::string number = std::to_string(begin.line);
  const std::string gutter(number.size(), ' ');
  out << ' ' << number << " | " << line << '\n';
  std::string pad;
  for (std::size_t i = 0; i < col0 && i < line.size(); ++i) pad += line[i] == '\t' ? '\t' : ' ';
  if (col0 > line.size()) pad.append(col0 - line.size(), ' ');
  std::size_t len = 1;
  const auto end = sources.line_column(r.file, r.end);
  if (end.line == begin.line && r.end > r.begin) len = r.end - r.begin;
  if (end.line != begin.line) len = line.size() > col0 ? line.size() - col0 : 1;
  len = std::max<std::size_t>(1, std::min(len, line.size() > col0 ? line.size() - col0 : 1));
  out << ' ' << gutter << " | " << pad << (opt.color ? "\033[1;32m" : "") << '^'
      << std::string(len - 1, '~') << (opt.color ? "\033[0m" : "") << '\n';
  for (const FixIt& f : fixits) {
    if (f.range.file != r.file ||
        sources.line_column(f.range.file, f.range.begin).line != begin.line) {
      continue;
    }
    const std::size_t fc = sources.line_column(f.range.file, f.range.begin).column - 1;
    if (fc < shift) continue;
    std::string fpad;
    for (std::size_t i = 0; i < fc - shift && i < line.size(); ++i)
      fpad += line[i] == '\t' ? '\t' : ' ';
    out << ' ' << gutter << " | " << fpad << (opt.color ? "\033[0;32m" : "") << f.replacement
        << (opt.color ? "\033[0m" : "") << '\n';
  }
}

}  // namespace

void print_text(std::ostream& out, const std::vector<Diagnostic>& diags,
                const source::SourceManager& sources, const PrintOptions& opt) {
  ast::FileId last_file = static_cast<ast::FileId>(-1);
  for (const Diagnostic& d : diags) {
    const bool located = has_location(sources, d.range);
    if (located) include_chain(out, sources, d.range.file, last_file);
    if (opt.color) out << "\033[1m";
    out << (located ? location(sources, d.range) : std::string("amatac")) << ": ";
    if (opt.color) out << severity_color(d.severity);
    out << severity_name(d.severity) << ": ";
    if (opt.color) out << "\033[0;1m";
    out << d.message;
    if (!d.code.empty()) out << " [" << d.code << "]";
    if (opt.color) out << "\033[0m";
    out << '\n';
    if (located && opt.source_lines) snippet(out, sources, d.range, d.fixits, opt);
    for (const Note& n : d.notes) {
      out << location(sources, n.range) << ": "
          << (opt.color ? severity_color(Severity::kNote) : "")
          << "note: " << (opt.color ? "\033[0m" : "") << n.message << '\n';
      if (opt.source_lines) snippet(out, sources, n.range, {}, opt);
    }
  }
}

void print_summary(std::ostream& out, const DiagnosticEngine& engine) {
  const auto e = engine.error_count(), w = engine.warning_count();
  if (e == 0 && w == 0) return;
  if (w) out << w << (w == 1 ? " warning" : " warnings");
  if (w && e) out << " and ";
  if (e) out << e << (e == 1 ? " error" : " errors");
  out << " generated.\n";
}

namespace {

nlohmann::json range_json(const source::SourceManager& sources, const ast::SourceRange& r) {
  nlohmann::json j;
  if (r.file >= sources.size()) return j;
  const auto b = sources.line_column(r.file, r.begin);
  const auto e = sources.line_column(r.file, r.end);
  j["file"] = sources.file(r.file).path;
  j["line"] = b.line;
  j["column"] = b.column;
  j["end_line"] = e.line;
  j["end_column"] = e.column;
  j["begin"] = r.begin;
  j["end"] = r.end;
  return j;
}

}  // namespace

std::string to_json(const std::vector<Diagnostic>& diags, const source::SourceManager& sources,
                    const DiagnosticEngine& engine) {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic& d : diags) {
    nlohmann::json j = range_json(sources, d.range);
    j["severity"] = severity_name(d.severity);
    j["code"] = d.code;
    j["message"] = d.message;
    j["notes"] = nlohmann::json::array();
    for (const Note& n : d.notes) {
      nlohmann::json nj = range_json(sources, n.range);
      nj["message"] = n.message;
      j["notes"].push_back(std::move(nj));
    }
    j["fixits"] = nlohmann::json::array();
    for (const FixIt& f : d.fixits) {
      nlohmann::json fj = range_json(sources, f.range);
      fj["replacement"] = f.replacement;
      j["fixits"].push_back(std::move(fj));
    }
    j["included_from"] = nlohmann::json::array();
    if (d.range.file < sources.size()) {
      auto from = sources.file(d.range.file).included_from;
      for (int guard = 0; from && guard < 64; ++guard) {
        j["included_from"].push_back(range_json(sources, *from));
        from = sources.file(from->file).included_from;
      }
    }
    list.push_back(std::move(j));
  }
  nlohmann::json doc;
  doc["diagnostics"] = std::move(list);
  doc["errors"] = engine.error_count();
  doc["warnings"] = engine.warning_count();
  // Sources may hold any bytes; invalid UTF-8 is replaced rather than thrown on.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace amata::diag
