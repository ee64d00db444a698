// libFuzzer target for the compiler's promise: a policy that `amatac check` accepts, amatad
// loads. Each input that the front end (frontend::compile_text) checks without errors is
// loaded as amatad loads it (lower::load_policy_text, then a probes::ProbeSet with every
// object added, tests/invariant/load_invariant.h); a refusal aborts with the policy and the
// reason. The interpreter is the back end here (a JIT compile per input would cost most of
// the run; the ctest load_invariant_test loads every seed with both).
//
// Random bytes rarely check clean, so a custom mutator works on the language's own pieces:
// it splices whole lines of the seed policies (dsl-examples, tests/diagnostics) and swaps
// words for tokens that sit on the edges of what the checker accepts (ranges, ports, URLs,
// names, regexes), falling back to libFuzzer's byte mutations now and then.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/diag/diagnostic.h"
#include "compiler/frontend/frontend.h"
#include "compiler/lower/policy_loader.h"
#include "compiler/source/source_manager.h"
#include "tests/invariant/load_invariant.h"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

// Relative includes resolve against a directory that does not exist: the fuzzer never
// reads the file system through an input.
constexpr const char* kName = "/nonexistent-amata-fuzz/fuzz.amata";

std::vector<std::string>& seed_lines() {
  static std::vector<std::string> lines;
  return lines;
}

/// Words at the edges of what the checker accepts, and the language's keywords.
const std::vector<std::string>& tokens() {
  static const std::vector<std::string> kTokens = {
      // durations and counts around every range (compiler/check/ranges.h)
      "0ms", "1ms", "0.5ms", "9ms", "10ms", "500ms", "1s", "59min", "1h", "2h", "24h", "25h",
      "8760h", "8761h", "2562048h", "99999999999999999999999h", "1e400", "0", "1", "2", "3", "999",
      "1000", "1001", "1000000", "1000001", "2.5", "65535", "65536", "4294967295", "4294967296",
      "100", "599", "600",
      // strings a setting hands to the system
      "\"127.0.0.1:8080\"", "\"127.0.0.1:99999\"", "\"127.0.0.1:0\"", "\"[::1]:80\"", "\"::1:80\"",
      "\"localhost:80\"", "\"db.local:5432\"", "\"10.1:80\"", "\"http://127.0.0.1:8080/healthz\"",
      "\"http://[::1]:80/\"", "\"https://127.0.0.1/\"", "\"http://a b/\"", "\"http://:80/\"",
      "\"http://u:p@h/\"", "\"/run/app.sock\"",
      "\"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaa.sock\"",
      "\"@abstract\"", "\"relative/path\"", "\"/\"", "\"/bin/true\"", "\"/usr/bin/web\"", "\"\"",
      "\"a\\0b\"", "\"(a+)+$\"", "\"(a)\\\\1\"", "\"a(?=b)\"", "\"[a-z\"", "\"^sleep .*\"",
      "\"x{1001}\"", "\"www-data\"", "\"root\"", "\"-rf\"", "\"1000\"", "\"a:b\"", "\"eth0\"",
      "\"averyveryverylongname\"", "\"a/b\"", "\"head.cluster.local\"", "\"10.0.0.1\"",
      "\"256.1.1.1\"", "\"fe80::1%eth0\"", "\"-bad\"", "\"amata-web\"",
      // words
      "TERM", "KILL", "HUP", "USR1", "SIGTERM", "BOGUS", "then", "after", "every", "timeout",
      "expect", "tcp", "unix", "http", "icmp", "none", "backoff", "limit", "within", "..",
      "backoff none", "limit none", "backoff 100ms .. 30s", "limit 10 within 10min", "raise",
      "restart", "wait", "when", "else", "for", "checks", "times", "and", "or", "not", "true",
      "false", "=~", "!~", "==", "!=", "<", ">", "{", "}", "(", ")", ";", ",", ":", "=", "#", "s",
      "self", "web", "db", "p", "i", "MODE", "A=B", "1A", "clustered", "only_preferred", "prefer",
      "stop", "start", "health", "depends", "user", "group", "dir", "env", "log", "grace",
      "pidfile", "match", "name", "path", "address", "port", "method", "command", "node_id",
      "service", "process", "interface", "filesystem", "host", "check", "peer", "node", "cluster",
      "event", "discover", "recover", "let", "policy", "include", "notify_only"};
  return kTokens;
}

void load_seed_lines() {
  for (const char* dir : {"dsl-examples", "tests/diagnostics"}) {
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(AMATA_SOURCE_DIR) + "/" + dir, ec)) {
      if (entry.path().extension() != ".amata") continue;
      std::ifstream in(entry.path());
      std::string line;
      while (std::getline(in, line)) {
        if (!line.empty() && line.size() < 400) seed_lines().push_back(line);
      }
    }
  }
  if (seed_lines().empty()) seed_lines().push_back("node self {}");
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// Replaces one blank-separated word of `line` by `word` (or inserts it before one).
void put_word(std::string& line, const std::string& word, std::mt19937& rng, bool insert) {
  std::vector<std::pair<std::size_t, std::size_t>> words;  // begin, end
  for (std::size_t i = 0; i < line.size();) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t b = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > b) words.emplace_back(b, i);
  }
  if (words.empty()) {
    line += " " + word;
    return;
  }
  const auto [b, e] = words[rng() % words.size()];
  if (insert) {
    line.insert(b, word + " ");
  } else {
    line.replace(b, e - b, word);
  }
}

std::string mutate(const std::string& text, std::mt19937& rng) {
  std::vector<std::string> lines = split_lines(text);
  const auto& seeds = seed_lines();
  const auto& words = tokens();
  auto any_line = [&] { return lines.empty() ? 0 : rng() % lines.size(); };
  switch (rng() % 8) {
    case 0:  // a line of another policy
      lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(lines.empty() ? 0 : any_line()),
                   seeds[rng() % seeds.size()]);
      break;
    case 1:
      if (!lines.empty()) {
        lines[any_line()] = seeds[rng() % seeds.size()];
        break;
      }
      [[fallthrough]];
    case 2:  // a word swapped for a token
    case 3:
      if (!lines.empty()) put_word(lines[any_line()], words[rng() % words.size()], rng, false);
      break;
    case 4:
      if (!lines.empty()) put_word(lines[any_line()], words[rng() % words.size()], rng, true);
      break;
    case 5:
      if (!lines.empty()) lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(any_line()));
      break;
    case 6:
      if (!lines.empty()) {
        const auto i = any_line();
        lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(i), lines[i]);
      }
      break;
    default:
      if (lines.size() > 1) std::swap(lines[any_line()], lines[any_line()]);
      break;
  }
  return join_lines(lines);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  load_seed_lines();
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  std::mt19937 rng(seed);
  if (rng() % 10 == 0) return LLVMFuzzerMutate(data, size, max_size);
  std::string text = mutate(std::string(reinterpret_cast<const char*>(data), size), rng);
  if (text.size() > max_size) text.resize(max_size);
  std::memcpy(data, text.data(), text.size());
  return text.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    // What amatac check says: only a policy it accepts must load.
    amata::source::SourceManager sources;
    amata::diag::DiagnosticEngine diags;
    if (!amata::frontend::compile_text(kName, text, sources, diags)) return 0;
  }
  const auto loaded = amata::lower::load_policy_text(kName, text, amata::lower::Backend::kInterp);
  const auto outcome =
      amata::invariant::probe_objects(loaded, amata::invariant::Names::kNeverResolve);
  if (!outcome.ok) {
    std::fprintf(stderr,
                 "amatac check accepts this policy and amatad refuses it: %s\n"
                 "--- policy ---\n%s--- end ---\n",
                 outcome.failure.c_str(), text.c_str());
    std::abort();
  }
  return 0;
}
