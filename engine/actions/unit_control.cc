#include "engine/actions/unit_control.h"

#include <utility>
#include <vector>

#include "probes/unit_probe.h"

namespace amata::actions {
namespace {

const char* method_of(UnitControl::Verb verb) {
  switch (verb) {
    case UnitControl::Verb::kStart:
      return "StartUnit";
    case UnitControl::Verb::kStop:
      return "StopUnit";
    case UnitControl::Verb::kRestart:
      return "RestartUnit";
    case UnitControl::Verb::kReload:
      return "ReloadUnit";
  }
  return "StartUnit";
}

}  // namespace

std::string_view to_string(UnitControl::Verb verb) {
  switch (verb) {
    case UnitControl::Verb::kStart:
      return "start";
    case UnitControl::Verb::kStop:
      return "stop";
    case UnitControl::Verb::kRestart:
      return "restart";
    case UnitControl::Verb::kReload:
      return "reload";
  }
  return "start";
}

UnitControl::UnitControl(base::EventLoop& loop, base::Clock::duration timeout)
    : loop_(loop), timeout_(timeout) {}

Result<std::unique_ptr<UnitControl>> UnitControl::create(base::EventLoop& loop, Notice notice,
                                                         base::Clock::duration timeout,
                                                         probes::SystemdBusOptions bus) {
  std::unique_ptr<UnitControl> control(new UnitControl(loop, timeout));
  auto opened = probes::SystemdBus::create(loop, std::move(notice), std::move(bus));
  if (!opened) return opened.error();
  control->bus_ = std::move(*opened);
  control->bus_->add_listener(control.get());
  return control;
}

UnitControl::~UnitControl() {
  for (auto& [id, request] : requests_) loop_.cancel_timer(request.timer);
  if (bus_) bus_->remove_listener(this);
}

probes::SystemdBus::Handler UnitControl::guarded(std::function<void(sd_bus_message*)> handler) {
  return [token = std::weak_ptr<char>(token_), handler = std::move(handler)](sd_bus_message* m) {
    if (!token.expired()) handler(m);
  };
}

void UnitControl::on_connected() {
  // Installed before any call on this connection: the bus daemon takes a client's messages
  // in order, so the match is in place before systemd can end a job we asked for. (Manager.
  // Subscribe, without which systemd does not send JobRemoved, went out even earlier.)
  Status s = bus_->match_signal(&job_removed_, probes::kSystemdPath, probes::kManagerInterface,
                                "JobRemoved",
                                guarded([this](sd_bus_message* m) { on_job_removed(m); }), nullptr);
  if (!s) {
    // Requests would wait for a signal that cannot come: let them end at their timeout, and
    // try again with the next connection.
    job_removed_.reset();
  }
}

void UnitControl::on_disconnected() {
  job_removed_.reset();
  ended_early_.clear();
  // The end of a job already under way cannot be heard any more.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, request] : requests_) ids.push_back(id);
  std::weak_ptr<char> alive = token_;
  for (std::uint64_t id : ids) {
    if (alive.expired()) return;  // a done callback destroyed this object
    finish(id, false, "the connection to systemd was lost before the job ended");
  }
}

void UnitControl::request(const std::string& unit, Verb verb, Done done) {
  const std::uint64_t id = next_id_++;
  Request& r = requests_[id];
  r.done = std::move(done);
  r.started = base::Clock::now();
  r.timer = loop_.add_timer_after(timeout_, [this, id] {
    if (auto it = requests_.find(id); it != requests_.end()) it->second.timer = 0;
    finish(id, false, "timeout");
  });
  auto name = probes::unit_name(unit);
  if (!name) {
    finish_later(id, name.error().message);
    return;
  }
  Status s = bus_->call(nullptr, probes::kSystemdPath, probes::kManagerInterface, method_of(verb),
                        guarded([this, id](sd_bus_message* m) { on_reply(id, m); }), "ss",
                        name->c_str(), "replace");
  if (!s) finish_later(id, s.error().message);
}

void UnitControl::finish_later(std::uint64_t id, std::string result) {
  Request& r = requests_[id];
  loop_.cancel_timer(r.timer);
  r.timer = loop_.add_timer_after(base::Clock::duration::zero(),
                                  [this, id, result = std::move(result)]() mutable {
                                    auto it = requests_.find(id);
                                    if (it != requests_.end()) it->second.timer = 0;
                                    finish(id, false, std::move(result));
                                  });
}

bool UnitControl::awaiting_replies() const {
  for (const auto& [id, request] : requests_) {
    if (request.job.empty()) return true;
  }
  return false;
}

void UnitControl::on_reply(std::uint64_t id, sd_bus_message* reply) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;  // it timed out meanwhile
  if (std::string error = probes::SystemdBus::error_of(reply); !error.empty()) {
    finish(id, false, std::move(error));
    return;
  }
  const char* job = nullptr;
  if (sd_bus_message_read_basic(reply, 'o', &job) <= 0) {
    finish(id, false, "systemd's reply names no job");
    return;
  }
  it->second.job = job;
  auto early = ended_early_.find(job);
  if (early == ended_early_.end()) {
    if (!awaiting_replies()) ended_early_.clear();
    return;
  }
  std::string result = std::move(early->second);
  ended_early_.erase(early);
  const bool ok = result == "done";
  finish(id, ok, std::move(result));
}

void UnitControl::on_job_removed(sd_bus_message* signal) {
  std::uint32_t job_id = 0;
  const char* job = nullptr;
  const char* unit = nullptr;
  const char* result = nullptr;
  if (sd_bus_message_read(signal, "uoss", &job_id, &job, &unit, &result) <= 0) return;
  for (const auto& [id, request] : requests_) {
    if (request.job == job) {
      finish(id, std::string_view(result) == "done", result);
      return;
    }
  }
  // Perhaps the job of a call whose reply is still unread: keep its end until then.
  if (awaiting_replies()) ended_early_[job] = result;
}

void UnitControl::finish(std::uint64_t id, bool ok, std::string result) {
  auto it = requests_.find(id);
  if (it == requests_.end()) return;
  if (it->second.timer != 0) loop_.cancel_timer(it->second.timer);
  Outcome outcome{ok, std::move(result), base::elapsed_ms(it->second.started)};
  Done done = std::move(it->second.done);
  requests_.erase(it);
  if (!awaiting_replies()) ended_early_.clear();
  if (done) done(outcome);  // last: it may destroy this object
}

}  // namespace amata::actions
