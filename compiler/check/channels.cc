#include "compiler/check/channels.h"

#include <map>
#include <string>
#include <vector>

#include "compiler/check/names.h"
#include "compiler/check/settings.h"
#include "compiler/check/values.h"

namespace amata::check {

using Type = catalog::ChannelSpec::Type;

namespace {

/// Retries are bounded so that a dead receiver costs a bounded number of attempts: ten
/// retries, 1 s doubling to at most 60 s apart, span about 5 minutes.
constexpr long kMaxRetries = 10;

/// "smtp://HOST[:PORT]" or "smtps://...": where mail goes (libcurl's SMTP), no path.
std::optional<std::string> smtp_url_problem(std::string_view url) {
  const std::string_view scheme = url.starts_with("smtps://") ? "smtps://" : "smtp://";
  if (!url.starts_with(scheme)) return "the URL must start with smtp:// or smtps://";
  const std::string_view rest = url.substr(scheme.size());
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return "an SMTP URL is smtp://HOST[:PORT], with no path";
  }
  // The same host and port rules as an HTTP URL's.
  auto p = http_url_problem("http://" + std::string(rest));
  if (p && p->find("user or password") != std::string::npos) {
    return "an SMTP URL carries no user or password";
  }
  return p;
}

/// A mail address as SMTP takes it in MAIL FROM and RCPT TO: LOCAL@DOMAIN, printable ASCII
/// without blanks, angle brackets or commas.
std::optional<std::string> mail_address_problem(std::string_view address) {
  if (address.size() > 254) return "a mail address has at most 254 characters";
  const std::size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return "a mail address is LOCAL@DOMAIN, as in ops@example.org";
  }
  for (char c : address) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"') {
      return "a mail address holds no blanks, control characters, quotes, commas or angle "
             "brackets";
    }
  }
  return host_problem(address.substr(at + 1));
}

/// Reads the settings of one `channel` declaration; nullopt after reporting.
std::optional<catalog::ChannelSpec> read_channel(CheckContext& ctx, const ast::ObjectDecl& decl) {
  catalog::ChannelSpec channel;
  channel.name = decl.name.text;
  bool ok = !decl.incomplete;
  const ast::Setting* type_setting = nullptr;
  std::map<std::string, ast::SourceRange> seen;
  for (const ast::Setting& s : decl.incomplete ? std::vector<ast::Setting>{} : decl.settings) {
    const SettingInfo* info = known_setting(ctx, s, channel_settings(), "a channel");
    if (!info) {
      ok = false;
      continue;
    }
    if (!first_given(ctx, seen, s)) {
      ok = false;
      continue;
    }
    SettingReader r{ctx, s, *info};
    const std::string& n = s.name.text;
    const bool is_type = n == "webhook" || n == "alertmanager" || n == "email" || n == "hook";
    if (is_type && type_setting) {
      auto& d = ctx.diags.report(diag::Code::kInvalidSettingValue, s.name.range,
                                 "a channel is one of webhook, alertmanager, email or hook; " +
                                     quote(decl.name.text) + " is already a " +
                                     quote(type_setting->name.text));
      d.notes.push_back({type_setting->name.range, "its kind is given here"});
      ok = false;
      continue;
    }
    if (n == "hook") {
      if (r.count(0, 0)) channel.type = Type::kHook;
    } else if (n == "webhook" || n == "alertmanager") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0, http_url_problem)) channel.url = *v;
      }
      channel.type = n == "webhook" ? Type::kWebhook : Type::kAlertmanager;
    } else if (n == "email") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0, smtp_url_problem)) channel.url = *v;
      }
      channel.type = Type::kEmail;
    } else if (n == "from") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0, mail_address_problem)) channel.from = *v;
      }
    } else if (n == "to") {
      if (r.count(1, 100)) {
        for (std::size_t i = 0; i < s.args.size(); ++i) {
          if (auto v = r.str(i, mail_address_problem)) channel.to.push_back(*v);
        }
      }
    } else if (n == "ca") {
      if (r.count(1, 1)) {
        if (auto v = r.abs_path(0)) channel.ca = *v;
      }
    } else if (n == "timeout") {
      if (r.count(1, 1)) {
        if (auto d = r.duration(0, kTimeout, "a delivery's timeout")) channel.timeout = *d;
      }
    } else if (n == "retries") {
      if (r.count(1, 1)) {
        if (auto v = r.integer(0, 0, kMaxRetries)) channel.retries = static_cast<int>(*v);
      }
    }
    if (is_type) type_setting = &s;
    ok = ok && r.ok;
  }
  if (!ok) return std::nullopt;
  if (!type_setting) {
    ctx.diags.report(diag::Code::kMissingSetting, decl.name.range,
                     "channel " + quote(decl.name.text) +
                         " says neither where nor how to deliver: give it one of 'webhook "
                         "\"URL\"', 'alertmanager \"URL\"', 'email \"smtp://HOST\"' or 'hook'");
    return std::nullopt;
  }
  // Settings that only one kind of channel reads are errors elsewhere, not silently unused.
  const bool email = channel.type == Type::kEmail;
  for (const char* only_email : {"from", "to"}) {
    auto it = seen.find(only_email);
    if (it != seen.end() && !email) {
      ctx.diags.report(diag::Code::kInvalidSettingValue, it->second,
                       quote(only_email) + " is a setting of an email channel");
      ok = false;
    }
  }
  if (channel.type == Type::kHook) {
    for (const char* not_hook : {"ca", "timeout", "retries"}) {
      auto it = seen.find(not_hook);
      if (it == seen.end()) continue;
      ctx.diags.report(diag::Code::kInvalidSettingValue, it->second,
                       quote(not_hook) +
                           " is a setting of a channel amatad delivers itself; a hook channel "
                           "runs its script under the hooks' own timeout");
      ok = false;
    }
  }
  if (email && (channel.from.empty() || channel.to.empty())) {
    ctx.diags.report(diag::Code::kMissingSetting, decl.name.range,
                     "email channel " + quote(decl.name.text) +
                         " needs 'from \"ADDRESS\"' and 'to \"ADDRESS\"...'");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return channel;
}

}  // namespace

void check_channels(CheckContext& ctx) {
  for (const ast::ObjectDecl* decl : ctx.channel_decls) {
    if (auto channel = read_channel(ctx, *decl)) ctx.policy.channels.push_back(std::move(*channel));
  }
}

bool check_notify_channel(CheckContext& ctx, const ast::Action& a) {
  if (a.channel == kConsoleChannel) return true;
  for (const ast::ObjectDecl* decl : ctx.channel_decls) {
    if (decl->name.text == a.channel) return true;
  }
  std::vector<std::string_view> names{kConsoleChannel};
  for (const ast::ObjectDecl* decl : ctx.channel_decls) names.push_back(decl->name.text);
  const ast::SourceRange where =
      a.channel_range.end > a.channel_range.begin ? a.channel_range : a.range;
  ctx.diags.report(
      diag::Code::kUnknownChannel, where,
      with_suggestion("notify names channel " + quote(a.channel) +
                          ", which the policy does not declare (declare it: 'channel " + a.channel +
                          " { webhook \"URL\" }', or 'channel " + a.channel +
                          " { hook }' for the hook script of that name)",
                      a.channel, names));
  return false;
}

}  // namespace amata::check
