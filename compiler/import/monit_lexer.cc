#include "compiler/import/monit_lexer.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <utility>

namespace amata::importer {
namespace {

bool word_char(char c) {
  return !std::isspace(static_cast<unsigned char>(c)) && c != '#' && c != '"' && c != '\'' &&
         c != '{' && c != '}' && c != ',' && c != '(' && c != ')' && c != '=' && c != '<' &&
         c != '>' && c != '!';
}

/// The tokens of one file, its includes left as they are.
Status lex_one(Reporter& rep, ast::FileId file, Tokens& out) {
  const std::string& text = rep.sources().file(file).text;
  const auto n = static_cast<std::uint32_t>(text.size());
  std::uint32_t i = 0;
  auto skip_comment = [&] {
    while (i < n && text[i] != '\n') ++i;
  };
  while (i < n) {
    const char c = text[i];
    if (c == '\0') return rep.error({file, i}, "a NUL byte: this is not a Monit control file");
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '#') {
      skip_comment();
      continue;
    }
    Token t;
    t.loc = {file, i};
    if (c == '"' || c == '\'') {
      const auto close = text.find(c, i + 1);
      if (close == std::string::npos) {
        return rep.error({file, i},
                         std::string("a string opened here is never closed (no ") + c + ")");
      }
      t.kind = Token::Kind::kString;
      t.text = text.substr(i + 1, close - i - 1);
      if (t.text.find('\0') != std::string::npos) {
        return rep.error({file, i}, "a NUL byte in a string");
      }
      i = static_cast<std::uint32_t>(close + 1);
    } else if (c == '{') {
      int depth = 0;
      std::uint32_t j = i;
      for (; j < n; ++j) {
        if (text[j] == '#') {
          while (j < n && text[j] != '\n') ++j;
          if (j >= n) break;
        } else if (text[j] == '{') {
          ++depth;
        } else if (text[j] == '}' && --depth == 0) {
          break;
        }
      }
      if (j >= n) return rep.error({file, i}, "a '{' opened here is never closed");
      t.kind = Token::Kind::kBlock;
      t.text = text.substr(i + 1, j - i - 1);
      i = j + 1;
    } else if (c == ',' || c == '(' || c == ')' || c == '}') {
      t.kind = Token::Kind::kPunct;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
      t.kind = Token::Kind::kPunct;
      std::uint32_t j = i + 1;
      while (j < n && j < i + 2 && (text[j] == '=' || text[j] == '>')) ++j;
      t.text = text.substr(i, j - i);
      i = j;
    } else {
      t.kind = Token::Kind::kWord;
      std::uint32_t j = i;
      while (j < n && word_char(text[j])) ++j;
      t.text = text.substr(i, j - i);
      i = j;
    }
    t.end = i;
    out.push_back(std::move(t));
  }
  return {};
}

Status lex_nested(Reporter& rep, ast::FileId file, Tokens& out, int depth) {
  Tokens mine;
  if (auto s = lex_one(rep, file, mine); !s) return s;
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (lw(mine[i]) != "include" || i + 1 >= mine.size() ||
        mine[i + 1].kind == Token::Kind::kBlock || mine[i + 1].kind == Token::Kind::kPunct) {
      out.push_back(std::move(mine[i]));
      continue;
    }
    const Token& pattern = mine[i + 1];
    if (depth >= kMaxIncludeDepth) {
      return rep.error(mine[i].loc, "includes nested more than " +
                                        std::to_string(kMaxIncludeDepth) +
                                        " deep (an include cycle?)");
    }
    const auto files = expand_glob(pattern.text, dir_of(rep.sources().file(file).path));
    if (files.empty() && pattern.text.find_first_of("*?[") == std::string::npos) {
      rep.warn(pattern.loc, "include '" + pattern.text + "' names no file; nothing included");
    }
    for (const auto& path : files) {
      auto id = rep.sources().load(
          path, ast::SourceRange{mine[i].loc.file, mine[i].loc.offset, pattern.end});
      if (!id) {
        // A directory matched by `conf.d/*` is skipped, as Monit does.
        if (id.error().message.find("not a regular file") != std::string::npos) continue;
        return rep.error(pattern.loc, "cannot read included file: " + id.error().message);
      }
      if (auto s = lex_nested(rep, *id, out, depth + 1); !s) return s;
    }
    ++i;
  }
  return {};
}

}  // namespace

std::string lw(const Token& t) {
  return is_word(t) ? lower(t.text) : std::string();
}

bool noise(const Token& t) {
  static const std::set<std::string, std::less<>> kNoise = {
      "is",   "as",    "are", "on", "only",    "with",     "and", "has", "using", "use", "the",
      "than", "usage", "was", "of", "program", "programs", "a",   "an",  "but",   "in"};
  return is_word(t) && kNoise.contains(lw(t));
}

Status lex_monit(Reporter& rep, ast::FileId file, Tokens& out) {
  return lex_nested(rep, file, out, 0);
}

std::string text_of(const Reporter& rep, const Tokens& t, std::size_t b, std::size_t e) {
  e = std::min(e, t.size());
  if (b >= e) return "";
  // Tokens of one statement may come from two files only through an include; cut there.
  std::size_t last = b;
  while (last + 1 < e && t[last + 1].loc.file == t[b].loc.file) ++last;
  return rep.excerpt(t[b].loc, t[last].end);
}

}  // namespace amata::importer
