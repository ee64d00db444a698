#include "base/regex.h"

#include <re2/re2.h>

namespace amata::base {

Regex::Regex() = default;
Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

Result<Regex> Regex::compile(std::string_view pattern) {
  RE2::Options options;
  // Errors come back as values; RE2 would also print them to stderr.
  options.set_log_errors(false);
  Regex out;
  out.re_ = std::make_unique<re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!out.re_->ok()) return Error{out.re_->error()};
  return out;
}

bool Regex::search(std::string_view text) const {
  return re_ != nullptr && re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *re_);
}

}  // namespace amata::base
