#include "engine/store/event_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/priority.h"
#include "base/signal_free_thread.h"
#include "base/unique_fd.h"

namespace amata::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events (
  id      INTEGER PRIMARY KEY,
  time    REAL NOT NULL,
  rule    TEXT NOT NULL,
  event   TEXT NOT NULL,
  objects TEXT NOT NULL,   -- JSON array of object names
  vals    TEXT NOT NULL,   -- JSON object: the samples that made the rule fire
  edge    TEXT NOT NULL    -- raise | clear
);
CREATE INDEX IF NOT EXISTS events_time ON events(time);
CREATE TABLE IF NOT EXISTS actions (
  id          INTEGER PRIMARY KEY,
  time        REAL NOT NULL,
  event_id    INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  object      TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL,
  duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_time ON actions(time);
CREATE TABLE IF NOT EXISTS restarts (
  service TEXT PRIMARY KEY,
  count   INTEGER NOT NULL,
  last    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS processes (
  service     TEXT PRIMARY KEY,
  pid         INTEGER NOT NULL,
  start_ticks INTEGER NOT NULL,
  argv        TEXT NOT NULL,   -- JSON array
  started     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cluster_log (
  id     INTEGER PRIMARY KEY,  -- delivery order on this node
  time   REAL NOT NULL,        -- delivered here
  origin INTEGER NOT NULL,     -- publishing node id, 0 for a membership change
  ring   TEXT NOT NULL,
  view   TEXT NOT NULL,
  seq    INTEGER NOT NULL,
  record TEXT NOT NULL         -- JSON: the console record
);
CREATE INDEX IF NOT EXISTS cluster_log_time ON cluster_log(time);
CREATE TABLE IF NOT EXISTS maintenance (
  object   TEXT PRIMARY KEY,  -- '' for the whole node
  uid      INTEGER NOT NULL,  -- who set it
  set_time REAL NOT NULL,
  until    REAL NOT NULL,     -- it ends by itself then
  reason   TEXT NOT NULL
);
)sql";

Error sqlite_error(sqlite3* db, const std::string& what) {
  return Error{what + ": " + (db ? sqlite3_errmsg(db) : "out of memory")};
}

void bind_text(sqlite3_stmt* st, int index, const std::string& text) {
  sqlite3_bind_text(st, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* st, int index) {
  const unsigned char* text = sqlite3_column_text(st, index);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_column_bytes(st, index)))
              : std::string();
}

std::vector<std::string> json_strings(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

/// Steps a prepared statement that returns no rows, then resets it for the next use.
/// Steps a bound statement once and resets it; SQLite's result code.
int step(sqlite3_stmt* st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc;
}

/// Failures that pass: the same write may succeed later.
bool transient(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

/// An error that says the file is not a usable database.
bool unusable(int rc) {
  return (rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT;
}

/// A statement prepared for one query and finalised with the scope.
class Query {
 public:
  Query(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr); }
  ~Query() { sqlite3_finalize(st_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() const { return st_; }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

/// Runs `sql`, binding `params` to its parameters in order, and decodes each row with `read`.
/// `what` names the rows in errors ("events").
template <typename Row>
Result<std::vector<Row>> read_rows(sqlite3* db, const std::string& sql,
                                   std::initializer_list<std::int64_t> params, const char* what,
                                   Row (*read)(sqlite3_stmt*)) {
  Query q(db, sql.c_str());
  if (!q.ok()) return sqlite_error(db, std::string("prepare ") + what + " query");
  int index = 0;
  for (std::int64_t p : params) sqlite3_bind_int64(q.get(), ++index, p);
  std::vector<Row> out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) out.push_back(read(q.get()));
  if (rc != SQLITE_DONE) return sqlite_error(db, std::string("read ") + what);
  return out;
}

EventRecord event_row(sqlite3_stmt* st) {
  EventRecord e;
  e.id = sqlite3_column_int64(st, 0);
  e.time = sqlite3_column_double(st, 1);
  e.rule = column_text(st, 2);
  e.event = column_text(st, 3);
  e.objects = json_strings(column_text(st, 4));
  e.values = column_text(st, 5);
  e.edge = column_text(st, 6);
  return e;
}

ActionRecord action_row(sqlite3_stmt* st) {
  ActionRecord r;
  r.id = sqlite3_column_int64(st, 0);
  r.time = sqlite3_column_double(st, 1);
  r.event_id = sqlite3_column_int64(st, 2);
  r.kind = column_text(st, 3);
  r.object = column_text(st, 4);
  r.outcome = column_text(st, 5);
  r.detail = column_text(st, 6);
  r.duration_ms = sqlite3_column_double(st, 7);
  return r;
}

ClusterLogRecord cluster_row(sqlite3_stmt* st) {
  ClusterLogRecord r;
  r.id = sqlite3_column_int64(st, 0);
  r.time = sqlite3_column_double(st, 1);
  r.origin = static_cast<std::uint32_t>(sqlite3_column_int64(st, 2));
  r.ring = column_text(st, 3);
  r.view = column_text(st, 4);
  r.seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 5));
  r.record = column_text(st, 6);
  return r;
}

ProcessRecord process_row(sqlite3_stmt* st) {
  ProcessRecord p;
  p.service = column_text(st, 0);
  p.pid = static_cast<pid_t>(sqlite3_column_int64(st, 1));
  p.start_ticks = static_cast<std::uint64_t>(sqlite3_column_int64(st, 2));
  p.argv = json_strings(column_text(st, 3));
  p.started = sqlite3_column_double(st, 4);
  return p;
}

MaintenanceRecord maintenance_row(sqlite3_stmt* st) {
  MaintenanceRecord m;
  m.object = column_text(st, 0);
  m.uid = static_cast<std::uint32_t>(sqlite3_column_int64(st, 1));
  m.set_time = sqlite3_column_double(st, 2);
  m.until = sqlite3_column_double(st, 3);
  m.reason = column_text(st, 4);
  return m;
}

/// A table of rows numbered by `id` in insertion order (the logs): its name, the columns its
/// row reader takes, in that order, and the reader.
template <typename Row>
struct Log {
  const char* table;
  const char* columns;
  const char* what;  // the rows, in errors
  Row (*read)(sqlite3_stmt*);
};

constexpr Log<EventRecord> kEvents{"events", "id, time, rule, event, objects, vals, edge", "events",
                                   event_row};
constexpr Log<ActionRecord> kActions{
    "actions", "id, time, event_id, kind, object, outcome, detail, duration_ms", "actions",
    action_row};
constexpr Log<ClusterLogRecord> kClusterLog{
    "cluster_log", "id, time, origin, ring, view, seq, record", "cluster log", cluster_row};

/// Which rows of a log a query returns; either way oldest first.
enum class Window {
  kAfter,   // the oldest `limit` rows with id > `after`
  kNewest,  // the newest `limit` rows
};

/// The one query of a log: whole rows with id > ?1, at most ?2 of them, oldest first.
template <typename Row>
std::string window_sql(const Log<Row>& log, Window window) {
  std::string rows =
      std::string("SELECT ") + log.columns + " FROM " + log.table + " WHERE id > ? ORDER BY id";
  if (window == Window::kAfter) return rows + " LIMIT ?";
  return "SELECT * FROM (" + rows + " DESC LIMIT ?) ORDER BY id";
}

template <typename Row>
Result<std::vector<Row>> read_window(sqlite3* db, const Log<Row>& log, Window window,
                                     std::int64_t after, int limit) {
  return read_rows(db, window_sql(log, window), {after, limit}, log.what, log.read);
}

/// A window of a log as the database holds it (`stored`) with the records still queued for
/// it (`unwritten`, taken before the database was read) added: a record committed in between
/// is in both, and counted once.
template <typename Row>
std::vector<Row> with_unwritten(std::vector<Row> stored, const std::vector<Row>& unwritten,
                                Window window, std::int64_t after, int limit) {
  if (unwritten.empty()) return stored;
  std::vector<Row> all;
  all.reserve(stored.size() + unwritten.size());
  std::size_t s = 0, u = 0;
  while (s < stored.size() || u < unwritten.size()) {
    if (u < unwritten.size() && unwritten[u].id <= after) {
      ++u;
    } else if (u == unwritten.size() || (s < stored.size() && stored[s].id < unwritten[u].id)) {
      all.push_back(std::move(stored[s++]));
    } else {
      if (s < stored.size() && stored[s].id == unwritten[u].id) ++s;
      all.push_back(unwritten[u++]);
    }
  }
  const auto keep = static_cast<std::size_t>(std::max(limit, 0));
  if (all.size() > keep) {
    if (window == Window::kAfter) {
      all.resize(keep);
    } else {
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(keep));
    }
  }
  return all;
}

/// A window of a log: what the database holds, with `unwritten` (taken before this reads
/// the database) added.
template <typename Row>
Result<std::vector<Row>> read_with(sqlite3* db, const Log<Row>& log,
                                   const std::vector<Row>& unwritten, Window window,
                                   std::int64_t after, int limit) {
  auto stored = read_window(db, log, window, after, limit);
  if (!stored) return stored.error();
  return with_unwritten(std::move(*stored), unwritten, window, after, limit);
}

}  // namespace

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& path, Retention retention) {
  // Created (or tightened) 0600 before SQLite opens it: SQLite gives its -wal and -shm files
  // the database's own mode.
  base::UniqueFd file(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file) return errno_error("open " + path, errno);
  if (fchmod(file.get(), 0600) < 0) return errno_error("chmod " + path, errno);
  for (const char* suffix : {"-wal", "-shm"}) chmod((path + suffix).c_str(), 0600);
  file.reset();
  sqlite3* writer = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &writer,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(writer, "open " + path);
    sqlite3_close(writer);
    return e;
  }
  // A reader (amatactl) may hold a lock for a moment; wait briefly rather than fail.
  sqlite3_busy_timeout(writer, 200);
  char* err = nullptr;
  const char* pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  if (sqlite3_exec(writer, pragmas, nullptr, nullptr, &err) != SQLITE_OK ||
      sqlite3_exec(writer, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : "unknown error";
    sqlite3_free(err);
    sqlite3_close(writer);
    return Error{"initialise " + path + ": " + message};
  }
  // A damaged page is found now, not in the middle of a recovery.
  std::string verdict;
  rc = sqlite3_exec(
      writer, "PRAGMA quick_check(1);",
      [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] ? values[0] : "";
        return 0;
      },
      &verdict, nullptr);
  if (rc != SQLITE_OK || verdict != "ok") {
    Error e{"check " + path + ": " + (rc != SQLITE_OK ? sqlite3_errmsg(writer) : verdict)};
    sqlite3_close(writer);
    return e;
  }
  sqlite3* reader = nullptr;
  rc = sqlite3_open_v2(path.c_str(), &reader, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(reader, "open " + path);
    sqlite3_close(reader);
    sqlite3_close(writer);
    return e;
  }
  sqlite3_busy_timeout(reader, 200);
  std::unique_ptr<EventStore> store(new EventStore(writer, reader, path, retention));
  if (Status s = store->prepare_all(); !s) return s.error();
  if (Status s = store->read_next_ids(); !s) return s.error();
  store->writer_ = base::start_signal_free_thread([raw = store.get()] { raw->writer_main(); });
  return store;
}

Result<std::unique_ptr<EventStore>> EventStore::open_or_replace(const std::string& path,
                                                                Retention retention,
                                                                std::string& moved_aside) {
  auto store = open(path, retention);
  if (store) return store;
  // Only a file that is there and is not a usable database is moved: a read-only or
  // missing directory stays an error (replacing would fail the same way, or lose data).
  sqlite3* probe = nullptr;
  bool broken = false;
  if (sqlite3_open_v2(path.c_str(), &probe, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    int rc = sqlite3_exec(probe, "PRAGMA quick_check(1);", nullptr, nullptr, nullptr);
    broken = unusable(rc) || store.error().message.rfind("check ", 0) == 0;
  }
  sqlite3_close(probe);
  if (!broken) return store.error();
  moved_aside = path + ".corrupt-" + std::to_string(static_cast<long long>(base::unix_now()));
  if (rename(path.c_str(), moved_aside.c_str()) < 0) {
    return errno_error("move aside " + path, errno);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    (void)rename((path + suffix).c_str(), (moved_aside + suffix).c_str());
  }
  return open(path, retention);
}

EventStore::EventStore(sqlite3* writer, sqlite3* reader, std::string path, Retention retention)
    : writer_db_(writer), reader_db_(reader), path_(std::move(path)), retention_(retention) {}

EventStore::~EventStore() {
  if (writer_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;  // the writer commits what waits (one try), then ends
    }
    wake_writer_.notify_one();
    writer_.join();
  }
  for (sqlite3_stmt* st :
       {insert_event_, insert_action_, add_restart_, restart_count_, upsert_process_,
        delete_process_, insert_cluster_entry_, upsert_maintenance_, delete_maintenance_}) {
    sqlite3_finalize(st);
  }
  sqlite3_close(reader_db_);
  sqlite3_close(writer_db_);
}

Status EventStore::prepare_all() {
  struct {
    sqlite3* db;
    sqlite3_stmt** stmt;
    const char* sql;
  } statements[] = {
      {writer_db_, &insert_event_,
       "INSERT INTO events(time, rule, event, objects, vals, edge, id) VALUES(?,?,?,?,?,?,?)"},
      {writer_db_, &insert_action_,
       "INSERT INTO actions(time, event_id, kind, object, outcome, detail, duration_ms, id) "
       "VALUES(?,?,?,?,?,?,?,?)"},
      {writer_db_, &add_restart_,
       "INSERT INTO restarts(service, count, last) VALUES(?1, 1, ?2) "
       "ON CONFLICT(service) DO UPDATE SET count = count + 1, last = ?2"},
      {writer_db_, &upsert_process_,
       "INSERT OR REPLACE INTO processes(service, pid, start_ticks, argv, started) "
       "VALUES(?,?,?,?,?)"},
      {writer_db_, &delete_process_, "DELETE FROM processes WHERE service = ?"},
      {writer_db_, &insert_cluster_entry_,
       "INSERT INTO cluster_log(time, origin, ring, view, seq, record, id) "
       "VALUES(?,?,?,?,?,?,?)"},
      {writer_db_, &upsert_maintenance_,
       "INSERT OR REPLACE INTO maintenance(object, uid, set_time, until, reason) "
       "VALUES(?,?,?,?,?)"},
      {writer_db_, &delete_maintenance_, "DELETE FROM maintenance WHERE object = ?"},
      {reader_db_, &restart_count_, "SELECT count FROM restarts WHERE service = ?"},
  };
  for (auto& s : statements) {
    if (sqlite3_prepare_v3(s.db, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.stmt, nullptr) !=
        SQLITE_OK) {
      return sqlite_error(s.db, std::string("prepare ") + s.sql);
    }
  }
  return {};
}

Status EventStore::read_next_ids() {
  for (auto [table, next] : {std::pair<const char*, std::int64_t*>{"events", &next_event_id_},
                             {"actions", &next_action_id_},
                             {"cluster_log", &next_cluster_id_}}) {
    Query q(reader_db_, (std::string("SELECT coalesce(max(id), 0) FROM ") + table).c_str());
    if (!q.ok() || sqlite3_step(q.get()) != SQLITE_ROW) {
      return sqlite_error(reader_db_, std::string("read the last id of ") + table);
    }
    *next = sqlite3_column_int64(q.get(), 0) + 1;
  }
  return {};
}

std::uint64_t EventStore::submit(const char* what, Write write) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= std::max<std::size_t>(1, retention_.max_pending)) {
      queue_.pop_front();  // the oldest goes: the newest say most about now
      ++dropped_;
    }
    seq = next_seq_++;
    queue_.push_back(Pending{seq, what, std::move(write)});
  }
  wake_writer_.notify_one();
  return seq;
}

template <typename Row>
void EventStore::remember(Unwritten<Row>& rows, std::uint64_t seq, const Row& row,
                          std::int64_t id) {
  std::lock_guard lock(mutex_);
  rows.emplace_back(seq, row).second.id = id;
  forget_written(rows);
}

template <typename Row>
std::vector<Row> EventStore::still_unwritten(Unwritten<Row>& rows) {
  std::lock_guard lock(mutex_);
  forget_written(rows);
  std::vector<Row> out;
  out.reserve(rows.size());
  for (const auto& [seq, row] : rows) out.push_back(row);
  return out;
}

template <typename Row>
void EventStore::forget_written(Unwritten<Row>& rows) {
  // The queue holds every write not yet committed, in seq order; what left it from the front
  // was committed (or dropped: a constraint, or the oldest beyond max_pending).
  const std::uint64_t oldest_queued = queue_.empty() ? next_seq_ : queue_.front().seq;
  while (!rows.empty() && rows.front().first < oldest_queued) rows.pop_front();
}

bool EventStore::degraded() const {
  std::lock_guard lock(mutex_);
  return degraded_;
}

std::size_t EventStore::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::uint64_t EventStore::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::string EventStore::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void EventStore::on_degraded(std::function<void(bool degraded)> callback) {
  std::lock_guard lock(mutex_);
  on_degraded_ = std::move(callback);
}

void EventStore::wait_for_writes(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  const std::uint64_t last = next_seq_ - 1;
  written_.wait_for(lock, limit,
                    [&] { return degraded_ || queue_.empty() || queue_.front().seq > last; });
}

Status EventStore::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t last = next_seq_ - 1;
  // The first attempt that begins after this call: the one under way began before it.
  const std::uint64_t attempt = attempts_ + (writing_ ? 2 : 1);
  retry_now_ = true;
  wake_writer_.notify_one();
  // Done when it is committed, or when that attempt failed.
  written_.wait(lock, [&] {
    return queue_.empty() || queue_.front().seq > last || (degraded_ && attempts_ >= attempt);
  });
  if (queue_.empty() || queue_.front().seq > last) return {};
  return Error{last_error_};
}

void EventStore::writer_main() {
  // As many records as there are to a transaction, up to this many: one commit for a storm.
  constexpr std::size_t kBatch = 512;
  // Behind the loop: woken at the loop's priority, this thread would take the CPU from the
  // loop at every record handed to it, in the middle of a storm of restarts.
  base::move_this_thread_to_background();
  std::unique_lock lock(mutex_);
  for (;;) {
    const auto ready = [&] { return stopping_ || (!queue_.empty() && (!degraded_ || retry_now_)); };
    if (degraded_) {
      wake_writer_.wait_for(lock, std::chrono::seconds(1), ready);  // then try again anyway
    } else {
      wake_writer_.wait(lock, ready);
    }
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    retry_now_ = false;
    writing_ = true;
    std::vector<Pending> batch(
        queue_.begin(),
        queue_.begin() + static_cast<std::ptrdiff_t>(std::min(kBatch, queue_.size())));
    lock.unlock();
    Committed done = commit(batch);
    lock.lock();
    ++attempts_;
    writing_ = false;
    const bool was = degraded_;
    if (done.ok) {
      while (!queue_.empty() && queue_.front().seq <= done.through) queue_.pop_front();
      dropped_ += done.dropped;
      degraded_ = false;
    } else {
      last_error_ = std::move(done.error);
      degraded_ = true;
    }
    auto on_degraded = was != degraded_ ? on_degraded_ : nullptr;
    written_.notify_all();
    if (on_degraded) {
      lock.unlock();
      on_degraded(!was);
      lock.lock();
    }
    if (stopping_ && degraded_) return;  // one last try was made: what waits is lost
  }
}

EventStore::Committed EventStore::commit(const std::vector<Pending>& batch) {
  Committed out;
  const auto failed = [&](const char* what, int rc) {
    out.error =
        std::string(what) + ": " + sqlite3_errstr(rc) + " (" + sqlite3_errmsg(writer_db_) + ")";
    if (!sqlite3_get_autocommit(writer_db_))
      sqlite3_exec(writer_db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return out;
  };
  int rc = sqlite3_exec(writer_db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return failed("begin", rc);
  for (const auto& p : batch) {
    rc = p.write();
    if (rc == SQLITE_DONE) continue;
    // A write that would fail for ever (a constraint) is dropped; one that may pass (a full
    // disk) fails the batch, kept to be tried again. One that ended the transaction too.
    if (transient(rc) || sqlite3_get_autocommit(writer_db_)) return failed(p.what, rc);
    ++out.dropped;
  }
  rc = sqlite3_exec(writer_db_, "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return failed("commit", rc);
  out.ok = true;
  out.through = batch.back().seq;
  writes_since_prune_ += static_cast<int>(batch.size());
  if (writes_since_prune_ >= retention_.prune_every) {
    writes_since_prune_ = 0;
    (void)prune_on(writer_db_);  // retention: a failure is tried again at the next prune
  }
  return out;
}

Result<std::int64_t> EventStore::add_event(const EventRecord& e) {
  const std::int64_t id = next_event_id_++;
  const std::uint64_t seq = submit("insert event", [this, e, id] {
    sqlite3_bind_double(insert_event_, 1, e.time);
    bind_text(insert_event_, 2, e.rule);
    bind_text(insert_event_, 3, e.event);
    bind_text(insert_event_, 4, nlohmann::json(e.objects).dump());
    bind_text(insert_event_, 5, e.values.empty() ? std::string("{}") : e.values);
    bind_text(insert_event_, 6, e.edge);
    sqlite3_bind_int64(insert_event_, 7, id);
    return step(insert_event_);
  });
  remember(unwritten_events_, seq, e, id);
  return id;
}

Result<std::int64_t> EventStore::add_action(const ActionRecord& a) {
  const std::int64_t id = next_action_id_++;
  const std::uint64_t seq = submit("insert action", [this, a, id] {
    sqlite3_bind_double(insert_action_, 1, a.time);
    sqlite3_bind_int64(insert_action_, 2, a.event_id);
    bind_text(insert_action_, 3, a.kind);
    bind_text(insert_action_, 4, a.object);
    bind_text(insert_action_, 5, a.outcome);
    bind_text(insert_action_, 6, a.detail);
    sqlite3_bind_double(insert_action_, 7, a.duration_ms);
    sqlite3_bind_int64(insert_action_, 8, id);
    return step(insert_action_);
  });
  remember(unwritten_actions_, seq, a, id);
  return id;
}

Status EventStore::add_restart(const std::string& service, double time) {
  submit("count restart", [this, service, time] {
    bind_text(add_restart_, 1, service);
    sqlite3_bind_double(add_restart_, 2, time);
    return step(add_restart_);
  });
  return {};
}

Result<std::int64_t> EventStore::restart_count(const std::string& service) {
  wait_for_writes(kReadWait);
  bind_text(restart_count_, 1, service);
  int rc = sqlite3_step(restart_count_);
  std::int64_t count = rc == SQLITE_ROW ? sqlite3_column_int64(restart_count_, 0) : 0;
  sqlite3_reset(restart_count_);
  sqlite3_clear_bindings(restart_count_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite_error(reader_db_, "read restart count");
  return count;
}

Status EventStore::record_process(const ProcessRecord& p) {
  submit("record process", [this, p] {
    bind_text(upsert_process_, 1, p.service);
    sqlite3_bind_int64(upsert_process_, 2, p.pid);
    sqlite3_bind_int64(upsert_process_, 3, static_cast<sqlite3_int64>(p.start_ticks));
    bind_text(upsert_process_, 4, nlohmann::json(p.argv).dump());
    sqlite3_bind_double(upsert_process_, 5, p.started);
    return step(upsert_process_);
  });
  return {};
}

Status EventStore::forget_process(const std::string& service) {
  submit("forget process", [this, service] {
    bind_text(delete_process_, 1, service);
    return step(delete_process_);
  });
  return {};
}

Result<std::vector<ProcessRecord>> EventStore::processes() {
  wait_for_writes(kReadWait);
  return read_rows(
      reader_db_, "SELECT service, pid, start_ticks, argv, started FROM processes ORDER BY service",
      {}, "processes", process_row);
}

Status EventStore::put_maintenance(const MaintenanceRecord& m) {
  submit("store maintenance window", [this, m] {
    bind_text(upsert_maintenance_, 1, m.object);
    sqlite3_bind_int64(upsert_maintenance_, 2, m.uid);
    sqlite3_bind_double(upsert_maintenance_, 3, m.set_time);
    sqlite3_bind_double(upsert_maintenance_, 4, m.until);
    bind_text(upsert_maintenance_, 5, m.reason);
    return step(upsert_maintenance_);
  });
  return {};
}

Status EventStore::remove_maintenance(const std::string& object) {
  submit("end maintenance window", [this, object] {
    bind_text(delete_maintenance_, 1, object);
    return step(delete_maintenance_);
  });
  return {};
}

Result<std::vector<MaintenanceRecord>> EventStore::maintenance_windows() {
  wait_for_writes(kReadWait);
  return read_rows(reader_db_,
                   "SELECT object, uid, set_time, until, reason FROM maintenance ORDER BY object",
                   {}, "maintenance windows", maintenance_row);
}

// The logs' reads never wait for the writer: what it has not committed yet comes from
// memory (with_unwritten), taken before the database is read.
Result<std::vector<EventRecord>> EventStore::events_after(std::int64_t after, int limit) {
  const auto unwritten = still_unwritten(unwritten_events_);
  return read_with(reader_db_, kEvents, unwritten, Window::kAfter, after, limit);
}

Result<std::vector<EventRecord>> EventStore::recent_events(int limit) {
  const auto unwritten = still_unwritten(unwritten_events_);
  return read_with(reader_db_, kEvents, unwritten, Window::kNewest, 0, limit);
}

Result<std::vector<ActionRecord>> EventStore::actions_after(std::int64_t after, int limit) {
  const auto unwritten = still_unwritten(unwritten_actions_);
  return read_with(reader_db_, kActions, unwritten, Window::kAfter, after, limit);
}

Result<std::vector<ActionRecord>> EventStore::recent_actions(int limit) {
  const auto unwritten = still_unwritten(unwritten_actions_);
  return read_with(reader_db_, kActions, unwritten, Window::kNewest, 0, limit);
}

Result<std::int64_t> EventStore::add_cluster_entry(const ClusterLogRecord& e) {
  const std::int64_t id = next_cluster_id_++;
  const std::uint64_t seq = submit("insert cluster log entry", [this, e, id] {
    sqlite3_bind_double(insert_cluster_entry_, 1, e.time);
    sqlite3_bind_int64(insert_cluster_entry_, 2, e.origin);
    bind_text(insert_cluster_entry_, 3, e.ring);
    bind_text(insert_cluster_entry_, 4, e.view);
    sqlite3_bind_int64(insert_cluster_entry_, 5, static_cast<sqlite3_int64>(e.seq));
    bind_text(insert_cluster_entry_, 6, e.record.empty() ? std::string("{}") : e.record);
    sqlite3_bind_int64(insert_cluster_entry_, 7, id);
    return step(insert_cluster_entry_);
  });
  remember(unwritten_cluster_, seq, e, id);
  return id;
}

Result<std::vector<ClusterLogRecord>> EventStore::recent_cluster_entries(int limit) {
  const auto unwritten = still_unwritten(unwritten_cluster_);
  return read_with(reader_db_, kClusterLog, unwritten, Window::kNewest, 0, limit);
}

Result<std::vector<ClusterLogRecord>> EventStore::cluster_entries_after(std::int64_t after,
                                                                        int limit) {
  const auto unwritten = still_unwritten(unwritten_cluster_);
  return read_with(reader_db_, kClusterLog, unwritten, Window::kAfter, after, limit);
}

Status EventStore::prune() {
  if (Status flushed = flush(); !flushed) return flushed;
  return prune_on(reader_db_);
}

Status EventStore::prune_on(sqlite3* db) {
  double cutoff = base::unix_now() - retention_.max_age_days * 86400.0;
  for (const auto& [table, keep] :
       {std::pair<const char*, std::int64_t>{"events", retention_.max_events},
        {"actions", retention_.max_actions},
        {"cluster_log", retention_.max_cluster_entries}}) {
    std::string sql = std::string("DELETE FROM ") + table + " WHERE id <= (SELECT max(id) FROM " +
                      table + ") - ?1 OR time < ?2";
    Query q(db, sql.c_str());
    if (!q.ok()) return sqlite_error(db, "prepare prune");
    sqlite3_bind_int64(q.get(), 1, keep);
    sqlite3_bind_double(q.get(), 2, cutoff);
    if (sqlite3_step(q.get()) != SQLITE_DONE)
      return sqlite_error(db, "prune " + std::string(table));
  }
  return {};
}

}  // namespace amata::store
