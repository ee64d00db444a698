// Settings: which settings each kind of object (and the cluster, and a channel) takes, and
// reading one setting's values: strings, absolute paths, words, numbers with units or
// constants, durations, whole numbers and signals. Every misfit is an E0206 with the setting's
// usage.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/check/context.h"
#include "compiler/check/ranges.h"

namespace amata::check {

/// A setting, the kinds that accept it and how it is written.
struct SettingInfo {
  std::string_view name;
  std::initializer_list<catalog::Kind> kinds;
  std::string_view usage;
};

/// The settings of objects.
std::span<const SettingInfo> object_settings();
/// The settings of a `cluster` declaration (it is not an object kind).
std::span<const SettingInfo> cluster_settings();
/// The settings of a `channel` declaration (not an object kind either).
std::span<const SettingInfo> channel_settings();
/// The setting of `settings` that `s` names; otherwise reports it (E0205, with the closest
/// name as a suggestion and a fix-it) as unknown "for a WHAT" and returns nullptr. For the
/// declarations that are not objects (the cluster, a channel).
const SettingInfo* known_setting(CheckContext& ctx, const ast::Setting& s,
                                 std::span<const SettingInfo> settings, std::string_view what);
/// The object setting called `name`, or nullptr.
const SettingInfo* find_object_setting(std::string_view name);
/// Whether an object of `kind` takes the setting.
bool accepts(const SettingInfo& info, catalog::Kind kind);
/// Records setting `s` in `seen`; false after reporting that it was given before (E0201).
bool first_given(CheckContext& ctx, std::map<std::string, ast::SourceRange>& seen,
                 const ast::Setting& s);

/// Reads the values of one setting. Each reader reports what does not fit and then returns
/// nullopt (or false) and clears `ok`.
struct SettingReader {
  CheckContext& ctx;
  const ast::Setting& s;
  const SettingInfo& info;
  bool ok = true;

  /// Reports an invalid value at `r`, with the setting's usage.
  void bad(const ast::SourceRange& r, const std::string& what);
  /// Whether the setting has from `min` to `max` values.
  bool count(std::size_t min, std::size_t max);
  std::optional<std::string> str(std::size_t i);
  /// A string that `problem` (values.h) finds nothing wrong with.
  std::optional<std::string> str(std::size_t i,
                                 std::optional<std::string> (*problem)(std::string_view));
  /// An absolute path the kernel takes (values.h path_problem).
  std::optional<std::string> abs_path(std::size_t i);
  std::optional<std::string> word(std::size_t i);
  /// A number with its unit, or a constant's name, normalised.
  std::optional<TypedExpr> value(std::size_t i);
  /// A duration longer than zero and within `range` (ranges.h), in seconds; `what` names
  /// it in the range's error ("the probe period").
  std::optional<double> duration(std::size_t i, const DurationRange& range, std::string_view what);
  std::optional<long> integer(std::size_t i, long min, long max);
  /// A signal name (TERM, SIGTERM, ...) as its number.
  std::optional<int> signal(std::size_t i);
  /// All the values: an absolute program path and its arguments, in quotes.
  std::optional<std::vector<std::string>> program();
};

}  // namespace amata::check
