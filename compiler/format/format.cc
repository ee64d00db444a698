#include "compiler/format/format.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <vector>

#include "compiler/format/tokens.h"
#include "compiler/parse/parser.h"

namespace amata::format {
namespace {

constexpr int kIndent = 2;
constexpr int kContinuation = 4;
constexpr std::size_t kCommentGap = 2;
constexpr std::size_t kNone = static_cast<std::size_t>(-1);

/// Alignment keys: lines of one key in a row align their cells.
enum Key : std::int64_t { kNoKey = 0, kLetKey, kObjectKey, kDiscoverKey, kSettingKeys };

/// What the parser's tree says about one token.
struct Role {
  int statement = -1;         // begins top-level statement N
  bool item = false;          // begins a setting or an action
  std::size_t cell = kNone;   // begins an alignment cell of the line token `cell` begins
  std::int64_t key = kNoKey;  // the alignment key of a line this token begins
};

/// An open `{`: whether it stays on one line, the indent of the line it belongs to, and (on
/// one line) how many settings or actions it has shown, for the "; " between them.
struct Block {
  bool one_line = false;
  int base = 0;
  int items = 0;
};

struct Line {
  int indent = 0;
  std::vector<std::string> cells;
  std::string comment;  // a trailing comment, or the text of a comment-only line
  bool comment_only = false;
  bool blank_before = false;
  std::int64_t key = kNoKey;
  std::size_t owner = kNone;  // the token that begins the line
  int statement = -1;
  bool statement_start = false;
};

/// Display width: UTF-8 continuation bytes take no column.
std::size_t width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string_view strip_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::uint32_t statement_begin(const ast::Statement& st) {
  switch (st.kind) {
    case ast::Statement::Kind::kPolicy:
      return st.policy->range.begin;
    case ast::Statement::Kind::kInclude:
      return st.include->range.begin;
    case ast::Statement::Kind::kLet:
      return st.let->range.begin;
    case ast::Statement::Kind::kEvent:
      return st.event->range.begin;
    case ast::Statement::Kind::kObject:
      return st.object->range.begin;
    case ast::Statement::Kind::kDiscover:
      return st.discover->range.begin;
    case ast::Statement::Kind::kRecover:
      return st.recover->range.begin;
  }
  return 0;
}

/// Words after which `(` opens a parenthesised expression, not a call or a parameter list,
/// and `-` is a sign, not a subtraction.
bool is_operator_word(std::string_view w) {
  return w == "and" || w == "or" || w == "not" || w == "when" || w == "within" || w == "for" ||
         w == "else";
}

class Formatter {
 public:
  Formatter(const std::vector<Token>& tokens, const ast::File& file)
      : toks_(tokens),
        roles_(tokens.size()),
        statements_(static_cast<int>(file.statements.size())) {
    assign_roles(file);
    find_blocks();
  }

  std::string run() {
    emit();
    settle_statements();
    align_cells();
    align_comments();
    return render();
  }

 private:
  // --- What each token is ------------------------------------------------------------------

  std::size_t at(std::uint32_t offset) const {
    auto it = std::lower_bound(toks_.begin(), toks_.end(), offset,
                               [](const Token& t, std::uint32_t o) { return t.begin < o; });
    if (it == toks_.end() || it->begin != offset) return kNone;
    return static_cast<std::size_t>(it - toks_.begin());
  }

  void assign_roles(const ast::File& file) {
    for (std::size_t s = 0; s < file.statements.size(); ++s) {
      const ast::Statement& st = file.statements[s];
      const std::size_t i = at(statement_begin(st));
      if (i == kNone) continue;
      roles_[i].statement = static_cast<int>(s);
      switch (st.kind) {
        case ast::Statement::Kind::kLet:
          roles_[i].key = kLetKey;
          cell_at(i + 2, "=", i);
          break;
        case ast::Statement::Kind::kObject:
          roles_[i].key = kObjectKey;
          cell_at(i + 2, "{", i);
          for (const auto& setting : st.object->settings) {
            const std::size_t j = at(setting.range.begin);
            if (j == kNone) continue;
            roles_[j].item = true;
            roles_[j].key = kSettingKeys + static_cast<std::int64_t>(i);
            if (!setting.args.empty()) {
              const std::size_t a = at(setting.args.front().range.begin);
              if (a != kNone) roles_[a].cell = j;
            }
          }
          break;
        case ast::Statement::Kind::kDiscover: {
          roles_[i].key = kDiscoverKey;
          const std::size_t raise = at(st.discover->raise.range.begin);
          for (std::size_t j = i + 1; j < toks_.size() && j < raise; ++j) {
            if (toks_[j].kind == Token::Kind::kWord && toks_[j].text == "when") {
              roles_[j].cell = i;
              break;
            }
          }
          if (raise != kNone) roles_[raise].cell = i;
          break;
        }
        case ast::Statement::Kind::kRecover:
          mark_actions(st.recover->body);
          break;
        default:
          break;
      }
    }
  }

  void cell_at(std::size_t j, std::string_view text, std::size_t owner) {
    if (j < toks_.size() && toks_[j].is(text)) roles_[j].cell = owner;
  }

  void mark_actions(const ast::ActionList& actions) {
    for (const auto& a : actions) {
      const std::size_t j = at(a.range.begin);
      // `else when`: the `when` continues the `else`, it does not begin a line.
      if (j != kNone && !(j > 0 && toks_[j - 1].is("else"))) roles_[j].item = true;
      if (a.then_body) mark_actions(*a.then_body);
      if (a.else_body) mark_actions(*a.else_body);
    }
  }

  /// Pairs the braces; a block is one-line when nothing between its braces starts a line.
  void find_blocks() {
    one_line_.assign(toks_.size(), false);
    std::vector<std::size_t> open;
    std::vector<std::size_t> broken;  // per open brace: does a line start inside it?
    for (std::size_t i = 0; i < toks_.size(); ++i) {
      const Token& t = toks_[i];
      const bool breaks = t.newlines > 0 || t.kind == Token::Kind::kComment;
      if (breaks) {
        for (auto& b : broken) b = 1;
      }
      if (t.is("{")) {
        open.push_back(i);
        broken.push_back(0);
      } else if (t.is("}") && !open.empty()) {
        one_line_[open.back()] = broken.back() == 0;
        open.pop_back();
        broken.pop_back();
      }
    }
  }

  // --- Lines -------------------------------------------------------------------------------

  int level() const { return blocks_.empty() ? 0 : blocks_.back().base + kIndent; }

  /// The next token that is neither a comment nor a `;`.
  std::size_t next_code(std::size_t i) const {
    for (std::size_t j = i + 1; j < toks_.size(); ++j) {
      if (toks_[j].kind != Token::Kind::kComment && !toks_[j].is(";")) return j;
    }
    return kNone;
  }

  bool breaks_before(std::size_t i, std::size_t prev) const {
    const Token& t = toks_[i];
    const bool in_one_line = !blocks_.empty() && blocks_.back().one_line;
    if (lines_.empty() || toks_[prev].kind == Token::Kind::kComment) return true;
    if (roles_[i].statement >= 0) return true;
    if (in_one_line) return false;
    if (roles_[i].item || t.is("}") || toks_[prev].is("{")) return true;
    if (t.is("{") || t.is("else")) return false;
    return t.newlines > 0;
  }

  std::string_view spacing(std::size_t prev, std::size_t i) const {
    const Token& p = toks_[prev];
    const Token& t = toks_[i];
    if (t.is(",") || t.is(")") || t.is(".") || t.is(":")) return "";
    if (p.is("(") || p.is(".") || (p.is("-") && prev_is_sign_)) return "";
    if (p.is("{") && t.is("}")) return "";
    if (t.is("(") && p.kind == Token::Kind::kWord && !is_operator_word(p.text)) return "";
    return " ";
  }

  /// A `-` is a sign after an operator, an opening parenthesis or an operator word.
  bool is_sign(std::size_t prev) const {
    if (prev == kNone) return true;
    const Token& p = toks_[prev];
    if (p.kind == Token::Kind::kPunct) return !p.is(")");
    return p.kind == Token::Kind::kWord && is_operator_word(p.text);
  }

  void comment_line(std::size_t i, int current_statement) {
    Line line;
    line.owner = i;
    line.comment_only = true;
    line.comment = std::string(strip_right(toks_[i].text));
    const std::size_t next = next_code(i);
    line.statement = current_statement;
    if (next == kNone) {
      line.statement = statements_;
      line.indent = level();
    } else if (roles_[next].statement >= 0) {
      line.statement = roles_[next].statement;
      line.indent = level();
    } else if (roles_[next].item || toks_[next].is("}")) {
      line.indent = level();
    } else {
      line.indent = level() + kContinuation;
    }
    lines_.push_back(std::move(line));
  }

  void emit() {
    std::size_t prev = kNone;
    int current_statement = -1;
    for (std::size_t i = 0; i < toks_.size(); ++i) {
      const Token& t = toks_[i];
      if (t.is(";")) continue;  // a line break (or "; " in a one-line block) stands for it
      const bool comment = t.kind == Token::Kind::kComment;
      if (comment && t.newlines == 0 && !lines_.empty()) {
        lines_.back().comment = std::string(strip_right(t.text));
        prev = i;
        continue;
      }
      const bool blank = !lines_.empty() && t.newlines >= 2 && !toks_[prev].is("{") && !t.is("}") &&
                         (comment || roles_[i].statement >= 0 || roles_[i].item);
      if (comment) {
        comment_line(i, current_statement);
        lines_.back().blank_before = blank;
        prev = i;
        continue;
      }
      const bool in_one_line = !blocks_.empty() && blocks_.back().one_line;
      if (breaks_before(i, prev)) {
        Line line;
        line.owner = i;
        line.blank_before = blank;
        if (roles_[i].statement >= 0) {
          current_statement = roles_[i].statement;
          line.statement_start = true;
        }
        line.statement = current_statement;
        line.key = roles_[i].key;
        if (t.is("}")) {
          line.indent = blocks_.empty() ? 0 : blocks_.back().base;
        } else if (roles_[i].statement >= 0 || roles_[i].item) {
          line.indent = level();
        } else {
          line.indent = level() + kContinuation;
        }
        line.cells.emplace_back(t.text);
        lines_.push_back(std::move(line));
      } else {
        Line& line = lines_.back();
        std::string_view sep = spacing(prev, i);
        if (in_one_line && roles_[i].item && blocks_.back().items > 0) sep = "; ";
        if (roles_[i].cell != kNone && roles_[i].cell == line.owner) {
          line.cells.emplace_back(t.text);
        } else {
          line.cells.back().append(sep).append(t.text);
        }
      }
      if (in_one_line && roles_[i].item) ++blocks_.back().items;
      if (t.is("{")) blocks_.push_back({one_line_[i] || in_one_line, level(), 0});
      if (t.is("}") && !blocks_.empty()) blocks_.pop_back();
      prev_is_sign_ = t.is("-") && is_sign(prev);
      prev = i;
    }
  }

  // --- Settling the layout -----------------------------------------------------------------

  /// Statements that span lines drop their alignment key and stand apart by a blank line.
  void settle_statements() {
    std::vector<bool> multi(static_cast<std::size_t>(statements_) + 1, false);
    std::vector<bool> started(multi.size(), false);
    for (const Line& l : lines_) {
      if (l.statement < 0) continue;
      const auto s = static_cast<std::size_t>(l.statement);
      if (l.statement_start) {
        started[s] = true;
      } else if (started[s]) {
        multi[s] = true;
      }
    }
    std::vector<bool> seen(multi.size(), false);
    for (Line& l : lines_) {
      if (l.statement < 0) continue;
      const auto s = static_cast<std::size_t>(l.statement);
      if (l.key != kNoKey && l.key < kSettingKeys && multi[s]) l.key = kNoKey;
      if (seen[s]) continue;
      seen[s] = true;
      if (s > 0 && s < static_cast<std::size_t>(statements_) && (multi[s] || multi[s - 1])) {
        l.blank_before = true;
      }
    }
  }

  /// Lines of one key in a row pad each cell but the last to the widest of the run.
  void align_cells() {
    for (std::size_t i = 0; i < lines_.size();) {
      std::size_t j = i + 1;
      if (lines_[i].key != kNoKey) {
        while (j < lines_.size() && lines_[j].key == lines_[i].key && !lines_[j].blank_before) {
          ++j;
        }
      }
      std::vector<std::size_t> widths;
      for (std::size_t k = i; k < j; ++k) {
        const auto& cells = lines_[k].cells;
        for (std::size_t c = 0; c + 1 < cells.size(); ++c) {
          if (widths.size() <= c) widths.resize(c + 1, 0);
          widths[c] = std::max(widths[c], width(cells[c]));
        }
      }
      for (std::size_t k = i; k < j; ++k) {
        auto& cells = lines_[k].cells;
        for (std::size_t c = 0; c + 1 < cells.size(); ++c) {
          cells[c].append(widths[c] - width(cells[c]) + 1, ' ');
        }
      }
      i = j;
    }
  }

  static std::size_t content_width(const Line& l) {
    std::size_t w = static_cast<std::size_t>(l.indent);
    for (const auto& c : l.cells) w += width(c);
    return w;
  }

  /// Trailing comments on consecutive lines of one indentation start in one column.
  void align_comments() {
    for (std::size_t i = 0; i < lines_.size();) {
      if (lines_[i].comment_only || lines_[i].comment.empty()) {
        ++i;
        continue;
      }
      std::size_t j = i + 1;
      while (j < lines_.size() && !lines_[j].comment_only && !lines_[j].comment.empty() &&
             lines_[j].indent == lines_[i].indent && !lines_[j].blank_before) {
        ++j;
      }
      std::size_t column = 0;
      for (std::size_t k = i; k < j; ++k) column = std::max(column, content_width(lines_[k]));
      for (std::size_t k = i; k < j; ++k) {
        lines_[k].comment.insert(0, column - content_width(lines_[k]) + kCommentGap, ' ');
      }
      i = j;
    }
  }

  std::string render() const {
    std::string out;
    for (const Line& l : lines_) {
      if (l.blank_before && !out.empty()) out += '\n';
      out.append(static_cast<std::size_t>(l.indent), ' ');
      for (const auto& c : l.cells) out += c;
      out += l.comment;
      out += '\n';
    }
    return out;
  }

  const std::vector<Token>& toks_;
  std::vector<Role> roles_;
  std::vector<bool> one_line_;
  int statements_ = 0;
  std::vector<Block> blocks_;
  std::vector<Line> lines_;
  bool prev_is_sign_ = false;
};

}  // namespace

std::optional<std::string> format_file(const source::SourceManager& sources, ast::FileId id,
                                       diag::DiagnosticEngine& diags) {
  const std::size_t errors = diags.error_count();
  const ast::File file = parse::parse_file(sources, id, diags);
  if (diags.error_count() > errors) return std::nullopt;
  std::vector<Token> tokens;
  if (!tokenize(sources.file(id).text, tokens)) {
    // The parser accepted every byte, so the token rules (the same grammar) must too.
    diags.report(diag::Code::kSyntaxError, {id, 0, 0},
                 "amatac fmt cannot split this file into tokens although it parses (a bug in "
                 "amatac: please report it with the file)");
    return std::nullopt;
  }
  return Formatter(tokens, file).run();
}

}  // namespace amata::format
