// What the checker's passes share: the program being checked, the policy as built so far,
// and what the passes learn about names on the way (definitions, constants, which events
// are raised and recovered). Each pass reads what earlier passes filled in; the order is
// checker.cc's pass table. Also the few helpers every pass uses to word its diagnostics.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "compiler/ast/ast.h"
#include "compiler/check/checked_policy.h"
#include "compiler/diag/diagnostic.h"

namespace amata::check {

/// Where a name was first defined, for "previous definition" notes.
struct Definition {
  enum class What { kObject, kConstant, kEvent, kRule, kCluster } what;
  int index;
  ast::SourceRange range;
};

/// What an expression may refer to.
struct Scope {
  const std::vector<Parameter>* params = nullptr;  // rule or recover parameters
  bool constants_only = false;                     // inside `let`
  bool allow_windows = true;                       // avg/min/max/rate/delta/changed/predict
};

struct CheckContext {
  CheckContext(const ast::Program& program, diag::DiagnosticEngine& diags)
      : program(program), diags(diags) {}

  const ast::Program& program;
  diag::DiagnosticEngine& diags;
  CheckedPolicy policy;

  // declarations
  std::unordered_map<std::string, Definition> names;  // objects, constants, the cluster
  std::map<std::string, ast::SourceRange> event_defs;
  std::vector<const ast::ObjectDecl*> object_decls;   // parallel to policy.objects
  const ast::ObjectDecl* cluster_decl = nullptr;      // the `cluster` declaration, if any
  std::vector<const ast::ObjectDecl*> channel_decls;  // `channel` declarations, each name once
  std::vector<const ast::LetDecl*> lets;
  // constants
  std::vector<std::optional<TypedExpr>> constant_values;  // parallel to lets
  std::vector<int> constant_state;                        // 0 new, 1 in progress, 2 done
  std::set<std::string> used_constants;
  // rules
  std::set<int> raised;
  std::map<int, ast::SourceRange> recovered;
  std::vector<std::string> orphan_recovers;  // recover rules for events nobody raises
  std::size_t errors_before_check = 0;       // syntax and I/O errors: lint stays quiet
  int expr_depth = 0;                        // check_expr's recursion, capped

  /// Calls f(statement) for every statement of `kind`, in every file, in source order.
  template <typename F>
  void each_statement(ast::Statement::Kind kind, F&& f) const {
    for (const auto& file : program.files) {
      for (const auto& st : file.statements) {
        if (st.kind == kind) f(st);
      }
    }
  }
};

/// 'word', quoted as diagnostics quote names.
std::string quote(std::string_view s);
/// "2.5", "0", "1e+06": numbers as a person writes them.
std::string format_number(double v);
/// "a service", "an interface".
std::string a_kind(catalog::Kind k);
/// `message`, plus "; did you mean 'x'?" when a candidate is close to `word`.
std::string with_suggestion(std::string message, std::string_view word,
                            const std::vector<std::string_view>& candidates);

}  // namespace amata::check
