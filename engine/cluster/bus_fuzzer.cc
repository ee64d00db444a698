// libFuzzer target over the cluster bus (engine/cluster/bus_wire.h): each input line is a
// message a peer sent on the CPG bus, decoded as ClusterManager::on_deliver does and applied
// to a placement ledger; a line "!1 2 3" is a membership change to those members. Invariants:
// no crash, no sanitizer report; a decoded message encodes and decodes to itself; the ledger's
// owner of a service is a member allowed to run it, and only the owner may start it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "engine/cluster/bus_wire.h"
#include "engine/cluster/placement.h"

namespace {

using namespace amata::cluster;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what.c_str());
  __builtin_trap();
}

bool same(const BusPayload& a, const BusPayload& b) {
  if (a.index() != b.index()) return false;
  if (auto* x = std::get_if<Announcement>(&a)) return *x == std::get<Announcement>(b);
  if (auto* x = std::get_if<FailoverRequest>(&a)) {
    const auto& y = std::get<FailoverRequest>(b);
    return x->service == y.service && x->target == y.target;
  }
  if (auto* x = std::get_if<FencedNotice>(&a)) return x->node == std::get<FencedNotice>(b).node;
  if (auto* x = std::get_if<PublishedEvent>(&a)) return x->body == std::get<PublishedEvent>(b).body;
  return std::get<UnknownMessage>(a).kind == std::get<UnknownMessage>(b).kind;
}

std::string encode(const BusPayload& message) {
  if (auto* a = std::get_if<Announcement>(&message)) return encode_announcement(*a);
  if (auto* r = std::get_if<FailoverRequest>(&message)) return encode_failover(*r);
  if (auto* f = std::get_if<FencedNotice>(&message)) return encode_fenced(f->node);
  if (auto* e = std::get_if<PublishedEvent>(&message)) return encode_event(e->body);
  return "{\"t\":" + nlohmann::json(std::get<UnknownMessage>(message).kind).dump() + "}";
}

void check_ledger(const Ledger& ledger) {
  const auto& members = ledger.members();
  for (const auto& s : ledger.services()) {
    auto owner = ledger.owner(s.name);
    if (owner) {
      if (!std::binary_search(members.begin(), members.end(), *owner)) {
        fail(s.name + ": the owner is not a member");
      }
      if (s.only_preferred &&
          std::find(s.preferred.begin(), s.preferred.end(), *owner) == s.preferred.end()) {
        fail(s.name + ": the owner is not a preferred node");
      }
    }
    for (NodeId self : members) {
      for (bool running : {false, true}) {
        Decision d = ledger.decide(s.name, self, running, true, QuorumLossPolicy::kStop);
        if ((d.action == LocalAction::kStart || d.action == LocalAction::kFence) &&
            d.owner != self) {
          fail(s.name + ": a node that does not own it starts it");
        }
        for (NodeId v : d.fence) {
          if (std::binary_search(members.begin(), members.end(), v)) fail("fencing a member");
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Ledger ledger(
      {{"web", {2, 1}, false, true}, {"db", {3}, true, false}, {"cache", {}, false, true}});
  std::vector<NodeId> members = {1, 2, 3};
  ledger.apply_membership({members, members, {}});
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.starts_with("!")) {
      std::istringstream ids(line.substr(1));
      std::vector<NodeId> now;
      for (long long id = 0; ids >> id;) now.push_back(static_cast<NodeId>(id));
      MembershipChange change{now, {}, {}};
      for (NodeId m : now)
        if (std::find(members.begin(), members.end(), m) == members.end())
          change.joined.push_back(m);
      for (NodeId m : members)
        if (std::find(now.begin(), now.end(), m) == now.end())
          change.left.emplace_back(m, static_cast<LeaveReason>(m % 3));
      ledger.apply_membership(change);
      members = now;
      check_ledger(ledger);
      continue;
    }
    auto message = decode_bus_payload(line);
    if (!message) continue;
    auto again = decode_bus_payload(encode(*message));
    if (!again || !same(*message, *again)) fail("a message does not survive encode and decode");
    const NodeId from = members.empty() ? 1 : members[n % members.size()];
    if (auto* a = std::get_if<Announcement>(&*message)) {
      ledger.apply_announcement(from, *a);
    } else if (auto* r = std::get_if<FailoverRequest>(&*message)) {
      (void)ledger.apply_failover(*r);
    } else if (auto* f = std::get_if<FencedNotice>(&*message)) {
      ledger.apply_fenced(f->node);
    }
    check_ledger(ledger);
  }
  return 0;
}
