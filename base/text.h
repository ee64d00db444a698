// Allocation-free scanning of the kernel's text files (procfs, sysfs): whitespace tokens,
// lines and whole-token numbers. Malformed input gives nullopt, never an exception.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>

namespace amata::base {

constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

constexpr std::string_view skip_spaces(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}

/// Takes the next whitespace-separated token off the front of `s` (empty at the end).
constexpr std::string_view next_token(std::string_view& s) {
  s = skip_spaces(s);
  std::size_t i = 0;
  while (i < s.size() && !is_space(s[i])) ++i;
  std::string_view token = s.substr(0, i);
  s.remove_prefix(i);
  return token;
}

/// Splits off the next line (without its '\n').
constexpr std::string_view next_line(std::string_view& s) {
  std::size_t nl = s.find('\n');
  std::string_view line = s.substr(0, nl);
  s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
  return line;
}

/// The whole token as a number of type T (integer or floating point); nullopt when the
/// token is empty, has anything after the number, or does not fit T.
template <typename T>
std::optional<T> parse_number(std::string_view token) {
  T value{};
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size() || token.empty()) return std::nullopt;
  return value;
}

}  // namespace amata::base
