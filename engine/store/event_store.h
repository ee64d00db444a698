// The event store: everything a user can see about what amatad did — events (raised and
// cleared), the actions taken with their outcome and duration, restart counters, and the
// processes amatad started (so a restarted amatad can adopt them instead of starting twice),
// and, on a cluster node, the cluster log: what every node published on the ordered bus.
//
// One SQLite database in WAL mode in the state dir. synchronous=NORMAL: a commit survives a
// crash of amatad (kill -9), though not necessarily a power loss. Each write is one small
// prepared statement, so the loop is not stalled; readers (amatactl, the console) never
// block the writer. Retention is bounded by row count and age.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace amata::store {

/// One event edge as stored.
/// The events amatad raises itself (no rule raises them).
inline constexpr const char* kReloadEvent = "Reload";  // values {"file", "ok"}
inline constexpr const char* kGaveUpEvent = "GaveUp";  // values {"reason"}

struct EventRecord {
  std::int64_t id = 0;  // assigned by the store
  double time = 0;      // seconds since the Unix epoch
  std::string rule;     // "down[web]" (empty for events amatad raises itself, e.g. GaveUp)
  std::string event;    // "ServiceDown"
  std::vector<std::string> objects;  // the event's argument objects by name
  std::string values;                // JSON object: the samples that made the rule fire
  std::string edge;                  // "raise" or "clear"
};

/// One action carried out (or refused) for an event.
struct ActionRecord {
  std::int64_t id = 0;
  double time = 0;            // when it was requested (Unix seconds)
  std::int64_t event_id = 0;  // the event it recovers (0: none, e.g. an operator command)
  std::string kind;           // "restart", "run", "notify", ...
  std::string object;         // target object name ("" when none)
  std::string outcome;        // "ok", "failed", "skipped", "timeout"
  std::string detail;         // "pid 1234", "exited 3", "gave up after 3 restarts within 60s"
  double duration_ms = 0;     // request to completion
};

/// One entry of the cluster log: a message of the cluster's ordered bus (an event or action
/// outcome some node published) or a membership change, in the order this node delivered it.
/// Every node that delivered an entry holds it at the same position (ring, view, seq).
struct ClusterLogRecord {
  std::int64_t id = 0;       // assigned by the store: this node's delivery order
  double time = 0;           // when this node delivered it (Unix seconds)
  std::uint32_t origin = 0;  // the publishing node's id; 0 for a membership change
  std::string ring;          // the totem ring, "representative.seq"
  std::string view;          // the CPG view (a hash of its member list), hex
  std::uint64_t seq = 0;     // position within that view (0: the membership change itself)
  std::string record;        // JSON object: the console record (docs/console.md)
};

/// A process amatad started, for adoption after a restart of amatad.
struct ProcessRecord {
  std::string service;
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // /proc/PID/stat field 22
  std::vector<std::string> argv;
  double started = 0;  // Unix seconds
};

/// How much history to keep.
struct Retention {
  std::int64_t max_events = 100000;
  std::int64_t max_actions = 100000;
  std::int64_t max_cluster_entries = 100000;
  double max_age_days = 30;
  int prune_every = 500;  // writes between two prunes
};

class EventStore {
 public:
  /// Opens (creating if needed) the database at `path`.
  static Result<std::unique_ptr<EventStore>> open(const std::string& path,
                                                  Retention retention = {});
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  /// Appends an event; returns its id.
  Result<std::int64_t> add_event(const EventRecord& event);
  /// Appends an action; returns its id.
  Result<std::int64_t> add_action(const ActionRecord& action);
  /// Counts one restart of `service` at `time`.
  Status add_restart(const std::string& service, double time);
  /// Restarts of `service` since the store was created.
  Result<std::int64_t> restart_count(const std::string& service);

  /// Remembers the process of `service` (replacing the previous one).
  Status record_process(const ProcessRecord& process);
  /// Forgets the process of `service` (it ended, or amatad stopped it).
  Status forget_process(const std::string& service);
  Result<std::vector<ProcessRecord>> processes();

  /// Events with id > `after`, oldest first, at most `limit`.
  Result<std::vector<EventRecord>> events_after(std::int64_t after, int limit = 1000);
  /// The newest `limit` events, oldest first.
  Result<std::vector<EventRecord>> recent_events(int limit);
  Result<std::vector<ActionRecord>> actions_after(std::int64_t after, int limit = 1000);
  /// The newest `limit` actions, oldest first.
  Result<std::vector<ActionRecord>> recent_actions(int limit);

  /// Appends an entry to the cluster log; returns its id.
  Result<std::int64_t> add_cluster_entry(const ClusterLogRecord& entry);
  /// The newest `limit` cluster-log entries, oldest first.
  Result<std::vector<ClusterLogRecord>> recent_cluster_entries(int limit);
  /// Cluster-log entries with id > `after`, oldest first, at most `limit`.
  Result<std::vector<ClusterLogRecord>> cluster_entries_after(std::int64_t after, int limit = 1000);

  /// Applies the retention limits now (also done every `prune_every` writes).
  Status prune();
  /// Stops SQLite from checkpointing the WAL inside a write (a checkpoint fsyncs and can take
  /// milliseconds): the owner calls checkpoint() from an idle timer instead.
  Status use_manual_checkpoints();
  /// Copies the WAL into the database without waiting for readers (PASSIVE).
  Status checkpoint();
  const std::string& path() const { return path_; }

 private:
  EventStore(sqlite3* db, std::string path, Retention retention);
  Status prepare_all();
  /// Runs a bound INSERT of a log row and returns the row's id; prunes when it is time.
  Result<std::int64_t> append(sqlite3_stmt* insert, const char* what);
  Status maybe_prune();

  sqlite3* db_;
  std::string path_;
  Retention retention_;
  int writes_since_prune_ = 0;
  sqlite3_stmt* insert_event_ = nullptr;
  sqlite3_stmt* insert_action_ = nullptr;
  sqlite3_stmt* add_restart_ = nullptr;
  sqlite3_stmt* restart_count_ = nullptr;
  sqlite3_stmt* upsert_process_ = nullptr;
  sqlite3_stmt* delete_process_ = nullptr;
  sqlite3_stmt* insert_cluster_entry_ = nullptr;
};

}  // namespace amata::store
