#include "compiler/check/settings.h"

#include <algorithm>
#include <cmath>

#include "compiler/check/checker.h"
#include "compiler/check/constants.h"
#include "compiler/check/signals.h"
#include "compiler/check/temporal.h"
#include "compiler/check/types.h"
#include "compiler/check/values.h"

namespace amata::check {
namespace {

using catalog::Dimension;
using catalog::Kind;
using Op = TypedExpr::Op;

// clang-format off
const SettingInfo kObjectSettings[] = {
    {"every",   {Kind::kNode, Kind::kService, Kind::kProcess, Kind::kInterface, Kind::kFilesystem, Kind::kHost, Kind::kCheck, Kind::kPeer, Kind::kSensor, Kind::kEcc, Kind::kDisk, Kind::kRaid, Kind::kUnit}, "every DURATION"},
    {"start",   {Kind::kService}, "start \"/abs/program\" \"arg\"..."},
    {"stop",    {Kind::kService}, "stop SIGNAL [then KILL] [after DURATION]"},
    {"health",  {Kind::kService}, "health tcp|unix|http \"TARGET\" [every DURATION] [timeout DURATION] [expect STATUS] [ca \"FILE\"]"},
    {"depends", {Kind::kService}, "depends SERVICE..."},
    {"user",    {Kind::kService}, "user \"NAME\""},
    {"group",   {Kind::kService}, "group \"NAME\""},
    {"dir",     {Kind::kService}, "dir \"/abs/dir\""},
    {"env",     {Kind::kService}, "env NAME \"VALUE\""},
    {"log",     {Kind::kService}, "log \"/abs/file\""},
    {"grace",   {Kind::kService}, "grace DURATION"},
    {"pidfile", {Kind::kService, Kind::kProcess}, "pidfile \"/abs/file\""},
    {"match",   {Kind::kService, Kind::kProcess}, "match \"REGEX\""},
    {"name",    {Kind::kInterface, Kind::kPeer}, "name \"NAME\""},
    {"path",    {Kind::kFilesystem}, "path \"/mount/point\""},
    {"address", {Kind::kHost}, "address \"HOST\""},
    {"port",    {Kind::kHost}, "port NUMBER"},
    {"method",  {Kind::kHost}, "method tcp|icmp"},
    {"timeout", {Kind::kHost, Kind::kCheck, Kind::kDisk}, "timeout DURATION"},
    {"command", {Kind::kCheck, Kind::kDisk}, "command \"/abs/plugin\" \"arg\"..."},
    {"chip",    {Kind::kSensor}, "chip \"NAME\" (or \"NAME@DEVICE\")"},
    {"input",   {Kind::kSensor}, "input \"LABEL\" (or \"temp1\", \"fan2\", ...)"},
    {"zone",    {Kind::kSensor}, "zone \"THERMAL-ZONE-TYPE\""},
    {"controller", {Kind::kEcc}, "controller \"mc0\""},
    {"dimm",    {Kind::kEcc}, "dimm \"LABEL\" (or \"dimm0\")"},
    {"array",   {Kind::kRaid}, "array \"md0\""},
    {"device",  {Kind::kDisk}, "device \"/dev/sda\""},
    {"unit",    {Kind::kUnit}, "unit \"NAME.service\""},
    {"node_id", {Kind::kPeer}, "node_id NUMBER"},
    {"clustered",      {Kind::kService}, "clustered"},
    {"prefer",         {Kind::kService}, "prefer PEER..."},
    {"only_preferred", {Kind::kService}, "only_preferred"},
    {"failback",       {Kind::kService}, "failback"},
};

/// The settings of a `cluster` declaration (it is not an object kind).
const SettingInfo kClusterSettings[] = {
    {"group",            {}, "group \"CPG-GROUP\""},
    {"on_quorum_loss",   {}, "on_quorum_loss stop|freeze"},
    {"fence",            {}, "fence \"/abs/agent\" \"arg\"..."},
    {"watchdog",         {}, "watchdog \"/dev/watchdog\""},
    {"watchdog_timeout", {}, "watchdog_timeout 10s"},
    {"remote_port",      {}, "remote_port 7420"},
    {"remote_address",   {}, "remote_address \"10.0.0.1\""},
    {"remote_timeout",   {}, "remote_timeout 2s"},
    {"attach",           {}, "attach \"NODE@HOST[:PORT]\"..."},
    {"tls_cert",         {}, "tls_cert \"/etc/amata/tls/node.pem\""},
    {"tls_key",          {}, "tls_key \"/etc/amata/tls/node.key\""},
    {"tls_ca",           {}, "tls_ca \"/etc/amata/tls/ca.pem\""},
};

/// The settings of a `channel` declaration: one of the first four says what it is.
const SettingInfo kChannelSettings[] = {
    {"webhook",      {}, "webhook \"http(s)://HOST[:PORT]/PATH\""},
    {"alertmanager", {}, "alertmanager \"http(s)://HOST:9093\""},
    {"email",        {}, "email \"smtp(s)://HOST[:PORT]\""},
    {"hook",         {}, "hook"},
    {"from",         {}, "from \"amata@example.org\""},
    {"to",           {}, "to \"ops@example.org\"..."},
    {"ca",           {}, "ca \"/abs/ca.pem\""},
    {"timeout",      {}, "timeout DURATION"},
    {"retries",      {}, "retries NUMBER"},
};
// clang-format on

}  // namespace

std::span<const SettingInfo> object_settings() {
  return kObjectSettings;
}

std::span<const SettingInfo> cluster_settings() {
  return kClusterSettings;
}

std::span<const SettingInfo> channel_settings() {
  return kChannelSettings;
}

const SettingInfo* find_object_setting(std::string_view name) {
  for (const auto& s : kObjectSettings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const SettingInfo* known_setting(CheckContext& ctx, const ast::Setting& s,
                                 std::span<const SettingInfo> settings, std::string_view what) {
  std::vector<std::string_view> names;
  for (const auto& x : settings) {
    if (x.name == s.name.text) return &x;
    names.push_back(x.name);
  }
  auto& d = ctx.diags.report(
      diag::Code::kUnknownSetting, s.name.range,
      with_suggestion("unknown setting " + quote(s.name.text) + " for " + std::string(what),
                      s.name.text, names));
  const std::string best = diag::closest_match(s.name.text, names);
  if (!best.empty()) d.fixits.push_back({s.name.range, best});
  return nullptr;
}

bool accepts(const SettingInfo& info, Kind kind) {
  return std::find(info.kinds.begin(), info.kinds.end(), kind) != info.kinds.end();
}

bool first_given(CheckContext& ctx, std::map<std::string, ast::SourceRange>& seen,
                 const ast::Setting& s) {
  auto [it, inserted] = seen.emplace(s.name.text, s.name.range);
  if (inserted) return true;
  auto& d = ctx.diags.report(diag::Code::kDuplicateDefinition, s.name.range,
                             "setting " + quote(s.name.text) + " given twice");
  d.notes.push_back({it->second, "first given here"});
  return false;
}

void SettingReader::bad(const ast::SourceRange& r, const std::string& what) {
  ctx.diags.report(diag::Code::kInvalidSettingValue, r,
                   what + " (usage: " + std::string(info.usage) + ")");
  ok = false;
}

bool SettingReader::count(std::size_t min, std::size_t max) {
  if (s.args.size() >= min && s.args.size() <= max) return true;
  std::string want = min == max ? std::to_string(min) : "at least " + std::to_string(min);
  if (max != min && max < 1000) want = std::to_string(min) + " to " + std::to_string(max);
  bad(s.range, quote(s.name.text) + " takes " + want + " value" + (max == 1 ? "" : "s") + ", not " +
                   std::to_string(s.args.size()));
  return false;
}

std::optional<std::string> SettingReader::str(std::size_t i) {
  const auto& a = s.args[i];
  if (a.kind != ast::SettingArg::Kind::kString) {
    bad(a.range, "expected a string in quotes");
    return std::nullopt;
  }
  return a.text;
}

std::optional<std::string> SettingReader::str(
    std::size_t i, std::optional<std::string> (*problem)(std::string_view)) {
  auto v = str(i);
  if (!v) return std::nullopt;
  if (auto why = problem(*v)) {
    bad(s.args[i].range, *why);
    return std::nullopt;
  }
  return v;
}

std::optional<std::string> SettingReader::abs_path(std::size_t i) {
  return str(i, path_problem);
}

std::optional<std::string> SettingReader::word(std::size_t i) {
  const auto& a = s.args[i];
  if (a.kind != ast::SettingArg::Kind::kWord) {
    bad(a.range, "expected a word");
    return std::nullopt;
  }
  return a.text;
}

std::optional<TypedExpr> SettingReader::value(std::size_t i) {
  const auto& a = s.args[i];
  if (a.kind == ast::SettingArg::Kind::kNumber) {
    auto v = number_literal(ctx, a.number, a.text, a.range);
    if (!v) ok = false;
    return v;
  }
  if (a.kind == ast::SettingArg::Kind::kWord) {
    auto it = ctx.names.find(a.text);
    if (it != ctx.names.end() && it->second.what == Definition::What::kConstant) {
      ctx.used_constants.insert(a.text);
      const auto& v = fold_constant(ctx, it->second.index);
      if (!v) ok = false;
      return v;
    }
  }
  bad(a.range, "expected a number or a constant");
  return std::nullopt;
}

std::optional<double> SettingReader::duration(std::size_t i, const DurationRange& range,
                                              std::string_view what) {
  auto v = value(i);
  if (!v) return std::nullopt;
  if (v->op != Op::kNumber || v->type.dimension != Dimension::kDuration || v->number <= 0) {
    ctx.diags.report(diag::Code::kExpectedDuration, s.args[i].range,
                     "expected a duration longer than zero, such as 500ms or 5s, but this is " +
                         (v->op == Op::kNumber && v->type.dimension == Dimension::kDuration
                              ? std::string("zero or less")
                              : type_str(*v)));
    ok = false;
    return std::nullopt;
  }
  if (!require_range(ctx, v->number, range, s.args[i].range, what)) {
    ok = false;
    return std::nullopt;
  }
  return v->number;
}

std::optional<long> SettingReader::integer(std::size_t i, long min, long max) {
  auto v = value(i);
  if (!v) return std::nullopt;
  if (v->op != Op::kNumber || v->type.dimension != Dimension::kCount || v->number < min ||
      v->number > max || v->number != std::floor(v->number)) {
    bad(s.args[i].range,
        "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return std::nullopt;
  }
  return static_cast<long>(v->number);
}

std::optional<int> SettingReader::signal(std::size_t i) {
  auto w = word(i);
  if (!w) return std::nullopt;
  auto n = signal_number(*w);
  if (!n) {
    ctx.diags.report(diag::Code::kUnknownSignal, s.args[i].range,
                     with_suggestion("unknown signal " + quote(*w), *w, signal_names()));
    ok = false;
  }
  return n;
}

std::optional<std::vector<std::string>> SettingReader::program() {
  if (!count(1, 4096)) return std::nullopt;
  std::vector<std::string> argv;
  if (auto p = abs_path(0)) argv.push_back(*p);
  for (std::size_t i = 1; i < s.args.size(); ++i) {
    if (auto a = str(i)) argv.push_back(*a);
  }
  if (!ok) return std::nullopt;
  return argv;
}

}  // namespace amata::check
