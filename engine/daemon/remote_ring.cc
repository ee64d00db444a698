#include "engine/daemon/remote_ring.h"

#include <fmt/format.h>

#include <utility>

namespace amata::daemon {

using nlohmann::json;

RemoteRing::RemoteRing(base::EventLoop& loop, RingAccess ring, std::chrono::milliseconds timeout)
    : loop_(loop), ring_(std::move(ring)), registry_(timeout) {}

RemoteRing::~RemoteRing() {
  *alive_ = false;
  if (orphan_timer_ != 0) loop_.cancel_timer(orphan_timer_);
  if (health_timer_ != 0) loop_.cancel_timer(health_timer_);
}

Result<std::unique_ptr<RemoteRing>> RemoteRing::create(base::EventLoop& loop,
                                                       const catalog::ClusterSpec& spec,
                                                       RingAccess ring) {
  std::unique_ptr<RemoteRing> self(
      new RemoteRing(loop, std::move(ring), std::chrono::milliseconds(spec.remote_timeout_ms)));
  self->listening_ = spec;
  if (spec.remote_port != 0) {
    if (Status s = self->listen(spec); !s) return s.error();
  }
  self->arm_health_timer();
  return self;
}

Status RemoteRing::listen(const catalog::ClusterSpec& spec) {
  listener_.reset();
  while (!served_.empty()) forget_link(served_.begin()->first);
  listening_ = spec;
  if (spec.remote_port == 0) return {};
  remote::ListenerOptions options;
  options.address = spec.remote_address.empty() ? "0.0.0.0" : spec.remote_address;
  options.port = spec.remote_port;
  options.tls = {spec.tls_cert, spec.tls_key, spec.tls_ca};
  options.heartbeat_timeout = std::chrono::milliseconds(spec.remote_timeout_ms);
  remote::ListenerCallbacks callbacks{
      [this](const remote::HelloRequest& hello) { on_hello(hello); },
      [this](remote::LinkId link, const std::string& node, remote::RemoteEvent event) {
        on_event(link, node, std::move(event));
      },
      [this](remote::LinkId link, const std::string& node, const std::string& why,
             base::Clock::time_point last_heartbeat) { on_gone(link, node, why, last_heartbeat); },
      [this](bool warning, const std::string& message) { ring_.log(warning, message); },
      [this](remote::LinkId link, const std::string& node, remote::ServiceReport report) {
        on_report(link, node, std::move(report));
      },
  };
  auto listener = remote::RemoteListener::start(loop_, std::move(options), std::move(callbacks));
  if (!listener) return listener.error();
  listener_ = std::move(*listener);
  ring_.log(false, fmt::format("remote nodes: listening on {} port {}",
                               spec.remote_address.empty() ? "every address" : spec.remote_address,
                               listener_->port()));
  return {};
}

Status RemoteRing::reconfigure(const catalog::ClusterSpec& spec) {
  registry_.set_grace(std::chrono::milliseconds(spec.remote_timeout_ms));
  arm_orphan_timer();  // the orphans' deadlines moved with the timeout
  const bool same = spec.remote_port == listening_.remote_port &&
                    spec.remote_address == listening_.remote_address &&
                    spec.remote_timeout_ms == listening_.remote_timeout_ms &&
                    spec.tls_cert == listening_.tls_cert && spec.tls_key == listening_.tls_key &&
                    spec.tls_ca == listening_.tls_ca;
  if (same) {
    listening_ = spec;
    return {};
  }
  Status listened = listen(spec);
  arm_health_timer();  // the period follows the timeout
  return listened;
}

Status RemoteRing::notify(const std::string& node, const std::string& epoch,
                          const std::string& state, const std::string& message) {
  return ring_.publish(json{{"type", "remote"},
                            {"message", message},
                            {"remote", {{"node", node}, {"epoch", epoch}, {"state", state}}}});
}

void RemoteRing::on_hello(const remote::HelloRequest& hello) {
  if (auto why = ring_.cannot_serve()) {
    listener_->refuse(hello.link, *why);
    return;
  }
  if (hello.node == ring_.local_name() || ring_.is_ring_member(hello.node)) {
    ring_.log(true, fmt::format("remote nodes: refused {} ({}): that is a ring member's name",
                                hello.node, hello.address));
    listener_->refuse(hello.link, hello.node + " is the name of a ring member");
    return;
  }
  std::string message =
      fmt::format("{} attached via {} from {}", hello.node, ring_.local_name(), hello.address);
  if (hello.hello.dropped > 0) {
    message +=
        fmt::format("; it has dropped {} event(s) its buffer could not hold", hello.hello.dropped);
  }
  if (Status s = notify(hello.node, hello.hello.epoch, "attached", message); !s) {
    listener_->refuse(hello.link, "the ring's bus: " + s.error().message);
    return;
  }
  if (served_.count(hello.node)) forget_link(hello.node);
  served_[hello.node] = Served{hello.link, hello.hello.epoch, hello.address};
  listener_->welcome(hello.link, registry_.acked(hello.node, hello.hello.epoch));
}

void RemoteRing::on_event(remote::LinkId link, const std::string& node, remote::RemoteEvent event) {
  const auto it = served_.find(node);
  if (it == served_.end() || it->second.link != link) return;  // a link already replaced
  const std::string& epoch = it->second.epoch;
  // Sent again after a move, but already in the history: acknowledged, not repeated.
  if (event.seq <= registry_.acked(node, epoch)) {
    listener_->ack(link, event.seq);
    return;
  }
  json body = std::move(event.body);
  // Who it is about comes from the certificate: whatever the node wrote there is replaced,
  // and it may not speak for the ring (remote_registry.h).
  body["remote"] = {{"node", node}, {"epoch", epoch}, {"seq", event.seq}};
  body.erase("remote_served");
  if (Status s = ring_.publish(std::move(body)); !s) {
    listener_->refuse(link, "the ring's bus: " + s.error().message);
    forget_link(node);
  }
}

void RemoteRing::on_report(remote::LinkId link, const std::string& node,
                           remote::ServiceReport report) {
  const auto it = served_.find(node);
  if (it == served_.end() || it->second.link != link || !ring_.report) return;
  ring_.report(
      node, it->second.epoch,
      cluster::RemoteReport{report.seq, std::move(report.eligible), std::move(report.running),
                            std::move(report.gave_up), report.placed});
}

void RemoteRing::place(const std::string& node, const std::set<std::string>& run,
                       std::chrono::milliseconds lease, std::optional<std::uint64_t> at,
                       std::uint64_t n) {
  const auto it = served_.find(node);
  if (it == served_.end() || !listener_) return;
  listener_->place(it->second.link,
                   remote::Placement{run, static_cast<std::uint32_t>(lease.count()), at, n});
}

std::optional<std::uint64_t> RemoteRing::heartbeat_at(const std::string& node) const {
  const auto it = served_.find(node);
  if (it == served_.end() || !listener_) return std::nullopt;
  return listener_->heartbeat_at(it->second.link);
}

void RemoteRing::forget_link(const std::string& node,
                             std::optional<base::Clock::time_point> last_heartbeat) {
  const auto it = served_.find(node);
  if (it == served_.end()) return;
  // Taken out whole, key and all: `node` may be that very key.
  const auto gone = served_.extract(it);
  // Every lease this member gave the node counts from a heartbeat read here by then, and
  // the node sent it earlier still: the lease ends before the ring counts the node lost.
  if (ring_.detached)
    ring_.detached(gone.key(), gone.mapped().epoch, last_heartbeat.value_or(base::Clock::now()));
}

void RemoteRing::on_gone(remote::LinkId link, const std::string& node, const std::string& why,
                         base::Clock::time_point last_heartbeat) {
  const auto it = served_.find(node);
  if (it == served_.end() || it->second.link != link) return;
  const std::string epoch = it->second.epoch;
  forget_link(node, last_heartbeat);
  (void)notify(node, epoch, "lost",
               fmt::format("{} lost by {}: {}", node, ring_.local_name(), why));
}

void RemoteRing::on_bus(const cluster::BusMessage& entry) {
  const auto now = base::Clock::now();
  if (entry.kind == cluster::BusMessage::Kind::kMembership) {
    const auto joined = entry.body.find("joined");
    if (joined != entry.body.end() && joined->is_array() && !joined->empty()) announce_served();
    const auto left = entry.body.find("left");
    if (left == entry.body.end() || !left->is_array()) return;
    for (const auto& l : *left) {
      if (!l.is_object() || !l.contains("node") || !l["node"].is_string()) continue;
      registry_.ring_member_left(l["node"].get<std::string>(), now);
    }
    arm_orphan_timer();
    return;
  }
  for (const auto& node : registry_.apply_served(entry.from_name, entry.body, now)) {
    const auto served = served_.find(node);
    if (entry.from_name != ring_.local_name() && served != served_.end() && listener_) {
      listener_->refuse(served->second.link, node + " is attached via " + entry.from_name + " now");
      forget_link(node);
    }
  }
  const auto notice = registry_.apply(entry.from_name, entry.body, now);
  if (!notice) return;
  const bool mine = entry.from_name == ring_.local_name();
  const auto served = served_.find(notice->node);
  if (notice->seq) {
    if (mine && served != served_.end() && served->second.epoch == notice->epoch && listener_) {
      listener_->ack(served->second.link, *notice->seq);
    }
    return;
  }
  ring_.log(notice->state == "lost", "remote: " + entry.body.value("message", notice->node));
  // Attached elsewhere: the link this member still holds is an old one.
  if (notice->state == "attached" && !mine && served != served_.end() && listener_) {
    listener_->refuse(served->second.link,
                      notice->node + " is attached via " + entry.from_name + " now");
    forget_link(notice->node);
  }
}

void RemoteRing::announce_served() {
  if (served_.empty()) return;
  json list = json::array();
  std::string names;
  for (const auto& [node, served] : served_) {
    list.push_back(
        {{"node", node}, {"epoch", served.epoch}, {"acked", registry_.acked(node, served.epoch)}});
    names += (names.empty() ? "" : ", ") + node;
  }
  (void)ring_.publish(json{{"type", "remote"},
                           {"message", fmt::format("{} serves {} remote node(s): {}",
                                                   ring_.local_name(), served_.size(), names)},
                           {"remote_served", std::move(list)}});
}

// A remote node re-attaches within half its timeout; one that has not after the whole of it
// is gone with its ring member. Each orphan has its own deadline: the timer follows the next.
void RemoteRing::arm_orphan_timer() {
  if (orphan_timer_ != 0) loop_.cancel_timer(std::exchange(orphan_timer_, 0));
  const auto next = registry_.next_expiry();
  if (!next) return;
  std::weak_ptr<bool> alive = alive_;
  orphan_timer_ = loop_.add_timer(*next, [this, alive] {
    if (alive.expired()) return;
    orphan_timer_ = 0;
    for (const auto& name : registry_.expire(base::Clock::now())) {
      ring_.log(true, fmt::format("remote: {} lost: its ring member left and it did not attach "
                                  "to another within {} ms",
                                  name, registry_.grace().count()));
    }
    arm_orphan_timer();
  });
}

// A report per remote timeout: the others show a heartbeat at most that much older than the
// serving member does, for one bus message per serving member and period.
void RemoteRing::arm_health_timer() {
  if (health_timer_ != 0) loop_.cancel_timer(std::exchange(health_timer_, 0));
  if (listening_.remote_port == 0) return;
  std::weak_ptr<bool> alive = alive_;
  health_timer_ =
      loop_.add_timer_after(std::chrono::milliseconds(listening_.remote_timeout_ms), [this, alive] {
        if (alive.expired()) return;
        health_timer_ = 0;
        publish_health();
        arm_health_timer();
      });
}

void RemoteRing::publish_health() {
  if (!listener_ || served_.empty() || !ring_.publish_status) return;
  const auto now = base::Clock::now();
  json nodes = json::array();
  for (const auto& link : listener_->links()) {
    const auto served = served_.find(link.node);
    if (served == served_.end() || served->second.link != link.link) continue;
    nodes.push_back(
        {{"node", link.node},
         {"epoch", served->second.epoch},
         {"heartbeat_age_ms",
          std::chrono::duration_cast<std::chrono::milliseconds>(now - link.last_heartbeat).count()},
         {"rtt_ms", link.rtt ? json(static_cast<double>(link.rtt->count()) / 1000) : json()}});
  }
  if (!nodes.empty()) (void)ring_.publish_status(json{{"remote_health", std::move(nodes)}});
}

// From another amatad, perhaps another version: every field is checked, a bad entry skipped.
// An age is at most a day (a link that silent is long gone), so aging it never overflows.
constexpr std::uint64_t kMaxReportedAgeMs = 86'400'000;

void RemoteRing::on_status(const std::string& from, const json& body) {
  const auto list = body.find("remote_health");
  if (list == body.end() || !list->is_array()) return;
  const auto now = base::Clock::now();
  for (const auto& entry : *list) {
    if (!entry.is_object()) continue;
    const auto node = entry.find("node");
    const auto epoch = entry.find("epoch");
    const auto age = entry.find("heartbeat_age_ms");
    const auto rtt = entry.find("rtt_ms");
    if (node == entry.end() || !node->is_string() || epoch == entry.end() || !epoch->is_string() ||
        age == entry.end() || !age->is_number_unsigned() ||
        age->get<std::uint64_t>() > kMaxReportedAgeMs || rtt == entry.end() ||
        !(rtt->is_number() || rtt->is_null()))
      continue;
    Health h{from, epoch->get<std::string>(), static_cast<std::int64_t>(age->get<std::uint64_t>()),
             std::nullopt, now};
    if (rtt->is_number()) h.rtt_ms = rtt->get<double>();
    health_[node->get<std::string>()] = std::move(h);
  }
}

void RemoteRing::check_serving() {
  if (!listener_ || served_.empty()) return;
  const auto why = ring_.cannot_serve();
  if (!why) return;
  for (const auto& [node, served] : served_) listener_->refuse(served.link, *why);
  ring_.log(true, fmt::format("remote nodes: closed {} link(s): {}", served_.size(), *why));
  while (!served_.empty()) forget_link(served_.begin()->first);
}

std::vector<cluster::PeerView> RemoteRing::peers(bool quorate) const {
  std::vector<cluster::PeerView> out;
  for (const auto& [name, s] : registry_.nodes()) {
    out.push_back(cluster::PeerView{0, name, s.member, quorate, false, s.since});
  }
  return out;
}

json RemoteRing::status_json(base::Clock::time_point now, double now_unix) const {
  std::map<std::string, remote::LinkStatus> links;
  if (listener_) {
    for (auto& link : listener_->links()) links[link.node] = std::move(link);
  }
  const auto ms = [](base::Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  json out = json::array();
  for (const auto& [name, s] : registry_.nodes()) {
    json r = {{"name", name},
              {"member", s.member},
              {"via", s.via},
              {"epoch", s.epoch},
              {"since_unix_ms", static_cast<std::int64_t>(now_unix * 1000) - ms(now - s.since)},
              {"events", s.events},
              {"acked", s.acked},
              {"here", served_.count(name) != 0}};
    if (const auto it = links.find(name); it != links.end() && served_.count(name) != 0) {
      r["address"] = it->second.address;
      r["heartbeat_age_ms"] = ms(now - it->second.last_heartbeat);
      r["rtt_ms"] = it->second.rtt ? json(static_cast<double>(it->second.rtt->count()) / 1000)
                                   : json(nullptr);
    } else if (const auto h = health_.find(name); s.member && h != health_.end() &&
                                                  h->second.from == s.via &&
                                                  h->second.epoch == s.epoch) {
      // As its member last reported it, aged since: no heartbeat can have come sooner.
      r["heartbeat_age_ms"] = h->second.age_ms + ms(now - h->second.received);
      r["rtt_ms"] = h->second.rtt_ms ? json(*h->second.rtt_ms) : json(nullptr);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace amata::daemon
