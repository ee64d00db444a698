// What each name in a policy refers to: every definition (objects, constants, events, rules,
// the cluster, rule parameters) and every use of it, across all the files of one program.
// Built from the syntax tree alone, so it also serves a policy with errors (the parts that
// parsed). Also the words hover explains that are not names: attributes, kinds, settings,
// functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "compiler/ast/ast.h"

namespace amata::lsp {

enum class SymbolKind : std::uint8_t { kObject, kConstant, kEvent, kRule, kParameter, kCluster };

/// An event parameter: its name and, when known, its kind.
struct EventParam {
  std::string name;
  std::optional<catalog::Kind> kind;
};

struct Symbol {
  SymbolKind kind = SymbolKind::kObject;
  std::string name;
  ast::SourceRange name_range;  // where it is defined (an inferred event: its first raise)
  ast::SourceRange decl_range;  // the whole declaration
  std::optional<catalog::Kind> object_kind;  // objects and parameters
  const ast::ObjectDecl* object = nullptr;   // kObject, kCluster
  const ast::LetDecl* let = nullptr;         // kConstant
  const ast::DiscoverRule* rule = nullptr;   // kRule
  // kEvent
  bool declared = false;
  bool notify_only = false;
  std::vector<EventParam> params;
  std::string raised_by;  // kRule: the event it raises
};

/// One occurrence of a symbol's name.
struct Occurrence {
  ast::SourceRange range;
  int symbol = 0;
  bool definition = false;
};

/// A word hover explains that names no symbol.
struct Mention {
  enum class What : std::uint8_t { kAttribute, kKind, kSetting, kFunction };
  What what = What::kAttribute;
  ast::SourceRange range;
  std::string text;                           // attribute ("health.failed"), setting, function
  catalog::Kind kind = catalog::Kind::kNode;  // kAttribute: of what; kKind: which;
                                              // kSetting: of what (cluster: kNode, see below)
  bool cluster_setting = false;               // kSetting of a `cluster` declaration
};

class Index {
 public:
  static Index build(const ast::Program& program);

  const std::vector<Symbol>& symbols() const { return symbols_; }
  const Symbol& symbol(int id) const { return symbols_[id]; }
  /// The occurrence whose range holds `offset` (its end included, where a cursor after a
  /// word still means the word), or nullptr.
  const Occurrence* occurrence_at(ast::FileId file, std::uint32_t offset) const;
  const Mention* mention_at(ast::FileId file, std::uint32_t offset) const;
  /// Every occurrence of `symbol`, its definition first, then in file and offset order.
  std::vector<Occurrence> occurrences(int symbol) const;
  /// The global (object, constant, cluster) or event symbol with this name, or -1.
  int find_global(std::string_view name) const;
  int find_event(std::string_view name) const;

 private:
  friend class IndexBuilder;
  std::vector<Symbol> symbols_;
  std::vector<Occurrence> occurrences_;  // sorted by (file, begin) after build
  std::vector<Mention> mentions_;        // sorted likewise
  std::unordered_map<std::string, int> globals_, events_;
};

}  // namespace amata::lsp
