#include "engine/remote/remote_attacher.h"

#include <sys/epoll.h>
#include <sys/random.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "base/signal_free_thread.h"
#include "base/unique_fd.h"
#include "engine/remote/line_link.h"
#include "engine/remote/remote_wire.h"
#include "engine/remote/socket_address.h"

namespace amata::remote {
namespace {

/// FNV-1a of the node's and the member's names: stable across versions and machines, which
/// std::hash is not.
std::uint64_t weight(std::string_view node, std::string_view member) {
  std::uint64_t h = 14695981039346656037ULL;
  const auto mix = [&h](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
  };
  mix(node);
  mix(std::string_view("\0", 1));
  mix(member);
  // FNV's low bits are weak for short keys: one round of a 64-bit finaliser (splitmix64).
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

std::string new_epoch() {
  std::uint64_t random = 0;
  if (::getrandom(&random, sizeof random, 0) != sizeof random) {
    random = static_cast<std::uint64_t>(base::Clock::now().time_since_epoch().count());
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random));  // NOLINT
  return text;
}

std::uint64_t steady_ms(base::Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

}  // namespace

std::vector<AttachTarget> rank_ring_members(std::string_view node,
                                            std::vector<AttachTarget> members) {
  std::stable_sort(members.begin(), members.end(),
                   [node](const AttachTarget& a, const AttachTarget& b) {
                     const auto wa = weight(node, a.name);
                     const auto wb = weight(node, b.name);
                     return wa != wb ? wa > wb : a.name < b.name;
                   });
  return members;
}

class RemoteAttacher::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(base::EventLoop& owner, AttacherOptions options, AttacherCallbacks callbacks,
       std::unique_ptr<base::EventLoop> io, std::shared_ptr<TlsContext> tls)
      : owner_(owner),
        options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        io_(std::move(io)),
        tls_(std::move(tls)),
        retry_delay_(options_.retry) {
    status_.epoch = new_epoch();
    status_.since = base::Clock::now();
  }

  void run() {
    thread_ = base::start_signal_free_thread([self = shared_from_this()] {
      self->io_->post([self = self.get()] { self->attempt(); });
      (void)self->io_->run();
      self->close_link();
    });
  }
  void stop() {
    io_->post([this] { io_->stop(); });
    if (thread_.joinable()) thread_.join();
  }

  void publish(nlohmann::json body) {
    io_->post([this, body = std::move(body)] { queue(body); });
  }

  void set_services(ServiceReport services) {
    {
      std::lock_guard lock(mutex_);
      latest_services_ = std::move(services);
      // One turn of the io thread takes whatever is latest then: changes faster than that
      // are sent once.
      if (services_posted_) return;
      services_posted_ = true;
    }
    io_->post([this] { take_services(); });
  }

  AttacherStatus status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }

  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

 private:
  enum class Phase : std::uint8_t { kIdle, kConnecting, kHandshake, kAwaitWelcome, kAttached };

  const AttachTarget& target() const { return options_.targets[current_]; }
  void attempt();
  void connected();
  void on_open();
  void on_message(LinkMessage message);
  void beat();
  void queue(const nlohmann::json& body);
  void send_buffer();
  void take_services();
  void send_services();
  void on_place(Placement placement);
  void extend_lease(base::Clock::time_point until);
  void give_up(const std::string& why);
  void close_link();
  void sync_status();
  void to_owner(std::function<void()> fn);
  void log(bool warning, std::string message);

  base::EventLoop& owner_;
  const AttacherOptions options_;
  const AttacherCallbacks callbacks_;
  std::unique_ptr<base::EventLoop> io_;
  std::shared_ptr<TlsContext> tls_;
  std::thread thread_;

  // io thread only
  Phase phase_ = Phase::kIdle;
  std::size_t current_ = 0;
  std::size_t failures_in_row_ = 0;
  std::chrono::milliseconds retry_delay_;
  std::uint64_t generation_ = 0;  // of the current attempt: stale handlers see a newer one
  base::UniqueFd connecting_;
  std::unique_ptr<LineLink> line_;
  base::EventLoop::TimerId deadline_ = 0;
  base::EventLoop::TimerId beat_timer_ = 0;
  std::chrono::milliseconds beat_every_{500};
  std::chrono::milliseconds ring_timeout_{2000};
  base::Clock::time_point last_echo_{};
  std::deque<RemoteEvent> buffer_;
  std::uint64_t seq_ = 0;
  std::map<std::string, std::string> last_logged_failure_;  // per target, until attached
  std::optional<ServiceReport> services_;  // the latest from set_services (its seq unused)
  std::uint64_t reports_sent_ = 0;         // over the attacher's life: the next one's seq - 1
  // The current link's hello and first and last heartbeat (steady ms): a placement's lease
  // counts from one of them.
  std::uint64_t hello_ms_ = 0;
  std::optional<std::uint64_t> first_beat_ms_;
  std::uint64_t last_beat_ms_ = 0;
  std::optional<base::Clock::time_point> lease_until_;  // over the attacher's life

  mutable std::mutex mutex_;
  AttacherStatus status_;
  std::optional<ServiceReport> latest_services_;  // set_services, for the io thread to take
  bool services_posted_ = false;
};

void RemoteAttacher::Impl::to_owner(std::function<void()> fn) {
  owner_.post([alive = alive, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void RemoteAttacher::Impl::log(bool warning, std::string message) {
  if (!callbacks_.on_log) return;
  to_owner(
      [cb = callbacks_.on_log, warning, message = std::move(message)] { cb(warning, message); });
}

void RemoteAttacher::Impl::sync_status() {
  std::lock_guard lock(mutex_);
  status_.published = seq_;
  status_.buffered = buffer_.size();
}

void RemoteAttacher::Impl::attempt() {
  if (phase_ != Phase::kIdle || options_.targets.empty()) return;
  const std::uint64_t generation = ++generation_;
  auto fd = start_connect(target().host, target().port);
  if (!fd) {
    phase_ = Phase::kConnecting;  // so give_up() counts the failure
    give_up(fd.error().message);
    return;
  }
  connecting_ = std::move(*fd);
  phase_ = Phase::kConnecting;
  deadline_ = io_->add_timer_after(options_.attach_timeout, [this, generation] {
    deadline_ = 0;
    if (generation == generation_) {
      give_up("no welcome within " + std::to_string(options_.attach_timeout.count()) + " ms");
    }
  });
  const Status watched = io_->watch(connecting_.get(), EPOLLOUT, [this, generation](std::uint32_t) {
    if (generation == generation_ && phase_ == Phase::kConnecting) connected();
  });
  if (!watched) give_up(watched.error().message);
}

void RemoteAttacher::Impl::connected() {
  io_->unwatch(connecting_.get());
  if (const int error = connect_error(connecting_.get()); error != 0) {
    give_up(std::string("connect: ") + std::strerror(error));
    return;
  }
  auto stream = TlsStream::create(tls_, std::move(connecting_));
  if (!stream) {
    give_up(stream.error().message);
    return;
  }
  phase_ = Phase::kHandshake;
  const std::uint64_t generation = generation_;
  line_ = std::make_unique<LineLink>(*io_, std::move(*stream), std::size_t{4} << 20,
                                     LineLink::Handlers{
                                         [this, generation] {
                                           if (generation == generation_) on_open();
                                         },
                                         [this, generation](LinkMessage m) {
                                           if (generation == generation_) on_message(std::move(m));
                                         },
                                         [this, generation](const std::string& why) {
                                           if (generation == generation_) give_up(why);
                                         },
                                     });
}

void RemoteAttacher::Impl::on_open() {
  const std::string presented = line_->stream().peer_name();
  if (presented != target().name) {
    give_up("its certificate is for '" + presented + "', not '" + target().name + "'");
    return;
  }
  phase_ = Phase::kAwaitWelcome;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    dropped = status_.dropped;
  }
  hello_ms_ = steady_ms(base::Clock::now());
  line_->send(Hello{status_.epoch, dropped});
}

void RemoteAttacher::Impl::on_message(LinkMessage message) {
  const auto now = base::Clock::now();
  if (auto* welcome = std::get_if<Welcome>(&message); welcome && phase_ == Phase::kAwaitWelcome) {
    io_->cancel_timer(deadline_);
    deadline_ = 0;
    phase_ = Phase::kAttached;
    beat_every_ = std::chrono::milliseconds(welcome->heartbeat_ms);
    ring_timeout_ = std::chrono::milliseconds(welcome->timeout_ms);
    last_echo_ = now;
    first_beat_ms_.reset();
    failures_in_row_ = 0;
    retry_delay_ = options_.retry;
    last_logged_failure_.clear();
    // What the ring holds of this epoch need not be sent again.
    const std::uint64_t acked = std::min(welcome->acked, seq_);
    while (!buffer_.empty() && buffer_.front().seq <= acked) buffer_.pop_front();
    {
      std::lock_guard lock(mutex_);
      status_.attached_to = target().name;
      status_.since = now;
      status_.acked = std::max(status_.acked, acked);
      status_.last_error.clear();
    }
    sync_status();
    log(false, "remote: attached to " + target().name + " (" + std::to_string(buffer_.size()) +
                   " event(s) to send)");
    to_owner([cb = callbacks_.on_attached, member = target().name] {
      if (cb) cb(member);
    });
    send_services();
    send_buffer();
    beat();
    return;
  }
  if (phase_ != Phase::kAttached) {
    if (auto* bye = std::get_if<Bye>(&message)) {
      give_up("refused: " + bye->why);
    } else {
      give_up("protocol error: a message before the welcome");
    }
    return;
  }
  if (auto* echo = std::get_if<Heartbeat>(&message)) {
    last_echo_ = now;
    const std::uint64_t sent = echo->at;
    const std::uint64_t received = steady_ms(now);
    if (sent <= received) {
      std::lock_guard lock(mutex_);
      status_.rtt = std::chrono::microseconds((received - sent) * 1000);
    }
  } else if (auto* place = std::get_if<Placement>(&message)) {
    on_place(std::move(*place));
  } else if (auto* ack = std::get_if<Ack>(&message)) {
    while (!buffer_.empty() && buffer_.front().seq <= ack->seq) buffer_.pop_front();
    {
      std::lock_guard lock(mutex_);
      status_.acked = std::max(status_.acked, std::min(ack->seq, seq_));
    }
    sync_status();
  } else if (auto* bye = std::get_if<Bye>(&message)) {
    give_up(target().name + " closed the link: " + bye->why);
  } else {
    give_up("protocol error: an unexpected message");
  }
}

void RemoteAttacher::Impl::beat() {
  if (phase_ != Phase::kAttached) return;
  const auto now = base::Clock::now();
  // Half the ring's timeout without an echo: this member is gone or cut off. Moving on now
  // re-attaches before the ring (which waits the whole timeout) counts this node as lost.
  // An echo waiting unread in the socket is no silence (see RemoteListener's sweep).
  if (now - last_echo_ >= ring_timeout_ / 2) line_->poll();
  if (phase_ != Phase::kAttached) return;  // the poll found the link ended
  if (now - last_echo_ >= ring_timeout_ / 2) {
    give_up("no answer for " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(now - last_echo_).count()) +
            " ms");
    return;
  }
  std::optional<std::uint64_t> rtt;
  {
    std::lock_guard lock(mutex_);
    if (status_.rtt) rtt = static_cast<std::uint64_t>(status_.rtt->count());
  }
  const std::uint64_t at = steady_ms(now);
  if (!first_beat_ms_) first_beat_ms_ = at;
  last_beat_ms_ = at;
  line_->send(Heartbeat{at, rtt});
  const std::uint64_t generation = generation_;
  beat_timer_ = io_->add_timer_after(beat_every_, [this, generation] {
    beat_timer_ = 0;
    if (generation == generation_) beat();
  });
}

void RemoteAttacher::Impl::queue(const nlohmann::json& body) {
  buffer_.push_back(RemoteEvent{++seq_, body});
  if (buffer_.size() > options_.max_buffered) {
    buffer_.pop_front();
    std::lock_guard lock(mutex_);
    ++status_.dropped;
  }
  sync_status();
  if (phase_ == Phase::kAttached) line_->send(buffer_.back());
}

void RemoteAttacher::Impl::send_buffer() {
  for (const RemoteEvent& event : buffer_) {
    if (phase_ != Phase::kAttached) return;  // the link ended while sending
    line_->send(event);
  }
}

void RemoteAttacher::Impl::take_services() {
  ServiceReport latest;
  {
    std::lock_guard lock(mutex_);
    services_posted_ = false;
    latest = std::move(*latest_services_);
  }
  if (services_ && services_->running == latest.running && services_->gave_up == latest.gave_up &&
      services_->eligible == latest.eligible && services_->placed == latest.placed) {
    return;
  }
  services_ = std::move(latest);
  send_services();
}

void RemoteAttacher::Impl::send_services() {
  if (phase_ != Phase::kAttached || !services_) return;
  ServiceReport report = *services_;
  report.seq = reports_sent_ + 1;
  // The member would refuse a longer line and end the link, again at every attach: the ring
  // keeps the last report it had instead, and the log says why.
  if (encode(report).size() > kMaxFrameBytes + 1) {
    log(true, "remote: the report of " + std::to_string(report.eligible.size()) +
                  " clustered services is over " + std::to_string(kMaxFrameBytes / 1024) +
                  " KiB: not sent");
    return;
  }
  ++reports_sent_;
  line_->send(report);
}

void RemoteAttacher::Impl::on_place(Placement placement) {
  // From the heartbeat the member had heard when it decided, or, when it had heard none
  // yet, from the hello (which it heard before it welcomed this node): never later than the
  // member counts this node's silence from, so the lease ends before the ring may start
  // these services elsewhere. A heartbeat this link never sent (an earlier link's, noted
  // before a move) proves nothing here: that placement allows nothing, the next one will.
  std::uint64_t from = hello_ms_;
  if (placement.at) {
    if (!first_beat_ms_ || *placement.at < *first_beat_ms_ || *placement.at > last_beat_ms_) return;
    from = *placement.at;
  }
  const auto until = base::Clock::time_point{std::chrono::milliseconds(from)} +
                     std::chrono::milliseconds(placement.lease_ms);
  // A placement that arrives with its lease already over (it was slow) allows nothing.
  if (until <= base::Clock::now()) return;
  {
    std::lock_guard lock(mutex_);
    status_.placed = placement.run;
  }
  extend_lease(until);  // the lease first: the owner starts nothing without one
  to_owner([cb = callbacks_.on_place, member = target().name, run = std::move(placement.run),
            n = placement.n]() mutable {
    if (cb) cb(member, std::move(run), n);
  });
}

void RemoteAttacher::Impl::extend_lease(base::Clock::time_point until) {
  if (lease_until_ && until <= *lease_until_) return;
  lease_until_ = until;
  {
    std::lock_guard lock(mutex_);
    status_.lease_until = until;
  }
  to_owner([cb = callbacks_.on_lease, until] {
    if (cb) cb(until);
  });
}

void RemoteAttacher::Impl::give_up(const std::string& why) {
  if (phase_ == Phase::kIdle) return;
  const bool was_attached = phase_ == Phase::kAttached;
  const std::string member = target().name;
  phase_ = Phase::kIdle;
  ++generation_;
  close_link();
  {
    std::lock_guard lock(mutex_);
    status_.last_error = member + ": " + why;
    if (was_attached) {
      status_.attached_to.reset();
      status_.since = base::Clock::now();
    }
  }
  if (was_attached) {
    failures_in_row_ = 0;
    log(true, "remote: detached from " + member + ": " + why);
    to_owner([cb = callbacks_.on_detached, member, why] {
      if (cb) cb(member, why);
    });
  } else {
    ++failures_in_row_;
    // One line per member and reason: a ring that is down for an hour is not 14,000 lines.
    std::string& last = last_logged_failure_[member];
    if (last != why) {
      last = why;
      log(true, "remote: cannot attach to " + member + ": " + why);
    }
  }
  current_ = (current_ + 1) % options_.targets.size();
  if (failures_in_row_ >= options_.targets.size()) {
    failures_in_row_ = 0;
    const auto delay = retry_delay_;
    retry_delay_ = std::min(retry_delay_ * 2, options_.retry * 8);
    io_->add_timer_after(delay, [this] { attempt(); });
  } else {
    io_->post([this] { attempt(); });
  }
}

void RemoteAttacher::Impl::close_link() {
  if (deadline_ != 0) io_->cancel_timer(std::exchange(deadline_, 0));
  if (beat_timer_ != 0) io_->cancel_timer(std::exchange(beat_timer_, 0));
  if (connecting_) {
    if (io_->watching(connecting_.get())) io_->unwatch(connecting_.get());
    connecting_.reset();
  }
  if (line_) {
    if (!line_->ended()) line_->end("closed");
    // Destroyed on a later turn: this may run inside one of the link's own handlers.
    std::shared_ptr<LineLink> retired(std::move(line_));
    io_->post([retired] {});
  }
}

Result<std::unique_ptr<RemoteAttacher>> RemoteAttacher::start(base::EventLoop& owner,
                                                              AttacherOptions options,
                                                              AttacherCallbacks callbacks) {
  if (options.targets.empty()) return Error{"remote: no ring member to attach to"};
  auto tls = TlsContext::create(options.tls, TlsContext::Role::kClient);
  if (!tls) return Error{"remote: " + tls.error().message};
  auto io = base::EventLoop::create();
  if (!io) return io.error();
  auto impl = std::make_shared<Impl>(owner, std::move(options), std::move(callbacks),
                                     std::move(*io), std::move(*tls));
  impl->run();
  return std::unique_ptr<RemoteAttacher>(new RemoteAttacher(std::move(impl)));
}

RemoteAttacher::RemoteAttacher(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteAttacher::~RemoteAttacher() {
  *impl_->alive = false;
  impl_->stop();
}

void RemoteAttacher::publish(nlohmann::json body) {
  impl_->publish(std::move(body));
}
void RemoteAttacher::set_services(std::set<std::string> running, std::set<std::string> gave_up,
                                  std::set<std::string> eligible, std::uint64_t placed) {
  impl_->set_services(
      ServiceReport{0, std::move(running), std::move(gave_up), std::move(eligible), placed});
}
AttacherStatus RemoteAttacher::status() const {
  return impl_->status();
}

}  // namespace amata::remote
