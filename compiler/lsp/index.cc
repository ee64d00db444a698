#include "compiler/lsp/index.h"

#include <algorithm>
#include <tuple>

namespace amata::lsp {

/// Fills an Index in passes over the tree: the global names first (they may be used before
/// they are defined), then object settings, discover rules and recover rules.
class IndexBuilder {
 public:
  explicit IndexBuilder(Index& index) : ix_(index) {}

  void run(const ast::Program& program) {
    for (const auto& file : program.files) {
      for (const auto& st : file.statements) declare(st);
    }
    for (const auto& file : program.files) {
      for (const auto& st : file.statements) {
        if (st.kind == ast::Statement::Kind::kObject) settings(*st.object);
        if (st.kind == ast::Statement::Kind::kLet && st.let->value) expr(*st.let->value, {});
      }
    }
    for (const auto& file : program.files) {
      for (const auto& st : file.statements) {
        if (st.kind == ast::Statement::Kind::kDiscover) discover(*st.discover);
      }
    }
    for (const auto& file : program.files) {
      for (const auto& st : file.statements) {
        if (st.kind == ast::Statement::Kind::kRecover) recover(*st.recover);
      }
    }
    const auto order = [](const auto& a, const auto& b) {
      return std::tie(a.range.file, a.range.begin) < std::tie(b.range.file, b.range.begin);
    };
    std::stable_sort(ix_.occurrences_.begin(), ix_.occurrences_.end(), order);
    std::stable_sort(ix_.mentions_.begin(), ix_.mentions_.end(), order);
  }

 private:
  using Scope = std::vector<int>;  // parameter symbols of the rule being walked

  int add(Symbol s, std::unordered_map<std::string, int>* names) {
    const int id = static_cast<int>(ix_.symbols_.size());
    ix_.occurrences_.push_back({s.name_range, id, true});
    if (names) names->emplace(s.name, id);  // the first definition wins, as in the checker
    ix_.symbols_.push_back(std::move(s));
    return id;
  }

  void kind_mention(const ast::Name& kind) {
    if (auto k = catalog::kind_from_name(kind.text)) {
      ix_.mentions_.push_back({Mention::What::kKind, kind.range, kind.text, *k, false});
    }
  }

  void declare(const ast::Statement& st) {
    switch (st.kind) {
      case ast::Statement::Kind::kObject: {
        const auto& o = *st.object;
        Symbol s;
        s.name = o.name.text;
        s.name_range = o.name.range;
        s.decl_range = o.range;
        s.object = &o;
        if (o.kind.text == "cluster") {
          s.kind = SymbolKind::kCluster;
        } else {
          s.kind = SymbolKind::kObject;
          s.object_kind = catalog::kind_from_name(o.kind.text);
          kind_mention(o.kind);
        }
        add(std::move(s), &ix_.globals_);
        break;
      }
      case ast::Statement::Kind::kLet: {
        Symbol s;
        s.kind = SymbolKind::kConstant;
        s.name = st.let->name.text;
        s.name_range = st.let->name.range;
        s.decl_range = st.let->range;
        s.let = st.let.get();
        add(std::move(s), &ix_.globals_);
        break;
      }
      case ast::Statement::Kind::kEvent: {
        const auto& e = *st.event;
        Symbol s;
        s.kind = SymbolKind::kEvent;
        s.name = e.name.text;
        s.name_range = e.name.range;
        s.decl_range = e.range;
        s.declared = true;
        s.notify_only = e.notify_only;
        for (const auto& p : e.params) {
          s.params.push_back({p.name.text, catalog::kind_from_name(p.kind.text)});
          kind_mention(p.kind);
        }
        add(std::move(s), &ix_.events_);
        break;
      }
      case ast::Statement::Kind::kDiscover: {
        const auto& r = *st.discover;
        Symbol s;
        s.kind = SymbolKind::kRule;
        s.name = r.name.text;
        s.name_range = r.name.range;
        s.decl_range = r.range;
        s.rule = &r;
        s.raised_by = r.raise.event.text;
        add(std::move(s), nullptr);
        break;
      }
      case ast::Statement::Kind::kPolicy:
      case ast::Statement::Kind::kInclude:
      case ast::Statement::Kind::kRecover:
        break;
    }
  }

  /// A use of a name: a parameter in scope, else a global. Returns the symbol or -1.
  int use(const ast::Name& name, const Scope& scope) {
    if (name.text.empty()) return -1;
    for (const int p : scope) {
      if (ix_.symbols_[p].name == name.text) {
        ix_.occurrences_.push_back({name.range, p, false});
        return p;
      }
    }
    const int g = ix_.find_global(name.text);
    if (g >= 0) ix_.occurrences_.push_back({name.range, g, false});
    return g;
  }

  /// `x.a.b` where `x` resolved to `symbol`: the attribute `a.b` of x's kind.
  void attribute(int symbol, const std::vector<ast::Name>& path, std::size_t first) {
    if (symbol < 0 || path.size() <= first || !ix_.symbols_[symbol].object_kind) return;
    std::string name;
    for (std::size_t i = first; i < path.size(); ++i) {
      if (i > first) name += '.';
      name += path[i].text;
    }
    const ast::SourceRange range{path[first].range.file, path[first].range.begin,
                                 path.back().range.end};
    ix_.mentions_.push_back(
        {Mention::What::kAttribute, range, name, *ix_.symbols_[symbol].object_kind, false});
  }

  void settings(const ast::ObjectDecl& o) {
    const bool cluster = o.kind.text == "cluster";
    const auto kind = catalog::kind_from_name(o.kind.text);
    for (const auto& s : o.settings) {
      ix_.mentions_.push_back({Mention::What::kSetting, s.name.range, s.name.text,
                               kind.value_or(catalog::Kind::kNode), cluster});
      const bool names_objects = s.name.text == "depends" || s.name.text == "prefer";
      for (const auto& a : s.args) {
        if (a.kind != ast::SettingArg::Kind::kWord) continue;
        const int g = ix_.find_global(a.text);
        if (g < 0) continue;
        // A word is a name where the setting takes objects, or where it names a constant
        // (values accept constants); `stop TERM then KILL` reads no names.
        if (names_objects || ix_.symbols_[g].kind == SymbolKind::kConstant) {
          ix_.occurrences_.push_back({a.range, g, false});
        }
      }
    }
  }

  void expr(const ast::Expr& e, const Scope& scope) {
    switch (e.kind) {
      case ast::ExprKind::kPath:
        if (!e.path.empty()) attribute(use(e.path[0], scope), e.path, 1);
        return;
      case ast::ExprKind::kCall: {
        const ast::SourceRange name{e.range.file, e.range.begin,
                                    e.range.begin + static_cast<std::uint32_t>(e.text.size())};
        ix_.mentions_.push_back({Mention::What::kFunction, name, e.text, catalog::Kind::kNode});
        break;
      }
      default:
        break;
    }
    for (const auto& a : e.args) {
      if (a) expr(*a, scope);
    }
  }

  void maybe_expr(const ast::ExprPtr& e, const Scope& scope) {
    if (e) expr(*e, scope);
  }

  /// A raise: the event (inferred from its first raise when not declared) and its arguments.
  void raise(const ast::RaiseClause& r, const Scope& scope) {
    if (r.event.text.empty()) return;
    std::vector<EventParam> inferred;
    for (const auto& a : r.args) {
      const int s = use(a, scope);
      inferred.push_back({a.text, s >= 0 ? ix_.symbols_[s].object_kind : std::nullopt});
    }
    int ev = ix_.find_event(r.event.text);
    if (ev < 0) {
      Symbol s;
      s.kind = SymbolKind::kEvent;
      s.name = r.event.text;
      s.name_range = r.event.range;
      s.decl_range = r.range;
      s.params = std::move(inferred);
      add(std::move(s), &ix_.events_);
      return;
    }
    ix_.occurrences_.push_back({r.event.range, ev, false});
  }

  Scope params(const std::vector<ast::Param>& ps, ast::SourceRange decl) {
    Scope scope;
    for (const auto& p : ps) {
      Symbol s;
      s.kind = SymbolKind::kParameter;
      s.name = p.name.text;
      s.name_range = p.name.range;
      s.decl_range = decl;
      s.object_kind = catalog::kind_from_name(p.kind.text);
      kind_mention(p.kind);
      scope.push_back(add(std::move(s), nullptr));
    }
    return scope;
  }

  void discover(const ast::DiscoverRule& r) {
    const Scope scope = params(r.params, r.range);
    maybe_expr(r.condition, scope);
    maybe_expr(r.temporal.value, scope);
    maybe_expr(r.temporal.window, scope);
    maybe_expr(r.clear_after, scope);
    raise(r.raise, scope);
  }

  void recover(const ast::RecoverRule& r) {
    const int ev = ix_.find_event(r.event.text);
    if (ev >= 0) ix_.occurrences_.push_back({r.event.range, ev, false});
    Scope scope;
    for (std::size_t i = 0; i < r.params.size(); ++i) {
      Symbol s;
      s.kind = SymbolKind::kParameter;
      s.name = r.params[i].text;
      s.name_range = r.params[i].range;
      s.decl_range = r.range;
      if (ev >= 0 && i < ix_.symbols_[ev].params.size()) {
        s.object_kind = ix_.symbols_[ev].params[i].kind;
      }
      scope.push_back(add(std::move(s), nullptr));
    }
    actions(r.body, scope);
  }

  void actions(const ast::ActionList& list, const Scope& scope) {
    for (const auto& a : list) {
      if (a.kind == ast::Action::Kind::kWhen) {
        maybe_expr(a.condition, scope);
        if (a.then_body) actions(*a.then_body, scope);
        if (a.else_body) actions(*a.else_body, scope);
        continue;
      }
      use(a.target, scope);
      use(a.peer, scope);
      for (const auto& arg : a.argv) {
        if (arg.is_ref && !arg.path.empty()) attribute(use(arg.path[0], scope), arg.path, 1);
      }
      maybe_expr(a.duration, scope);
      maybe_expr(a.backoff_min, scope);
      maybe_expr(a.backoff_max, scope);
      maybe_expr(a.limit_count, scope);
      maybe_expr(a.limit_window, scope);
      if (a.action == catalog::ActionKind::kRaise) raise(a.raise, scope);
    }
  }

  Index& ix_;
};

Index Index::build(const ast::Program& program) {
  Index index;
  IndexBuilder(index).run(program);
  return index;
}

namespace {

/// The element of `v` (sorted by file, begin) whose range holds offset, or nullptr.
template <typename T>
const T* find_at(const std::vector<T>& v, ast::FileId file, std::uint32_t offset) {
  auto it = std::upper_bound(v.begin(), v.end(), std::make_pair(file, offset),
                             [](const std::pair<ast::FileId, std::uint32_t>& key, const T& x) {
                               return key < std::make_pair(x.range.file, x.range.begin);
                             });
  // Ranges of one list never overlap: only the last one starting at or before the offset
  // can hold it.
  if (it == v.begin()) return nullptr;
  --it;
  if (it->range.file != file || offset > it->range.end) return nullptr;
  return &*it;
}

}  // namespace

const Occurrence* Index::occurrence_at(ast::FileId file, std::uint32_t offset) const {
  return find_at(occurrences_, file, offset);
}

const Mention* Index::mention_at(ast::FileId file, std::uint32_t offset) const {
  return find_at(mentions_, file, offset);
}

std::vector<Occurrence> Index::occurrences(int symbol) const {
  std::vector<Occurrence> out;
  for (const auto& o : occurrences_) {
    if (o.symbol == symbol) out.push_back(o);
  }
  std::stable_partition(out.begin(), out.end(), [](const Occurrence& o) { return o.definition; });
  return out;
}

int Index::find_global(std::string_view name) const {
  auto it = globals_.find(std::string(name));
  return it == globals_.end() ? -1 : it->second;
}

int Index::find_event(std::string_view name) const {
  auto it = events_.find(std::string(name));
  return it == events_.end() ? -1 : it->second;
}

}  // namespace amata::lsp
