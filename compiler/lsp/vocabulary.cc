#include "compiler/lsp/vocabulary.h"

namespace amata::lsp {
namespace {

// clang-format off
constexpr Word kFunctions[] = {
    {"avg", "avg(x, D)", "the average of attribute x over the last duration D"},
    {"min", "min(x, D)", "the smallest value of attribute x over the last duration D"},
    {"max", "max(x, D)", "the largest value of attribute x over the last duration D"},
    {"rate", "rate(x)", "the per-second change of x between its last two samples (bytes give a byte rate, counts a rate)"},
    {"delta", "delta(x) | delta(x, D)", "the change of x since the previous sample, or over the duration D"},
    {"changed", "changed(x)", "true when x differs from its previous sample (a number, bool or enum)"},
    {"predict", "predict(x, H)", "a linear forecast of x, the duration H ahead"},
};

constexpr Word kStatements[] = {
    {"policy", "policy NAME", "names the policy"},
    {"include", "include \"file.amata\"", "loads another file, relative to this one (patterns allowed: \"conf.d/*.amata\")"},
    {"let", "let NAME = EXPR", "a constant, folded into every use"},
    {"event", "event NAME(p: KIND, ...) [notify_only]", "declares an event and its parameters"},
    {"discover", "discover NAME[(p: KIND, ...)] when COND [for D | for N checks | N times within D] raise EVENT(ARGS)", "a discovery rule: turns measurements into a fault event"},
    {"recover", "recover EVENT(a, ...) { actions }", "a recovery rule: what to do when EVENT rises"},
    {"cluster", "cluster NAME { group \"G\"; on_quorum_loss stop|freeze; fence \"/abs/agent\"; watchdog \"/dev/watchdog\"; watchdog_timeout 10s; remote_port 7420; tls_cert \"/abs\"; tls_key \"/abs\"; tls_ca \"/abs\" } (or, on a remote node, attach \"NODE@HOST[:PORT]\"... with the tls_ files)", "this node is a member of a Corosync cluster, or a remote node attached to one"},
    {"channel", "channel NAME { webhook \"URL\" | alertmanager \"URL\" | email \"smtp://HOST\" | hook }", "where notify \"NAME\" delivers"},
};

constexpr Word kActions[] = {
    {"restart", "restart S [backoff MIN .. MAX | backoff none] [limit N within D | limit none]", "stop then start a service (default: backoff 100ms .. 30s, limit 10 within 10min)"},
    {"start", "start S", "start a service, or ask systemd to start a unit"},
    {"stop", "stop S", "stop a service, or ask systemd to stop a unit"},
    {"reload", "reload U", "ask systemd to reload a unit"},
    {"signal", "signal X SIG", "send a signal (HUP, TERM, USR1, ...) to a service or process"},
    {"run", "run \"/abs/program\" ARG...", "run a program (no shell); x.name and x.ATTR are replaced by their values"},
    {"notify", "notify \"CHANNEL\" [\"MESSAGE\"]", "a notification to the console, the event store and hook scripts"},
    {"monitor", "monitor X", "resume discovery for an object"},
    {"unmonitor", "unmonitor X", "suspend discovery for an object"},
    {"wait", "wait D", "pause this recovery"},
    {"raise", "raise EVENT(args)", "escalate: raise another event"},
    {"failover", "failover S [to PEER]", "hand a clustered service to another node"},
    {"when", "when COND { ... } [else { ... }]", "a branch of a recovery"},
};
// clang-format on

}  // namespace

std::span<const Word> functions() {
  return kFunctions;
}
std::span<const Word> statement_keywords() {
  return kStatements;
}
std::span<const Word> actions() {
  return kActions;
}

const Word* find_word(std::span<const Word> words, std::string_view name) {
  for (const Word& w : words) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

}  // namespace amata::lsp
