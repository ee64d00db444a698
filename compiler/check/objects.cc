// The objects pass: each object's settings into its catalog::ObjectSpec, with required
// settings and defaults; then the dependencies between services (dependencies.cc) and the
// cluster (cluster.cc).
#include <csignal>
#include <map>
#include <string>
#include <vector>

#include "compiler/check/channels.h"
#include "compiler/check/cluster.h"
#include "compiler/check/dependencies.h"
#include "compiler/check/passes.h"
#include "compiler/check/settings.h"
#include "compiler/check/types.h"
#include "compiler/check/values.h"

namespace amata::check {
namespace {

using catalog::Kind;

/// `stop SIG [then KILL] [after D]`.
void read_stop(SettingReader& r, catalog::StopSpec& stop) {
  const ast::Setting& s = r.s;
  std::size_t i = 0;
  if (auto sig = r.signal(i++)) stop.signal = *sig;
  if (i < s.args.size() && s.args[i].kind == ast::SettingArg::Kind::kWord &&
      s.args[i].text == "then") {
    ++i;
    if (i >= s.args.size()) {
      r.bad(s.range, "expected KILL after 'then'");
    } else if (auto k = r.signal(i++); k && *k != SIGKILL) {
      r.bad(s.args[i - 1].range, "the second signal is always KILL");
    }
  }
  if (i < s.args.size()) {
    if (s.args[i].kind == ast::SettingArg::Kind::kWord && s.args[i].text == "after" &&
        i + 1 < s.args.size()) {
      if (auto d = r.duration(i + 1, kTimeout, "the time before KILL")) stop.kill_after = *d;
      i += 2;
    } else {
      r.bad(s.args[i].range, "expected 'after DURATION'");
      i = s.args.size();
    }
  }
  if (i < s.args.size()) r.bad(s.args[i].range, "unexpected value");
}

/// `health tcp|unix|http "TARGET" [every D] [timeout D] [expect STATUS]`.
void read_health(SettingReader& r, std::vector<catalog::HealthCheckSpec>& health) {
  const ast::Setting& s = r.s;
  catalog::HealthCheckSpec h;
  if (auto proto = r.word(0)) {
    if (*proto == "tcp") {
      h.protocol = catalog::HealthCheckSpec::Protocol::kTcp;
    } else if (*proto == "unix") {
      h.protocol = catalog::HealthCheckSpec::Protocol::kUnix;
    } else if (*proto == "http") {
      h.protocol = catalog::HealthCheckSpec::Protocol::kHttp;
    } else {
      r.bad(s.args[0].range, with_suggestion("unknown health check " + quote(*proto), *proto,
                                             {"tcp", "unix", "http"}));
    }
  }
  // The target as the probe takes it (probes/net_checks.cc resolve_endpoint, libcurl).
  using P = catalog::HealthCheckSpec::Protocol;
  auto* problem = h.protocol == P::kTcp    ? host_port_problem
                  : h.protocol == P::kUnix ? socket_path_problem
                                           : http_url_problem;
  const bool known_protocol = r.ok;
  if (auto t = r.str(1)) {
    h.target = *t;
    if (!known_protocol) {
      // Reported; which rules the target follows is unknown.
    } else if (h.protocol == P::kTcp && h.target.find(':') == std::string::npos) {
      r.bad(s.args[1].range, "a tcp health check needs \"HOST:PORT\"");
    } else if (auto why = problem(h.target)) {
      r.bad(s.args[1].range, std::string(h.protocol == P::kTcp    ? "a tcp health check: "
                                         : h.protocol == P::kUnix ? "a unix health check: "
                                                                  : "an http health check: ") +
                                 *why);
    }
  }
  for (std::size_t i = 2; i < s.args.size(); i += 2) {
    const auto& key = s.args[i];
    if (key.kind != ast::SettingArg::Kind::kWord || i + 1 >= s.args.size()) {
      r.bad(key.range, "expected 'every', 'timeout', 'expect' or 'ca' and a value");
      break;
    }
    if (key.text == "every") {
      if (auto d = r.duration(i + 1, kProbePeriod, "the health check period")) h.interval = *d;
    } else if (key.text == "timeout") {
      if (auto d = r.duration(i + 1, kTimeout, "the health check timeout")) h.timeout = *d;
    } else if (key.text == "expect") {
      if (auto v = r.integer(i + 1, 100, 599)) h.expect_status = static_cast<int>(*v);
    } else if (key.text == "ca") {
      if (h.protocol != P::kHttp || !h.target.starts_with("https://")) {
        r.bad(key.range, "'ca' names the CAs that verify an https server; this check is not https");
      } else if (auto path = r.abs_path(i + 1)) {
        h.ca_file = *path;
      }
    } else {
      r.bad(key.range, with_suggestion("unknown health option " + quote(key.text), key.text,
                                       {"every", "timeout", "expect", "ca"}));
    }
  }
  if (r.ok) health.push_back(std::move(h));
}

/// `prefer PEER...`: declared peers, stored as their node names (what Corosync knows).
void read_prefer(SettingReader& r, std::vector<std::string>& prefer) {
  const ast::Setting& s = r.s;
  CheckContext& ctx = r.ctx;
  std::vector<std::string> nodes;
  for (std::size_t i = 0; i < s.args.size(); ++i) {
    auto w = r.word(i);
    if (!w) continue;
    auto it = ctx.names.find(*w);
    if (it == ctx.names.end() || it->second.what != Definition::What::kObject) {
      std::vector<std::string_view> peers;
      for (const auto& o : ctx.policy.objects) {
        if (o.kind == Kind::kPeer) peers.push_back(o.name);
      }
      ctx.diags.report(diag::Code::kUnknownName, s.args[i].range,
                       with_suggestion("unknown peer " + quote(*w), *w, peers));
      r.ok = false;
      continue;
    }
    const catalog::ObjectSpec& peer = ctx.policy.objects[it->second.index];
    if (peer.kind != Kind::kPeer) {
      r.bad(s.args[i].range,
            quote(*w) + " is a " + std::string(catalog::kind_name(peer.kind)) + ", not a peer");
      continue;
    }
    // The peer's node name is known once its own settings are read (check_cluster).
    nodes.push_back(peer.name);
  }
  if (r.ok) prefer = std::move(nodes);
}

std::optional<std::string> zone_problem(std::string_view type) {
  return sysfs_name_problem(type, "thermal zone type");
}

/// The values of setting `r.s` into `spec`.
void read_setting(SettingReader& r, catalog::ObjectSpec& spec) {
  const ast::Setting& s = r.s;
  const std::string& n = s.name.text;
  if (n == "every") {
    if (r.count(1, 1)) {
      if (auto d = r.duration(0, kProbePeriod, "the probe period")) spec.every = *d;
    }
  } else if (n == "start" || n == "command") {
    if (auto argv = r.program()) (n == "start" ? spec.start : spec.command) = std::move(*argv);
  } else if (n == "stop") {
    if (r.count(1, 5)) read_stop(r, spec.stop);
  } else if (n == "health") {
    if (r.count(2, 8)) read_health(r, spec.health);
  } else if (n == "depends") {
    if (r.count(1, 4096)) {
      for (std::size_t i = 0; i < s.args.size(); ++i) {
        if (auto w = r.word(i)) spec.depends.push_back(*w);
      }
    }
  } else if (n == "user" || n == "group") {
    // The name's form only: whether it exists is this machine's business, at start.
    if (r.count(1, 1)) {
      if (auto v = r.str(0, account_name_problem)) (n == "user" ? spec.user : spec.group) = *v;
    }
  } else if (n == "dir" || n == "log" || n == "pidfile" || n == "path") {
    if (r.count(1, 1)) {
      if (auto v = r.abs_path(0)) {
        (n == "dir"       ? spec.workdir
         : n == "log"     ? spec.log
         : n == "pidfile" ? spec.pidfile
                          : spec.path) = *v;
      }
    }
  } else if (n == "env") {
    if (r.count(2, 2)) {
      const auto& k = s.args[0];
      const auto why = k.kind == ast::SettingArg::Kind::kNumber
                           ? std::optional<std::string>("a variable name is not a number")
                           : env_name_problem(k.text);
      if (why) {
        r.bad(k.range, "expected a variable name: " + *why);
      } else if (auto v = r.str(1)) {
        spec.env.emplace_back(k.text, *v);
      }
    }
  } else if (n == "grace" || n == "timeout") {
    if (r.count(1, 1)) {
      const bool grace = n == "grace";
      if (auto d = r.duration(0, grace ? kGrace : kTimeout,
                              grace ? "the grace period" : "the timeout")) {
        if (grace) {
          spec.grace = *d;
        } else if (spec.kind == Kind::kHost) {
          spec.host.timeout = *d;
        } else {
          spec.timeout = *d;
        }
      }
    }
  } else if (n == "match") {
    if (r.count(1, 1)) {
      if (auto v = r.str(0)) {
        if (check_regex(r.ctx, *v, s.args[0].range)) spec.match = *v;
      }
    }
  } else if (n == "name") {
    if (r.count(1, 1)) {
      if (spec.kind == Kind::kInterface) {
        if (auto v = r.str(0, interface_name_problem)) spec.ifname = *v;
      } else if (auto v = r.str(0)) {
        spec.peer_name = *v;
      }
    }
  } else if (n == "address") {
    if (r.count(1, 1)) {
      if (auto v = r.str(0, host_problem)) spec.host.address = *v;
    }
  } else if (n == "port") {
    if (r.count(1, 1)) {
      if (auto v = r.integer(0, 1, 65535)) spec.host.port = static_cast<int>(*v);
    }
  } else if (n == "method") {
    if (r.count(1, 1)) {
      if (auto w = r.word(0)) {
        if (*w == "tcp") {
          spec.host.method = catalog::HostProbeSpec::Method::kTcp;
        } else if (*w == "icmp") {
          spec.host.method = catalog::HostProbeSpec::Method::kIcmp;
        } else {
          r.bad(s.args[0].range,
                with_suggestion("unknown method " + quote(*w), *w, {"tcp", "icmp"}));
        }
      }
    }
  } else if (n == "node_id") {
    if (r.count(1, 1)) {
      if (auto v = r.integer(0, 1, 0xffffffffL)) spec.node_id = static_cast<std::uint32_t>(*v);
    }
  } else if (n == "clustered" || n == "only_preferred" || n == "failback") {
    if (r.count(0, 0)) {
      (n == "clustered"  ? spec.clustered
       : n == "failback" ? spec.failback
                         : spec.only_preferred) = true;
    }
  } else if (n == "prefer") {
    if (r.count(1, 64)) read_prefer(r, spec.prefer);
  } else if (n == "chip" || n == "zone") {
    if (r.count(1, 1)) {
      if (auto v = r.str(0, n == "chip" ? chip_problem : zone_problem)) {
        (n == "chip" ? spec.chip : spec.zone) = *v;
      }
    }
  } else if (n == "input" || n == "dimm") {
    // Labels ("Package id 0", "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0") are free text.
    if (r.count(1, 1)) {
      if (auto v = r.str(0, label_problem)) (n == "input" ? spec.input : spec.dimm) = *v;
    }
  } else if (n == "controller" || n == "array") {
    if (r.count(1, 1)) {
      const bool ecc = n == "controller";
      if (auto v = r.str(0, ecc ? edac_controller_problem : md_array_problem)) {
        (ecc ? spec.controller : spec.array) = *v;
      }
    }
  } else if (n == "device") {
    if (r.count(1, 1)) {
      if (auto v = r.str(0, device_path_problem)) spec.device = *v;
    }
  } else if (n == "unit") {
    if (r.count(1, 1)) {
      if (auto v = r.str(0, unit_name_problem)) {
        spec.unit = *v;
        if (spec.unit.find('.') == std::string::npos) spec.unit += ".service";
      }
    }
  }
}

/// The row of setting `s` for an object of `kind`, or nullptr after reporting that the kind
/// has no such setting or that it is given twice (`seen`: the settings given so far).
const SettingInfo* known_setting(CheckContext& ctx, Kind kind, const ast::Setting& s,
                                 std::map<std::string, ast::SourceRange>& seen) {
  const SettingInfo* info = find_object_setting(s.name.text);
  if (!info || !accepts(*info, kind)) {
    std::vector<std::string_view> names;
    for (const auto& x : object_settings()) {
      if (accepts(x, kind)) names.push_back(x.name);
    }
    std::string msg =
        "unknown setting " + quote(s.name.text) + " for a " + std::string(catalog::kind_name(kind));
    if (info) {
      msg = quote(s.name.text) + " is not a setting of a " + std::string(catalog::kind_name(kind)) +
            " (it applies to " + std::string(catalog::kind_name(*info->kinds.begin())) + ")";
    }
    auto& d = ctx.diags.report(diag::Code::kUnknownSetting, s.name.range,
                               with_suggestion(msg, s.name.text, names));
    const std::string best = diag::closest_match(s.name.text, names);
    if (!best.empty()) d.fixits.push_back({s.name.range, best});
    return nullptr;
  }
  const bool repeatable =
      s.name.text == "health" || s.name.text == "env" || s.name.text == "depends";
  if (!repeatable && !first_given(ctx, seen, s)) return nullptr;
  return info;
}

/// Required settings and defaults. A setting that is present but invalid was reported
/// already; "missing" would only repeat it.
void require_settings(CheckContext& ctx, catalog::ObjectSpec& spec, const ast::ObjectDecl& decl) {
  auto given = [&](std::string_view name) {
    for (const ast::Setting& s : decl.settings) {
      if (s.name.text == name) return true;
    }
    return false;
  };
  auto missing = [&](const std::string& what) {
    for (const ast::Setting& s : decl.settings) {
      if (what.find("'" + s.name.text + " ") != std::string::npos) return;
    }
    ctx.diags.report(
        diag::Code::kMissingSetting, decl.name.range,
        std::string(catalog::kind_name(spec.kind)) + " " + quote(spec.name) + " needs " + what);
  };
  switch (spec.kind) {
    case Kind::kService:
      if (spec.start.empty()) missing("'start \"/path/to/program\" ...'");
      if (!spec.clustered) {
        for (const ast::Setting& s : decl.settings) {
          if (s.name.text == "prefer" || s.name.text == "only_preferred" ||
              s.name.text == "failback") {
            ctx.diags.report(diag::Code::kMissingSetting, s.name.range,
                             quote(s.name.text) + " places a clustered service; service " +
                                 quote(spec.name) + " needs 'clustered'");
          }
        }
      } else if (spec.only_preferred && spec.prefer.empty()) {
        missing("'prefer PEER...' for 'only_preferred'");
      } else if (spec.failback && spec.prefer.empty()) {
        missing("'prefer PEER...' for 'failback' (it moves the service back to the first of them)");
      }
      break;
    case Kind::kProcess:
      if (spec.pidfile.empty() && spec.match.empty()) {
        missing("'pidfile \"/run/x.pid\"' or 'match \"REGEX\"' to find it");
      }
      break;
    case Kind::kInterface:
      if (spec.ifname.empty() && !given("name")) {
        spec.ifname = spec.name;
        // The object's name stands in for the interface's: it must be one the kernel takes.
        if (auto why = interface_name_problem(spec.ifname)) {
          ctx.diags.report(diag::Code::kInvalidSettingValue, decl.name.range,
                           "interface " + quote(spec.name) +
                               " watches the interface of that name, but " + *why +
                               "; name it with 'name \"eth0\"'");
        }
      }
      break;
    case Kind::kFilesystem:
      if (spec.path.empty()) missing("'path \"/mount/point\"'");
      break;
    case Kind::kHost:
      if (spec.host.address.empty()) missing("'address \"HOST\"'");
      if (spec.host.method == catalog::HostProbeSpec::Method::kTcp && spec.host.port == 0) {
        missing("'port N' for its tcp probe (or 'method icmp')");
      }
      break;
    case Kind::kCheck:
      if (spec.command.empty()) missing("'command \"/path/to/plugin\" ...'");
      break;
    case Kind::kPeer:
      if (spec.peer_name.empty()) spec.peer_name = spec.name;
      break;
    case Kind::kSensor:
      if (!spec.zone.empty() || given("zone")) {
        if (given("chip") || given("input")) {
          ctx.diags.report(diag::Code::kInvalidSettingValue, decl.name.range,
                           "sensor " + quote(spec.name) +
                               " reads either a thermal zone or a chip's input, not both");
        }
      } else if (!given("chip") && !given("input")) {
        missing("'chip \"NAME\"' and 'input \"LABEL\"', or 'zone \"TYPE\"'");
      } else if (!given("chip")) {
        missing("'chip \"NAME\"' for its 'input'");
      } else if (!given("input")) {
        missing("'input \"LABEL\"' (a label such as \"Package id 0\", or \"temp1\")");
      }
      break;
    case Kind::kEcc:
      // `ecc mc0 {}` watches the controller of that name, as `interface eth0 {}` does.
      if (spec.controller.empty() && !given("controller")) {
        if (edac_controller_problem(spec.name)) {
          missing("'controller \"mc0\"' (or the controller's own name as the object's)");
        } else {
          spec.controller = spec.name;
        }
      }
      break;
    case Kind::kRaid:
      if (spec.array.empty() && !given("array")) {
        if (md_array_problem(spec.name)) {
          missing("'array \"md0\"' (or the array's own name as the object's)");
        } else {
          spec.array = spec.name;
        }
      }
      break;
    case Kind::kDisk:
      if (spec.device.empty()) missing("'device \"/dev/sda\"'");
      // SMART data changes over hours; smartctl every second would keep a disk busy.
      if (!given("every")) spec.every = kDiskPeriod;
      break;
    case Kind::kUnit:
      // `unit sshd {}` is sshd.service, as systemctl reads a bare name.
      if (spec.unit.empty() && !given("unit")) spec.unit = spec.name + ".service";
      break;
    case Kind::kNode:
      break;
  }
}

void read_object(CheckContext& ctx, std::size_t id) {
  catalog::ObjectSpec& spec = ctx.policy.objects[id];
  const ast::ObjectDecl& decl = *ctx.object_decls[id];
  if (decl.incomplete) return;  // its syntax error was reported; settings unknown
  std::map<std::string, ast::SourceRange> seen;
  for (const ast::Setting& s : decl.settings) {
    if (const SettingInfo* info = known_setting(ctx, spec.kind, s, seen)) {
      SettingReader r{ctx, s, *info};
      read_setting(r, spec);
    }
  }
  require_settings(ctx, spec, decl);
}

}  // namespace

void objects_pass(CheckContext& ctx) {
  for (std::size_t id = 0; id < ctx.policy.objects.size(); ++id) read_object(ctx, id);
  check_dependencies(ctx);
  check_cluster(ctx);
  check_channels(ctx);
}

}  // namespace amata::check
