#include "tests/invariant/load_invariant.h"

#include <arpa/inet.h>

#include "base/event_loop.h"
#include "probes/probe.h"

namespace amata::invariant {
namespace {

/// Discards measurements: only whether each probe can be created matters here.
class NullSink : public probes::MeasurementSink {
 public:
  void set_number(int, std::string_view, double) override {}
  void set_string(int, std::string_view, std::string_view) override {}
  void changed(int) override {}
};

/// A literal address that resolves the same on every machine. An IPv6 address with a %zone
/// names an interface of this machine, so it counts as a name.
bool is_literal_address(const std::string& host) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.find('%') != std::string::npos) return false;
  in6_addr a6{};
  in_addr a4{};
  return inet_pton(AF_INET6, h.c_str(), &a6) == 1 || inet_pton(AF_INET, h.c_str(), &a4) == 1;
}

/// The spec with every host name (host address, tcp health target) replaced by 127.0.0.1;
/// `changed` says whether there was one.
catalog::ObjectSpec without_names(catalog::ObjectSpec spec, bool& changed) {
  changed = false;
  if (spec.kind == catalog::Kind::kHost && !is_literal_address(spec.host.address)) {
    spec.host.address = "127.0.0.1";
    changed = true;
  }
  for (auto& h : spec.health) {
    if (h.protocol != catalog::HealthCheckSpec::Protocol::kTcp) continue;
    const auto colon = h.target.rfind(':');
    if (colon == std::string::npos || is_literal_address(h.target.substr(0, colon))) continue;
    h.target = "127.0.0.1" + h.target.substr(colon);
    changed = true;
  }
  return spec;
}

}  // namespace

LoadOutcome probe_objects(const lower::LoadedPolicy& loaded, Names names) {
  LoadOutcome out;
  if (!loaded.policy) {
    out.failure = "load_policy failed:\n" + loaded.diagnostics;
    return out;
  }
  auto loop = base::EventLoop::create();
  if (!loop) {
    out.failure = "event loop: " + loop.error().message;
    return out;
  }
  NullSink sink;
  // The proc connector and rtnetlink are listeners of the machine (root, kernel options),
  // not of the policy: without them the probes poll, as amatad falls back to.
  probes::ProbeOptions options;
  options.use_proc_connector = false;
  options.use_rtnetlink = false;
  auto set = probes::ProbeSet::create(**loop, sink, options);
  if (!set) {
    out.failure = "probe set: " + set.error().message;
    return out;
  }
  const auto& objects = loaded.policy->tables().objects;
  for (std::size_t i = 0; i < objects.size(); ++i) {
    bool named = false;
    const catalog::ObjectSpec literal = without_names(objects[i], named);
    const catalog::ObjectSpec& spec = names == Names::kNeverResolve ? literal : objects[i];
    Status added = (*set)->add(static_cast<int>(i), spec);
    if (!added && names == Names::kResolve && named &&
        added.error().message.find("resolve ") != std::string::npos) {
      ++out.unresolved_names;
      added = (*set)->add(static_cast<int>(i), literal);
    }
    if (!added) {
      out.failure = "object " + objects[i].name + ": " + added.error().message;
      return out;
    }
    ++out.objects;
  }
  out.ok = true;
  return out;
}

}  // namespace amata::invariant
