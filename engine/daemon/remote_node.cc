#include "engine/daemon/remote_node.h"

#include <utility>

#include "engine/remote/tls.h"

namespace amata::daemon {

Result<std::unique_ptr<RemoteNode>> RemoteNode::create(
    base::EventLoop& loop, const catalog::ClusterSpec& spec,
    const std::vector<catalog::ObjectSpec>& objects, supervisor::Supervisor& supervisor,
    const Log& log) {
  auto name = remote::certificate_name(spec.tls_cert);
  if (!name) return Error{"remote node: " + name.error().message};
  std::unique_ptr<RemoteNode> node(new RemoteNode(spec, *name));
  RemoteNode* self = node.get();
  node->services_ = std::make_unique<RemoteServices>(
      loop, supervisor,
      [self](std::set<std::string> running, std::set<std::string> gave_up,
             std::set<std::string> eligible, std::uint64_t placed) {
        if (self->attacher_)
          self->attacher_->set_services(std::move(running), std::move(gave_up), std::move(eligible),
                                        placed);
      },
      log);
  std::vector<remote::AttachTarget> members;
  for (const auto& m : spec.attach) members.push_back({m.name, m.host, m.port});
  remote::AttacherOptions options;
  options.targets = remote::rank_ring_members(*name, std::move(members));
  options.tls = {spec.tls_cert, spec.tls_key, spec.tls_ca};
  remote::AttacherCallbacks callbacks{
      nullptr,
      nullptr,
      [log](bool warning, const std::string& message) { log(warning, message); },
      [self](const std::string& member, const std::set<std::string>& run, std::uint64_t n) {
        self->services_->place(member, run, n);
      },
      [self](base::Clock::time_point valid_until) { self->services_->lease(valid_until); },
  };
  auto attacher = remote::RemoteAttacher::start(loop, std::move(options), std::move(callbacks));
  if (!attacher) return attacher.error();
  node->attacher_ = std::move(*attacher);
  // Held back from boot. What already runs here (adopted from the last run of amatad) is
  // killed: this run cannot know how long ago the ring began counting the last one lost, so
  // no lease it could give itself is safe. The ring places it again.
  node->services_->configure(objects);
  node->services_->lease(base::Clock::now());  // a lease over at once
  log(false, "remote: this node is " + *name + ", attaching to cluster " + spec.name);
  return node;
}

bool RemoteNode::same_settings(const catalog::ClusterSpec& spec) const {
  if (spec.attach.size() != spec_.attach.size()) return false;
  for (std::size_t i = 0; i < spec.attach.size(); ++i) {
    const auto& a = spec.attach[i];
    const auto& b = spec_.attach[i];
    if (a.name != b.name || a.host != b.host || a.port != b.port) return false;
  }
  return spec.name == spec_.name && spec.tls_cert == spec_.tls_cert &&
         spec.tls_key == spec_.tls_key && spec.tls_ca == spec_.tls_ca;
}

nlohmann::json RemoteNode::status_json(base::Clock::time_point now, double now_unix) const {
  const remote::AttacherStatus s = attacher_->status();
  nlohmann::json out = {
      {"cluster", spec_.name},
      {"node", name_},
      {"attached_to", s.attached_to ? nlohmann::json(*s.attached_to) : nlohmann::json(nullptr)},
      {"since_unix_ms",
       static_cast<std::int64_t>(now_unix * 1000) -
           std::chrono::duration_cast<std::chrono::milliseconds>(now - s.since).count()},
      {"epoch", s.epoch},
      {"published", s.published},
      {"acked", s.acked},
      {"buffered", s.buffered},
      {"dropped", s.dropped},
      {"rtt_ms", s.rtt ? nlohmann::json(static_cast<double>(s.rtt->count()) / 1000)
                       : nlohmann::json(nullptr)},
  };
  if (!s.last_error.empty()) out["last_error"] = s.last_error;
  out["services"] = services_->status_json(now);
  return out;
}

}  // namespace amata::daemon
