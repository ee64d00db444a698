// The cluster: the `cluster` declaration and its settings, where clustered services may
// run (`prefer` peers), and whether a failover can move anything.
#pragma once

#include "compiler/check/context.h"

namespace amata::check {

/// Part of the objects pass: the cluster's settings into policy.cluster, `prefer` peers as
/// node names, and no clustered service without a cluster.
void check_cluster(CheckContext& ctx);

/// Part of the recover pass, for `failover SERVICE [to PEER]` with `out.target` resolved to a
/// service: the peer is a peer, the policy declares a cluster, and some service can move.
/// Sets `out.peer`; false after reporting.
bool check_failover(CheckContext& ctx, const ast::Action& a, const Scope& scope, Action& out);

}  // namespace amata::check
