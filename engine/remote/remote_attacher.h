// The remote node's end of the link: it attaches to one ring member at a time, streams its
// events there and proves it is alive with a heartbeat.
//
// The ring members are tried in the order given (the caller ranks them: rank_ring_members),
// each within `attach_timeout` (TCP, TLS, welcome). A ring member that stops answering
// heartbeats for half the ring's timeout is left for the next one in the order: the link
// moves on its own, with no vote, before the ring would count this node as gone. Events are
// numbered within an epoch (one per start of amatad) and kept until the ring acknowledges
// them; after a move the new ring member says what the ring already holds, and the rest is
// sent again in order. At most `max_buffered` wait: beyond that the oldest are dropped and
// counted, and the count goes with the next hello so the ring logs it.
//
// The remote node's clustered services (set_services) are reported to each member it
// attaches to, and that member places them: it says which the node may run. It may run them
// only under a lease, which each placement renews to lease_ms after the last heartbeat the
// member had heard then was sent. The member counts the node gone its timeout after the last
// heartbeat it received, and renews only while it is quorate and its own bus messages come
// back, so a lease shorter than that timeout ends before the ring may place the services
// elsewhere, however slow the network or the member.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/event_loop.h"
#include "base/result.h"
#include "engine/remote/tls.h"

namespace amata::remote {

struct AttachTarget {
  std::string name;  // the ring member's node name: its certificate must say the same
  std::string host;
  std::uint16_t port = 7420;
};

/// `members` ordered for the remote node `node`: highest-random-weight (rendezvous) hashing,
/// so every remote node has its own order, the remote nodes spread evenly over the ring, and
/// a member's death moves only its own remote nodes (each to its own next member).
std::vector<AttachTarget> rank_ring_members(std::string_view node,
                                            std::vector<AttachTarget> members);

struct AttacherOptions {
  std::vector<AttachTarget> targets;  // in the order to try them
  TlsFiles tls;
  std::size_t max_buffered = 10000;
  std::chrono::milliseconds attach_timeout{1000};
  /// After every target failed in a row, before the next round; doubles up to 8 times this.
  std::chrono::milliseconds retry{250};
};

struct AttacherStatus {
  std::optional<std::string> attached_to;  // the ring member, when attached
  base::Clock::time_point since;           // when the link last came or went
  std::string epoch;
  std::uint64_t published = 0;                         // events handed to publish()
  std::uint64_t acked = 0;                             // the last event the ring acknowledged
  std::uint64_t dropped = 0;                           // events dropped from a full buffer
  std::size_t buffered = 0;                            // events not yet acknowledged
  std::optional<std::chrono::microseconds> rtt;        // the last heartbeat's round trip
  std::string last_error;                              // why the last attempt or link failed
  std::optional<base::Clock::time_point> lease_until;  // when the lease ends (or ended)
  std::optional<std::set<std::string>> placed;         // the last placement's services
};

/// Called on the owner's loop, never after the attacher is gone.
struct AttacherCallbacks {
  std::function<void(const std::string& member)> on_attached;
  std::function<void(const std::string& member, const std::string& why)> on_detached;
  std::function<void(bool warning, const std::string& message)> on_log;
  // Last, so that callers who list the callbacks in order need not name them.
  /// A member's placement: every clustered service this node may run now, and the member's
  /// number for it (report it back with set_services once applied).
  std::function<void(const std::string& member, std::set<std::string> run, std::uint64_t n)>
      on_place;
  /// The lease moved later: the placed services may run until `valid_until`.
  std::function<void(base::Clock::time_point valid_until)> on_lease;
};

class RemoteAttacher {
 public:
  /// Reads the TLS files now (an error here), then attaches from its own thread.
  static Result<std::unique_ptr<RemoteAttacher>> start(base::EventLoop& owner,
                                                       AttacherOptions options,
                                                       AttacherCallbacks callbacks);
  ~RemoteAttacher();
  RemoteAttacher(const RemoteAttacher&) = delete;
  RemoteAttacher& operator=(const RemoteAttacher&) = delete;

  /// Queues an event (a JSON object) for the ring. Any thread.
  void publish(nlohmann::json body);
  /// The clustered services now, and the number of the last placement that changed what
  /// runs here: reported to the ring once attached and whenever they change (only the
  /// latest, if they change faster than it can be sent). Any thread.
  void set_services(std::set<std::string> running, std::set<std::string> gave_up,
                    std::set<std::string> eligible, std::uint64_t placed = 0);
  AttacherStatus status() const;

  class Impl;

 private:
  explicit RemoteAttacher(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace amata::remote
