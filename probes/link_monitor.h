// rtnetlink link events (RTNLGRP_LINK) through libnl-route: carrier, operstate, mtu and the
// link's counters as the kernel announces them, for every interface, on one socket.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"

struct nl_sock;
struct nl_msg;
struct nl_object;

namespace amata::probes {

/// The counters of a link (RTNL_LINK_* stats; IFLA_STATS64).
struct LinkCounters {
  std::uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0, rx_errors = 0,
                tx_errors = 0, rx_drops = 0, tx_drops = 0;
};

/// What the kernel last said about one link.
struct LinkState {
  int ifindex = 0;
  std::string name;
  bool present = true;  // false after RTM_DELLINK
  int carrier = 0;      // catalog link state ordinal: 0 down, 1 up
  int operstate = 0;    // IF_OPER_*, which is the catalog's operstate ordinal
  unsigned mtu = 0;
  LinkCounters counters;
};

/// Receives link announcements; implemented by interface probes.
class LinkListener {
 public:
  virtual ~LinkListener() = default;
  virtual void on_link(const LinkState& state) = 0;
};

class LinkMonitor {
 public:
  /// Opens a NETLINK_ROUTE socket in the calling thread's network namespace, joins
  /// RTNLGRP_LINK, watches it on `loop` and asks for a dump of all links.
  static Result<std::unique_ptr<LinkMonitor>> create(base::EventLoop& loop);
  ~LinkMonitor();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;

  void add_listener(LinkListener* listener);
  void remove_listener(LinkListener* listener);
  /// The last known state of `name`, or nullptr (never seen, or the dump has not arrived).
  const LinkState* find(std::string_view name) const;
  /// Asks the kernel for every link again; answers arrive through the loop.
  Status request_dump();

 private:
  explicit LinkMonitor(base::EventLoop& loop) : loop_(loop) {}
  void on_readable();
  static int on_message(nl_msg* msg, void* self);
  static void on_object(nl_object* obj, void* self);

  base::EventLoop& loop_;
  nl_sock* sock_ = nullptr;
  int fd_ = -1;
  bool deleting_ = false;  // the message being parsed is RTM_DELLINK
  std::vector<LinkState> links_;
  std::vector<LinkListener*> listeners_;
};

}  // namespace amata::probes
