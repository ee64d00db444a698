// Acting on systemd units (`start`, `stop`, `restart`, `reload` of a kind `unit` object):
// only through systemd's manager, never by signalling, forking or killing a unit's processes
// from amatad — systemd owns them, and anything else would race its own supervision.
//
// A request calls Manager.StartUnit/StopUnit/RestartUnit/ReloadUnit(unit, "replace") on the
// loop and waits, still on the loop, for the JobRemoved signal of the job it returns: the
// outcome is the job's result ("done", "failed", "timeout", "canceled", "dependency",
// "skipped"), or the D-Bus error when systemd refused the call (no such unit, bad name), or
// "timeout" when the job did not end within the timeout. A job that outlives the timeout, or
// the connection, is left to systemd: it is not cancelled.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "base/event_loop.h"
#include "base/result.h"
#include "probes/systemd_bus.h"

namespace amata::actions {

class UnitControl : private probes::SystemdBus::Listener {
 public:
  enum class Verb { kStart, kStop, kRestart, kReload };
  struct Outcome {
    bool ok = false;
    std::string result;  // the job's result, or why there is none
    double duration_ms = 0;
  };
  using Done = std::function<void(const Outcome&)>;
  using Notice = std::function<void(std::string_view message)>;

  /// Opens its own connection to systemd (the system bus unless `bus` says otherwise), on
  /// `loop`. `timeout` bounds each request, from the call to the job's end.
  static Result<std::unique_ptr<UnitControl>> create(
      base::EventLoop& loop, Notice notice = nullptr,
      base::Clock::duration timeout = std::chrono::seconds(90), probes::SystemdBusOptions bus = {});
  ~UnitControl() override;
  UnitControl(const UnitControl&) = delete;
  UnitControl& operator=(const UnitControl&) = delete;

  /// Asks systemd to `verb` `unit` ("sshd" means sshd.service). `done` runs exactly once,
  /// always later, from the loop (never inside this call); it may call request() again or
  /// destroy this object.
  void request(const std::string& unit, Verb verb, Done done);
  /// Requests whose `done` has not run yet.
  std::size_t pending() const { return requests_.size(); }

 private:
  struct Request {
    Done done;
    base::Clock::time_point started;
    std::string job;  // empty until systemd answered the call
    base::EventLoop::TimerId timer = 0;
  };

  UnitControl(base::EventLoop& loop, base::Clock::duration timeout);
  void on_connected() override;
  void on_disconnected() override;
  void on_reply(std::uint64_t id, sd_bus_message* reply);
  void on_job_removed(sd_bus_message* signal);
  /// Ends request `id` with `done` run last (it may destroy this object).
  void finish(std::uint64_t id, bool ok, std::string result);
  /// finish() from the loop's next turn, for failures known inside request().
  void finish_later(std::uint64_t id, std::string result);
  bool awaiting_replies() const;

  /// `handler`, run only while this object lives.
  probes::SystemdBus::Handler guarded(std::function<void(sd_bus_message*)> handler);

  base::EventLoop& loop_;
  base::Clock::duration timeout_;
  std::unique_ptr<probes::SystemdBus> bus_;  // before the slot: destroyed after it
  std::map<std::uint64_t, Request> requests_;
  std::uint64_t next_id_ = 1;
  // Jobs that ended before the reply naming them was read: kept while a reply is awaited.
  std::unordered_map<std::string, std::string> ended_early_;
  probes::BusSlot job_removed_;
  std::shared_ptr<char> token_ = std::make_shared<char>();  // handlers hold a weak_ptr
};

std::string_view to_string(UnitControl::Verb verb);

}  // namespace amata::actions
