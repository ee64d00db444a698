// For the language server's tests: policies held in memory as the editor's open buffers,
// and offsets found by the text they point at.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "compiler/lsp/analysis.h"

namespace amata::lsp::testing {

/// The example policy most tests read: objects, a constant, events declared and inferred,
/// rules with and without parameters, a recover rule, the channel it notifies.
inline constexpr const char* kPolicy = R"(policy web_node
let cpu_high = 90%
node self { every 1s }
service web {
  start "/usr/bin/web" "--port" "8080"
  health tcp "127.0.0.1:8080" every 1s timeout 300ms
}
service db { start "/usr/bin/db"; depends web }
discover down(s: service) when not s.alive raise ServiceDown(s)
discover hot when self.cpu > cpu_high for 30s raise Overload(self)
event Overload(n: node) notify_only
recover ServiceDown(s) {
  restart s backoff 100ms .. 30s
  when s.restarts within 5min > 3 { unmonitor s; notify "pager" }
}
channel pager { hook }
)";

/// Files by absolute path, read as if open in the editor.
inline std::unique_ptr<Analysis> analyse(const std::map<std::string, std::string>& files,
                                         const std::string& root) {
  return Analysis::run(root, [&files](const std::string& path) -> const std::string* {
    auto it = files.find(path);
    return it == files.end() ? nullptr : &it->second;
  });
}

inline std::unique_ptr<Analysis> analyse(const std::string& text) {
  return analyse({{"/mem/p.amata", text}}, "/mem/p.amata");
}

/// The offset of the `nth` (0-based) occurrence of `needle` in `text`, plus `delta`.
inline std::uint32_t at(const std::string& text, const std::string& needle, int delta = 0,
                        int nth = 0) {
  std::size_t pos = text.find(needle);
  for (int i = 0; i < nth && pos != std::string::npos; ++i) pos = text.find(needle, pos + 1);
  EXPECT_NE(pos, std::string::npos) << needle;
  return static_cast<std::uint32_t>(pos == std::string::npos ? 0 : pos) + delta;
}

}  // namespace amata::lsp::testing
