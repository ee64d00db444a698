// The event store: everything a user can see about what amatad did — events (raised and
// cleared), the actions taken with their outcome and duration, restart counters, and the
// processes amatad started (so a restarted amatad can adopt them instead of starting twice),
// the maintenance windows in force, and, on a cluster node, the cluster log: what every node
// published on the ordered bus.
//
// One SQLite database in WAL mode in the state dir. synchronous=NORMAL: a commit survives a
// crash of amatad (kill -9), though not necessarily a power loss.
//
// Recovery never waits for the disk. A write (add_event, add_action, ...) only queues the
// record, with its id already given, and returns; a writer thread of the store's own commits
// what waits, many records to a transaction, on a connection of its own, and checkpoints
// the WAL there too. A slow or stalled disk (stress-ng --hdd, a full disk) delays the record,
// never the restart it records. What the writer has committed survives kill -9; what was
// still queued (the last milliseconds) is lost with the process, as on any crash. Reads run
// on the caller's connection and never block the writer (WAL); they show every write made
// before them (read your writes). The logs' reads (events, actions, the cluster log) never
// wait either: what is not committed yet they take from memory, so the console answers at
// once through a stalled disk. The other reads (restart counts, processes, maintenance
// windows: at start and on a restart) wait up to a second for the writes before them.
// Retention is bounded by row count and age.
//
// Thread safety: one owning thread calls everything (the loop); the writer thread is the
// store's own.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace amata::store {

/// One event edge as stored.
/// The events amatad raises itself (no rule raises them).
inline constexpr const char* kReloadEvent = "Reload";  // values {"file", "ok"}
inline constexpr const char* kGaveUpEvent = "GaveUp";  // values {"reason"}
/// The event store cannot write (raised) or writes again (cleared); values {"error",
/// "pending", "dropped"}.
inline constexpr const char* kStoreDegradedEvent = "StoreDegraded";
/// A maintenance window began (raised) or ended (cleared); values: the console's <window>
/// (docs/console.md), and when it ended "ended": how ("expired", "ended by uid 0").
inline constexpr const char* kMaintenanceEvent = "Maintenance";
/// An operator's restart, start, stop, monitor or unmonitor through the console (amatactl,
/// the web view): who asked; the action's record points to it. Values {"verb", "uid", "pid",
/// "on_behalf_of"?}.
inline constexpr const char* kControlEvent = "Control";

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

/// A maintenance window: recovery and hooks paused for one object, or for the whole node,
/// until a time; kept so that it outlives a restart of amatad.
struct MaintenanceRecord {
  std::string object;     // the object's name; empty: the whole node
  std::uint32_t uid = 0;  // who set it (the console caller's uid)
  double set_time = 0;    // when (Unix seconds)
  double until = 0;       // when it ends by itself (Unix seconds)
  std::string reason;
};

/// How much history to keep.
struct Retention {
  std::int64_t max_events = 100000;
  std::int64_t max_actions = 100000;
  std::int64_t max_cluster_entries = 100000;
  double max_age_days = 30;
  int prune_every = 500;  // writes between two prunes
  /// Writes kept while the database cannot take them (a full disk); beyond, the oldest go.
  std::size_t max_pending = 10000;
};

class EventStore {
 public:
  /// Opens (creating if needed) the database at `path`, which only amatad's user may read
  /// or write (0600): events hold the services' argv and values. A read-only or missing
  /// directory is an error.
  static Result<std::unique_ptr<EventStore>> open(const std::string& path,
                                                  Retention retention = {});
  /// The same, but a database that is not one or is damaged (SQLite cannot open it, or its
  /// integrity check fails) is renamed `PATH.corrupt-UNIXTIME` (with its -wal and -shm) and
  /// a fresh one created, so that amatad stays up; `moved_aside` says where it went.
  static Result<std::unique_ptr<EventStore>> open_or_replace(const std::string& path,
                                                             Retention retention,
                                                             std::string& moved_aside);
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

  /// Stores a maintenance window, replacing the one of the same object (or node).
  Status put_maintenance(const MaintenanceRecord& window);
  /// Forgets the window of `object` ("" : the node's), if there is one.
  Status remove_maintenance(const std::string& object);
  /// Every stored window, the node's first, then by object name.
  Result<std::vector<MaintenanceRecord>> maintenance_windows();

  /// Appends an entry to the cluster log; returns its id.
  Result<std::int64_t> add_cluster_entry(const ClusterLogRecord& entry);
  /// The newest `limit` cluster-log entries, oldest first.
  Result<std::vector<ClusterLogRecord>> recent_cluster_entries(int limit);
  /// Cluster-log entries with id > `after`, oldest first, at most `limit`.
  Result<std::vector<ClusterLogRecord>> cluster_entries_after(std::int64_t after, int limit = 1000);

  /// Writes that fail for a reason that passes — a full disk, a database another process
  /// holds locked, a read-only remount — wait in a bounded queue, in their order, with their
  /// ids already given; the writer tries them again every second, and at once on flush().
  /// Beyond the bound (Retention::max_pending) the oldest are dropped and counted; a write
  /// that can never succeed (a constraint) is dropped and counted at once.
  /// True from a failed commit until the next one succeeds.
  bool degraded() const;
  /// Records not yet committed (queued, or in the batch being written).
  std::size_t pending() const;
  std::uint64_t dropped() const;
  /// Why the last commit failed ("" when none has).
  std::string last_error() const;
  /// Waits until what was written before the call is committed; an error (the reason) while
  /// it cannot be. For shutdown and tests: the loop itself never needs to.
  Status flush();
  /// Called, from the writer thread, when degraded() turns true or false: the owner hands it
  /// to its own thread (EventLoop::post) before it acts or writes.
  void on_degraded(std::function<void(bool degraded)> callback);

  /// Applies the retention limits now (the writer also does every `prune_every` writes).
  Status prune();
  const std::string& path() const { return path_; }

 private:
  EventStore(sqlite3* writer, sqlite3* reader, std::string path, Retention retention);
  /// A write kept until it is committed: binds and steps its statement on the writer's
  /// connection, returns SQLite's code. Runs on the writer thread.
  using Write = std::function<int()>;
  struct Pending {
    std::uint64_t seq;  // submission order
    const char* what;
    Write write;
  };
  /// What one attempt to commit a batch did.
  struct Committed {
    bool ok = false;
    std::uint64_t through = 0;  // the last seq of the batch, when ok
    std::uint64_t dropped = 0;  // writes that can never succeed, when ok
    std::string error;
  };

  Status prepare_all();
  Status read_next_ids();
  /// Queues `write` for the writer thread; returns its seq.
  std::uint64_t submit(const char* what, Write write);
  /// A log's records submitted but perhaps not yet committed, each with its write's seq.
  template <typename Row>
  using Unwritten = std::deque<std::pair<std::uint64_t, Row>>;
  /// Keeps `row` as record `id` (just submitted as write `seq`) in `rows` until it is
  /// committed.
  template <typename Row>
  void remember(Unwritten<Row>& rows, std::uint64_t seq, const Row& row, std::int64_t id);
  /// The records of `rows` still queued, oldest first.
  template <typename Row>
  std::vector<Row> still_unwritten(Unwritten<Row>& rows);
  /// Forgets the records of `rows` no longer queued: committed, or dropped. Under mutex_.
  template <typename Row>
  void forget_written(Unwritten<Row>& rows);
  /// Waits (for at most `limit`) until every write submitted before has been committed or
  /// dropped, or the store is degraded; reads call it first.
  void wait_for_writes(std::chrono::milliseconds limit);
  void writer_main();
  Committed commit(const std::vector<Pending>& batch);
  Status prune_on(sqlite3* db);

  /// How long a read waits for the writes before it (a stalled disk) before it reads what is
  /// committed.
  static constexpr std::chrono::milliseconds kReadWait{1000};

  sqlite3* writer_db_;  // the writer thread's
  sqlite3* reader_db_;  // the owning thread's
  std::string path_;
  Retention retention_;
  int writes_since_prune_ = 0;  // the writer thread's
  std::int64_t next_event_id_ = 1, next_action_id_ = 1, next_cluster_id_ = 1;
  // The writer's statements (on writer_db_), and the reader's.
  sqlite3_stmt* insert_event_ = nullptr;
  sqlite3_stmt* insert_action_ = nullptr;
  sqlite3_stmt* add_restart_ = nullptr;
  sqlite3_stmt* upsert_process_ = nullptr;
  sqlite3_stmt* delete_process_ = nullptr;
  sqlite3_stmt* insert_cluster_entry_ = nullptr;
  sqlite3_stmt* upsert_maintenance_ = nullptr;
  sqlite3_stmt* delete_maintenance_ = nullptr;
  sqlite3_stmt* restart_count_ = nullptr;

  // Shared with the writer thread, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_, written_;
  std::deque<Pending> queue_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t attempts_ = 0;  // commits tried (for flush)
  bool degraded_ = false;
  bool retry_now_ = false;
  bool writing_ = false;  // a batch is being committed
  bool stopping_ = false;
  std::uint64_t dropped_ = 0;
  std::string last_error_;
  std::function<void(bool)> on_degraded_;
  // Reads merge these with what the database holds, so that a read on amatad's loop never
  // waits for a stalled disk and still shows every record submitted before it.
  Unwritten<EventRecord> unwritten_events_;
  Unwritten<ActionRecord> unwritten_actions_;
  Unwritten<ClusterLogRecord> unwritten_cluster_;
  std::thread writer_;  // last: started once everything above exists
};

}  // namespace amata::store
