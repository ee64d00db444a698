// The wire format of the cluster bus: one JSON object a CPG message, its "t" naming the kind.
//
//   {"t": "announce", "running": [names], "gave_up": [names], "unfenced": [node ids],
//    "claims": [names], "placement": {name: fingerprint}, "remotes": [holding]}
//                                                            // the last three optional
//   {"t": "remote_state", "remote": holding}                 // from the member serving it
//   {"t": "remote_lost", "node": name, "epoch": "…", "via": node id, "seq": n}
//   {"t": "failover", "service": name, "target": node id}    // target optional
//   {"t": "fenced", "node": node id}
//   {"t": "event", "body": <the publisher's console record>}
//   {"t": "alive", "n": 7}     // for the sender's watchdog and remote leases; n optional
//   {"t": "status", "body": <an object>}     // the sender's state now: never in the history
//
// where a remote node's holding (placement.h, RemoteHolding) is
//
//   {"node": name, "via": node id, "epoch": "…", "seq": n, "eligible": [names],
//    "running": [names], "gave_up": [names], "granted": [names]}
//
// and its node id is computed from its name (remote_node_id), never taken from the wire.
//
// Messages come from other amatads, perhaps of another version, perhaps with a bug: decoding
// checks the type and range of every field it reads (node ids and fingerprints are unsigned
// 32-bit integers) and never throws; the caller logs and skips what does not decode.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"
#include "engine/cluster/placement.h"

namespace amata::cluster {

/// "fenced": the sender fenced `node`.
struct FencedNotice {
  NodeId node = 0;
};

/// "event": a record the sender published, as it sent it.
struct PublishedEvent {
  nlohmann::json body;
};

/// "status": what the sender says of its state now (the remote nodes it serves, their
/// heartbeats). Unlike an event it is not history: each one replaces the sender's last.
struct PublishedStatus {
  nlohmann::json body;
};

/// "alive": the sender's proof that corosync still delivers its messages (it feeds its
/// watchdog only while its own come back); the others ignore it.
struct AliveNotice {
  std::uint64_t n = 0;  // the sender's count, to match it with what it noted on sending
};

/// "remote_state": what the member serving a remote node publishes of it.
struct RemoteStateNotice {
  NodeId node = 0;  // remote_node_id(state.name)
  RemoteHolding state;
};

/// "remote_lost": remote node `name`, as it was when the sender started counting (run
/// `epoch`, served by `via`, its report `seq`), is gone.
struct RemoteLostNotice {
  std::string name;
  std::string epoch;
  NodeId via = 0;
  std::uint64_t seq = 0;
};

/// A well-formed message of a kind this amatad does not know (a newer version).
struct UnknownMessage {
  std::string kind;
};

/// One decoded message of the bus.
using BusPayload =
    std::variant<Announcement, FailoverRequest, FencedNotice, PublishedEvent, PublishedStatus,
                 AliveNotice, RemoteStateNotice, RemoteLostNotice, UnknownMessage>;

/// The bytes of each kind of message. Never throws: invalid UTF-8 becomes U+FFFD.
std::string encode_announcement(const Announcement& announcement);
std::string encode_failover(const FailoverRequest& request);
std::string encode_fenced(NodeId node);
std::string encode_event(nlohmann::json body);
std::string encode_status(nlohmann::json body);
std::string encode_alive(std::uint64_t n = 0);
std::string encode_remote_state(const RemoteHolding& state);
std::string encode_remote_lost(const RemoteLostNotice& lost);

/// A delivered message; an error says what is malformed in it.
Result<BusPayload> decode_bus_payload(std::string_view payload);

}  // namespace amata::cluster
