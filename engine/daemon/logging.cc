#include "engine/daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>

namespace amata::daemon {
namespace {

/// `%*` in a pattern: the syslog priority of the line's level as journald reads it, "<3>".
class JournalPriority : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr const char* kPriority[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", "<6>"};
    auto level = static_cast<std::size_t>(msg.level);
    const char* p = level < std::size(kPriority) ? kPriority[level] : "<6>";
    dest.append(p, p + 3);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
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
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  switch (style) {
    case LogStyle::kJournal:
      formatter->add_flag<JournalPriority>('*').set_pattern("%*%v");
      break;
    case LogStyle::kTerminal:
      formatter->set_pattern("%H:%M:%S.%e %^%-7l%$ %v");
      break;
    default:
      formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e %-7l %v");
      break;
  }
  sink->set_formatter(std::move(formatter));
  auto logger = std::make_shared<spdlog::logger>("amatad", sink);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::trace);  // stderr lines must not sit in a buffer
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace amata::daemon
