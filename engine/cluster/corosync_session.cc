#include "engine/cluster/corosync_session.h"

#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "base/signal_free_thread.h"

namespace amata::cluster {

// Lives as long as its thread: a thread stuck in a call to a stopped corosync outlives the
// session that gave up on it, and still owns its loop and connection.
class CorosyncSession::Worker : public std::enable_shared_from_this<Worker> {
 public:
  Worker(base::EventLoop& owner, Options options, std::unique_ptr<base::EventLoop> io)
      : owner_(&owner), options_(std::move(options)), io_(std::move(io)) {}

  void start(CorosyncSession* session);
  /// From the owner's thread: no report reaches the owner after this returns.
  void forget_owner();
  /// From the owner's thread: leave, close, end the thread; whether it ended within `timeout`.
  bool stop(std::chrono::milliseconds timeout);
  /// From the owner's thread.
  void queue(std::string payload);

 private:
  Callbacks reporting_callbacks();
  /// On the thread: the connection's state now, and `report` for the owner's loop.
  void report(std::function<void(const Callbacks&)> report);
  void to_owner(std::function<void()> fn);
  void log(bool warning, std::string message);
  /// On the thread: hands the queued messages to the connection.
  void drain();

  // Guards owner_ (set to null by forget_owner) against a post to a loop that is gone.
  std::mutex owner_mutex_;
  base::EventLoop* owner_;
  CorosyncSession* session_ = nullptr;  // dereferenced on the owner's thread only, if alive
  /// Set false on the owner's thread when the session closes; read there by every report.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);

  const Options options_;
  std::unique_ptr<base::EventLoop> io_;
  std::thread thread_;
  std::promise<void> finished_;

  // The thread's alone.
  std::unique_ptr<CorosyncConnection> connection_;
  std::shared_ptr<const std::map<NodeId, std::string>> names_ =
      std::make_shared<const std::map<NodeId, std::string>>();

  // Shared: messages from the owner not yet taken by the thread.
  std::mutex queue_mutex_;
  std::deque<std::string> queued_;
  bool drain_posted_ = false;
  std::uint64_t dropped_ = 0;  // since the queue last drained
};

void CorosyncSession::Worker::start(CorosyncSession* session) {
  session_ = session;
  io_->set_error_handler([this](std::string_view what) {
    log(true, "cluster: corosync thread: " + std::string(what));
  });
  thread_ = base::start_signal_free_thread([self = shared_from_this()] {
    self->connection_ =
        CorosyncConnection::create(*self->io_, self->options_, self->reporting_callbacks());
    if (Status ran = self->io_->run(); !ran.ok())
      self->log(true, "cluster: corosync thread: " + ran.error().message);
    self->connection_.reset();  // leaves the group (when stop() did not already)
    self->finished_.set_value();
  });
}

CorosyncSession::Callbacks CorosyncSession::Worker::reporting_callbacks() {
  Callbacks cb;
  cb.on_group_change = [this](const GroupChange& change) {
    report([change](const Callbacks& c) {
      if (c.on_group_change) c.on_group_change(change);
    });
  };
  cb.on_deliver = [this](const Delivery& d) {
    report([d](const Callbacks& c) {
      if (c.on_deliver) c.on_deliver(d);
    });
  };
  cb.on_quorum = [this](const QuorumView& q) {
    report([q](const Callbacks& c) {
      if (c.on_quorum) c.on_quorum(q);
    });
  };
  cb.on_connection = [this](bool connected, std::string_view why) {
    report([connected, why = std::string(why)](const Callbacks& c) {
      if (c.on_connection) c.on_connection(connected, why);
    });
  };
  return cb;
}

void CorosyncSession::Worker::report(std::function<void(const Callbacks&)> report) {
  State state;
  if (connection_) {
    state.joined = connection_->joined();
    state.connected = connection_->connected();
    state.local_node = connection_->local_node();
    if (*names_ != connection_->node_names())
      names_ = std::make_shared<const std::map<NodeId, std::string>>(connection_->node_names());
    state.quorum = connection_->quorum();
    state.ring = connection_->ring();
    state.sent = connection_->messages_sent();
    state.delivered = connection_->messages_delivered();
  }
  state.names = names_;
  to_owner([alive = alive_, session = session_, state = std::move(state),
            report = std::move(report)]() mutable {
    if (*alive) session->receive(std::move(state), report);
  });
}

void CorosyncSession::Worker::to_owner(std::function<void()> fn) {
  std::lock_guard lock(owner_mutex_);
  if (owner_) owner_->post(std::move(fn));
}

void CorosyncSession::Worker::log(bool warning, std::string message) {
  to_owner([alive = alive_, session = session_, warning, message = std::move(message)] {
    if (*alive && session->callbacks_.on_log) session->callbacks_.on_log(warning, message);
  });
}

void CorosyncSession::Worker::forget_owner() {
  *alive_ = false;
  std::lock_guard lock(owner_mutex_);
  owner_ = nullptr;
}

bool CorosyncSession::Worker::stop(std::chrono::milliseconds timeout) {
  std::future<void> finished = finished_.get_future();
  io_->post([this] {
    connection_.reset();
    io_->stop();
  });
  if (finished.wait_for(timeout) != std::future_status::ready) {
    thread_.detach();  // it holds the worker, which stays until corosync answers or we exit
    return false;
  }
  thread_.join();
  return true;
}

void CorosyncSession::Worker::queue(std::string payload) {
  bool post_drain = false;
  bool first_drop = false;
  {
    std::lock_guard lock(queue_mutex_);
    queued_.push_back(std::move(payload));
    if (queued_.size() > options_.max_queued) {
      queued_.pop_front();
      first_drop = dropped_++ == 0;
    }
    post_drain = !std::exchange(drain_posted_, true);
  }
  if (first_drop)
    log(true, "cluster: corosync is not taking messages: the oldest of " +
                  std::to_string(options_.max_queued) + " queued are being dropped");
  if (post_drain) io_->post([self = shared_from_this()] { self->drain(); });
}

void CorosyncSession::Worker::drain() {
  std::deque<std::string> batch;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(queue_mutex_);
    batch.swap(queued_);
    drain_posted_ = false;
    dropped = std::exchange(dropped_, 0);
  }
  if (dropped > 0)
    log(true, "cluster: " + std::to_string(dropped) +
                  " message(s) were dropped while corosync did not take them");
  if (!connection_) return;
  for (auto& payload : batch) (void)connection_->send(std::move(payload));
}

Result<std::unique_ptr<CorosyncSession>> CorosyncSession::create(base::EventLoop& owner,
                                                                 Options options,
                                                                 Callbacks callbacks) {
  auto io = base::EventLoop::create();
  if (!io.ok()) return Error{"cluster: corosync thread: " + io.error().message};
  auto worker = std::make_shared<Worker>(owner, std::move(options), std::move(*io));
  std::unique_ptr<CorosyncSession> session(new CorosyncSession(worker, std::move(callbacks)));
  worker->start(session.get());
  return session;
}

CorosyncSession::CorosyncSession(std::shared_ptr<Worker> worker, Callbacks callbacks)
    : worker_(std::move(worker)), callbacks_(std::move(callbacks)) {}

CorosyncSession::~CorosyncSession() {
  (void)close();
}

bool CorosyncSession::close(std::chrono::milliseconds timeout) {
  if (closed_) return true;
  closed_ = true;
  worker_->forget_owner();
  return worker_->stop(timeout);
}

Status CorosyncSession::send(std::string payload) {
  if (payload.empty()) return Error{"empty message"};
  if (closed_) return Error{"the corosync session is closed"};
  worker_->queue(std::move(payload));
  return {};
}

void CorosyncSession::receive(State state, const std::function<void(const Callbacks&)>& report) {
  state_ = std::move(state);
  report(callbacks_);
}

}  // namespace amata::cluster
