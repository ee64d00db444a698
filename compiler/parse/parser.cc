#include "compiler/parse/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "compiler/parse/grammar.h"

namespace amata::parse {
namespace {

namespace pegtl = tao::pegtl;
namespace g = grammar;
using Node = pegtl::parse_tree::node;

template <typename Rule>
using Selector = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<
        g::number_lit, g::string_lit, g::bool_lit, g::path, g::func_name, g::call, g::neg_expr,
        g::not_expr, g::mul_op, g::add_op, g::cmp_op, g::and_op, g::or_op, g::decl_name,
        g::include_path, g::param_name, g::param_kind, g::notify_only, g::kind_word,
        g::setting_name, g::setting_word, g::setting, g::checks, g::for_clause, g::times_clause,
        g::clear_clause, g::event_name, g::arg_name, g::expect_raise, g::raise_action,
        g::target_name, g::backoff_opt, g::backoff_none, g::limit_opt, g::limit_none,
        g::restart_action, g::start_action, g::stop_action, g::reload_action, g::monitor_action,
        g::unmonitor_action, g::signal_word, g::signal_action, g::run_ref, g::run_action,
        g::notify_channel, g::notify_message, g::notify_action, g::wait_action, g::peer_name,
        g::failover_action, g::when_action, g::when_block, g::action_block, g::recover_body,
        g::policy_decl, g::include_decl, g::let_decl, g::event_decl, g::object_decl,
        g::discover_rule, g::recover_rule>,
    // Chains with a single operand collapse into that operand. The wrappers that carry an
    // error message are selected too: PEGTL's parse tree only reports the failure of a rule
    // that is selected or has nothing selected inside it, so an unselected wrapper would
    // fail silently instead of raising its message.
    pegtl::parse_tree::fold_one::on<g::within_expr, g::mul_chain, g::add_rhs, g::add_chain,
                                    g::cmp_rhs, g::cmp_chain, g::and_chain, g::or_rhs, g::expr,
                                    g::within_window, g::neg_operand, g::mul_rhs, g::not_operand,
                                    g::and_rhs, g::for_value, g::clear_value, g::times_window,
                                    g::backoff_min, g::backoff_max, g::limit_count, g::limit_window,
                                    g::wait_value, g::first_run_arg, g::else_body>>;

/// A syntax error as the grammar reports it: the message, the diagnostic code and whether it
/// is about the token that is there (see grammar.h's error tables). Control and DepthLimit
/// throw it; parse_file catches it and reports it.
class SyntaxError : public pegtl::parse_error {
 public:
  template <typename ParseInput>
  SyntaxError(const std::string& message, const ParseInput& in, diag::Code code, bool on_token)
      : pegtl::parse_error(message, in), code_(code), on_token_(on_token) {}
  diag::Code code() const { return code_; }
  bool on_token() const { return on_token_; }

 private:
  diag::Code code_;
  bool on_token_;
};

/// pegtl::must_if over the grammar's error table, raising SyntaxErrors that keep the code
/// of the rule that failed.
template <typename Rule>
struct Control : pegtl::normal<Rule> {
  template <typename ParseInput, typename... States>
  static void failure(const ParseInput& in, States&&... st) {
    if constexpr (g::error_message<Rule> != nullptr) {
      raise(in, st...);
    } else {
      pegtl::normal<Rule>::failure(in, st...);
    }
  }

  template <typename ParseInput, typename... States>
  [[noreturn]] static void raise(const ParseInput& in, States&&... /*st*/) {
    static_assert(g::error_message<Rule> != nullptr, "a rule that raises needs a message");
    throw SyntaxError(g::error_message<Rule>, in, g::error_code<Rule>, g::error_on_token<Rule>);
  }
};

/// Counts one level of rule nesting for as long as it lives.
class DepthGuard {
 public:
  explicit DepthGuard(std::size_t& depth) : depth_(depth) { ++depth_; }
  ~DepthGuard() { --depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  std::size_t& depth_;
};

/// Caps the nesting of grammar rules at kMaxRuleDepth (deep parentheses would exhaust the
/// stack), as pegtl::limit_depth does, raising the limit's own SyntaxError.
template <typename>
struct DepthLimit : pegtl::maybe_nothing {
  template <typename Rule, pegtl::apply_mode A, pegtl::rewind_mode M,
            template <typename...> class Action, template <typename...> class RuleControl,
            typename ParseInput, typename... States>
  static bool match(ParseInput& in, States&&... st) {
    if constexpr (RuleControl<Rule>::enable) {
      const DepthGuard level(in.private_depth);
      if (in.private_depth > kMaxRuleDepth) {
        throw SyntaxError("nesting too deep: the parser's limit is " +
                              std::to_string(kMaxRuleDepth) + " levels of grammar rules",
                          in, diag::Code::kNestingTooDeep, false);
      }
      return pegtl::match<Rule, A, M, Action, RuleControl>(in, st...);
    } else {
      return pegtl::match<Rule, A, M, Action, RuleControl>(in, st...);
    }
  }
};

/// Converts a PEGTL parse tree of one statement into syntax-tree nodes.
class Converter {
 public:
  Converter(const source::SourceManager& sources, ast::FileId file, diag::DiagnosticEngine& diags)
      : text_(sources.file(file).text), file_(file), diags_(diags) {}

  ast::SourceRange range(const Node& n) const {
    return {file_, offset(n.m_begin.data), offset(n.m_end.data)};
  }
  std::uint32_t offset(const char* p) const { return static_cast<std::uint32_t>(p - text_.data()); }

  ast::Name name(const Node& n) const { return {n.string(), range(n)}; }

  bool statement(const Node& n, ast::Statement& out) {
    using K = ast::Statement::Kind;
    if (n.is_type<g::policy_decl>()) {
      out.kind = K::kPolicy;
      out.policy = std::make_unique<ast::PolicyDecl>();
      out.policy->name = name(*n.children.at(0));
      out.policy->range = range(n);
    } else if (n.is_type<g::include_decl>()) {
      out.kind = K::kInclude;
      out.include = std::make_unique<ast::IncludeDecl>();
      const Node& p = *n.children.at(0);
      out.include->path = decode_string(p);
      out.include->path_range = range(p);
      out.include->range = range(n);
    } else if (n.is_type<g::let_decl>()) {
      out.kind = K::kLet;
      out.let = std::make_unique<ast::LetDecl>();
      out.let->name = name(*n.children.at(0));
      out.let->value = expression(*n.children.at(1));
      out.let->range = range(n);
    } else if (n.is_type<g::event_decl>()) {
      out.kind = K::kEvent;
      out.event = std::make_unique<ast::EventDecl>();
      auto& e = *out.event;
      e.range = range(n);
      for (const auto& c : n.children) {
        if (c->is_type<g::decl_name>()) e.name = name(*c);
        if (c->is_type<g::notify_only>()) e.notify_only = true;
      }
      e.params = params(n);
    } else if (n.is_type<g::object_decl>()) {
      out.kind = K::kObject;
      out.object = std::make_unique<ast::ObjectDecl>();
      object(n, *out.object);
    } else if (n.is_type<g::discover_rule>()) {
      out.kind = K::kDiscover;
      out.discover = std::make_unique<ast::DiscoverRule>();
      discover(n, *out.discover);
    } else if (n.is_type<g::recover_rule>()) {
      out.kind = K::kRecover;
      out.recover = std::make_unique<ast::RecoverRule>();
      auto& r = *out.recover;
      r.range = range(n);
      for (const auto& c : n.children) {
        if (c->is_type<g::event_name>()) r.event = name(*c);
        if (c->is_type<g::param_name>()) r.params.push_back(name(*c));
        if (c->is_type<g::recover_body>()) r.body = actions(*c, 0);
      }
    } else {
      return false;
    }
    return true;
  }

 private:
  static bool is_expression(const Node& n) {
    return n.is_type<g::number_lit>() || n.is_type<g::string_lit>() || n.is_type<g::bool_lit>() ||
           n.is_type<g::path>() || n.is_type<g::call>() || n.is_type<g::neg_expr>() ||
           n.is_type<g::not_expr>() || n.is_type<g::within_expr>() || is_chain(n);
  }
  static bool is_chain(const Node& n) {
    return n.is_type<g::mul_chain>() || n.is_type<g::add_rhs>() || n.is_type<g::add_chain>() ||
           n.is_type<g::cmp_rhs>() || n.is_type<g::cmp_chain>() || n.is_type<g::and_chain>() ||
           n.is_type<g::or_rhs>() || n.is_type<g::expr>();
  }

  std::vector<ast::Param> params(const Node& n) {
    std::vector<ast::Param> out;
    for (const auto& c : n.children) {
      if (c->is_type<g::param_name>()) out.push_back({name(*c), {}});
      if (c->is_type<g::param_kind>() && !out.empty()) out.back().kind = name(*c);
    }
    return out;
  }

  void object(const Node& n, ast::ObjectDecl& o) {
    o.range = range(n);
    o.kind = name(*n.children.at(0));
    o.name = name(*n.children.at(1));
    for (std::size_t i = 2; i < n.children.size(); ++i) {
      const Node& s = *n.children[i];
      ast::Setting setting;
      setting.range = range(s);
      setting.name = name(*s.children.at(0));
      for (std::size_t j = 1; j < s.children.size(); ++j) {
        const Node& a = *s.children[j];
        ast::SettingArg arg;
        arg.range = range(a);
        if (a.is_type<g::string_lit>()) {
          arg.kind = ast::SettingArg::Kind::kString;
          arg.text = decode_string(a);
        } else if (a.is_type<g::number_lit>()) {
          arg.kind = ast::SettingArg::Kind::kNumber;
          // Reported; the settings of this object are not checked, as after a syntax error.
          if (!split_number(a, arg.number, arg.text)) o.incomplete = true;
        } else {
          arg.kind = ast::SettingArg::Kind::kWord;
          arg.text = a.string();
        }
        setting.args.push_back(std::move(arg));
      }
      o.settings.push_back(std::move(setting));
    }
  }

  void discover(const Node& n, ast::DiscoverRule& r) {
    r.range = range(n);
    r.params = params(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::decl_name>()) {
        r.name = name(*c);
      } else if (c->is_type<g::for_clause>()) {
        r.temporal.range = range(*c);
        const bool checks = c->children.size() > 1 && c->children[1]->is_type<g::checks>();
        r.temporal.kind =
            checks ? ast::Temporal::Kind::kForChecks : ast::Temporal::Kind::kForDuration;
        r.temporal.value = expression(*c->children.at(0));
      } else if (c->is_type<g::times_clause>()) {
        r.temporal.range = range(*c);
        r.temporal.kind = ast::Temporal::Kind::kTimesWithin;
        r.temporal.value = expression(*c->children.at(0));
        r.temporal.window = expression(*c->children.at(1));
      } else if (c->is_type<g::clear_clause>()) {
        r.clear_after = expression(*c->children.back());
      } else if (c->is_type<g::expect_raise>()) {
        r.raise = raise(*c);
      } else if (is_expression(*c)) {
        r.condition = expression(*c);
      }
    }
  }

  ast::RaiseClause raise(const Node& n) {
    ast::RaiseClause r;
    r.range = range(n);
    for (const auto& c : n.children) {
      if (c->is_type<g::event_name>()) r.event = name(*c);
      if (c->is_type<g::arg_name>()) r.args.push_back(name(*c));
    }
    return r;
  }

  ast::ActionList actions(const Node& block, int depth) {
    ast::ActionList out;
    for (const auto& c : block.children) out.push_back(action(*c, depth));
    return out;
  }

  ast::Action action(const Node& n, int depth) {
    using K = catalog::ActionKind;
    ast::Action a;
    a.range = range(n);
    if (n.is_type<g::restart_action>()) a.action = K::kRestart;
    if (n.is_type<g::start_action>()) a.action = K::kStart;
    if (n.is_type<g::stop_action>()) a.action = K::kStop;
    if (n.is_type<g::reload_action>()) a.action = K::kReload;
    if (n.is_type<g::monitor_action>()) a.action = K::kMonitor;
    if (n.is_type<g::unmonitor_action>()) a.action = K::kUnmonitor;
    if (n.is_type<g::signal_action>()) a.action = K::kSignal;
    if (n.is_type<g::run_action>()) a.action = K::kRun;
    if (n.is_type<g::notify_action>()) a.action = K::kNotify;
    if (n.is_type<g::wait_action>()) a.action = K::kWait;
    if (n.is_type<g::raise_action>()) {
      a.action = K::kRaise;
      a.raise = raise(n);
      return a;
    }
    if (n.is_type<g::failover_action>()) a.action = K::kFailover;
    if (n.is_type<g::when_action>()) a.kind = ast::Action::Kind::kWhen;
    for (const auto& cp : n.children) {
      const Node& c = *cp;
      if (c.is_type<g::target_name>()) {
        a.target = name(c);
      } else if (c.is_type<g::signal_word>()) {
        a.signal = name(c);
      } else if (c.is_type<g::peer_name>()) {
        a.peer = name(c);
      } else if (c.is_type<g::backoff_opt>()) {
        // The last `backoff` given wins, as the last of any repeated option.
        a.backoff_none = c.children.at(0)->is_type<g::backoff_none>();
        a.backoff_min = a.backoff_none ? nullptr : expression(*c.children.at(0));
        a.backoff_max = a.backoff_none ? nullptr : expression(*c.children.at(1));
      } else if (c.is_type<g::limit_opt>()) {
        a.limit_none = c.children.at(0)->is_type<g::limit_none>();
        a.limit_count = a.limit_none ? nullptr : expression(*c.children.at(0));
        a.limit_window = a.limit_none ? nullptr : expression(*c.children.at(1));
      } else if (c.is_type<g::notify_channel>()) {
        a.channel = decode_string(c);
        a.channel_range = range(c);
      } else if (c.is_type<g::notify_message>()) {
        a.message = decode_string(c);
      } else if (c.is_type<g::string_lit>() && a.action == K::kRun) {
        a.argv.push_back({false, decode_string(c), {}, range(c)});
      } else if (c.is_type<g::run_ref>()) {
        a.argv.push_back({true, {}, split_path(c), range(c)});
      } else if (c.is_type<g::when_block>()) {
        a.then_body = std::make_unique<ast::ActionList>(actions(*c.children.at(0), depth + 1));
      } else if (c.is_type<g::action_block>()) {
        a.else_body = std::make_unique<ast::ActionList>(actions(c, depth + 1));
      } else if (c.is_type<g::when_action>()) {
        a.else_body = std::make_unique<ast::ActionList>();
        a.else_body->push_back(action(c, depth + 1));
      } else if (is_expression(c)) {
        if (a.action == K::kWait) {
          a.duration = expression(c);
        } else {
          a.condition = expression(c);
        }
      }
    }
    return a;
  }

  /// Converts an expression, capping the tree's depth at ast::kMaxExprDepth.
  ast::ExprPtr expression(const Node& n) {
    int depth = 0;
    auto e = expr(n, depth);
    if (depth > ast::kMaxExprDepth) {
      diags_.report(diag::Code::kExpressionTooLarge, range(n),
                    "expression too large: more than " + std::to_string(ast::kMaxExprDepth) +
                        " nested operations");
      auto err = std::make_unique<ast::Expr>();
      err->kind = ast::ExprKind::kError;
      err->range = range(n);
      // The oversized tree is freed iteratively: a recursive destructor could overflow.
      release(std::move(e));
      return err;
    }
    return e;
  }

  static void release(ast::ExprPtr e) {
    std::vector<ast::ExprPtr> pending;
    pending.push_back(std::move(e));
    while (!pending.empty()) {
      ast::ExprPtr cur = std::move(pending.back());
      pending.pop_back();
      if (!cur) continue;
      for (auto& a : cur->args) pending.push_back(std::move(a));
    }
  }

  ast::ExprPtr make(ast::ExprKind kind, const Node& n) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->range = range(n);
    return e;
  }

  // `depth` returns the height of the built tree. Once it passes the cap, building stops
  // growing the tree (the caller reports and discards it).
  ast::ExprPtr expr(const Node& n, int& depth) {
    depth = 1;
    if (n.is_type<g::number_lit>()) {
      auto e = make(ast::ExprKind::kNumber, n);
      if (!split_number(n, e->number, e->unit)) e->kind = ast::ExprKind::kError;  // reported
      return e;
    }
    if (n.is_type<g::string_lit>()) {
      auto e = make(ast::ExprKind::kString, n);
      e->text = decode_string(n);
      return e;
    }
    if (n.is_type<g::bool_lit>()) {
      auto e = make(ast::ExprKind::kBool, n);
      e->boolean = n.string_view() == "true";
      return e;
    }
    if (n.is_type<g::path>()) {
      auto e = make(ast::ExprKind::kPath, n);
      e->path = split_path(n);
      return e;
    }
    if (n.is_type<g::call>()) {
      auto e = make(ast::ExprKind::kCall, n);
      e->text = n.children.at(0)->string();
      for (std::size_t i = 1; i < n.children.size(); ++i) {
        int d = 0;
        e->args.push_back(expr(*n.children[i], d));
        depth = std::max(depth, d + 1);
      }
      return e;
    }
    if (n.is_type<g::neg_expr>() || n.is_type<g::not_expr>()) {
      auto e = make(ast::ExprKind::kUnary, n);
      e->unary_op = n.is_type<g::neg_expr>() ? ast::UnaryOp::kNeg : ast::UnaryOp::kNot;
      e->op_range = {file_, offset(n.m_begin.data),
                     offset(n.m_begin.data) + (e->unary_op == ast::UnaryOp::kNeg ? 1u : 3u)};
      int d = 0;
      e->args.push_back(expr(*n.children.at(0), d));
      depth = d + 1;
      return e;
    }
    if (n.is_type<g::within_expr>()) {
      auto e = make(ast::ExprKind::kWithin, n);
      int d1 = 0, d2 = 0;
      e->args.push_back(expr(*n.children.at(0), d1));
      e->args.push_back(expr(*n.children.at(1), d2));
      depth = std::max(d1, d2) + 1;
      return e;
    }
    if (is_chain(n)) {
      int d = 0;
      ast::ExprPtr left = expr(*n.children.at(0), d);
      depth = d;
      for (std::size_t i = 1; i + 1 < n.children.size(); i += 2) {
        const Node& op = *n.children[i];
        int rd = 0;
        ast::ExprPtr right = expr(*n.children[i + 1], rd);
        auto b = std::make_unique<ast::Expr>();
        b->kind = ast::ExprKind::kBinary;
        b->binary_op = binary_op(op);
        b->op_range = range(op);
        b->range = {file_, left->range.begin, right->range.end};
        b->args.push_back(std::move(left));
        b->args.push_back(std::move(right));
        left = std::move(b);
        depth = std::max(depth, rd) + 1;
        if (depth > ast::kMaxExprDepth) break;
      }
      return left;
    }
    return make(ast::ExprKind::kError, n);
  }

  static ast::BinaryOp binary_op(const Node& op) {
    const std::string_view s = op.string_view();
    if (op.is_type<g::or_op>()) return ast::BinaryOp::kOr;
    if (op.is_type<g::and_op>()) return ast::BinaryOp::kAnd;
    if (s == "==") return ast::BinaryOp::kEq;
    if (s == "!=") return ast::BinaryOp::kNe;
    if (s == "<=") return ast::BinaryOp::kLe;
    if (s == ">=") return ast::BinaryOp::kGe;
    if (s == "<") return ast::BinaryOp::kLt;
    if (s == ">") return ast::BinaryOp::kGt;
    if (s == "=~") return ast::BinaryOp::kMatch;
    if (s == "!~") return ast::BinaryOp::kNotMatch;
    if (s == "+") return ast::BinaryOp::kAdd;
    if (s == "-") return ast::BinaryOp::kSub;
    if (s == "*") return ast::BinaryOp::kMul;
    return ast::BinaryOp::kDiv;
  }

  std::vector<ast::Name> split_path(const Node& n) const {
    std::vector<ast::Name> out;
    const std::string_view s = n.string_view();
    const std::uint32_t base = offset(n.m_begin.data);
    std::size_t start = 0;
    while (start <= s.size()) {
      std::size_t dot = s.find('.', start);
      if (dot == std::string_view::npos) dot = s.size();
      out.push_back({std::string(s.substr(start, dot - start)),
                     {file_, base + static_cast<std::uint32_t>(start),
                      base + static_cast<std::uint32_t>(dot)}});
      start = dot + 1;
    }
    return out;
  }

  /// The value and unit of a number literal; false after reporting digits too many for a
  /// double (E0104), which would otherwise be read as infinity.
  bool split_number(const Node& n, double& value, std::string& unit) {
    const std::string_view s = n.string_view();
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    value = std::strtod(std::string(s.substr(0, i)).c_str(), nullptr);
    unit = std::string(s.substr(i));
    if (std::isfinite(value)) return true;
    diags_.report(diag::Code::kMalformedNumber, range(n),
                  "number out of range: " + std::to_string(i) +
                      " digits is more than any value amata can hold (about 1.8e308)");
    value = 0;
    return false;
  }

  static std::string decode_string(const Node& n) {
    const std::string_view s = n.string_view();
    std::string out;
    if (s.size() < 2) return out;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] == '\\' && i + 2 < s.size()) {
        ++i;
        switch (s[i]) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case '0':
            out += '\0';
            break;
          default:
            out += s[i];
        }
      } else {
        out += s[i];
      }
    }
    return out;
  }

  const std::string& text_;
  ast::FileId file_;
  diag::DiagnosticEngine& diags_;
};

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

/// Whether `c` is a control character or a byte of a non-ASCII character: never part of a
/// token, and hard to see in an editor, so an error there names it instead of saying what
/// the grammar expected. (An ASCII stray such as `$` is named only inside a name, by
/// grammar::name_end; elsewhere "expected ..." at it reads well.)
bool is_unreadable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f' && u != '\v') || u >= 0x7f;
}

/// The character at `p` as a person reads it, and its length in bytes: "'é' (U+00E9)",
/// "'$'", "control character U+0007", "byte 0xE9 (not UTF-8)".
std::string describe_char(const std::string& t, std::size_t p, std::size_t& length) {
  const auto c = static_cast<unsigned char>(t[p]);
  length = 1;
  char hex[16];
  if (c < 0x80) {
    if (c < 0x20 || c == 0x7f) {
      std::snprintf(hex, sizeof hex, "U+%04X", c);
      return c == 0 ? std::string("a NUL byte") : std::string("control character ") + hex;
    }
    return std::string("'") + static_cast<char>(c) + "'";
  }
  // A well-formed UTF-8 sequence is shown as the character it encodes.
  const std::size_t n = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  std::uint32_t cp = n == 4 ? c & 0x07u : n == 3 ? c & 0x0fu : c & 0x1fu;
  bool valid = n != 0 && p + n <= t.size();
  for (std::size_t i = 1; valid && i < n; ++i) {
    const auto k = static_cast<unsigned char>(t[p + i]);
    valid = (k & 0xc0) == 0x80;
    cp = (cp << 6) | (k & 0x3fu);
  }
  if (!valid || cp > 0x10ffff || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) {
    std::snprintf(hex, sizeof hex, "0x%02X", c);
    return std::string("byte ") + hex + " (not UTF-8)";
  }
  length = n;
  std::snprintf(hex, sizeof hex, "U+%04X", cp);
  return "'" + t.substr(p, n) + "' (" + hex + ")";
}

/// E0103 at the stray byte at `p`: inside a name it says which name and which character,
/// elsewhere which character.
void report_stray(const std::string& t, ast::FileId file, std::size_t p,
                  diag::DiagnosticEngine& diags) {
  std::size_t length = 1;
  const std::string what = describe_char(t, p, length);
  const ast::SourceRange at{file, static_cast<std::uint32_t>(p),
                            static_cast<std::uint32_t>(p + length)};
  std::size_t b = p;
  while (b > 0 && is_ident_char(t[b - 1])) --b;
  if (b < p && (std::isalpha(static_cast<unsigned char>(t[b])) || t[b] == '_')) {
    std::size_t e = p + length;
    while (e < t.size() && (is_ident_char(t[e]) || static_cast<unsigned char>(t[e]) >= 0x80)) ++e;
    diags.report(diag::Code::kUnexpectedCharacter, at,
                 "the name '" + t.substr(b, e - b) + "' holds " + what +
                     ", which no name may hold: names are ASCII letters, digits and '_' (other "
                     "text belongs in quotes)");
    return;
  }
  diags.report(
      diag::Code::kUnexpectedCharacter, at,
      "unexpected " + what + ": no name or other token holds it (outside strings and comments)");
}

/// E0104 over the whole malformed number around `p` (`1e400`, `1.5.3`, `0x10`).
void report_malformed_number(const std::string& t, ast::FileId file, std::size_t p,
                             diag::DiagnosticEngine& diags) {
  auto part = [](char c) { return is_ident_char(c) || c == '.' || c == '%' || c == '/'; };
  std::size_t b = std::min(p, t.size()), e = b;
  while (b > 0 && part(t[b - 1])) --b;
  while (e < t.size() && part(t[e])) ++e;
  diags.report(diag::Code::kMalformedNumber,
               {file, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e)},
               "malformed number '" + t.substr(b, e - b) +
                   "': a number is digits, an optional fraction and an optional unit right "
                   "after them (90%, 2GiB, 1.5s, 10MB/s); there is no exponent or hexadecimal "
                   "notation");
}

/// Skips whitespace, comments and stray `;` between statements.
std::size_t skip_layout(const std::string& t, std::size_t p) {
  while (p < t.size()) {
    const char c = t[p];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v' || c == ';') {
      ++p;
    } else if (c == '#') {
      while (p < t.size() && t[p] != '\n') ++p;
    } else {
      break;
    }
  }
  return p;
}

/// The start of the next line, after `p`, that begins with a letter or `_` in column 1:
/// statements start there in every reasonably formatted policy.
std::size_t next_statement_start(const std::string& t, std::size_t p) {
  while (true) {
    const std::size_t nl = t.find('\n', p);
    if (nl == std::string::npos) return t.size();
    p = nl + 1;
    if (p < t.size() && (std::isalpha(static_cast<unsigned char>(t[p])) || t[p] == '_')) return p;
  }
}

/// The range of the token at `p`, for underlining an error.
ast::SourceRange token_range(const std::string& t, ast::FileId file, std::size_t p) {
  std::size_t e = p;
  while (e < t.size() && is_ident_char(t[e])) ++e;
  if (e == p && p < t.size() && t[p] != '\n' && t[p] != '\r') e = p + 1;
  return {file, static_cast<std::uint32_t>(p), static_cast<std::uint32_t>(e)};
}

/// After a syntax error in the statement at `pos`: if it began `KIND NAME` or `let NAME`,
/// keep the declaration (marked incomplete) so later uses of the name do not cascade.
void salvage(const std::string& t, ast::FileId file, std::size_t pos, ast::File& out) {
  auto word = [&](std::size_t& p, ast::Name& name) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\t')) ++p;
    const std::size_t b = p;
    if (p >= t.size() || !(std::isalpha(static_cast<unsigned char>(t[p])) || t[p] == '_')) {
      return false;
    }
    while (p < t.size() && is_ident_char(t[p])) ++p;
    name.text = t.substr(b, p - b);
    name.range = {file, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(p)};
    return true;
  };
  std::size_t p = pos;
  ast::Name first, second;
  if (!word(p, first) || !word(p, second)) return;
  static constexpr std::string_view kKeywords[] = {"policy", "include", "event", "discover",
                                                   "recover"};
  for (auto k : kKeywords) {
    if (first.text == k) return;
  }
  ast::Statement st;
  if (first.text == "let") {
    st.kind = ast::Statement::Kind::kLet;
    st.let = std::make_unique<ast::LetDecl>();
    st.let->name = second;
    st.let->range = {file, first.range.begin, second.range.end};
    st.let->incomplete = true;
  } else {
    st.kind = ast::Statement::Kind::kObject;
    st.object = std::make_unique<ast::ObjectDecl>();
    st.object->kind = first;
    st.object->name = second;
    st.object->range = {file, first.range.begin, second.range.end};
    st.object->incomplete = true;
  }
  out.statements.push_back(std::move(st));
}

}  // namespace

ast::File parse_file(const source::SourceManager& sources, ast::FileId id,
                     diag::DiagnosticEngine& diags) {
  ast::File out;
  out.file = id;
  const std::string& text = sources.file(id).text;
  const std::string& path = sources.file(id).path;
  Converter convert(sources, id, diags);
  // Editors on some systems start UTF-8 files with a byte-order mark; it is not a token.
  const std::size_t start = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  std::size_t pos = skip_layout(text, start);
  while (pos < text.size()) {
    if (out.statements.size() >= kMaxStatements) {
      diags.report(
          diag::Code::kTooManyStatements, token_range(text, id, pos),
          "too many statements in one file (the limit is " + std::to_string(kMaxStatements) + ")");
      break;
    }
    if (diags.saturated()) break;
    std::size_t resume = 0;
    try {
      pegtl::memory_input<> in(text.data() + pos, text.data() + text.size(), path);
      auto root = pegtl::parse_tree::parse<g::statement, Selector, DepthLimit, Control>(in);
      if (!root || root->children.empty()) {
        if (is_unreadable(text[pos])) {
          report_stray(text, id, pos, diags);
        } else {
          diags.report(diag::Code::kExpectedDeclaration, token_range(text, id, pos),
                       "expected a declaration: policy, include, let, event, discover, recover "
                       "or an object such as 'service NAME { ... }'");
        }
        resume = next_statement_start(text, pos);
      } else {
        ast::Statement st;
        if (convert.statement(*root->children.front(), st)) out.statements.push_back(std::move(st));
        resume = static_cast<std::size_t>(in.current() - text.data());
      }
    } catch (const SyntaxError& e) {
      std::size_t at = e.positions().empty() ? pos : pos + e.positions().front().byte;
      // "expected X" after a line break belongs at the end of the previous line, where the
      // missing piece should have been, not at the start of the next statement.
      std::size_t back = at;
      bool newline = false;
      while (back > pos && std::isspace(static_cast<unsigned char>(text[back - 1]))) {
        newline = newline || text[back - 1] == '\n';
        --back;
      }
      // Errors about the token that is there ("expected ... or '}'") stay on it.
      if (newline && !e.on_token()) at = back;
      if (e.code() == diag::Code::kMalformedNumber) {
        report_malformed_number(text, id, at, diags);
      } else if (e.code() == diag::Code::kUnexpectedCharacter ||
                 (e.code() != diag::Code::kMalformedString && at < text.size() &&
                  is_unreadable(text[at]))) {
        // What stopped the grammar is a character no token holds: say that, at it.
        report_stray(text, id, at, diags);
      } else {
        diags.report(e.code(), token_range(text, id, at), std::string(e.message()));
      }
      salvage(text, id, pos, out);
      resume = next_statement_start(text, std::max(at, pos));
    } catch (const std::exception& e) {
      diags.report(diag::Code::kSyntaxError, token_range(text, id, pos),
                   std::string("cannot parse: ") + e.what());
      resume = next_statement_start(text, pos);
    }
    pos = skip_layout(text, std::max(resume, pos + 1));
  }
  return out;
}

}  // namespace amata::parse
