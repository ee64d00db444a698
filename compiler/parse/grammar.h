// The .amata grammar as PEGTL rules. It holds no actions: the parser (parser.cc) builds a
// PEGTL parse tree with a selector and converts it into the syntax tree. Error messages sit
// in one table at the bottom (error_message<Rule>); a rule listed there raises a parse_error
// whenever it fails, so such rules are used only where nothing else may follow. Beside it,
// error_code<Rule> gives the diagnostic code of that error and error_on_token<Rule> where
// it is reported.
//
// Layout rules: whitespace (including newlines) and `#` comments separate tokens freely,
// except inside an object's braces, where each setting ends at `;` or the end of its line.
// One top-level statement is parsed at a time (parser.cc), which is what lets the parser
// recover at statement boundaries and report every error.
#pragma once

#include <tao/pegtl.hpp>

#include "compiler/diag/codes.h"

namespace amata::parse::grammar {

namespace pegtl = tao::pegtl;
using pegtl::at;
using pegtl::eof;
using pegtl::list;
using pegtl::not_at;
using pegtl::not_one;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::ranges;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;
using pegtl::string;

// --- Layout --------------------------------------------------------------------------------

struct line_comment : seq<one<'#'>, star<not_one<'\n'>>> {};
/// Whitespace that stays on the current line (used between a setting's words).
struct blank : sor<one<' ', '\t', '\r'>, line_comment> {};
struct ws : sor<one<' ', '\t', '\r', '\n', '\f', '\v'>, line_comment> {};
struct wss : star<ws> {};

// --- Tokens --------------------------------------------------------------------------------

/// A byte no token may hold outside strings and comments: control characters, bytes of
/// non-ASCII characters and the ASCII punctuation the language never uses. Where the
/// grammar meets one, the parser reports the character itself (E0103), not what it expected.
/// (The byte ranges are written so that they hold whether char is signed or not.)
struct stray_char : sor<ranges<'\x00', '\x08', '\x0e', '\x1f', '\x80', '\xff'>,
                        one<'\x7f', '$', '@', '?', '^', '&', '|', '`', '\'', '[', ']', '\\'>> {};

struct ident_first : ranges<'a', 'z', 'A', 'Z', '_'> {};
struct ident_other : ranges<'a', 'z', 'A', 'Z', '0', '9', '_'> {};
/// A name ends at a character that cannot continue it; a stray character there (`café`)
/// would otherwise end the name silently and leave the rest to a confusing error.
struct name_end : not_at<stray_char> {};
struct identifier : seq<ident_first, star<ident_other>, name_end> {};

template <char... Cs>
struct kw : seq<string<Cs...>, not_at<ident_other>> {};

struct kw_policy : kw<'p', 'o', 'l', 'i', 'c', 'y'> {};
struct kw_include : kw<'i', 'n', 'c', 'l', 'u', 'd', 'e'> {};
struct kw_let : kw<'l', 'e', 't'> {};
struct kw_event : kw<'e', 'v', 'e', 'n', 't'> {};
struct kw_discover : kw<'d', 'i', 's', 'c', 'o', 'v', 'e', 'r'> {};
struct kw_recover : kw<'r', 'e', 'c', 'o', 'v', 'e', 'r'> {};
struct kw_notify_only : kw<'n', 'o', 't', 'i', 'f', 'y', '_', 'o', 'n', 'l', 'y'> {};
struct kw_when : kw<'w', 'h', 'e', 'n'> {};
struct kw_else : kw<'e', 'l', 's', 'e'> {};
struct kw_raise : kw<'r', 'a', 'i', 's', 'e'> {};
struct kw_for : kw<'f', 'o', 'r'> {};
struct kw_checks : sor<kw<'c', 'h', 'e', 'c', 'k', 's'>, kw<'c', 'h', 'e', 'c', 'k'>> {};
struct kw_times : sor<kw<'t', 'i', 'm', 'e', 's'>, kw<'t', 'i', 'm', 'e'>> {};
struct kw_within : kw<'w', 'i', 't', 'h', 'i', 'n'> {};
struct kw_and : kw<'a', 'n', 'd'> {};
struct kw_or : kw<'o', 'r'> {};
struct kw_not : kw<'n', 'o', 't'> {};
struct kw_true : kw<'t', 'r', 'u', 'e'> {};
struct kw_false : kw<'f', 'a', 'l', 's', 'e'> {};
struct kw_restart : kw<'r', 'e', 's', 't', 'a', 'r', 't'> {};
struct kw_start : kw<'s', 't', 'a', 'r', 't'> {};
struct kw_stop : kw<'s', 't', 'o', 'p'> {};
struct kw_monitor : kw<'m', 'o', 'n', 'i', 't', 'o', 'r'> {};
struct kw_unmonitor : kw<'u', 'n', 'm', 'o', 'n', 'i', 't', 'o', 'r'> {};
struct kw_signal : kw<'s', 'i', 'g', 'n', 'a', 'l'> {};
struct kw_run : kw<'r', 'u', 'n'> {};
struct kw_notify : kw<'n', 'o', 't', 'i', 'f', 'y'> {};
struct kw_wait : kw<'w', 'a', 'i', 't'> {};
struct kw_failover : kw<'f', 'a', 'i', 'l', 'o', 'v', 'e', 'r'> {};
struct kw_reload : kw<'r', 'e', 'l', 'o', 'a', 'd'> {};
struct kw_to : kw<'t', 'o'> {};
struct kw_backoff : kw<'b', 'a', 'c', 'k', 'o', 'f', 'f'> {};
struct kw_limit : kw<'l', 'i', 'm', 'i', 't'> {};
struct kw_none : kw<'n', 'o', 'n', 'e'> {};
struct kw_clear : kw<'c', 'l', 'e', 'a', 'r'> {};
struct kw_after : kw<'a', 'f', 't', 'e', 'r'> {};

struct kw_kind
    : sor<kw<'n', 'o', 'd', 'e'>, kw<'s', 'e', 'r', 'v', 'i', 'c', 'e'>,
          kw<'p', 'r', 'o', 'c', 'e', 's', 's'>, kw<'i', 'n', 't', 'e', 'r', 'f', 'a', 'c', 'e'>,
          kw<'f', 'i', 'l', 'e', 's', 'y', 's', 't', 'e', 'm'>, kw<'h', 'o', 's', 't'>,
          kw<'p', 'e', 'e', 'r'>> {};

/// Words that can never be a name inside an expression. Statement keywords and kind names
/// are among them so that an unfinished expression (`let a = 1 +`) does not swallow the
/// next statement.
struct reserved : sor<kw_and, kw_or, kw_not, kw_true, kw_false, kw_when, kw_else, kw_raise, kw_for,
                      kw_within, kw_times, kw_checks, kw_let, kw_include, kw_policy, kw_event,
                      kw_discover, kw_recover, kw_kind> {};

struct digits : plus<pegtl::digit> {};
/// A unit suffix written right after the digits: `%`, `GiB`, `ms`, `/s`, `MB/s`, `/h`.
struct per_time : sor<string<'m', 'i', 'n'>, one<'s'>, one<'h'>> {};
/// `100/min(a.x, 5m)` divides by a window function: a unit is never followed by '('.
struct unit_suffix
    : sor<one<'%'>, seq<star<pegtl::alpha>, one<'/'>, per_time, not_at<sor<ident_other, one<'('>>>>,
          plus<pegtl::alpha>> {};
/// A number ends where its digits and unit end: `1e400`, `1.5.3` or `2GiB2` are not a
/// number followed by something else, they are one malformed number (E0104).
struct number_end : not_at<sor<ident_other, seq<one<'.'>, pegtl::digit>>> {};
struct number_lit : seq<digits, opt<one<'.'>, digits>, opt<unit_suffix>, number_end> {};

/// Nothing a string is handed to (exec, paths, the environment, user names, /proc text)
/// can hold a NUL byte: it would cut the value short, so neither `\0` nor a raw NUL is a
/// string character.
struct no_nul_escape : not_at<one<'\\'>, one<'0'>> {};
struct no_nul_byte : not_at<one<'\0'>> {};
struct escape_char : one<'"', '\\', 'n', 't', 'r'> {};
struct string_char : sor<seq<no_nul_escape, one<'\\'>, escape_char>,
                         seq<no_nul_byte, not_one<'"', '\\', '\n', '\r'>>> {};
struct string_close : one<'"'> {};
struct string_lit : seq<one<'"'>, star<string_char>, string_close> {};

struct comma : seq<wss, one<','>, wss> {};
struct close_paren : one<')'> {};
struct close_brace : one<'}'> {};

// --- Expressions ---------------------------------------------------------------------------

struct expr;
struct path_part : identifier {};
struct path : seq<not_at<reserved>, identifier, star<one<'.'>, path_part>> {};
struct func_name : identifier {};
struct call_args : list<expr, comma> {};
struct call : seq<func_name, star<blank>, one<'('>, wss, call_args, wss, close_paren> {};
struct paren_expr : seq<one<'('>, wss, expr, wss, close_paren> {};
struct bool_lit : sor<kw_true, kw_false> {};
struct primary : sor<paren_expr, call, number_lit, string_lit, bool_lit, path> {};

struct within_window : primary {};
struct within_expr : seq<primary, opt<wss, kw_within, wss, within_window>> {};
struct neg_operand;
struct neg_expr : seq<one<'-'>, wss, neg_operand> {};
struct unary : sor<neg_expr, within_expr> {};
struct neg_operand : unary {};

struct mul_op : sor<one<'*'>, seq<one<'/'>, not_at<one<'/'>>>> {};
struct mul_rhs : unary {};
struct mul_chain : seq<unary, star<wss, mul_op, wss, mul_rhs>> {};
struct add_op : sor<one<'+'>, one<'-'>> {};
struct add_rhs : mul_chain {};
struct add_chain : seq<mul_chain, star<wss, add_op, wss, add_rhs>> {};
struct cmp_op : sor<string<'=', '='>, string<'!', '='>, string<'<', '='>, string<'>', '='>,
                    string<'=', '~'>, string<'!', '~'>, one<'<'>, one<'>'>> {};
struct cmp_rhs : add_chain {};
struct cmp_chain : seq<add_chain, opt<wss, cmp_op, wss, cmp_rhs>> {};
struct not_operand;
struct not_expr : seq<kw_not, wss, not_operand> {};
struct not_level : sor<not_expr, cmp_chain> {};
struct not_operand : not_level {};
struct and_op : kw_and {};
struct and_rhs : not_level {};
struct and_chain : seq<not_level, star<wss, and_op, wss, and_rhs>> {};
struct or_op : kw_or {};
struct or_rhs : and_chain {};
/// A whole expression. It raises "expected an expression" on failure: only used where one
/// is required.
struct expr : seq<and_chain, star<wss, or_op, wss, or_rhs>> {};

// --- Declarations --------------------------------------------------------------------------

struct decl_name : identifier {};
struct equals : one<'='> {};
struct policy_decl : seq<kw_policy, wss, decl_name> {};
struct include_path : string_lit {};
struct include_decl : seq<kw_include, wss, include_path> {};
struct let_decl : seq<kw_let, wss, decl_name, wss, equals, wss, expr> {};

struct param_name : identifier {};
struct param_colon : one<':'> {};
struct param_kind : identifier {};
struct param : seq<param_name, wss, param_colon, wss, param_kind> {};
struct param_list : seq<one<'('>, wss, opt<list<param, comma>>, wss, close_paren> {};
struct notify_only : kw_notify_only {};
struct event_decl : seq<kw_event, wss, decl_name, opt<wss, param_list>, opt<wss, notify_only>> {};

// Objects: `KIND NAME [{ settings }]`, settings one per line (or separated by `;`).
struct kind_word : identifier {};
struct setting_name : identifier {};
struct setting_word : identifier {};
struct setting_arg : sor<string_lit, number_lit, setting_word> {};
struct setting_end : sor<one<';'>, one<'\n'>, at<one<'}'>>> {};
struct setting : seq<setting_name, star<plus<blank>, setting_arg>> {};
struct setting_line : seq<setting, star<blank>, setting_end> {};
struct object_body : seq<one<'{'>, wss, star<setting_line, wss>, close_brace> {};
struct object_decl : seq<kind_word, wss, decl_name, opt<wss, object_body>> {};

// Rules.
struct temporal_value : sor<number_lit, path> {};
struct for_value : temporal_value {};
struct checks : kw_checks {};
struct for_clause : seq<kw_for, wss, for_value, opt<wss, checks>> {};
struct times_window : temporal_value {};
struct times_within : kw_within {};
struct times_clause : seq<temporal_value, wss, kw_times, wss, times_within, wss, times_window> {};
struct temporal : sor<for_clause, times_clause> {};
/// `clear after 60s`: the event clears only once the condition has been false that long.
/// `clear` is not reserved: it is only a keyword where a condition (or its qualifier) ends.
struct clear_after : kw_after {};
struct clear_value : temporal_value {};
struct clear_clause : seq<kw_clear, wss, clear_after, wss, clear_value> {};

struct event_name : identifier {};
struct arg_name : identifier {};
struct arg_list : seq<one<'('>, wss, opt<list<arg_name, comma>>, wss, close_paren> {};
struct raise_clause : seq<kw_raise, wss, event_name, opt<wss, arg_list>> {};
struct expect_raise : raise_clause {};
struct expect_when : kw_when {};
struct discover_rule : seq<kw_discover, wss, decl_name, wss, opt<param_list, wss>, expect_when, wss,
                           expr, opt<wss, temporal>, opt<wss, clear_clause>, wss, expect_raise> {};

// Recovery bodies.
struct target_name : identifier {};
struct action_block;
struct backoff_min : temporal_value {};
struct dotdot : string<'.', '.'> {};
struct backoff_max : temporal_value {};
/// `backoff none`: restart at once every time, instead of the default backoff. `none` is
/// not reserved: `backoff none .. 5s` reads a constant called none.
/// (The lookahead spells '..' itself: `dotdot` raises its error wherever it fails.)
struct backoff_none : seq<kw_none, not_at<wss, string<'.', '.'>>> {};
struct backoff_opt
    : seq<kw_backoff, wss, sor<backoff_none, seq<backoff_min, wss, dotdot, wss, backoff_max>>> {};
struct limit_count : temporal_value {};
struct limit_within : kw_within {};
struct limit_window : temporal_value {};
/// `limit none`: never give up, instead of the default limit.
struct limit_none : seq<kw_none, not_at<wss, kw_within>> {};
struct limit_opt
    : seq<kw_limit, wss, sor<limit_none, seq<limit_count, wss, limit_within, wss, limit_window>>> {
};
struct restart_action : seq<kw_restart, wss, target_name, star<wss, sor<backoff_opt, limit_opt>>> {
};
struct start_action : seq<kw_start, wss, target_name> {};
struct stop_action : seq<kw_stop, wss, target_name> {};
struct reload_action : seq<kw_reload, wss, target_name> {};
struct monitor_action : seq<kw_monitor, wss, target_name> {};
struct unmonitor_action : seq<kw_unmonitor, wss, target_name> {};
struct signal_word : identifier {};
struct signal_action : seq<kw_signal, wss, target_name, wss, signal_word> {};
struct run_ref : seq<identifier, plus<one<'.'>, identifier>> {};
struct run_arg : sor<string_lit, run_ref> {};
struct first_run_arg : run_arg {};
struct run_action : seq<kw_run, wss, first_run_arg, star<wss, run_arg>> {};
struct notify_channel : string_lit {};
struct notify_message : string_lit {};
struct notify_action : seq<kw_notify, wss, notify_channel, opt<wss, notify_message>> {};
struct wait_value : temporal_value {};
struct wait_action : seq<kw_wait, wss, wait_value> {};
struct raise_action : raise_clause {};
struct peer_name : identifier {};
struct failover_action : seq<kw_failover, wss, target_name, opt<wss, kw_to, wss, peer_name>> {};
struct when_action;
struct else_body : sor<when_action, action_block> {};
struct when_block : seq<action_block> {};
struct when_action : seq<kw_when, wss, expr, wss, when_block, opt<wss, kw_else, wss, else_body>> {};
struct action : sor<restart_action, start_action, stop_action, monitor_action, unmonitor_action,
                    signal_action, run_action, notify_action, wait_action, raise_action,
                    failover_action, reload_action, when_action> {};
struct action_end : close_brace {};
struct action_block : seq<one<'{'>, wss, star<action, wss, opt<one<';'>, wss>>, action_end> {};
struct recover_params : seq<one<'('>, wss, opt<list<param_name, comma>>, wss, close_paren> {};
struct recover_body : action_block {};
struct recover_rule
    : seq<kw_recover, wss, event_name, wss, opt<recover_params, wss>, recover_body> {};

/// One top-level statement. The parser applies it repeatedly (see parser.cc).
struct statement : sor<policy_decl, include_decl, let_decl, event_decl, discover_rule, recover_rule,
                       object_decl> {};

/// A whole file (used by the analyze test and as documentation; the parser loops itself).
struct file : seq<wss, star<statement, wss>, eof> {};

// --- Error messages ------------------------------------------------------------------------

template <typename Rule>
inline constexpr const char* error_message = nullptr;

// clang-format off
template <> inline constexpr auto error_message<expr> = "expected an expression";
template <> inline constexpr auto error_message<close_paren> = "expected ')'";
template <> inline constexpr auto error_message<string_close> = "unterminated string (a string ends on its line with '\"')";
template <> inline constexpr auto error_message<escape_char> = "unknown escape sequence (use \\\", \\\\, \\n, \\t or \\r)";
template <> inline constexpr auto error_message<no_nul_escape> = "a string cannot hold a NUL byte ('\\0'): exec, paths, the environment and user names would cut the value short there";
template <> inline constexpr auto error_message<no_nul_byte> = "a string cannot hold a NUL byte: exec, paths, the environment and user names would cut the value short there";
template <> inline constexpr auto error_message<name_end> = "a character that cannot be part of a name";
template <> inline constexpr auto error_message<number_end> = "a malformed number";
template <> inline constexpr auto error_message<path_part> = "expected a name after '.'";
template <> inline constexpr auto error_message<within_window> = "expected a duration after 'within'";
template <> inline constexpr auto error_message<neg_operand> = "expected an expression after '-'";
template <> inline constexpr auto error_message<mul_rhs> = "expected an expression after the operator";
template <> inline constexpr auto error_message<add_rhs> = "expected an expression after the operator";
template <> inline constexpr auto error_message<cmp_rhs> = "expected an expression after the comparison";
template <> inline constexpr auto error_message<not_operand> = "expected an expression after 'not'";
template <> inline constexpr auto error_message<and_rhs> = "expected an expression after 'and'";
template <> inline constexpr auto error_message<or_rhs> = "expected an expression after 'or'";
template <> inline constexpr auto error_message<decl_name> = "expected a name";
template <> inline constexpr auto error_message<equals> = "expected '=' after the constant's name";
template <> inline constexpr auto error_message<include_path> = "expected a file name in quotes after 'include'";
template <> inline constexpr auto error_message<param_colon> = "expected ':' and a kind after the parameter name (as in 's: service')";
template <> inline constexpr auto error_message<param_kind> = "expected a kind after ':'";
template <> inline constexpr auto error_message<setting_end> = "expected ';' or a new line after the setting";
template <> inline constexpr auto error_message<close_brace> = "expected '}' or a setting";
template <> inline constexpr auto error_message<for_value> = "expected a duration or a count after 'for'";
template <> inline constexpr auto error_message<times_within> = "expected 'within' after 'times'";
template <> inline constexpr auto error_message<times_window> = "expected a duration after 'within'";
template <> inline constexpr auto error_message<clear_after> = "expected 'after' and a duration after 'clear' (as in 'clear after 60s')";
template <> inline constexpr auto error_message<clear_value> = "expected a duration after 'clear after'";
template <> inline constexpr auto error_message<event_name> = "expected an event name";
template <> inline constexpr auto error_message<expect_raise> = "expected 'raise EVENT(...)' after the rule's condition";
template <> inline constexpr auto error_message<expect_when> = "expected 'when' and a condition";
template <> inline constexpr auto error_message<target_name> = "expected the name of an object";
template <> inline constexpr auto error_message<backoff_min> = "expected the first delay after 'backoff' (or 'none')";
template <> inline constexpr auto error_message<dotdot> = "expected '..' between the backoff delays";
template <> inline constexpr auto error_message<backoff_max> = "expected the longest delay after '..'";
template <> inline constexpr auto error_message<limit_count> = "expected a count after 'limit' (or 'none')";
template <> inline constexpr auto error_message<limit_within> = "expected 'within' after the limit's count";
template <> inline constexpr auto error_message<limit_window> = "expected a duration after 'within'";
template <> inline constexpr auto error_message<signal_word> = "expected a signal name (TERM, HUP, USR1, ...)";
template <> inline constexpr auto error_message<first_run_arg> = "expected the program to run, in quotes";
template <> inline constexpr auto error_message<notify_channel> = "expected a channel name in quotes after 'notify'";
template <> inline constexpr auto error_message<wait_value> = "expected a duration after 'wait'";
template <> inline constexpr auto error_message<peer_name> = "expected a peer name after 'to'";
template <> inline constexpr auto error_message<else_body> = "expected '{' or 'when' after 'else'";
template <> inline constexpr auto error_message<when_block> = "expected '{' after the condition";
template <> inline constexpr auto error_message<action_end> = "expected an action (restart, start, stop, reload, signal, run, notify, wait, raise, failover, monitor, unmonitor, when) or '}'";
template <> inline constexpr auto error_message<recover_body> = "expected '{' and the recovery actions";
// clang-format on

/// The diagnostic code of a rule's error: a syntax error unless listed here.
template <typename Rule>
inline constexpr diag::Code error_code = diag::Code::kSyntaxError;

// clang-format off
template <> inline constexpr diag::Code error_code<string_close> = diag::Code::kMalformedString;
template <> inline constexpr diag::Code error_code<escape_char> = diag::Code::kMalformedString;
template <> inline constexpr diag::Code error_code<no_nul_escape> = diag::Code::kMalformedString;
template <> inline constexpr diag::Code error_code<no_nul_byte> = diag::Code::kMalformedString;
template <> inline constexpr diag::Code error_code<name_end> = diag::Code::kUnexpectedCharacter;
template <> inline constexpr diag::Code error_code<number_end> = diag::Code::kMalformedNumber;
// clang-format on

/// Errors about the token that is there (`expected ... or '}'`) are reported on it; the
/// others, about something missing, at the end of the line where it should have been.
template <typename Rule>
inline constexpr bool error_on_token = false;

// clang-format off
template <> inline constexpr bool error_on_token<close_brace> = true;
template <> inline constexpr bool error_on_token<action_end> = true;
template <> inline constexpr bool error_on_token<no_nul_escape> = true;
template <> inline constexpr bool error_on_token<no_nul_byte> = true;
template <> inline constexpr bool error_on_token<name_end> = true;
template <> inline constexpr bool error_on_token<number_end> = true;
// clang-format on

/// The error table in the form pegtl::must_if wants.
struct errors {
  template <typename Rule>
  static constexpr const char* message = error_message<Rule>;
};

}  // namespace amata::parse::grammar
