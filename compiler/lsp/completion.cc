#include "compiler/lsp/completion.h"

#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "compiler/check/settings.h"
#include "compiler/check/signals.h"
#include "compiler/lsp/vocabulary.h"

namespace amata::lsp {
namespace {

// LSP CompletionItemKind values.
constexpr int kFunctionItem = 3, kField = 5, kVariable = 6, kClass = 7, kProperty = 10,
              kUnitItem = 11, kValue = 12, kKeyword = 14, kConstantItem = 21, kEventItem = 23;

bool word_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool word_char(char c) {
  return word_start(c) || (c >= '0' && c <= '9');
}
bool digit(char c) {
  return c >= '0' && c <= '9';
}

/// A token of the statement before the cursor. Words keep their dots (`s.health.failed`).
struct Tok {
  enum Kind { kWord, kNumber, kString, kPunct } kind;
  std::string_view text;
  std::uint32_t begin;
};

/// The statement the cursor is in, tokenised up to the cursor.
struct Context {
  std::vector<Tok> toks;   // before the word being typed
  std::string_view typed;  // the word being typed (may be empty)
  bool in_string_or_comment = false;
  int braces = 0, parens = 0;
  std::uint32_t line_begin = 0;  // of the cursor's line
};

Context scan(std::string_view text, std::uint32_t cursor) {
  Context c;
  std::uint32_t line = cursor;
  while (line > 0 && text[line - 1] != '\n') --line;
  c.line_begin = line;
  // The statement starts at the nearest line with a word in column 1 (the parser's
  // recovery rule).
  std::uint32_t begin = line;
  while (cursor > line && begin > 0 && (begin >= text.size() || !word_start(text[begin]))) {
    std::uint32_t prev = begin - 1;
    while (prev > 0 && text[prev - 1] != '\n') --prev;
    begin = prev;
  }
  std::uint32_t i = begin;
  while (i < cursor) {
    const char ch = text[i];
    if (ch == '#') {
      while (i < cursor && text[i] != '\n') ++i;
      if (i == cursor) c.in_string_or_comment = true;
      continue;
    }
    if (ch == '"') {
      const std::uint32_t start = i++;
      while (i < cursor && text[i] != '"' && text[i] != '\n') i += text[i] == '\\' ? 2 : 1;
      if (i >= cursor) {
        c.in_string_or_comment = true;
        break;
      }
      c.toks.push_back({Tok::kString, text.substr(start, i + 1 - start), start});
      ++i;
      continue;
    }
    if (word_start(ch)) {
      const std::uint32_t start = i;
      while (i < cursor && (word_char(text[i]) ||
                            (text[i] == '.' && (i + 1 >= text.size() || text[i + 1] != '.')))) {
        ++i;
      }
      c.toks.push_back({Tok::kWord, text.substr(start, i - start), start});
      continue;
    }
    if (digit(ch)) {
      const std::uint32_t start = i;
      while (i < cursor &&
             (digit(text[i]) || (text[i] == '.' && i + 1 < text.size() && digit(text[i + 1])))) {
        ++i;
      }
      while (i < cursor && (word_char(text[i]) || text[i] == '%' || text[i] == '/')) ++i;
      c.toks.push_back({Tok::kNumber, text.substr(start, i - start), start});
      continue;
    }
    if (ch == '{') ++c.braces;
    if (ch == '}') --c.braces;
    if (ch == '(') ++c.parens;
    if (ch == ')') --c.parens;
    if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
      c.toks.push_back({Tok::kPunct, text.substr(i, 1), i});
    }
    ++i;
  }
  // The word being typed: the last word token when it reaches the cursor, up to its last dot.
  if (!c.in_string_or_comment && !c.toks.empty() && c.toks.back().kind == Tok::kWord &&
      c.toks.back().begin + c.toks.back().text.size() == cursor) {
    std::string_view w = c.toks.back().text;
    const auto dot = w.rfind('.');
    if (dot == std::string_view::npos) {
      c.typed = w;
      c.toks.pop_back();
    } else {
      c.typed = w.substr(dot + 1);
      c.toks.back().text = w.substr(0, dot + 1);  // `s.health.`: the member chain
    }
  }
  return c;
}

class Items {
 public:
  void add(std::string_view label, int kind, std::string_view detail = {},
           std::string_view doc = {}) {
    if (label.empty() || !seen_.insert(std::string(label)).second) return;
    Json item = {{"label", label}, {"kind", kind}};
    if (!detail.empty()) item["detail"] = detail;
    if (!doc.empty()) item["documentation"] = {{"kind", "markdown"}, {"value", doc}};
    items_.push_back(std::move(item));
  }
  Json done() { return {{"isIncomplete", false}, {"items", std::move(items_)}}; }

 private:
  Json items_ = Json::array();
  std::set<std::string, std::less<>> seen_;
};

/// A name in scope at the cursor: a parameter of the statement, or a global.
struct Scope {
  std::vector<std::pair<std::string, std::optional<catalog::Kind>>> params;
};

Scope statement_scope(const Analysis& a, const Context& c) {
  Scope s;
  if (c.toks.empty() || c.toks[0].kind != Tok::kWord) return s;
  const std::string_view head = c.toks[0].text;
  if (head == "discover") {
    // discover NAME ( p : KIND , q : KIND )
    for (std::size_t i = 2; i + 2 < c.toks.size() && c.toks[i].text != ")"; ++i) {
      if (c.toks[i].kind == Tok::kWord && c.toks[i + 1].text == ":" &&
          c.toks[i + 2].kind == Tok::kWord) {
        s.params.emplace_back(std::string(c.toks[i].text),
                              catalog::kind_from_name(c.toks[i + 2].text));
      }
    }
  } else if (head == "recover" && c.toks.size() > 1) {
    // recover EVENT ( a , b ): kinds from the event's parameters, by position
    const int ev = a.index().find_event(c.toks[1].text);
    std::size_t n = 0;
    for (std::size_t i = 3; i < c.toks.size() && c.toks[i].text != ")"; ++i) {
      if (c.toks[i].kind != Tok::kWord) continue;
      std::optional<catalog::Kind> kind;
      if (ev >= 0 && n < a.index().symbol(ev).params.size()) {
        kind = a.index().symbol(ev).params[n].kind;
      }
      s.params.emplace_back(std::string(c.toks[i].text), kind);
      ++n;
    }
  }
  return s;
}

std::optional<catalog::Kind> kind_of_name(const Analysis& a, const Scope& scope,
                                          std::string_view name) {
  for (const auto& [p, kind] : scope.params) {
    if (p == name) return kind;
  }
  const int g = a.index().find_global(name);
  if (g >= 0) return a.index().symbol(g).object_kind;
  return std::nullopt;
}

/// The type of `x.attr` written as one word token, if it names an attribute.
std::optional<catalog::Type> attribute_type(const Analysis& a, const Scope& scope,
                                            std::string_view chain) {
  const auto dot = chain.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto kind = kind_of_name(a, scope, chain.substr(0, dot));
  if (!kind) return std::nullopt;
  const catalog::Attribute* attr = catalog::find_attribute(*kind, chain.substr(dot + 1));
  if (!attr) return std::nullopt;
  return attr->type;
}

void add_units(Items& items, std::optional<catalog::Dimension> dim) {
  for (const catalog::Unit& u : catalog::units()) {
    if (dim && u.dimension != *dim) continue;
    items.add(u.suffix, kUnitItem, catalog::dimension_name(u.dimension));
  }
}

/// The dimension a number written after `toks[..n)` should have, when its place says.
std::optional<catalog::Dimension> number_dimension(const Analysis& a, const Scope& scope,
                                                   const std::vector<Tok>& t, std::size_t n) {
  if (n == 0) return std::nullopt;
  const std::string_view prev = t[n - 1].text;
  static constexpr std::string_view kDurationWords[] = {"for",   "within", "every", "timeout",
                                                        "grace", "after",  "wait",  "backoff"};
  for (auto w : kDurationWords) {
    if (prev == w) return catalog::Dimension::kDuration;
  }
  if (prev == "." && n >= 2 && t[n - 2].text == ".") return catalog::Dimension::kDuration;  // ..
  // The operand before an operator: `s.cpu > 9`, `avg(s.cpu, 5min) > 9`.
  std::size_t i = n;
  while (i > 0 && t[i - 1].kind == Tok::kPunct &&
         std::string_view("<>=!+-").find(t[i - 1].text) != std::string_view::npos) {
    --i;
  }
  if (i < n && i > 0) {
    if (t[i - 1].kind == Tok::kWord) {
      auto type = attribute_type(a, scope, t[i - 1].text);
      if (type && type->kind == catalog::ValueKind::kNumber) return type->dimension;
      return std::nullopt;
    }
    if (t[i - 1].text == ")") {
      int depth = 0;
      std::size_t j = i - 1;
      for (; j > 0; --j) {
        if (t[j].text == ")") ++depth;
        if (t[j].text == "(" && --depth == 0) break;
      }
      if (j == 0 || j + 1 >= n || t[j - 1].kind != Tok::kWord) return std::nullopt;
      auto type = attribute_type(a, scope, t[j + 1].text);
      if (!type || type->kind != catalog::ValueKind::kNumber) return std::nullopt;
      if (t[j - 1].text == "rate") {
        return type->dimension == catalog::Dimension::kBytes ? catalog::Dimension::kBytesPerSecond
                                                             : catalog::Dimension::kPerSecond;
      }
      if (t[j - 1].text == "changed") return std::nullopt;
      return type->dimension;
    }
    return std::nullopt;
  }
  // The second argument of a window function: a duration.
  if (prev == ",") {
    int depth = 0;
    for (std::size_t j = n; j-- > 0;) {
      if (t[j].text == ")") ++depth;
      if (t[j].text == "(") {
        if (depth-- > 0) continue;
        if (j > 0 && find_word(functions(), t[j - 1].text)) return catalog::Dimension::kDuration;
        break;
      }
    }
  }
  return std::nullopt;
}

void add_kinds(Items& items) {
  for (catalog::Kind k : catalog::all_kinds()) {
    items.add(catalog::kind_name(k), kClass, "kind", catalog::kind_description(k));
  }
}

void add_events(Items& items, const Analysis& a) {
  for (const Symbol& s : a.index().symbols()) {
    if (s.kind == SymbolKind::kEvent) items.add(s.name, kEventItem, "event");
  }
}

void add_signals(Items& items) {
  for (auto s : check::signal_names()) items.add(s, kValue, "signal");
}

void add_objects(Items& items, const Analysis& a, std::optional<catalog::Kind> only = {}) {
  for (const Symbol& s : a.index().symbols()) {
    if (s.kind != SymbolKind::kObject || !s.object_kind) continue;
    if (only && *s.object_kind != *only) continue;
    items.add(s.name, kVariable, catalog::kind_name(*s.object_kind));
  }
}

void add_constants(Items& items, const Analysis& a) {
  for (const Symbol& s : a.index().symbols()) {
    if (s.kind == SymbolKind::kConstant) {
      items.add(s.name, kConstantItem, "constant", a.sources().text(s.decl_range));
    }
  }
}

void add_params(Items& items, const Scope& scope) {
  for (const auto& [name, kind] : scope.params) {
    items.add(name, kVariable, kind ? catalog::kind_name(*kind) : "parameter");
  }
}

void add_expression(Items& items, const Analysis& a, const Scope& scope) {
  add_params(items, scope);
  add_objects(items, a);
  add_constants(items, a);
  for (const Word& f : functions()) items.add(f.name, kFunctionItem, f.usage, f.doc);
  for (auto k : {"not", "and", "or", "true", "false"}) items.add(k, kKeyword);
}

void add_members(Items& items, const Analysis& a, const Scope& scope, std::string_view chain,
                 bool in_run) {
  const auto dot = chain.find('.');
  auto kind = kind_of_name(a, scope, chain.substr(0, dot));
  if (!kind) return;
  const std::string_view rest = chain.substr(dot + 1);  // "" or "health."
  for (const catalog::Attribute& attr : catalog::attributes(*kind)) {
    if (attr.name.substr(0, rest.size()) != rest) continue;
    items.add(attr.name.substr(rest.size()), kField, catalog::type_name(attr.type),
              attr.description);
  }
  if (in_run && rest.empty()) items.add("name", kField, "string", "the object's name");
}

/// Inside an object's (or the cluster's, or a channel's) braces.
void object_body(Items& items, const Analysis& a, const Context& c) {
  const std::string_view kind_word = c.toks[0].text;
  // The setting being written: tokens after the last `{` or `;`, on the cursor's line.
  std::size_t first = c.toks.size();
  while (first > 0 && c.toks[first - 1].begin >= c.line_begin && c.toks[first - 1].text != "{" &&
         c.toks[first - 1].text != ";") {
    --first;
  }
  if (first == c.toks.size()) {
    if (kind_word == "cluster") {
      for (const auto& s : check::cluster_settings()) items.add(s.name, kProperty, s.usage);
      return;
    }
    if (kind_word == "channel") {
      for (const auto& s : check::channel_settings()) items.add(s.name, kProperty, s.usage);
      return;
    }
    auto kind = catalog::kind_from_name(kind_word);
    for (const auto& s : check::object_settings()) {
      if (!kind || check::accepts(s, *kind)) items.add(s.name, kProperty, s.usage);
    }
    return;
  }
  const std::string_view setting = c.toks[first].text;
  const std::size_t args = c.toks.size() - first - 1;
  if (setting == "depends") {
    add_objects(items, a, catalog::Kind::kService);
  } else if (setting == "prefer") {
    add_objects(items, a, catalog::Kind::kPeer);
  } else if (setting == "stop") {
    add_signals(items);
    for (auto k : {"then", "after"}) items.add(k, kKeyword);
  } else if (setting == "health") {
    if (args == 0) {
      for (auto k : {"tcp", "unix", "http"}) items.add(k, kKeyword);
    } else {
      for (auto k : {"every", "timeout", "expect", "ca"}) items.add(k, kKeyword);
    }
  } else if (setting == "method") {
    for (auto k : {"tcp", "icmp"}) items.add(k, kKeyword);
  } else if (setting == "on_quorum_loss") {
    for (auto k : {"stop", "freeze"}) items.add(k, kKeyword);
  } else {
    add_constants(items, a);
  }
}

/// Inside a recover rule's braces.
void recover_body(Items& items, const Analysis& a, const Context& c, const Scope& scope) {
  std::size_t first = c.toks.size();
  while (first > 0 && c.toks[first - 1].begin >= c.line_begin && c.toks[first - 1].text != "{" &&
         c.toks[first - 1].text != "}" && c.toks[first - 1].text != ";") {
    --first;
  }
  const std::size_t n = c.toks.size() - first;
  if (n == 0) {
    for (const Word& w : actions()) items.add(w.name, kKeyword, w.usage, w.doc);
    if (first > 0 && c.toks[first - 1].text == "}") items.add("else", kKeyword);
    return;
  }
  const std::string_view action = c.toks[first].text;
  if (action == "when" || action == "else") {
    add_expression(items, a, scope);
  } else if (action == "raise") {
    if (n == 1) {
      add_events(items, a);
    } else {
      add_params(items, scope);
      add_objects(items, a);
    }
  } else if (action == "signal" && n == 2) {
    add_signals(items);
  } else if (action == "restart" && n >= 2) {
    for (auto k : {"backoff", "limit", "none", "within"}) items.add(k, kKeyword);
    add_constants(items, a);
  } else if (action == "wait") {
    add_constants(items, a);
  } else if (action == "failover" && n == 2) {
    items.add("to", kKeyword);
  } else if (action == "failover" && n == 3) {
    add_objects(items, a, catalog::Kind::kPeer);
  } else if (action == "run" || (n == 1 && action != "notify")) {
    add_params(items, scope);  // an action's target, or an interpolated `x.name`
    add_objects(items, a);
  }
}

}  // namespace

Json complete(const Analysis& a, ast::FileId file, std::uint32_t offset) {
  Items items;
  const std::string_view text = a.sources().file(file).text;
  const std::uint32_t cursor = std::min<std::uint32_t>(offset, text.size());
  const Context c = scan(text, cursor);
  if (c.in_string_or_comment) return items.done();
  const Scope scope = statement_scope(a, c);
  const auto& t = c.toks;

  // Right after a number: its unit, of the dimension the place wants when it says.
  if (!t.empty() && t.back().kind == Tok::kNumber &&
      t.back().begin + t.back().text.size() == cursor) {
    add_units(items, number_dimension(a, scope, t, t.size() - 1));
    return items.done();
  }
  // `x.` or `x.health.`: the attributes of x's kind.
  if (!t.empty() && t.back().kind == Tok::kWord && t.back().text.back() == '.') {
    const bool in_run = t.size() >= 2 && std::string_view(t[0].text) == "recover" && [&] {
      for (const auto& tok : t) {
        if (tok.text == "run") return true;
      }
      return false;
    }();
    add_members(items, a, scope, t.back().text, in_run);
    return items.done();
  }
  // A statement's first word.
  if (t.empty()) {
    if (c.line_begin + c.typed.size() == cursor || cursor == c.line_begin) {
      for (const Word& w : statement_keywords()) items.add(w.name, kKeyword, w.usage, w.doc);
      add_kinds(items);
    }
    return items.done();
  }
  const std::string_view head = t[0].text;
  const std::string_view prev = t.back().text;
  if (prev == ":" && c.parens > 0) {
    add_kinds(items);
    return items.done();
  }
  if (head == "recover") {
    if (t.size() == 1) {
      add_events(items, a);
    } else if (c.braces > 0) {
      recover_body(items, a, c, scope);
    }
    return items.done();
  }
  if (head == "discover") {
    if (prev == "raise") {
      add_events(items, a);
    } else if (t.size() >= 2 && (prev == "(" || prev == ",") && c.parens > 0 && [&] {
                 for (const auto& tok : t) {
                   if (tok.text == "raise") return true;
                 }
                 return false;
               }()) {
      add_params(items, scope);
      add_objects(items, a);
    } else if (t.size() >= 2) {
      bool in_condition = false;
      for (const auto& tok : t) in_condition = in_condition || tok.text == "when";
      if (in_condition) {
        add_expression(items, a, scope);
        for (auto k : {"for", "checks", "times", "within", "clear", "after", "raise"})
          items.add(k, kKeyword);
      }
    }
    return items.done();
  }
  if (head == "event") {
    if (prev == ")") items.add("notify_only", kKeyword);
    return items.done();
  }
  if (head == "let") {
    if (t.size() >= 3) {
      add_constants(items, a);
      for (auto k : {"true", "false"}) items.add(k, kKeyword);
    }
    return items.done();
  }
  if ((catalog::kind_from_name(head) || head == "cluster" || head == "channel") && c.braces > 0) {
    object_body(items, a, c);
  }
  return items.done();
}

}  // namespace amata::lsp
