// What every ring member knows of the remote nodes (docs/operations.md, "Remote nodes"), built
// from the cluster's history alone, so every member knows the same in the same order: which
// ring member serves each remote node, whether it counts as a member, and how far the ring
// holds its events.
//
// The ring member that holds a remote node's link publishes what happens to it as events
// whose body carries a "remote" object (the node's name comes from its certificate, never
// from what the node sent):
//
//   {"type": "remote", "message": "…", "remote": {"node": "c1", "epoch": "…", "state": "attached"}}
//   {"type": "remote", "message": "…", "remote": {"node": "c1", "epoch": "…", "state": "lost"}}
//   {<the remote node's own record>, "remote": {"node": "c1", "epoch": "…", "seq": 7}}
//
// A "lost" from a member that no longer serves the node (it moved first) changes nothing. A
// ring member that leaves the ring orphans its remote nodes: they stay members for `grace`
// (the remote-node timeout), time enough to attach to the next ring member.
//
// A member that joins the ring has no history of what came before: when one joins, every
// serving member says again, in one message, what it serves and how far the history holds
// each node's events:
//
//   {"type": "remote", "message": "…", "remote_served": [{"node": "c1", "epoch": "…", "acked": 7},
//   …]}
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"

namespace amata::cluster {

struct RemoteNodeState {
  std::string node;
  std::string via;    // the ring member that serves it (or served it last)
  std::string epoch;  // the run of its amatad
  bool member = false;
  base::Clock::time_point since;  // when `member` last changed
  std::uint64_t acked = 0;        // the last event of `epoch` in the history
  std::uint64_t events = 0;       // its events in the history since this member started
  std::optional<base::Clock::time_point> orphaned;  // `via` left the ring then
};

class RemoteRegistry {
 public:
  explicit RemoteRegistry(std::chrono::milliseconds grace) : grace_(grace) {}
  void set_grace(std::chrono::milliseconds grace) { grace_ = grace; }

  struct Notice;
  /// An event of the history published by ring member `from`: what it says about a remote
  /// node, if it is about one (and then the registry follows it).
  std::optional<Notice> apply(const std::string& from, const nlohmann::json& body,
                              base::Clock::time_point now);
  /// A "remote_served" list from `from`: the nodes it names.
  std::vector<std::string> apply_served(const std::string& from, const nlohmann::json& body,
                                        base::Clock::time_point now);
  /// Ring member `member` left the ring: its remote nodes are orphaned.
  void ring_member_left(const std::string& member, base::Clock::time_point now);
  /// Orphans whose grace has run out are no longer members: their names.
  std::vector<std::string> expire(base::Clock::time_point now);
  /// When the next orphan's grace runs out (nothing: no orphan).
  std::optional<base::Clock::time_point> next_expiry() const;
  std::chrono::milliseconds grace() const { return grace_; }

  /// The last event of `node`'s `epoch` the history holds (0: none, or another epoch).
  std::uint64_t acked(const std::string& node, const std::string& epoch) const;
  const std::map<std::string, RemoteNodeState>& nodes() const { return nodes_; }

  /// The "remote" object of a body, when it is one a ring member published.
  struct Notice {
    std::string node;
    std::string epoch;
    std::optional<std::uint64_t> seq;  // an event of the node
    std::string state;                 // or "attached" / "lost"
  };
  static std::optional<Notice> notice_of(const nlohmann::json& body);

 private:
  std::chrono::milliseconds grace_;
  std::map<std::string, RemoteNodeState> nodes_;
};

}  // namespace amata::cluster
