// The remote-node link's wire format: one JSON object a line (as the console's), over TLS,
// its "t" naming the kind. A remote node sends
//
//   {"t": "hello", "epoch": "9f3c…", "dropped": 0}   first: which run of its amatad this is,
//                                                   and how many events its buffer dropped
//   {"t": "hb", "at": 123456, "rtt_us": 840}         its heartbeat; `at` is echoed back, and
//                                                   `rtt_us` is the last echo's round trip
//   {"t": "ev", "seq": 7, "body": {…}}               an event, numbered from 1 in each epoch
//   {"t": "state", "seq": 3, "running": ["db"],      its clustered services: those it may run
//    "gave_up": [], "eligible": ["db", "web"],       (eligible), runs or is starting (running),
//    "placed": 4}                                    could not keep running (gave_up); seq
//                                                   numbered from 1 over its attacher's life;
//                                                   placed: the last placement applied
//
// and the ring member that serves it answers
//
//   {"t": "welcome", "node": "n1", "heartbeat_ms": 500, "timeout_ms": 2000, "acked": 6}
//   {"t": "hb", "at": 123456}                        the echo
//   {"t": "ack", "seq": 7}                           the ring has the events up to 7
//   {"t": "place", "run": ["db"], "lease_ms": 1125, "at": 123456, "n": 4}
//                                                   every clustered service the remote node
//                                                   may run now: until lease_ms after it
//                                                   sent heartbeat `at` (none: its hello);
//                                                   n numbers the placements of a link
//   {"t": "bye", "why": "…"}                         before it closes the link
//
// Both ends are amatads, perhaps of other versions, perhaps a stranger with a stolen key:
// decoding checks the type and range of every field and never throws. A list of service names
// holds at most kMaxNames distinct names of 1 to kMaxNameBytes bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "base/result.h"

namespace amata::remote {

/// The longest line either end accepts; a longer one ends the link.
inline constexpr std::size_t kMaxFrameBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxNames = 1024;
inline constexpr std::size_t kMaxNameBytes = 256;

struct Hello {
  std::string epoch;  // 1 to 32 hex digits, new at every start of the remote's amatad
  std::uint64_t dropped = 0;
};
struct Heartbeat {
  std::uint64_t at = 0;                 // the sender's clock, in ms; only echoed
  std::optional<std::uint64_t> rtt_us;  // remote → ring: the last heartbeat's round trip
};
struct RemoteEvent {
  std::uint64_t seq = 0;
  nlohmann::json body;  // an object
};
/// Remote → ring: the remote node's clustered services.
struct ServiceReport {
  std::uint64_t seq = 0;  // from 1; a higher one is newer, across moves too
  std::set<std::string> running, gave_up, eligible;
  /// The number (Placement::n) of the last placement on this link that changed what it may
  /// run, applied before this report was made (0: none).
  std::uint64_t placed = 0;
};
struct Welcome {
  std::string node;  // the ring member's name
  std::uint32_t heartbeat_ms = 0;
  std::uint32_t timeout_ms = 0;
  std::uint64_t acked = 0;  // the last event of this epoch the ring holds (0: none)
};
struct Ack {
  std::uint64_t seq = 0;
};
struct Bye {
  std::string why;
};
/// Ring → remote: the complete set of clustered services the remote node may run now.
struct Placement {
  std::set<std::string> run;
  std::uint32_t lease_ms = 0;  // at least 1
  /// The `at` of the last heartbeat the member had received on this link when it decided:
  /// the lease runs lease_ms from then, by the remote node's own clock (none: from its hello).
  std::optional<std::uint64_t> at;
  std::uint64_t n = 0;  // the member's number for it, on this link (0: unnumbered)
};

using LinkMessage =
    std::variant<Hello, Heartbeat, RemoteEvent, ServiceReport, Welcome, Ack, Bye, Placement>;

/// One line, with its newline.
std::string encode(const LinkMessage& message);
/// A line without its newline; an error says what is wrong with it.
Result<LinkMessage> decode(std::string_view line);

/// Cuts a byte stream into lines of at most kMaxFrameBytes.
class FrameReader {
 public:
  enum class Next : std::uint8_t { kLine, kNeedMore, kTooLong };
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  /// The next whole line (without its newline) into `line`.
  Next next(std::string& line);
  std::size_t buffered() const { return buffer_.size() - start_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;    // where the next line begins
  std::size_t scanned_ = 0;  // how far from start_ no newline was found
};

}  // namespace amata::remote
