#include "compiler/check/cluster.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "compiler/check/names.h"
#include "compiler/check/settings.h"

namespace amata::check {

using catalog::Kind;

namespace {

/// A node name as the remote-node link takes it from a certificate (engine/remote/tls.h).
bool node_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (const char c : name) {
    if (c <= ' ' || c > '~' || c == '/' || c == ':' || c == '@') return false;
  }
  return true;
}

/// `NODE@HOST[:PORT]`, HOST a name, an IPv4 address or an IPv6 one in brackets; or why not.
std::variant<catalog::ClusterSpec::RingMember, std::string> ring_member(std::string_view text) {
  catalog::ClusterSpec::RingMember member;
  const auto at = text.find('@');
  if (at == std::string_view::npos) return std::string("expected NODE@HOST[:PORT]");
  member.name = std::string(text.substr(0, at));
  if (!node_name_ok(member.name)) {
    return "node name " + quote(member.name) +
           " is not 1 to 15 printable bytes without blanks, '/', ':' or '@'";
  }
  std::string_view rest = text.substr(at + 1);
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return std::string("an IPv6 address without its ']'");
    member.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::string("expected ':PORT' after the ']'");
      port = rest.substr(1);
    }
    if (member.host.empty() ||
        member.host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return "an IPv6 address " + quote(member.host) + " in brackets";
    }
  } else {
    const auto colon = rest.find(':');
    member.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (member.host.empty() || member.host.size() > 253 ||
        member.host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789.-") != std::string::npos) {
      return "host " + quote(member.host) + " is not a host name or an IPv4 address";
    }
  }
  if (!port.empty() || (text.back() == ':')) {
    int value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || value > 65535)
        return "port " + quote(std::string(port)) + " is not 1 to 65535";
      value = value * 10 + (c - '0');
    }
    if (port.empty() || value < 1 || value > 65535) {
      return "port " + quote(std::string(port)) + " is not 1 to 65535";
    }
    member.port = static_cast<std::uint16_t>(value);
  }
  return member;
}

/// Whether `text` is a numeric IPv4 or IPv6 address.
bool numeric_address(const std::string& text) {
  in6_addr buffer{};
  return ::inet_pton(AF_INET, text.c_str(), &buffer) == 1 ||
         ::inet_pton(AF_INET6, text.c_str(), &buffer) == 1;
}

/// What ties the remote-node settings together: a remote node (`attach`) does not join
/// Corosync, and both ends of the link need their TLS files.
void check_remote(CheckContext& ctx, const ast::ObjectDecl& decl,
                  std::map<std::string, ast::SourceRange>& seen) {
  // Given, even if wrongly: a bad value is reported once, not again through what it implies.
  const bool remote = seen.count("attach") != 0;
  const bool listens = seen.count("remote_port") != 0;
  if (remote) {
    for (const char* ring_only :
         {"group", "on_quorum_loss", "fence", "remote_port", "remote_address", "remote_timeout"}) {
      if (seen.count(ring_only) == 0) continue;
      ctx.diags.report(diag::Code::kInvalidSettingValue, seen[ring_only],
                       quote(ring_only) +
                           " belongs to a ring member's cluster; this node attaches to the ring "
                           "as a remote node ('attach') and does not join Corosync");
    }
  }
  if (!remote && !listens) {
    for (const char* link_only :
         {"remote_address", "remote_timeout", "tls_cert", "tls_key", "tls_ca"}) {
      if (seen.count(link_only) == 0) continue;
      ctx.diags.report(diag::Code::kInvalidSettingValue, seen[link_only],
                       quote(link_only) +
                           " is for the remote-node link: add 'remote_port' (a ring member that "
                           "serves remote nodes) or 'attach' (a remote node)");
    }
    return;
  }
  std::string missing;
  for (const char* file : {"tls_cert", "tls_key", "tls_ca"}) {
    if (seen.count(file) != 0) continue;
    missing += std::string(missing.empty() ? "" : ", ") + "'" + file + "'";
  }
  if (!missing.empty()) {
    ctx.diags.report(
        diag::Code::kMissingSetting, decl.name.range,
        std::string(remote ? "a remote node" : "a ring member that serves remote nodes") +
            " authenticates with TLS certificates: add " + missing);
  }
}

/// The settings of the `cluster` declaration.
catalog::ClusterSpec read_cluster(CheckContext& ctx, const ast::ObjectDecl& decl) {
  catalog::ClusterSpec cluster;
  cluster.name = decl.name.text;
  cluster.group = "amata-" + decl.name.text;
  std::map<std::string, ast::SourceRange> seen;
  for (const ast::Setting& s : decl.incomplete ? std::vector<ast::Setting>{} : decl.settings) {
    const SettingInfo* info = known_setting(ctx, s, cluster_settings(), "a cluster");
    if (!info) continue;
    if (!first_given(ctx, seen, s)) continue;
    SettingReader r{ctx, s, *info};
    if (s.name.text == "group") {
      if (r.count(1, 1)) {
        if (auto v = r.str(0)) {
          if (v->empty() || v->size() > 127) {
            r.bad(s.args[0].range, "a group name has 1 to 127 characters");
          } else {
            cluster.group = *v;
          }
        }
      }
    } else if (s.name.text == "on_quorum_loss") {
      if (r.count(1, 1)) {
        if (auto w = r.word(0)) {
          if (*w == "stop") {
            cluster.on_quorum_loss = catalog::ClusterSpec::QuorumLoss::kStop;
          } else if (*w == "freeze") {
            cluster.on_quorum_loss = catalog::ClusterSpec::QuorumLoss::kFreeze;
          } else {
            r.bad(s.args[0].range,
                  with_suggestion("unknown policy " + quote(*w), *w, {"stop", "freeze"}));
          }
        }
      }
    } else if (s.name.text == "fence") {
      if (auto argv = r.program()) cluster.fence = std::move(*argv);
    } else if (s.name.text == "watchdog") {
      if (r.count(1, 1)) {
        if (auto path = r.abs_path(0)) cluster.watchdog = std::move(*path);
      }
    } else if (s.name.text == "watchdog_timeout") {
      if (r.count(1, 1)) {
        if (auto seconds = r.duration(0, kWatchdogTimeout, "a watchdog's timeout")) {
          if (*seconds != static_cast<double>(static_cast<int>(*seconds))) {
            r.bad(s.args[0].range, "a watchdog's timeout is whole seconds");
          } else {
            cluster.watchdog_timeout = static_cast<int>(*seconds);
          }
        }
      }
    } else if (s.name.text == "remote_port") {
      if (r.count(1, 1)) {
        if (auto port = r.integer(0, 1, 65535))
          cluster.remote_port = static_cast<std::uint16_t>(*port);
      }
    } else if (s.name.text == "remote_address") {
      if (r.count(1, 1)) {
        if (auto address = r.str(0)) {
          if (numeric_address(*address)) {
            cluster.remote_address = *address;
          } else {
            r.bad(s.args[0].range,
                  "expected a numeric IPv4 or IPv6 address, one of this ring member's own");
          }
        }
      }
    } else if (s.name.text == "remote_timeout") {
      if (r.count(1, 1)) {
        if (auto seconds = r.duration(0, kRemoteTimeout, "a remote node's timeout")) {
          cluster.remote_timeout_ms = static_cast<int>(std::lround(*seconds * 1000));
        }
      }
    } else if (s.name.text == "attach") {
      if (r.count(1, 64)) {
        for (std::size_t i = 0; i < s.args.size(); ++i) {
          auto text = r.str(i);
          if (!text) continue;
          auto member = ring_member(*text);
          if (const auto* why = std::get_if<std::string>(&member)) {
            r.bad(s.args[i].range, *why);
            continue;
          }
          auto& m = std::get<catalog::ClusterSpec::RingMember>(member);
          const bool twice = std::any_of(cluster.attach.begin(), cluster.attach.end(),
                                         [&m](const auto& other) { return other.name == m.name; });
          if (twice) {
            r.bad(s.args[i].range, "ring member " + quote(m.name) + " is named twice");
            continue;
          }
          cluster.attach.push_back(std::move(m));
        }
      }
    } else if (s.name.text == "tls_cert" || s.name.text == "tls_key" || s.name.text == "tls_ca") {
      if (r.count(1, 1)) {
        if (auto path = r.abs_path(0)) {
          (s.name.text == "tls_cert"  ? cluster.tls_cert
           : s.name.text == "tls_key" ? cluster.tls_key
                                      : cluster.tls_ca) = std::move(*path);
        }
      }
    }
  }
  check_remote(ctx, decl, seen);
  // Without quorum a frozen node keeps its clustered services: its watchdog would reset it
  // at every quorum loss, which is not what `freeze` asks for.
  if (!cluster.watchdog.empty() &&
      cluster.on_quorum_loss == catalog::ClusterSpec::QuorumLoss::kFreeze) {
    ctx.diags.report(diag::Code::kInvalidSettingValue, seen["watchdog"],
                     "a watchdog resets a node that keeps clustered services without quorum, "
                     "which 'on_quorum_loss freeze' asks every such node to do (use "
                     "'on_quorum_loss stop' with a watchdog)");
  }
  return cluster;
}

}  // namespace

void check_cluster(CheckContext& ctx) {
  if (ctx.cluster_decl) ctx.policy.cluster = read_cluster(ctx, *ctx.cluster_decl);
  // `prefer` named peer objects; the cluster knows nodes by their names.
  for (auto& spec : ctx.policy.objects) {
    for (auto& node : spec.prefer) {
      const int peer = ctx.policy.find_object(node);
      if (peer >= 0) node = ctx.policy.objects[static_cast<std::size_t>(peer)].peer_name;
    }
  }
  // A remote node may hold clustered services, but the ring's members place them: settings
  // of placement here would be silently ignored.
  if (ctx.policy.cluster && ctx.policy.cluster->remote_node()) {
    for (std::size_t id = 0; id < ctx.policy.objects.size(); ++id) {
      const auto& o = ctx.policy.objects[id];
      if (!o.clustered || (o.prefer.empty() && !o.only_preferred && !o.failback)) continue;
      ctx.diags.report(diag::Code::kInvalidSettingValue, ctx.object_decls[id]->name.range,
                       "service " + quote(o.name) +
                           " says where it prefers to run, but this node is a remote node "
                           "('attach'): the ring's members place clustered services, by the "
                           "'prefer' of their own policy");
    }
  }
  // A clustered service is placed by the cluster: without one it would never start.
  if (!ctx.cluster_decl) {
    for (std::size_t id = 0; id < ctx.policy.objects.size(); ++id) {
      if (!ctx.policy.objects[id].clustered) continue;
      ctx.diags.report(diag::Code::kNoCluster, ctx.object_decls[id]->name.range,
                       "service " + quote(ctx.policy.objects[id].name) +
                           " is clustered, but the policy declares no cluster (add 'cluster NAME { "
                           "group \"...\" }')");
    }
  }
}

bool check_failover(CheckContext& ctx, const ast::Action& a, const Scope& scope, Action& out) {
  if (!a.peer.text.empty()) {
    ObjectRef peer;
    if (!target(ctx, a.peer, scope, peer)) return false;
    if (peer.kind != Kind::kPeer) {
      ctx.diags.report(diag::Code::kActionNotForKind, a.peer.range,
                       "failover hands over to a peer, but " + quote(a.peer.text) + " is a " +
                           std::string(catalog::kind_name(peer.kind)));
      return false;
    }
    out.peer = peer;
  }
  if (!ctx.cluster_decl) {
    ctx.diags.report(diag::Code::kNoCluster, a.range,
                     "failover hands a service to another node of the cluster, but the policy "
                     "declares no cluster (add 'cluster NAME { group \"...\" }')");
    return false;
  }
  // A parameter is bound per raise; at least one service must be able to move.
  bool movable = false;
  if (out.target.base == ObjectRef::Base::kObject) {
    movable = ctx.policy.objects[static_cast<std::size_t>(out.target.index)].clustered;
  } else {
    for (const auto& o : ctx.policy.objects) movable = movable || o.clustered;
  }
  if (!movable) {
    ctx.diags.report(diag::Code::kNotClustered, a.target.range,
                     out.target.base == ObjectRef::Base::kObject
                         ? "service " + quote(a.target.text) +
                               " is not clustered, so it cannot fail over (add 'clustered' "
                               "to its settings)"
                         : "failover of " + quote(a.target.text) +
                               ", but no service is clustered (add 'clustered' to the "
                               "settings of the services that may move)");
    return false;
  }
  return true;
}

}  // namespace amata::check
