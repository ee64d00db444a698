#include "engine/remote/remote_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "base/signal_free_thread.h"
#include "base/unique_fd.h"
#include "engine/remote/line_link.h"
#include "engine/remote/socket_address.h"

namespace amata::remote {

class RemoteListener::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(base::EventLoop& owner, ListenerOptions options, ListenerCallbacks callbacks,
       std::unique_ptr<base::EventLoop> io, std::shared_ptr<TlsContext> tls, base::UniqueFd fd)
      : owner_(owner),
        options_(std::move(options)),
        callbacks_(std::move(callbacks)),
        io_(std::move(io)),
        tls_(std::move(tls)),
        listen_fd_(std::move(fd)) {}

  void run();
  void stop();
  std::uint16_t port() const { return port_; }
  void set_port(std::uint16_t port) { port_ = port; }

  // From the owner's thread: carried over to the io thread.
  void welcome(LinkId id, std::uint64_t acked);
  void refuse(LinkId id, const std::string& why);
  void ack(LinkId id, std::uint64_t seq);
  void place(LinkId id, const Placement& placement);

  std::vector<LinkStatus> links() const;
  std::optional<std::uint64_t> heartbeat_at(LinkId id) const;
  ListenerCounters counters() const;

  /// Set false by the destructor of RemoteListener on the owner's thread: callbacks posted
  /// to the owner's loop check it there, so none runs after the listener is gone.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

 private:
  enum class Phase : std::uint8_t { kHandshake, kAwaitHello, kAwaitWelcome, kAttached };
  struct Link {
    LinkId id = 0;
    std::string address;
    std::string node;
    Phase phase = Phase::kHandshake;
    base::Clock::time_point accepted;
    std::unique_ptr<LineLink> line;
    LinkStatus status;
    std::uint64_t last_seq = 0;     // the last event received
    std::uint64_t last_acked = 0;   // the last ack sent
    std::uint64_t last_report = 0;  // the seq of the last service report received
    bool reported = false;          // on_hello went to the owner: on_gone must follow
  };

  void accept_all();
  void pause_accepting();
  void on_message(Link& link, LinkMessage message);
  void on_end(LinkId id, const std::string& why);
  void sweep();
  /// Sweeps again after `delay` (none: the longest wait, sweep_period()), unless a sweep is
  /// set already.
  void arm_sweep(std::optional<base::Clock::duration> delay = std::nullopt);
  /// The longest time between two sweeps: a link paused for backpressure, or not yet
  /// welcomed, has no deadline of its own to sweep for.
  base::Clock::duration sweep_period() const;
  void refused(const std::string& what);
  void to_owner(std::function<void()> fn);
  void log(bool warning, std::string message);
  Link* find(LinkId id);
  void publish_status(const Link& link);

  base::EventLoop& owner_;
  const ListenerOptions options_;
  const ListenerCallbacks callbacks_;
  std::unique_ptr<base::EventLoop> io_;
  std::shared_ptr<TlsContext> tls_;
  base::UniqueFd listen_fd_;
  std::uint16_t port_ = 0;
  std::thread thread_;

  // io thread only
  std::map<LinkId, Link> links_;
  LinkId next_id_ = 1;
  base::EventLoop::TimerId sweep_timer_ = 0;
  bool accept_paused_ = false;
  base::Clock::time_point log_window_{};
  int logged_in_window_ = 0;
  std::uint64_t unlogged_ = 0;

  // shared with the owner's thread
  mutable std::mutex mutex_;
  std::map<LinkId, LinkStatus> snapshot_;
  ListenerCounters counters_;

  friend class RemoteListener;
};

void RemoteListener::Impl::run() {
  thread_ = base::start_signal_free_thread([self = shared_from_this()] {
    const Status watched =
        self->io_->watch(self->listen_fd_.get(), EPOLLIN,
                         [self = self.get()](std::uint32_t) { self->accept_all(); });
    if (!watched) {
      self->log(true, "remote nodes: " + watched.error().message);
      return;
    }
    (void)self->io_->run();
    self->links_.clear();
  });
}

void RemoteListener::Impl::stop() {
  io_->post([this] { io_->stop(); });
  if (thread_.joinable()) thread_.join();
}

void RemoteListener::Impl::to_owner(std::function<void()> fn) {
  owner_.post([alive = alive, fn = std::move(fn)] {
    if (*alive) fn();
  });
}

void RemoteListener::Impl::log(bool warning, std::string message) {
  if (!callbacks_.on_log) return;
  to_owner(
      [cb = callbacks_.on_log, warning, message = std::move(message)] { cb(warning, message); });
}

// Refusals come from the network, as fast as anyone can connect: at most five lines a second,
// then one line with the count of the rest.
void RemoteListener::Impl::refused(const std::string& what) {
  const auto now = base::Clock::now();
  if (now - log_window_ >= std::chrono::seconds(1)) {
    if (unlogged_ > 0) {
      log(true, "remote nodes: " + std::to_string(unlogged_) + " more refused in the last second");
    }
    log_window_ = now;
    logged_in_window_ = 0;
    unlogged_ = 0;
  }
  if (logged_in_window_ < 5) {
    ++logged_in_window_;
    log(true, "remote nodes: refused " + what);
  } else {
    ++unlogged_;
  }
}

RemoteListener::Impl::Link* RemoteListener::Impl::find(LinkId id) {
  const auto it = links_.find(id);
  return it == links_.end() || it->second.line->ended() ? nullptr : &it->second;
}

void RemoteListener::Impl::accept_all() {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    base::UniqueFd fd(::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                                SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EMFILE || errno == ENFILE) pause_accepting();
      return;  // EAGAIN, or an aborted connection: nothing to do
    }
    const std::string address = describe(peer);
    if (links_.size() >= options_.max_connections) {
      {
        std::lock_guard lock(mutex_);
        ++counters_.over_capacity;
      }
      refused(address + ": " + std::to_string(options_.max_connections) + " links already");
      continue;  // closing it is the answer
    }
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto stream = TlsStream::create(tls_, std::move(fd));
    if (!stream) {
      log(true, "remote nodes: " + stream.error().message);
      continue;
    }
    const LinkId id = next_id_++;
    Link& link = links_[id];
    link.id = id;
    link.address = address;
    link.accepted = base::Clock::now();
    {
      std::lock_guard lock(mutex_);
      ++counters_.accepted;
    }
    link.line = std::make_unique<LineLink>(
        *io_, std::move(*stream), options_.max_output_bytes,
        LineLink::Handlers{
            [this, id] {
              Link* l = find(id);
              if (l == nullptr) return;
              l->node = l->line->stream().peer_name();
              if (!valid_node_name(l->node)) {
                const std::string why = "its certificate names no node ('" + l->node +
                                        "': 1 to 15 printable bytes, no blank, '/' or ':')";
                l->line->end(why);
                return;
              }
              l->phase = Phase::kAwaitHello;
            },
            [this, id](LinkMessage message) {
              if (Link* l = find(id)) on_message(*l, std::move(message));
            },
            [this, id](const std::string& why) { on_end(id, why); },
        });
    arm_sweep();
  }
}

// Out of file descriptors, the connections that cannot be accepted keep the listening socket
// readable: accepting again at once would spin this thread. They wait in the backlog while it
// stops watching the socket for a while.
void RemoteListener::Impl::pause_accepting() {
  if (accept_paused_) return;
  accept_paused_ = true;
  (void)io_->modify(listen_fd_.get(), 0);
  refused("new connections for 100 ms: out of file descriptors (" + std::to_string(links_.size()) +
          " links)");
  io_->add_timer_after(std::chrono::milliseconds(100), [this] {
    accept_paused_ = false;
    (void)io_->modify(listen_fd_.get(), EPOLLIN);
  });
}

void RemoteListener::Impl::on_message(Link& link, LinkMessage message) {
  const auto now = base::Clock::now();
  if (auto* hello = std::get_if<Hello>(&message); hello && link.phase == Phase::kAwaitHello) {
    link.phase = Phase::kAwaitWelcome;
    link.reported = true;
    link.status = LinkStatus{link.id, link.node, link.address, hello->epoch, now, now, {}, 0};
    HelloRequest request{link.id, link.node, link.address, *hello};
    to_owner([cb = callbacks_.on_hello, request = std::move(request)] { cb(request); });
    return;
  }
  if (auto* beat = std::get_if<Heartbeat>(&message);
      beat && (link.phase == Phase::kAttached || link.phase == Phase::kAwaitWelcome)) {
    link.status.last_heartbeat = now;
    link.status.heartbeat_at = beat->at;
    if (beat->rtt_us) link.status.rtt = std::chrono::microseconds(*beat->rtt_us);
    link.line->send(Heartbeat{beat->at, std::nullopt});
    publish_status(link);
    return;
  }
  if (auto* event = std::get_if<RemoteEvent>(&message); event && link.phase == Phase::kAttached) {
    if (event->seq <= link.last_seq) {
      link.line->end("protocol error: event " + std::to_string(event->seq) + " after " +
                     std::to_string(link.last_seq));
      return;
    }
    link.last_seq = event->seq;
    ++link.status.events;
    // Backpressure: the owner acknowledges what it has made safe; past the bound, this link
    // waits for it instead of piling events up on the owner's loop.
    if (link.last_seq - link.last_acked >= options_.max_events_in_flight) {
      link.line->set_reading(false);
    }
    to_owner([cb = callbacks_.on_event, id = link.id, node = link.node,
              event = std::move(*event)]() mutable { cb(id, node, std::move(event)); });
    return;
  }
  if (auto* report = std::get_if<ServiceReport>(&message);
      report && link.phase == Phase::kAttached) {
    if (report->seq <= link.last_report) {
      link.line->end("protocol error: service report " + std::to_string(report->seq) + " after " +
                     std::to_string(link.last_report));
      return;
    }
    link.last_report = report->seq;
    link.status.report = *report;
    publish_status(link);
    if (callbacks_.on_report) {
      to_owner([cb = callbacks_.on_report, id = link.id, node = link.node,
                report = std::move(*report)]() mutable { cb(id, node, std::move(report)); });
    }
    return;
  }
  link.line->end("protocol error: a message out of order");  // counted in on_end
}

void RemoteListener::Impl::publish_status(const Link& link) {
  if (link.phase != Phase::kAttached) return;
  std::lock_guard lock(mutex_);
  snapshot_[link.id] = link.status;
}

void RemoteListener::Impl::on_end(LinkId id, const std::string& why) {
  const auto it = links_.find(id);
  if (it == links_.end()) return;
  Link& link = it->second;
  if (link.phase == Phase::kHandshake) {
    {
      std::lock_guard lock(mutex_);
      ++counters_.refused;
    }
    refused(link.address + ": " + why);
  } else if (why.rfind("protocol error", 0) == 0) {
    std::lock_guard lock(mutex_);
    ++counters_.protocol_errors;
  }
  if (link.reported) {
    to_owner([cb = callbacks_.on_gone, id, node = link.node, why,
              last = link.status.last_heartbeat] { cb(id, node, why, last); });
  }
  {
    std::lock_guard lock(mutex_);
    snapshot_.erase(id);
  }
  // Destroyed on a later turn: this runs inside the link's own handler.
  io_->post([this, id] { links_.erase(id); });
}

base::Clock::duration RemoteListener::Impl::sweep_period() const {
  return std::clamp<base::Clock::duration>(options_.heartbeat_timeout / 4,
                                           std::chrono::milliseconds(50), std::chrono::seconds(1));
}

void RemoteListener::Impl::arm_sweep(std::optional<base::Clock::duration> delay) {
  if (sweep_timer_ != 0) return;
  sweep_timer_ = io_->add_timer_after(
      std::chrono::ceil<std::chrono::milliseconds>(delay.value_or(sweep_period())), [this] {
        sweep_timer_ = 0;
        sweep();
      });
}

void RemoteListener::Impl::sweep() {
  const auto now = base::Clock::now();
  std::vector<std::pair<LinkId, std::string>> expired;
  // When `link` is overdue; none while it has no deadline: awaiting its welcome, or paused
  // for backpressure (a paused link is not read, so its heartbeats are not either).
  const auto due = [this](const Link& link) -> std::optional<base::Clock::time_point> {
    if (link.phase == Phase::kHandshake || link.phase == Phase::kAwaitHello) {
      return link.accepted + options_.handshake_timeout;
    }
    if (link.phase == Phase::kAttached &&
        link.last_seq - link.last_acked < options_.max_events_in_flight) {
      return link.status.last_heartbeat + options_.heartbeat_timeout;
    }
    return std::nullopt;
  };
  // The next sweep comes when the first link would be overdue, so that a silent node is found
  // at its timeout, not up to a sweep period later (the ring counts it lost from its last
  // heartbeat: docs/operations.md, "Remote nodes holding clustered services").
  auto next = now + sweep_period();
  for (auto& [id, link] : links_) {
    if (link.line->ended()) continue;
    auto when = due(link);
    if (when && *when <= now) {
      // What the peer sent and this thread has not read yet counts: a loop takes 64 ready
      // sockets a turn, and one starved of CPU may run this timer before the reads it owes.
      link.line->poll();
      if (link.line->ended()) continue;
      when = due(link);
    }
    if (!when || *when > now) {
      if (when) next = std::min(next, *when);
      continue;
    }
    std::lock_guard lock(mutex_);
    if (link.phase == Phase::kAttached) {
      ++counters_.silent;
      expired.emplace_back(
          id, "no heartbeat for " + std::to_string(options_.heartbeat_timeout.count()) + " ms");
    } else {
      ++counters_.timed_out;
      expired.emplace_back(
          id, "no hello within " + std::to_string(options_.handshake_timeout.count()) + " ms");
    }
  }
  for (const auto& [id, why] : expired) {
    if (Link* link = find(id)) {
      const Bye bye{why};
      const LinkMessage farewell{bye};
      link->line->end(why, &farewell);
    }
  }
  // Not sooner than 5 ms: a deadline met a moment ago is swept once more, not in a spin.
  if (!links_.empty())
    arm_sweep(
        std::max<base::Clock::duration>(next - base::Clock::now(), std::chrono::milliseconds(5)));
}

void RemoteListener::Impl::welcome(LinkId id, std::uint64_t acked) {
  io_->post([this, id, acked] {
    Link* link = find(id);
    if (link == nullptr || link->phase != Phase::kAwaitWelcome) return;
    link->phase = Phase::kAttached;
    link->last_seq = acked;
    link->last_acked = acked;
    link->status.since = link->status.last_heartbeat = base::Clock::now();
    const auto timeout = static_cast<std::uint32_t>(options_.heartbeat_timeout.count());
    link->line->send(
        Welcome{options_.name, std::max<std::uint32_t>(timeout / 4, 1), timeout, acked});
    publish_status(*link);
  });
}

void RemoteListener::Impl::refuse(LinkId id, const std::string& why) {
  io_->post([this, id, why] {
    if (Link* link = find(id)) {
      const LinkMessage farewell{Bye{why}};
      link->line->end(why, &farewell);
    }
  });
}

void RemoteListener::Impl::ack(LinkId id, std::uint64_t seq) {
  io_->post([this, id, seq] {
    Link* link = find(id);
    if (link == nullptr || link->phase != Phase::kAttached || seq <= link->last_acked) return;
    link->last_acked = std::min(seq, link->last_seq);
    link->line->send(Ack{link->last_acked});
    if (link->line->open() && link->last_seq - link->last_acked < options_.max_events_in_flight) {
      link->line->set_reading(true);
    }
  });
}

void RemoteListener::Impl::place(LinkId id, const Placement& placement) {
  io_->post([this, id, placement] {
    Link* link = find(id);
    if (link == nullptr || link->phase != Phase::kAttached) return;
    // The remote node would refuse a longer line. Left unsent, the last placement would go
    // on being renewed by every heartbeat: the link ends instead, and its lease with it.
    if (encode(placement).size() > kMaxFrameBytes + 1) {
      const std::string why = "a placement of " + std::to_string(placement.run.size()) +
                              " services is over " + std::to_string(kMaxFrameBytes / 1024) + " KiB";
      const LinkMessage farewell{Bye{why}};
      link->line->end(why, &farewell);
      return;
    }
    link->line->send(placement);
  });
}

std::optional<std::uint64_t> RemoteListener::Impl::heartbeat_at(LinkId id) const {
  std::lock_guard lock(mutex_);
  const auto it = snapshot_.find(id);
  return it == snapshot_.end() ? std::nullopt : it->second.heartbeat_at;
}

std::vector<LinkStatus> RemoteListener::Impl::links() const {
  std::lock_guard lock(mutex_);
  std::vector<LinkStatus> out;
  out.reserve(snapshot_.size());
  for (const auto& [id, status] : snapshot_) out.push_back(status);
  return out;
}

ListenerCounters RemoteListener::Impl::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

Result<std::unique_ptr<RemoteListener>> RemoteListener::start(base::EventLoop& owner,
                                                              ListenerOptions options,
                                                              ListenerCallbacks callbacks) {
  auto tls = TlsContext::create(options.tls, TlsContext::Role::kServer);
  if (!tls) return Error{"remote nodes: " + tls.error().message};
  auto fd = listen_on(options.address, options.port);
  if (!fd) return Error{"remote nodes: " + fd.error().message};
  if (options.name.empty()) {
    auto own = certificate_name(options.tls.cert);
    if (!own) return Error{"remote nodes: " + own.error().message};
    options.name = *own;
  }
  auto io = base::EventLoop::create();
  if (!io) return io.error();
  const std::uint16_t port = bound_port(fd->get());
  auto impl = std::make_shared<Impl>(owner, std::move(options), std::move(callbacks),
                                     std::move(*io), std::move(*tls), std::move(*fd));
  impl->set_port(port);
  impl->run();
  return std::unique_ptr<RemoteListener>(new RemoteListener(std::move(impl)));
}

RemoteListener::RemoteListener(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteListener::~RemoteListener() {
  *impl_->alive = false;
  impl_->stop();
}

std::uint16_t RemoteListener::port() const {
  return impl_->port();
}
void RemoteListener::welcome(LinkId link, std::uint64_t acked) {
  impl_->welcome(link, acked);
}
void RemoteListener::refuse(LinkId link, const std::string& why) {
  impl_->refuse(link, why);
}
void RemoteListener::ack(LinkId link, std::uint64_t seq) {
  impl_->ack(link, seq);
}
void RemoteListener::place(LinkId link, const Placement& placement) {
  impl_->place(link, placement);
}
std::vector<LinkStatus> RemoteListener::links() const {
  return impl_->links();
}
std::optional<std::uint64_t> RemoteListener::heartbeat_at(LinkId link) const {
  return impl_->heartbeat_at(link);
}
ListenerCounters RemoteListener::counters() const {
  return impl_->counters();
}

}  // namespace amata::remote
