// amatad's log: readable lines on stderr with levels, through spdlog. Under systemd
// (JOURNAL_STREAM set) each line, every line of a multi-line message too, starts with a `<N>`
// syslog priority that journald turns into the entry's priority, and has no timestamp
// (journald adds its own); on a terminal, levels are coloured; otherwise plain timestamped
// lines.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"

namespace amata::daemon {

enum class LogStyle { kAuto, kJournal, kTerminal, kPlain };

/// Installs the default logger. `level`: trace, debug, info, warn, error, critical, off.
Status setup_logging(const std::string& level, LogStyle style = LogStyle::kAuto);

/// The style kAuto resolves to in this environment.
LogStyle detect_log_style();

/// A policy's rendered diagnostics at start: as `amatac check` prints them on stderr, or,
/// under systemd, as one journal entry whose every line has priority err (`errors`) or
/// warning, so that `journalctl -u amatad -p err` shows them.
void print_diagnostics(const std::string& text, bool errors);

}  // namespace amata::daemon
