#include "compiler/lsp/navigation.h"

#include <map>

#include "compiler/lsp/convert.h"

namespace amata::lsp {
namespace {

// LSP SymbolKind values.
constexpr int kFile = 1, kModule = 2, kNamespace = 3, kProperty = 7, kFunction = 12, kConstant = 14,
              kObject = 19, kEvent = 24;

/// Never names (docs/language.md, Lexical structure), and the kinds.
constexpr std::string_view kReserved[] = {
    "and",     "or",      "not",       "true",       "false",    "when",    "else",
    "raise",   "for",     "within",    "times",      "time",     "checks",  "check",
    "let",     "include", "policy",    "event",      "discover", "recover", "node",
    "service", "process", "interface", "filesystem", "host",     "peer",    "cluster"};

bool is_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

Json symbol(std::string name, std::string detail, int kind, const Analysis& a,
            const ast::SourceRange& range, ast::SourceRange selection) {
  // The selection must lie inside the range (a statement cut short may end early).
  if (selection.begin < range.begin || selection.end > range.end) selection = range;
  return {{"name", std::move(name)},
          {"detail", std::move(detail)},
          {"kind", kind},
          {"range", lsp_range(a, range)},
          {"selectionRange", lsp_range(a, selection)}};
}

std::string params_text(const std::vector<ast::Param>& params) {
  std::string text;
  for (const auto& p : params) {
    text += (text.empty() ? "(" : ", ") + p.name.text + ": " + p.kind.text;
  }
  return text.empty() ? text : text + ")";
}

}  // namespace

Json definition(const Analysis& a, ast::FileId file, std::uint32_t offset) {
  const Occurrence* o = a.index().occurrence_at(file, offset);
  if (!o) return nullptr;
  return lsp_location(a, a.index().symbol(o->symbol).name_range);
}

Json references(const Analysis& a, ast::FileId file, std::uint32_t offset,
                bool include_declaration) {
  Json out = Json::array();
  const Occurrence* o = a.index().occurrence_at(file, offset);
  if (!o) return out;
  for (const Occurrence& r : a.index().occurrences(o->symbol)) {
    if (r.definition && !include_declaration) continue;
    out.push_back(lsp_location(a, r.range));
  }
  return out;
}

Json document_symbols(const Analysis& a, ast::FileId file) {
  Json out = Json::array();
  for (const ast::File& f : a.program().files) {
    if (f.file != file) continue;
    for (const ast::Statement& st : f.statements) {
      switch (st.kind) {
        case ast::Statement::Kind::kPolicy:
          if (!st.policy->name.text.empty()) {
            out.push_back(symbol(st.policy->name.text, "policy", kModule, a, st.policy->range,
                                 st.policy->name.range));
          }
          break;
        case ast::Statement::Kind::kInclude:
          out.push_back(symbol(st.include->path.empty() ? "include" : st.include->path, "include",
                               kFile, a, st.include->range, st.include->path_range));
          break;
        case ast::Statement::Kind::kLet:
          out.push_back(
              symbol(st.let->name.text, "let", kConstant, a, st.let->range, st.let->name.range));
          break;
        case ast::Statement::Kind::kEvent:
          out.push_back(symbol(st.event->name.text, "event" + params_text(st.event->params), kEvent,
                               a, st.event->range, st.event->name.range));
          break;
        case ast::Statement::Kind::kObject: {
          const auto& o = *st.object;
          const bool cluster = o.kind.text == "cluster";
          Json s = symbol(o.name.text, o.kind.text, cluster ? kNamespace : kObject, a, o.range,
                          o.name.range);
          Json children = Json::array();
          for (const auto& setting : o.settings) {
            children.push_back(symbol(setting.name.text,
                                      std::string(a.sources().text(setting.range)), kProperty, a,
                                      setting.range, setting.name.range));
          }
          s["children"] = std::move(children);
          out.push_back(std::move(s));
          break;
        }
        case ast::Statement::Kind::kDiscover: {
          const auto& r = *st.discover;
          out.push_back(symbol(r.name.text,
                               "discover" + params_text(r.params) + " raise " + r.raise.event.text,
                               kFunction, a, r.range, r.name.range));
          break;
        }
        case ast::Statement::Kind::kRecover: {
          const auto& r = *st.recover;
          out.push_back(
              symbol("recover " + r.event.text, "recover", kFunction, a, r.range, r.event.range));
          break;
        }
      }
    }
  }
  // A statement cut short by a syntax error may have an empty name; editors reject those.
  Json kept = Json::array();
  for (auto& s : out) {
    if (!s["name"].get_ref<const std::string&>().empty()) kept.push_back(std::move(s));
  }
  return kept;
}

Json prepare_rename(const Analysis& a, ast::FileId file, std::uint32_t offset) {
  const Occurrence* o = a.index().occurrence_at(file, offset);
  if (!o) return nullptr;
  return {{"range", lsp_range(a, o->range)}, {"placeholder", a.index().symbol(o->symbol).name}};
}

std::optional<Json> rename(const Analysis& a, ast::FileId file, std::uint32_t offset,
                           const std::string& new_name, std::string& error) {
  const Index& index = a.index();
  const Occurrence* o = index.occurrence_at(file, offset);
  if (!o) {
    error = "there is no name to rename here";
    return std::nullopt;
  }
  if (!is_name(new_name)) {
    error = "'" + new_name + "' is not a name (a letter or '_', then letters, digits or '_')";
    return std::nullopt;
  }
  for (auto r : kReserved) {
    if (r == new_name) {
      error = "'" + new_name + "' is a reserved word";
      return std::nullopt;
    }
  }
  const Symbol& s = index.symbol(o->symbol);
  const bool global = s.kind == SymbolKind::kObject || s.kind == SymbolKind::kConstant ||
                      s.kind == SymbolKind::kCluster;
  if ((global && index.find_global(new_name) >= 0) ||
      (s.kind == SymbolKind::kEvent && index.find_event(new_name) >= 0)) {
    error = "'" + new_name + "' is already defined";
    return std::nullopt;
  }
  std::map<std::string, Json> changes;
  for (const Occurrence& r : index.occurrences(o->symbol)) {
    changes[file_uri(a, r.range.file)].push_back(
        {{"range", lsp_range(a, r.range)}, {"newText", new_name}});
  }
  Json edit = {{"changes", Json::object()}};
  for (auto& [uri, edits] : changes) edit["changes"][uri] = std::move(edits);
  return edit;
}

Json code_actions(const Analysis& a, ast::FileId file, std::uint32_t begin, std::uint32_t end) {
  Json out = Json::array();
  for (const diag::Diagnostic& d : a.diagnostics().sorted()) {
    if (d.fixits.empty() || d.range.file != file) continue;
    if (d.range.end < begin || d.range.begin > end) continue;
    std::map<std::string, Json> changes;
    std::string title;
    for (const diag::FixIt& f : d.fixits) {
      if (f.range.file == ast::kNoFile || f.range.file >= a.sources().size()) continue;
      changes[file_uri(a, f.range.file)].push_back(
          {{"range", lsp_range(a, f.range)}, {"newText", f.replacement}});
      const std::string old(a.sources().text(f.range));
      if (title.empty()) {
        title = f.replacement.empty() ? "Remove '" + old + "'"
                : old.empty()         ? "Insert '" + f.replacement + "'"
                                      : "Replace '" + old + "' with '" + f.replacement + "'";
      }
    }
    if (changes.empty()) continue;
    Json edit = {{"changes", Json::object()}};
    for (auto& [uri, edits] : changes) edit["changes"][uri] = std::move(edits);
    out.push_back({{"title", title + " (" + d.code + ")"},
                   {"kind", "quickfix"},
                   {"diagnostics", Json::array({lsp_diagnostic(a, d)})},
                   {"isPreferred", d.fixits.size() == 1},
                   {"edit", std::move(edit)}});
  }
  return out;
}

}  // namespace amata::lsp
