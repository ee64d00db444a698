#include "engine/store/event_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace amata::store {
namespace {

namespace fs = std::filesystem;

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/amata-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/events.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static EventRecord event(const std::string& rule, const std::string& edge, double time = 1000) {
    return EventRecord{0, time, rule, "ServiceDown", {"web"}, R"({"web.alive":0})", edge};
  }

  std::string dir_, path_;
};

TEST_F(EventStoreTest, EventsAndActionsRoundTrip) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store) << store.error().message;
  auto id = (*store)->add_event(event("down[web]", "raise"));
  ASSERT_TRUE(id);
  auto action =
      (*store)->add_action(ActionRecord{0, 1000.5, *id, "restart", "web", "ok", "pid 42", 1.25});
  ASSERT_TRUE(action);
  ASSERT_TRUE((*store)->add_event(event("down[web]", "clear", 1001)));

  auto events = (*store)->events_after(0);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].id, *id);
  EXPECT_EQ((*events)[0].rule, "down[web]");
  EXPECT_EQ((*events)[0].objects, std::vector<std::string>{"web"});
  EXPECT_EQ((*events)[0].values, R"({"web.alive":0})");
  EXPECT_EQ((*events)[0].edge, "raise");
  EXPECT_EQ((*events)[1].edge, "clear");
  EXPECT_EQ((*store)->events_after(*id)->size(), 1u);

  auto actions = (*store)->actions_after(0);
  ASSERT_TRUE(actions);
  ASSERT_EQ(actions->size(), 1u);
  EXPECT_EQ((*actions)[0].event_id, *id);
  EXPECT_EQ((*actions)[0].detail, "pid 42");
  EXPECT_DOUBLE_EQ((*actions)[0].duration_ms, 1.25);
  ASSERT_TRUE((*store)->add_action(ActionRecord{0, 1002, 0, "stop", "web", "ok", "operator", 3}));
  auto recent = (*store)->recent_actions(1);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  EXPECT_EQ((*recent)[0].kind, "stop");
}

// Every kind of row reads the same two ways: after an id (oldest first, at most `limit`) and
// the newest `limit` (also oldest first).
TEST_F(EventStoreTest, EachKindReadsAfterAnIdAndTheNewest) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  std::vector<std::int64_t> events, actions, entries;
  for (int i = 1; i <= 5; ++i) {
    auto t = 1000.0 + i;
    events.push_back((*store)->add_event(event("r" + std::to_string(i), "raise", t)).value());
    actions.push_back(
        (*store)->add_action({0, t, events.back(), "restart", "web", "ok", "", 1}).value());
    entries.push_back((*store)->add_cluster_entry({0, t, 1, "1.2", "ab", 0, "{}"}).value());
  }
  auto ids = [](const auto& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows.value()) out.push_back(r.id);
    return out;
  };
  using Ids = std::vector<std::int64_t>;
  EXPECT_EQ(ids((*store)->events_after(events[1], 2)), (Ids{events[2], events[3]}));
  EXPECT_EQ(ids((*store)->events_after(events[4])), Ids{});
  EXPECT_EQ(ids((*store)->recent_events(3)), (Ids{events[2], events[3], events[4]}));
  EXPECT_EQ(ids((*store)->recent_events(10)), events);
  EXPECT_EQ(ids((*store)->actions_after(actions[1], 2)), (Ids{actions[2], actions[3]}));
  EXPECT_EQ(ids((*store)->actions_after(actions[4])), Ids{});
  EXPECT_EQ(ids((*store)->recent_actions(3)), (Ids{actions[2], actions[3], actions[4]}));
  EXPECT_EQ(ids((*store)->recent_actions(10)), actions);
  EXPECT_EQ(ids((*store)->cluster_entries_after(entries[1], 2)), (Ids{entries[2], entries[3]}));
  EXPECT_EQ(ids((*store)->cluster_entries_after(entries[4])), Ids{});
  EXPECT_EQ(ids((*store)->recent_cluster_entries(3)), (Ids{entries[2], entries[3], entries[4]}));
  EXPECT_EQ(ids((*store)->recent_cluster_entries(10)), entries);
  auto newest = (*store)->recent_events(1).value();
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].rule, "r5");
  EXPECT_EQ(newest[0].objects, std::vector<std::string>{"web"});
  EXPECT_DOUBLE_EQ(newest[0].time, 1005);
}

TEST_F(EventStoreTest, RestartCountersAndProcessesPersistAcrossReopen) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->add_restart("web", 1));
    ASSERT_TRUE((*store)->add_restart("web", 2));
    ASSERT_TRUE((*store)->record_process({"web", 123, 456, {"sleep", "30"}, 7}));
    ASSERT_TRUE((*store)->record_process({"db", 124, 457, {"db"}, 8}));
    ASSERT_TRUE((*store)->record_process({"web", 125, 458, {"sleep", "31"}, 9}));
    ASSERT_TRUE((*store)->forget_process("db"));
  }
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  EXPECT_EQ(*(*store)->restart_count("web"), 2);
  EXPECT_EQ(*(*store)->restart_count("nobody"), 0);
  auto procs = (*store)->processes();
  ASSERT_TRUE(procs);
  ASSERT_EQ(procs->size(), 1u);
  EXPECT_EQ((*procs)[0].pid, 125);
  EXPECT_EQ((*procs)[0].start_ticks, 458u);
  EXPECT_EQ((*procs)[0].argv, (std::vector<std::string>{"sleep", "31"}));
}

TEST_F(EventStoreTest, MaintenanceWindowsPersistAcrossReopenAndAreReplacedPerObject) {
  {
    auto store = EventStore::open(path_);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->put_maintenance({"web", 1000, 10.0, 1810.0, "kernel upgrade"}));
    ASSERT_TRUE((*store)->put_maintenance({"", 0, 11.0, 3611.0, "rack move"}));
    ASSERT_TRUE((*store)->put_maintenance({"db", 0, 12.0, 100.0, "vacuum"}));
    // Setting a window again replaces it: one window per object.
    ASSERT_TRUE((*store)->put_maintenance({"web", 0, 20.0, 7220.0, "longer upgrade"}));
    ASSERT_TRUE((*store)->remove_maintenance("db"));
    ASSERT_TRUE((*store)->remove_maintenance("nothing"));  // no window: nothing to do
  }
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store) << store.error().message;
  auto windows = (*store)->maintenance_windows();
  ASSERT_TRUE(windows) << windows.error().message;
  ASSERT_EQ(windows->size(), 2u);
  EXPECT_EQ((*windows)[0].object, "");
  EXPECT_EQ((*windows)[0].reason, "rack move");
  EXPECT_EQ((*windows)[0].until, 3611.0);
  EXPECT_EQ((*windows)[1].object, "web");
  EXPECT_EQ((*windows)[1].uid, 0u);
  EXPECT_EQ((*windows)[1].set_time, 20.0);
  EXPECT_EQ((*windows)[1].reason, "longer upgrade");
}

TEST_F(EventStoreTest, RetentionKeepsTheNewestRows) {
  Retention r;
  r.max_events = 10;
  r.prune_every = 7;
  auto store = EventStore::open(path_, r);
  ASSERT_TRUE(store);
  auto now = static_cast<double>(time(nullptr));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE((*store)->add_event(event("r" + std::to_string(i), "raise", now)));
  ASSERT_TRUE((*store)->prune());
  auto events = (*store)->events_after(0);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 10u);
  EXPECT_EQ(events->back().rule, "r49");
  EXPECT_EQ(events->front().rule, "r40");
  // Old rows go by age as well.
  ASSERT_TRUE((*store)->add_event(event("ancient", "raise", now - 40 * 86400.0)));
  ASSERT_TRUE((*store)->prune());
  auto kept = (*store)->events_after(0);
  ASSERT_TRUE(kept);
  for (const auto& e : *kept) EXPECT_NE(e.rule, "ancient");
}

TEST_F(EventStoreTest, ClusterLogKeepsDeliveryOrderAndPositions) {
  Retention r;
  r.max_cluster_entries = 5;
  r.prune_every = 1000;
  auto store = EventStore::open(path_, r);
  ASSERT_TRUE(store);
  auto now = static_cast<double>(time(nullptr));
  ASSERT_TRUE(
      (*store)->add_cluster_entry({0, now, 0, "1.52", "3fa2c011", 0, R"({"type":"membership"})"}));
  for (std::uint64_t seq = 1; seq <= 7; ++seq) {
    auto id = (*store)->add_cluster_entry(
        {0, now + static_cast<double>(seq), 2, "1.52", "3fa2c011", seq, R"({"type":"raised"})"});
    ASSERT_TRUE(id) << id.error().message;
  }
  auto all = (*store)->cluster_entries_after(0);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 8u);
  EXPECT_EQ((*all)[0].origin, 0u);
  EXPECT_EQ((*all)[0].record, R"({"type":"membership"})");
  EXPECT_EQ((*all)[3].ring, "1.52");
  EXPECT_EQ((*all)[3].view, "3fa2c011");
  EXPECT_EQ((*all)[3].seq, 3u);
  EXPECT_EQ((*all)[3].origin, 2u);
  for (std::size_t i = 1; i < all->size(); ++i) EXPECT_GT((*all)[i].id, (*all)[i - 1].id);

  auto recent = (*store)->recent_cluster_entries(2);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 2u);
  EXPECT_EQ((*recent)[0].seq, 6u);  // oldest first
  EXPECT_EQ((*recent)[1].seq, 7u);

  ASSERT_TRUE((*store)->prune());  // keeps the newest max_cluster_entries
  auto kept = (*store)->cluster_entries_after(0);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->size(), 5u);
  EXPECT_EQ(kept->back().seq, 7u);
}

TEST_F(EventStoreTest, CommittedEventsSurviveKill9) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = EventStore::open(path_);
    if (!store) _exit(2);
    for (int i = 0; i < 100; ++i) {
      if (!(*store)->add_event(event("r" + std::to_string(i), "raise"))) _exit(3);
    }
    if (!(*store)->flush()) _exit(5);  // committed: what kill -9 must not lose
    raise(SIGKILL);                    // no close, no checkpoint
    _exit(4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child failed early, status " << status;
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  auto events = (*store)->events_after(0, 1000);
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), 100u);
}

TEST_F(EventStoreTest, AStalledDatabaseNeverHoldsTheWriterBack) {
  // Another process's lock stands for a stalled disk: the writer thread waits (and retries),
  // the caller — amatad's loop, in the middle of a recovery — does not.
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE((*store)->add_event(event("r" + std::to_string(i), "raise")));
    ASSERT_TRUE((*store)->add_action(ActionRecord{0, 1000, 0, "restart", "web", "ok", "", 1}));
  }
  // Waiting for the lock (200 ms a try) inline would take 40 s; queueing takes microseconds.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE((*store)->flush());  // the database is still locked
  EXPECT_TRUE((*store)->degraded());
  EXPECT_EQ((*store)->pending(), 200u);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE((*store)->flush()) << (*store)->last_error();
  EXPECT_FALSE((*store)->degraded());
  EXPECT_EQ((*store)->events_after(0, 1000)->size(), 100u);
  EXPECT_EQ((*store)->actions_after(0, 1000)->size(), 100u);
  EXPECT_EQ((*store)->dropped(), 0u);
}

TEST_F(EventStoreTest, ReadsShowWhatIsQueuedWhileTheDiskIsStalled) {
  // The console reads on amatad's loop: through a stalled disk it must neither wait for the
  // writer nor miss the records that wait for it.
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->add_event(event("committed", "raise")));
  ASSERT_TRUE((*store)->flush());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*store)->add_event(event("queued" + std::to_string(i), "raise")));
  ASSERT_TRUE((*store)->add_action(ActionRecord{0, 1000, 2, "restart", "web", "ok", "pid 7", 1}));
  ClusterLogRecord entry;
  entry.record = R"({"kind":"event"})";
  ASSERT_TRUE((*store)->add_cluster_entry(entry));
  EXPECT_FALSE((*store)->flush());  // still locked: nothing of that is committed
  EXPECT_EQ((*store)->pending(), 5u);

  const auto rules = [](const std::vector<EventRecord>& events) {
    std::vector<std::string> out;
    out.reserve(events.size());
    for (const auto& e : events) out.push_back(e.rule);
    return out;
  };
  const std::vector<std::string> all = {"committed", "queued0", "queued1", "queued2"};
  EXPECT_EQ(rules((*store)->recent_events(10).value()), all);
  EXPECT_EQ(rules((*store)->recent_events(2).value()),
            (std::vector<std::string>{"queued1", "queued2"}));
  EXPECT_EQ(rules((*store)->events_after(1, 2).value()),
            (std::vector<std::string>{"queued0", "queued1"}));
  EXPECT_EQ(rules((*store)->events_after(0, 10).value()), all);
  auto actions = (*store)->recent_actions(10).value();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].detail, "pid 7");
  EXPECT_EQ(actions[0].id, 1);
  EXPECT_EQ((*store)->recent_cluster_entries(10).value().size(), 1u);

  // Committed at last: the same records, each once, now from the database.
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE((*store)->flush()) << (*store)->last_error();
  EXPECT_EQ((*store)->pending(), 0u);
  EXPECT_EQ(rules((*store)->recent_events(10).value()), all);
  EXPECT_EQ((*store)->recent_actions(10).value().size(), 1u);
  EXPECT_EQ((*store)->cluster_entries_after(0).value().size(), 1u);
}

TEST_F(EventStoreTest, WriteLatencyIsSmall) {
  auto store = EventStore::open(path_);
  ASSERT_TRUE(store);
  std::vector<double> us;
  for (int i = 0; i < 2000; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE((*store)->add_event(event("down[web]", i % 2 ? "clear" : "raise")));
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  double p50 = us[us.size() / 2], p99 = us[us.size() * 99 / 100], max = us.back();
  std::printf("event insert: p50 %.1f us, p99 %.1f us, max %.1f us\n", p50, p99, max);
  RecordProperty("p50_us", std::to_string(p50));
  RecordProperty("p99_us", std::to_string(p99));
  EXPECT_LT(max, 1e6);  // never a stall of a second, whatever the machine's load
}

}  // namespace
}  // namespace amata::store
