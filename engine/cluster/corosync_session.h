// amatad's connection to the local Corosync, on a thread of its own.
//
// Corosync's libraries wait for corosync's answer to every request with no timeout. Run on
// the daemon's loop, a stopped corosync (SIGSTOP, a paused VM, a corosync stuck on its own
// disk) held the whole daemon at the next request that waits for an answer (leaving the
// group when amatad stops, joining, a multicast once corosync's buffer is full): no service
// was restarted, no console command answered, amatad never exited. Here a
// CorosyncConnection (corosync_connection.h) runs on its own EventLoop and thread, which
// alone touches Corosync's handles; the owner's loop only hands it messages and receives
// what it reports, in order, through EventLoop::post.
//
// The accessors (joined(), quorum(), ...) read a copy of the connection's state taken with
// each report, so what the owner reads always agrees with the reports it has seen: a
// membership change reported later has not happened yet, for the owner.
//
// The messages handed over and not yet taken by the thread wait in a queue bounded like the
// connection's own (Options::max_queued, oldest dropped): a corosync stopped for hours costs
// at most that much memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"
#include "engine/cluster/corosync_connection.h"

namespace amata::cluster {

class CorosyncSession {
 public:
  using Options = CorosyncOptions;
  using Callbacks = CorosyncCallbacks;

  /// Starts the thread, which connects at once; failures are retried there, never fatal.
  /// The callbacks run on `owner`'s loop, never after the session is closed or destroyed.
  static Result<std::unique_ptr<CorosyncSession>> create(base::EventLoop& owner, Options options,
                                                         Callbacks callbacks);
  /// close(kCloseTimeout) unless closed already.
  ~CorosyncSession();
  CorosyncSession(const CorosyncSession&) = delete;
  CorosyncSession& operator=(const CorosyncSession&) = delete;

  /// How long close() waits, by default, for a corosync that does not answer.
  static constexpr std::chrono::milliseconds kCloseTimeout{2000};

  /// Leaves the group cleanly and closes the connection; no callback runs after it. Waits at
  /// most `timeout` for corosync: false when it did not answer in time, and the thread, stuck
  /// in a call to it, is left to finish (or to end with the process) on its own.
  bool close(std::chrono::milliseconds timeout = kCloseTimeout);

  /// Queues `payload` for agreed-order multicast (CorosyncConnection::send); returns at once.
  Status send(std::string payload);

  /// The connection's state as of the last report the owner's loop has run.
  bool joined() const { return state_.joined; }
  bool connected() const { return state_.connected; }
  NodeId local_node() const { return state_.local_node; }
  const std::map<NodeId, std::string>& node_names() const { return *state_.names; }
  const QuorumView& quorum() const { return state_.quorum; }
  const RingId& ring() const { return state_.ring; }
  std::uint64_t messages_sent() const { return state_.sent; }
  std::uint64_t messages_delivered() const { return state_.delivered; }

  /// What the thread copies with each report.
  struct State {
    bool joined = false;
    bool connected = false;
    NodeId local_node = 0;
    std::shared_ptr<const std::map<NodeId, std::string>> names =
        std::make_shared<const std::map<NodeId, std::string>>();
    QuorumView quorum;
    RingId ring;
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
  };

  class Worker;

 private:
  CorosyncSession(std::shared_ptr<Worker> worker, Callbacks callbacks);
  /// Runs on the owner's loop: takes the state, then passes the report on.
  void receive(State state, const std::function<void(const Callbacks&)>& report);

  std::shared_ptr<Worker> worker_;
  Callbacks callbacks_;
  State state_;
  bool closed_ = false;
};

}  // namespace amata::cluster
