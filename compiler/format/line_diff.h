// A unified diff of two texts, for `amatac fmt --check`: what a reviewer (or CI) reads to
// see how a file differs from its formatted layout, without a `diff` program.
#pragma once

#include <string>
#include <string_view>

namespace amata::format {

/// The lines that differ from `before` to `after` in `diff -u` form (3 lines of context),
/// with `---`/`+++` headers naming `before_name` and `after_name`; empty when the texts are
/// equal. The edits are a longest common subsequence of the lines between the texts'
/// common start and end; when that middle is too large to compare line by line (more than
/// kMaxDiffCells pairs), it is shown as removed and added whole.
std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view before_name, std::string_view after_name);

inline constexpr std::size_t kMaxDiffCells = std::size_t{1} << 22;

}  // namespace amata::format
