// Channels: the `channel NAME { ... }` declarations, where `notify "NAME"` delivers (a
// webhook, Alertmanager, mail, or the hook script of that name), and `notify` naming one.
#pragma once

#include "compiler/check/context.h"

namespace amata::check {

/// The channel every policy has without declaring it: the log and the console only.
inline constexpr std::string_view kConsoleChannel = "console";

/// Part of the objects pass: each `channel` declaration's settings into policy.channels.
void check_channels(CheckContext& ctx);

/// Part of the recover pass, for `notify "CHANNEL" ...`: the channel is declared (or is
/// "console"). False after reporting (E0409).
bool check_notify_channel(CheckContext& ctx, const ast::Action& a);

}  // namespace amata::check
