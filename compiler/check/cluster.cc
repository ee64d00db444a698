#include "compiler/check/cluster.h"

#include <map>
#include <string>
#include <vector>

#include "compiler/check/names.h"
#include "compiler/check/settings.h"

namespace amata::check {

using catalog::Kind;

namespace {

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
    }
  }
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
