#include "engine/cluster/remote_registry.h"

namespace amata::cluster {
namespace {

/// A whole number from 0 up, as parsed (unsigned) or as built in code (signed).
std::optional<std::uint64_t> count_of(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  return std::nullopt;
}

}  // namespace

std::optional<RemoteRegistry::Notice> RemoteRegistry::notice_of(const nlohmann::json& body) {
  if (!body.is_object()) return std::nullopt;
  const auto it = body.find("remote");
  if (it == body.end() || !it->is_object()) return std::nullopt;
  const auto& r = *it;
  const auto node = r.find("node");
  const auto epoch = r.find("epoch");
  if (node == r.end() || !node->is_string() || epoch == r.end() || !epoch->is_string()) {
    return std::nullopt;
  }
  Notice notice{node->get<std::string>(), epoch->get<std::string>(), std::nullopt, ""};
  if (const auto seq = r.find("seq"); seq != r.end() && count_of(*seq)) {
    notice.seq = count_of(*seq);
  } else if (const auto state = r.find("state"); state != r.end() && state->is_string()) {
    notice.state = state->get<std::string>();
    if (notice.state != "attached" && notice.state != "lost") return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (notice.node.empty()) return std::nullopt;
  return notice;
}

std::optional<RemoteRegistry::Notice> RemoteRegistry::apply(const std::string& from,
                                                            const nlohmann::json& body,
                                                            base::Clock::time_point now) {
  auto notice = notice_of(body);
  if (!notice) return std::nullopt;
  const bool known = nodes_.count(notice->node) != 0;
  RemoteNodeState& s = nodes_[notice->node];
  if (!known) {
    s.node = notice->node;
    s.since = now;
  }
  const auto set_member = [&s, now](bool member) {
    if (s.member != member) s.since = now;
    s.member = member;
  };
  if (notice->seq) {
    // Only the serving member publishes a node's events; one from an old link that is
    // still draining does no harm: it is the same epoch's next events, in order.
    if (s.epoch != notice->epoch) {
      s.epoch = notice->epoch;
      s.acked = 0;
    }
    s.acked = std::max(s.acked, *notice->seq);
    ++s.events;
  } else if (notice->state == "attached") {
    if (s.epoch != notice->epoch) s.acked = 0;
    s.epoch = notice->epoch;
    s.via = from;
    s.orphaned.reset();
    set_member(true);
  } else if (s.via == from && s.epoch == notice->epoch) {  // "lost", from its current member
    s.orphaned.reset();
    set_member(false);
  }
  return notice;
}

std::vector<std::string> RemoteRegistry::apply_served(const std::string& from,
                                                      const nlohmann::json& body,
                                                      base::Clock::time_point now) {
  std::vector<std::string> named;
  // A body with a `remote` object is about one remote node — its own event, which its member
  // marks so — and never a member's list: a node cannot vouch for others.
  if (!body.is_object() || body.contains("remote")) return named;
  const auto list = body.find("remote_served");
  if (list == body.end() || !list->is_array()) return named;
  for (const auto& entry : *list) {
    if (!entry.is_object()) continue;
    const auto node = entry.find("node");
    const auto epoch = entry.find("epoch");
    const auto acked = entry.find("acked");
    if (node == entry.end() || !node->is_string() || node->get<std::string>().empty() ||
        epoch == entry.end() || !epoch->is_string() || acked == entry.end() || !count_of(*acked)) {
      continue;
    }
    const nlohmann::json attached = {
        {"remote", {{"node", *node}, {"epoch", *epoch}, {"state", "attached"}}}};
    (void)apply(from, attached, now);
    RemoteNodeState& s = nodes_[node->get<std::string>()];
    s.acked = std::max(s.acked, *count_of(*acked));
    named.push_back(s.node);
  }
  return named;
}

void RemoteRegistry::ring_member_left(const std::string& member, base::Clock::time_point now) {
  for (auto& [name, s] : nodes_) {
    if (s.via == member && s.member && !s.orphaned) s.orphaned = now;
  }
}

std::vector<std::string> RemoteRegistry::expire(base::Clock::time_point now) {
  std::vector<std::string> lost;
  for (auto& [name, s] : nodes_) {
    if (!s.orphaned || now - *s.orphaned < grace_) continue;
    s.orphaned.reset();
    s.member = false;
    s.since = now;
    lost.push_back(name);
  }
  return lost;
}

std::optional<base::Clock::time_point> RemoteRegistry::next_expiry() const {
  std::optional<base::Clock::time_point> next;
  for (const auto& [name, s] : nodes_) {
    if (s.orphaned && (!next || *s.orphaned + grace_ < *next)) next = *s.orphaned + grace_;
  }
  return next;
}

std::uint64_t RemoteRegistry::acked(const std::string& node, const std::string& epoch) const {
  const auto it = nodes_.find(node);
  return it == nodes_.end() || it->second.epoch != epoch ? 0 : it->second.acked;
}

}  // namespace amata::cluster
