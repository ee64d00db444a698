#include "engine/daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string_view>

namespace amata::daemon {
namespace {

/// Journal lines: every line of a message starts with the syslog priority of its level as
/// journald reads it ("<3>"), so that each line of a multi-line message (a rejected reload's
/// diagnostics) keeps the message's priority; no timestamp (journald adds its own).
class JournalFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kPriority[] = {"<7>", "<7>", "<6>", "<4>",
                                                     "<3>", "<2>", "<6>"};
    auto level = static_cast<std::size_t>(msg.level);
    std::string_view priority = level < std::size(kPriority) ? kPriority[level] : "<6>";
    std::string_view text(msg.payload.data(), msg.payload.size());
    do {
      const std::size_t end = text.find('\n');
      const std::string_view line = text.substr(0, end);
      dest.append(priority.data(), priority.data() + priority.size());
      dest.append(line.data(), line.data() + line.size());
      dest.push_back('\n');
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    } while (!text.empty());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JournalFormatter>();
  }
};

}  // namespace

LogStyle detect_log_style() {
  if (std::getenv("JOURNAL_STREAM")) return LogStyle::kJournal;
  if (isatty(STDERR_FILENO)) return LogStyle::kTerminal;
  return LogStyle::kPlain;
}

Status setup_logging(const std::string& level, LogStyle style) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return Error{"unknown log level '" + level + "' (trace, debug, info, warn, error, off)"};
  }
  if (style == LogStyle::kAuto) style = detect_log_style();
  auto mode = style == LogStyle::kTerminal ? spdlog::color_mode::always : spdlog::color_mode::never;
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(mode);
  if (style == LogStyle::kJournal) {
    sink->set_formatter(std::make_unique<JournalFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        style == LogStyle::kTerminal ? "%H:%M:%S.%e %^%-7l%$ %v" : "%Y-%m-%dT%H:%M:%S.%e %-7l %v"));
  }
  auto logger = std::make_shared<spdlog::logger>("amatad", sink);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::trace);  // stderr lines must not sit in a buffer
  spdlog::set_default_logger(logger);
  return {};
}

void print_diagnostics(const std::string& text, bool errors) {
  if (text.empty()) return;
  if (detect_log_style() == LogStyle::kJournal) {
    // One entry, every line at the priority of the worst diagnostic in it.
    std::string_view body(text);
    if (body.back() == '\n') body.remove_suffix(1);
    spdlog::log(errors ? spdlog::level::err : spdlog::level::warn, "{}", body);
  } else {
    std::cerr << text << std::flush;
  }
}

}  // namespace amata::daemon
