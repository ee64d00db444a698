// The narrow interface between the console server and the daemon. amatad implements
// ConsoleBackend; the console server (console_server.h) calls it from the event loop, one
// call at a time, and turns the answers into protocol replies (docs/console.md).
//
// Results are JSON objects whose shapes are fixed here and in docs/console.md, because they
// travel unchanged to `amatactl --json` and to scripts. Every call runs on the loop thread:
// it must answer from memory (or a quick SQLite read) and never wait for an action to finish —
// control() starts an action and returns; the outcome arrives later as events. A caller that
// wants the outcome (amatactl restart --wait) uses control_and_wait(), whose Reply comes later
// on the loop, when the action has ended.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace amata::console {

/// The console protocol's version (docs/console.md); requests may carry "protocol": N.
inline constexpr int kProtocolVersion = 1;

/// The answer to one command: a JSON result, or a refusal with a stable machine-readable code.
class Outcome {
 public:
  /// A successful command and its result (an object; shapes in docs/console.md).
  static Outcome success(nlohmann::json result = nlohmann::json::object()) {
    Outcome o;
    o.ok_ = true;
    o.result_ = std::move(result);
    return o;
  }
  /// A refused or failed command. `code` is one of the codes in docs/console.md
  /// ("unknown_object", "unknown_rule", "policy_rejected", "busy", "permission_denied", ...);
  /// `details` carries structured data, e.g. {"diagnostics": [...]} for policy_rejected.
  static Outcome failure(std::string code, std::string message,
                         nlohmann::json details = nlohmann::json()) {
    Outcome o;
    o.ok_ = false;
    o.code_ = std::move(code);
    o.message_ = std::move(message);
    o.details_ = std::move(details);
    return o;
  }

  bool ok() const { return ok_; }
  const nlohmann::json& result() const& { return result_; }
  /// The result taken out of an outcome about to be dropped (a reply being built).
  nlohmann::json result() && { return std::move(result_); }
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }
  const nlohmann::json& details() const { return details_; }

 private:
  // NOLINTNEXTLINE(bugprone-exception-escape): nlohmann::json() is noexcept, its throw unreachable
  Outcome() = default;
  bool ok_ = false;
  nlohmann::json result_;
  std::string code_;
  std::string message_;
  nlohmann::json details_;
};

/// The "scope" of a record of the cluster log; local records have no scope.
inline constexpr std::string_view kClusterScope = "cluster";

/// True when `record` is a record of the cluster log ("scope": "cluster"), not of this node's
/// own history. The one test of which view a record belongs to, for the server and amatactl.
bool is_cluster_record(const nlohmann::json& record);

/// The message of a membership record, from its data: "members n1 n2; joined n4; left n3
/// (node down)". The daemon writes it; amatactl rebuilds it for a record without one. Odd
/// data gives a shorter text, never an exception.
std::string membership_message(const nlohmann::json& data);

/// Which stored events the `events` command wants. Empty fields match everything.
struct EventFilter {
  std::optional<std::int64_t> since_unix_ms;  // events at or after this wall-clock time
  std::optional<std::string> object;          // events about this object only
  std::optional<std::string> event;           // events of this name only ("ServiceDown")
  std::size_t limit = 1000;                   // at most this many, the newest ones
  /// The cluster log instead of this node's history. The two views never mix: a filter
  /// matches cluster records only when this is set, and local records only when it is not.
  bool cluster = false;

  /// True when a live event (shape of one element of events().events) passes the filter;
  /// the server applies it to published events for --follow streams.
  bool matches(const nlohmann::json& event_record) const;
};

/// What the `history` command asks for: the last hour of an object's numeric attributes, or
/// (the batch form, no object) of every object's, for the web view's overview.
struct HistoryRequest {
  /// The batch form's bound: at most this many points in one reply (about 40 bytes of JSON
  /// each, so under 2 MB), whole series in the policy's order; the rest is left out and the
  /// reply says `"truncated": true`.
  static constexpr std::size_t kMaxBatchPoints = 40'000;
  /// At most this many names in `attribute`.
  static constexpr std::size_t kMaxAttributes = 64;

  std::string object;                         // empty: every object (the batch form)
  std::vector<std::string> attributes;        // empty: every numeric attribute with history
  std::optional<std::int64_t> since_unix_ms;  // points whose step starts at or after this
};

/// Who sent a command: the peer's credentials as the kernel reports them (SO_PEERCRED).
struct Caller {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  /// Whom the client acts for, as it says ("web:alice from 127.0.0.1": the web view for a
  /// logged-in operator); empty for amatactl. Stored beside the uid, never instead of it.
  std::string on_behalf_of;
};

/// The answer to a command that finishes later on the loop (a reload compiles off the loop).
/// Called exactly once.
using Reply = std::function<void(Outcome)>;

/// The verbs an operator may apply to one object.
enum class ControlVerb : std::uint8_t { kRestart, kStart, kStop, kMonitor, kUnmonitor };

/// A maintenance window to open: recovery and hooks paused for one object, or for every
/// object of this node, for a while (docs/operations.md, "Maintenance").
struct MaintenanceRequest {
  std::optional<std::string> object;  // none: the whole node
  std::int64_t duration_ms = 0;       // checked by the server: kMinMaintenanceMs..kMaxMaintenanceMs
  std::string reason;                 // checked by the server: not empty, kMaxReasonBytes at most
};
inline constexpr std::int64_t kMinMaintenanceMs = 1000;                          // 1 s
inline constexpr std::int64_t kMaxMaintenanceMs = std::int64_t{7} * 86'400'000;  // 7 days
inline constexpr std::size_t kMaxReasonBytes = 1024;

/// How long a process started by a waited start or restart must keep running before the
/// action counts as done: one that exits sooner did not come up.
inline constexpr std::int64_t kControlSettleMs = 1000;

/// "restart", "start", ... — the protocol's spelling.
std::string_view to_string(ControlVerb verb);
/// The verb spelled `name`, if there is one.
std::optional<ControlVerb> control_verb_from(std::string_view name);

/// What amatad exposes to the console. Implementations may throw; the server turns an
/// exception into an "internal" error reply and logs it, and the loop carries on.
///
/// Result shapes (all times are Unix milliseconds, wall clock; durations milliseconds):
///
/// status():  {"policy": "web_node",
///             "objects": [{"name": "web", "kind": "service", "state": "running",
///                          "monitored": true, "since_unix_ms": 1764081000000,
///                          "restarts": 2, "pid": 4242,               // pid: optional
///                          "attributes": {"cpu": 3.2, "rss": 1.2e7, "alive": true}}]}
///            `state` is free text from the daemon ("running", "stopped", "starting",
///            "failed", "up", "down", "unmonitored", ...); attributes are the latest samples.
///            Only when the policy declares a cluster, also:
///            "cluster": {"name": "demo", "group": "amata-demo",  // the cluster, its CPG group
///                        "connected": true, "quorate": true, "synced": true,
///                        "local_node": {"id": 1, "name": "n1"},
///                        "config_mismatch": ["n3"],  // members announcing another cluster
///                                                    // configuration; usually empty
///                        "peers": [{"id": 1, "name": "n1", "member": true, "amatad": true,
///                                   "local": true,
///                                   "since_unix_ms": ..., "runs": ["web"]}],
///                        "services": [{"name": "web", "owner": "n2" | null,
///                                      "holders": ["n2"],
///                                      "here": "running" | "starting" | "stopping" |
///                                              "stopped"}]}
///
/// rules():   {"rules": [{"name": "down(web)", "rule": "down", "object": "web",
///                        "state": "armed" | "pending" | "firing",
///                        "pending_left_ms": 1200,                   // only when pending
///                        "last_edge": {"edge": "rise" | "fall", "at_unix_ms": ...} | null}]}
///
/// events(f): {"events": [{"id": 17, "at_unix_ms": ..., "type": "raised" | "cleared" |
///                         "action" | "notify" | "control" | "reload" | ...,
///                         "event": "ServiceDown", "object": "web", "rule": "down(web)",
///                         "message": "restart web: ok (43 ms)", "data": {...}}]}
///            oldest first; fields other than id, at_unix_ms, type may be absent.
///            The same record shape is what the daemon passes to publish_event().
///            With f.cluster the daemon answers from its cluster log instead (a daemon whose
///            policy declares no cluster answers {"events": []}), in delivery order, with
///            cluster records:
///              {"id": 42,                          // this node's cluster-log row, increasing
///               "at_unix_ms": ...,                 // when it happened at its origin
///               "delivered_unix_ms": ...,          // when this node delivered it
///               "scope": "cluster",                // what tells it from a local record
///               "type": "raised" | ... | "membership",
///               "node": "n2", "node_id": 2,        // the publisher; absent for membership
///               "origin_id": 17,                   // its id in the origin's own history;
///                                                  // absent for membership
///               "position": {"ring": "1.52", "view": "3fa2c011", "seq": 7},
///               "event"?, "object"?, "rule"?, "message"?, "data"?}   // as in a local record
///            `position` is the bus's total order: the same on every node that delivered the
///            message. A membership record (at_unix_ms: when this node saw the change) has
///            "message": "members n1 n2; left n3 (node down)" and
///            "data": {"members": ["n1", "n2"], "joined": [],
///                     "left": [{"node": "n3", "reason": "leave" | "amatad died" | "node down"}]}.
///            The daemon publishes cluster records through publish_event() too; each follower
///            gets those its filter matches (EventFilter::cluster).
///
/// explain(r):{"rule": "hot", "state": "pending", "firing": false,
///             "reason": "condition true for 12s of the required 30s",
///             "condition": <node>}
///            <node> = {"text": "self.cpu > cpu_high", "value": true | 3.2 | "up" | null,
///                      "unit": "%",                                    // optional
///                      "note": "for 30s: true since 12s",              // optional
///                      "children": [<node>, ...]}                      // sub-expressions
///            Failure "unknown_rule" when no rule has that name.
///
/// control(): {"object": "web", "verb": "restart", "accepted": true,
///             "message": "restart scheduled"}
///            Failures "unknown_object", "not_applicable" (e.g. restart of an interface).
///            The action runs after the reply: how it ended is an action record.
///
/// control_and_wait(): the same failures, at once; otherwise, once the action has ended,
///            {"object": "web", "verb": "restart", "accepted": true,
///             "message": "restart failed",
///             "outcome": "ok" | "failed",
///             "detail": "pid 4243 ended 0.01 s after its start: exited 3",
///             "duration_ms": 1012}
///            A start or restart has ended once its new process has run for kControlSettleMs
///            (ok), or died before that (failed): a service that cannot come up fails. A stop
///            has ended when the service's processes are gone; monitor and unmonitor at once.
///            The action is recorded as without waiting (an action record).
///
/// maintenance():       {"windows": [<window>...]}: the windows in force, the node's first.
///   <window> = {"object": "web" | null (the whole node), "uid": 0, "set_unix_ms": ...,
///               "until_unix_ms": ..., "reason": "kernel upgrade"}
/// start_maintenance(): {"window": <window>, "replaced": false}; a window already open for the
///            same object (or the node) is replaced. Failure "unknown_object".
/// end_maintenance():   {"window": <window>} (the one ended, as it was). Failure
///            "not_in_maintenance" when there is none; "unknown_object" for a name no object
///            and no window has.
///
/// reload(f): {"policy": "web_node", "file": "/etc/amata/web.amata", "objects": 5,
///             "rules": 7, "warnings": [<diagnostic>...]}
///            Failure "policy_rejected" with details {"diagnostics": [<diagnostic>...],
///            "rendered": "web.amata:3:7: error: ..."}, where <diagnostic> =
///            {"severity": "error", "code": "E0102", "message": "...", "file": "...",
///             "line": 3, "column": 7, "end_line", "end_column", "notes", "fixits", ...};
///            the old policy keeps running. Failure "busy" while another reload compiles;
///            "permission_denied" when a caller other than root names a file (the source
///            lines of a file are shown to root only).
///
/// history(r): {"object": "web", "step_ms": 10000,
///               "series": {"cpu": [[1764081000000, 3.2], [1764081010000, null], ...]}}
///            One point per step of the last hour, oldest first: [the step's start, the
///            attribute's latest value then] (null: not measured). Only attributes with
///            history appear (an unknown attribute gives an empty "series"). Failure
///            "unknown_object" when the policy has no such object.
///
/// version(): {"amatad": "0.1.0", "policy": "web_node", "started_unix_ms": ...,
///             "backend": "jit" | "interp"}   (the server adds "protocol").
class ConsoleBackend {
 public:
  virtual ~ConsoleBackend() = default;

  virtual Outcome status() = 0;
  virtual Outcome rules() = 0;
  virtual Outcome events(const EventFilter& filter) = 0;
  virtual Outcome explain(std::string_view rule) = 0;
  /// Starts `verb` on `object` for `caller`, who is stored with it (a Control event).
  virtual Outcome control(ControlVerb verb, std::string_view object, const Caller& caller) = 0;
  /// control(), answered through `reply` once the action has ended (result shape above).
  /// A refusal (unknown object, not applicable) is answered at once, inside the call.
  virtual void control_and_wait(ControlVerb verb, std::string_view object, const Caller& caller,
                                Reply reply) = 0;
  /// The maintenance windows in force (read-only).
  virtual Outcome maintenance() = 0;
  /// Opens (or replaces) a maintenance window, set by `caller`.
  virtual Outcome start_maintenance(const MaintenanceRequest& request, const Caller& caller) = 0;
  /// Ends the window of `object` (none: the node's) before its time.
  virtual Outcome end_maintenance(const std::optional<std::string>& object,
                                  const Caller& caller) = 0;
  /// Reloads the running policy's file, or `file` when given; `reply` gets the outcome once
  /// the new policy is compiled and swapped in (or rejected).
  virtual void reload(const std::optional<std::string>& file, const Caller& caller,
                      Reply reply) = 0;
  virtual Outcome version() = 0;
  /// Asks the cluster to move clustered service `service` (to node `to`, or to the best
  /// other candidate) for `caller`: {"object", "verb": "failover", "to": name | null,
  /// "accepted": true, "message"}. Accepted means sent on the cluster's bus; every member
  /// judges it when it is delivered. Failures "unknown_object", "not_clustered" (not a
  /// clustered service, or this node places nothing: a remote node), "failover_refused" (not
  /// joined, an unknown node).
  virtual Outcome request_failover(std::string_view service, const std::optional<std::string>& to,
                                   const Caller& caller) = 0;
  /// The last hour of an object's numeric attributes (read-only; shape above).
  virtual Outcome history(const HistoryRequest& request) = 0;
};

}  // namespace amata::console
