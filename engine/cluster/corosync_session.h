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
//
// A corosync that stops answering is also noticed: the thread asks it something every
// probe interval, and when one request has waited longer than corosync's own token timeout
// (at least 1 s), the owner hears on_connection(false) at once, as if corosync had gone away:
// its peers count this node gone about then, and with `on_quorum_loss stop` its clustered
// services stop here while they start elsewhere. Once corosync answers, the thread drops
// that connection and makes a new one; whatever it reported in between is not passed on.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  /// The least a request may wait before corosync counts as not answering (and the limit
  /// when its token timeout is unknown: corosync's default token).
  static constexpr std::chrono::milliseconds kMinUnanswered{1000};
  static constexpr std::chrono::milliseconds kUnansweredWithoutToken{3000};
  /// How often the thread asks corosync something, unless Options says otherwise.
  static constexpr std::chrono::milliseconds kProbeInterval{500};

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
    std::optional<std::chrono::milliseconds> token;
    std::uint64_t generation = 0;  // of the connection (a new one after not answering)
  };

  class Worker;

 private:
  CorosyncSession(base::EventLoop& owner, std::shared_ptr<Worker> worker, Callbacks callbacks);
  /// Runs on the owner's loop: takes the state, then passes the report on (unless it is of a
  /// connection given up for not answering).
  void receive(State state, const std::function<void(const Callbacks&)>& report);
  /// Every probe interval on the owner's loop: has a request waited too long?
  void check_answering();
  void arm_check();

  base::EventLoop& owner_;
  std::shared_ptr<Worker> worker_;
  Callbacks callbacks_;
  State state_;
  bool closed_ = false;
  std::uint64_t generation_ = 0;  // reports of older connections are dropped
  bool not_answering_ = false;    // counted as lost; waiting for the new connection
  base::EventLoop::TimerId check_timer_ = 0;
};

}  // namespace amata::cluster
