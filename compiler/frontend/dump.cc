#include "compiler/frontend/dump.h"

#include "catalog/actions.h"

namespace amata::frontend {
namespace {

using nlohmann::json;

std::string range_str(const source::SourceManager& sources, const ast::SourceRange& r) {
  if (r.file >= sources.size()) return "?";
  const auto lc = sources.line_column(r.file, r.begin);
  return sources.file(r.file).path + ":" + std::to_string(lc.line) + ":" +
         std::to_string(lc.column);
}

json expr_json(const ast::Expr* e) {
  if (!e) return nullptr;
  json j;
  switch (e->kind) {
    case ast::ExprKind::kNumber:
      j["number"] = e->number;
      if (!e->unit.empty()) j["unit"] = e->unit;
      break;
    case ast::ExprKind::kString:
      j["string"] = e->text;
      break;
    case ast::ExprKind::kBool:
      j["bool"] = e->boolean;
      break;
    case ast::ExprKind::kPath: {
      std::string p;
      for (const auto& n : e->path) p += (p.empty() ? "" : ".") + n.text;
      j["path"] = p;
      break;
    }
    case ast::ExprKind::kUnary:
      j["unary"] = ast::unary_op_spelling(e->unary_op);
      j["operand"] = expr_json(e->args[0].get());
      break;
    case ast::ExprKind::kBinary:
      j["binary"] = ast::binary_op_spelling(e->binary_op);
      j["left"] = expr_json(e->args[0].get());
      j["right"] = expr_json(e->args[1].get());
      break;
    case ast::ExprKind::kCall:
      j["call"] = e->text;
      j["args"] = json::array();
      for (const auto& a : e->args) j["args"].push_back(expr_json(a.get()));
      break;
    case ast::ExprKind::kWithin:
      j["within"] = expr_json(e->args[0].get());
      j["window"] = expr_json(e->args[1].get());
      break;
    case ast::ExprKind::kError:
      j["error"] = true;
      break;
  }
  return j;
}

json actions_json(const ast::ActionList& list);

/// "restart", ..., or "when": the word that starts a statement of a recover body.
template <typename Action>
std::string action_name(const Action& a) {
  return a.kind == Action::Kind::kWhen ? "when" : std::string(catalog::action_kind_name(a.action));
}

json action_json(const ast::Action& a) {
  json j;
  j["action"] = action_name(a);
  if (!a.target.text.empty()) j["target"] = a.target.text;
  if (!a.signal.text.empty()) j["signal"] = a.signal.text;
  if (!a.argv.empty()) {
    for (const auto& arg : a.argv) {
      std::string p;
      for (const auto& n : arg.path) p += (p.empty() ? "" : ".") + n.text;
      j["argv"].push_back(arg.is_ref ? json{{"ref", p}} : json(arg.text));
    }
  }
  if (a.kind == ast::Action::Kind::kAction && a.action == catalog::ActionKind::kNotify) {
    j["channel"] = a.channel;
    j["message"] = a.message;
  }
  if (a.duration) j["duration"] = expr_json(a.duration.get());
  if (a.kind == ast::Action::Kind::kAction && a.action == catalog::ActionKind::kRaise) {
    j["event"] = a.raise.event.text;
    for (const auto& n : a.raise.args) j["args"].push_back(n.text);
  }
  if (!a.peer.text.empty()) j["peer"] = a.peer.text;
  if (a.backoff_min)
    j["backoff"] = {expr_json(a.backoff_min.get()), expr_json(a.backoff_max.get())};
  if (a.backoff_none) j["backoff"] = "none";
  if (a.limit_count) j["limit"] = {expr_json(a.limit_count.get()), expr_json(a.limit_window.get())};
  if (a.limit_none) j["limit"] = "none";
  if (a.condition) j["condition"] = expr_json(a.condition.get());
  if (a.then_body) j["then"] = actions_json(*a.then_body);
  if (a.else_body) j["else"] = actions_json(*a.else_body);
  return j;
}

json actions_json(const ast::ActionList& list) {
  json j = json::array();
  for (const auto& a : list) j.push_back(action_json(a));
  return j;
}

json params_json(const std::vector<ast::Param>& params) {
  json j = json::array();
  for (const auto& p : params) j.push_back({{"name", p.name.text}, {"kind", p.kind.text}});
  return j;
}

json statement_json(const ast::Statement& st, const source::SourceManager& sources) {
  json j;
  using K = ast::Statement::Kind;
  switch (st.kind) {
    case K::kPolicy:
      j = {{"policy", st.policy->name.text}, {"at", range_str(sources, st.policy->range)}};
      break;
    case K::kInclude:
      j = {{"include", st.include->path}, {"at", range_str(sources, st.include->range)}};
      break;
    case K::kLet:
      j = {{"let", st.let->name.text},
           {"value", expr_json(st.let->value.get())},
           {"at", range_str(sources, st.let->range)}};
      break;
    case K::kEvent:
      j = {{"event", st.event->name.text},
           {"params", params_json(st.event->params)},
           {"notify_only", st.event->notify_only},
           {"at", range_str(sources, st.event->range)}};
      break;
    case K::kObject: {
      const auto& o = *st.object;
      j = {{"object", o.name.text}, {"kind", o.kind.text}, {"at", range_str(sources, o.range)}};
      j["settings"] = json::array();
      for (const auto& s : o.settings) {
        json args = json::array();
        for (const auto& a : s.args) {
          if (a.kind == ast::SettingArg::Kind::kNumber) {
            args.push_back({{"number", a.number}, {"unit", a.text}});
          } else if (a.kind == ast::SettingArg::Kind::kString) {
            args.push_back({{"string", a.text}});
          } else {
            args.push_back({{"word", a.text}});
          }
        }
        j["settings"].push_back({{"name", s.name.text}, {"args", args}});
      }
      break;
    }
    case K::kDiscover: {
      const auto& r = *st.discover;
      static const char* kTemporal[] = {"none", "for", "for_checks", "times_within"};
      j = {{"discover", r.name.text},
           {"params", params_json(r.params)},
           {"condition", expr_json(r.condition.get())},
           {"temporal", kTemporal[static_cast<int>(r.temporal.kind)]},
           {"at", range_str(sources, r.range)}};
      if (r.temporal.value) j["temporal_value"] = expr_json(r.temporal.value.get());
      if (r.temporal.window) j["temporal_window"] = expr_json(r.temporal.window.get());
      if (r.clear_after) j["clear_after"] = expr_json(r.clear_after.get());
      j["raise"] = r.raise.event.text;
      j["raise_args"] = json::array();
      for (const auto& a : r.raise.args) j["raise_args"].push_back(a.text);
      break;
    }
    case K::kRecover: {
      const auto& r = *st.recover;
      j = {{"recover", r.event.text},
           {"body", actions_json(r.body)},
           {"at", range_str(sources, r.range)}};
      j["params"] = json::array();
      for (const auto& p : r.params) j["params"].push_back(p.text);
      break;
    }
  }
  return j;
}

const char* op_name(check::TypedExpr::Op op) {
  static const char* kNames[] = {"number", "bool", "string", "enum", "attr",  "neg",     "add",
                                 "sub",    "mul",  "div",    "eq",   "ne",    "lt",      "le",
                                 "gt",     "ge",   "not",    "and",  "or",    "match",   "notmatch",
                                 "avg",    "min",  "max",    "rate", "delta", "changed", "predict"};
  return kNames[static_cast<int>(op)];
}

json ref_json(const check::ObjectRef& r) {
  return {{r.base == check::ObjectRef::Base::kParameter ? "param" : "object", r.index},
          {"kind", std::string(catalog::kind_name(r.kind))}};
}

json checked_actions_json(const check::ActionList& list) {
  json out = json::array();
  for (const auto& a : list) {
    json j;
    using K = catalog::ActionKind;
    j["action"] = action_name(a);
    if (a.kind == check::Action::Kind::kWhen) {
      j["condition"] = expr_to_json(a.condition);
      j["then"] = checked_actions_json(a.then_body);
      j["else"] = checked_actions_json(a.else_body);
    } else {
      switch (a.action) {
        case K::kRestart:
        case K::kStart:
        case K::kStop:
        case K::kMonitor:
        case K::kUnmonitor:
        case K::kFailover:
        case K::kReload:
          j["target"] = ref_json(a.target);
          break;
        case K::kSignal:
          j["target"] = ref_json(a.target);
          j["signal"] = a.signal;
          break;
        case K::kRun:
          for (const auto& arg : a.argv) {
            if (arg.kind == check::RunArg::Kind::kLiteral) {
              j["argv"].push_back(arg.text);
            } else if (arg.kind == check::RunArg::Kind::kObjectName) {
              j["argv"].push_back({{"name_of", ref_json(arg.object)}});
            } else {
              j["argv"].push_back({{"attr", arg.attr.attribute}, {"of", ref_json(arg.object)}});
            }
          }
          break;
        case K::kNotify:
          j["channel"] = a.channel;
          j["message"] = a.message;
          break;
        case K::kWait:
          j["seconds"] = a.duration;
          break;
        case K::kRaise:
          j["event"] = a.event;
          j["args"] = json::array();
          for (const auto& r : a.event_args) j["args"].push_back(ref_json(r));
          break;
      }
    }
    if (a.peer) j["peer"] = ref_json(*a.peer);
    if (a.backoff) j["backoff"] = {{"min", a.backoff->min}, {"max", a.backoff->max}};
    if (a.limit) j["limit"] = {{"count", a.limit->count}, {"window", a.limit->window}};
    if (a.kind == check::Action::Kind::kAction && a.action == K::kRestart) {
      // What the restart does when the policy names nothing: the defaults, said so; `none`.
      if (!a.backoff) j["backoff"] = "none";
      if (!a.limit) j["limit"] = "none";
      if (a.default_backoff) j["backoff"]["default"] = true;
      if (a.default_limit) j["limit"]["default"] = true;
    }
    out.push_back(std::move(j));
  }
  return out;
}

json params_json(const std::vector<check::Parameter>& params) {
  json j = json::array();
  for (const auto& p : params) {
    j.push_back({{"name", p.name}, {"kind", std::string(catalog::kind_name(p.kind))}});
  }
  return j;
}

}  // namespace

json expr_to_json(const check::TypedExpr& e) {
  using Op = check::TypedExpr::Op;
  json j;
  j["op"] = op_name(e.op);
  j["type"] = catalog::type_name(e.type);
  switch (e.op) {
    case Op::kNumber:
      j["value"] = e.number;
      break;
    case Op::kBool:
      j["value"] = e.boolean;
      break;
    case Op::kString:
      j["value"] = e.string;
      break;
    case Op::kEnum:
      j["value"] = e.enum_ordinal;
      break;
    case Op::kAttr:
      j["object"] = ref_json(e.attr.object);
      j["attribute"] = e.attr.attribute;
      break;
    case Op::kMatch:
    case Op::kNotMatch:
      j["pattern"] = e.string;
      break;
    case Op::kAvg:
    case Op::kMin:
    case Op::kMax:
    case Op::kDelta:
    case Op::kPredict:
      j["seconds"] = e.duration;
      break;
    default:
      break;
  }
  if (!e.operands.empty()) {
    j["operands"] = json::array();
    for (const auto& o : e.operands) j["operands"].push_back(expr_to_json(o));
  }
  return j;
}

json program_to_json(const ast::Program& program, const source::SourceManager& sources) {
  json files = json::array();
  for (const auto& f : program.files) {
    json st = json::array();
    for (const auto& s : f.statements) st.push_back(statement_json(s, sources));
    files.push_back({{"file", sources.file(f.file).path}, {"statements", st}});
  }
  return {{"files", files}};
}

json policy_to_json(const check::CheckedPolicy& p, const source::SourceManager& sources) {
  json j;
  j["name"] = p.name;
  j["objects"] = json::array();
  for (std::size_t i = 0; i < p.objects.size(); ++i) {
    const auto& o = p.objects[i];
    json oj = {{"id", i},
               {"name", o.name},
               {"kind", std::string(catalog::kind_name(o.kind))},
               {"every", o.every},
               {"at", i < p.object_ranges.size() ? range_str(sources, p.object_ranges[i]) : "?"}};
    switch (o.kind) {
      case catalog::Kind::kService:
      case catalog::Kind::kProcess:
        if (!o.start.empty()) oj["start"] = o.start;
        if (o.kind == catalog::Kind::kService) {
          oj["stop"] = {{"signal", o.stop.signal}, {"kill_after", o.stop.kill_after}};
          oj["grace"] = o.grace;
        }
        for (const auto& h : o.health) {
          static const char* kProto[] = {"tcp", "unix", "http"};
          oj["health"].push_back({{"protocol", kProto[static_cast<int>(h.protocol)]},
                                  {"target", h.target},
                                  {"interval", h.interval},
                                  {"timeout", h.timeout},
                                  {"expect_status", h.expect_status}});
          if (!h.ca_file.empty()) oj["health"].back()["ca"] = h.ca_file;
        }
        if (!o.depends.empty()) oj["depends"] = o.depends;
        if (!o.user.empty()) oj["user"] = o.user;
        if (!o.group.empty()) oj["group"] = o.group;
        if (!o.workdir.empty()) oj["dir"] = o.workdir;
        for (const auto& [k, v] : o.env) oj["env"][k] = v;
        if (!o.log.empty()) oj["log"] = o.log;
        if (!o.pidfile.empty()) oj["pidfile"] = o.pidfile;
        if (!o.match.empty()) oj["match"] = o.match;
        if (o.clustered) {
          oj["clustered"] = true;
          oj["prefer"] = o.prefer;
          oj["only_preferred"] = o.only_preferred;
          oj["failback"] = o.failback;
        }
        break;
      case catalog::Kind::kInterface:
        oj["ifname"] = o.ifname;
        break;
      case catalog::Kind::kFilesystem:
        oj["path"] = o.path;
        break;
      case catalog::Kind::kHost:
        oj["address"] = o.host.address;
        oj["port"] = o.host.port;
        oj["method"] = o.host.method == catalog::HostProbeSpec::Method::kTcp ? "tcp" : "icmp";
        oj["timeout"] = o.host.timeout;
        break;
      case catalog::Kind::kCheck:
        oj["command"] = o.command;
        oj["timeout"] = o.timeout;
        break;
      case catalog::Kind::kPeer:
        oj["peer_name"] = o.peer_name;
        if (o.node_id) oj["node_id"] = *o.node_id;
        break;
      case catalog::Kind::kSensor:
        if (!o.zone.empty()) {
          oj["zone"] = o.zone;
        } else {
          oj["chip"] = o.chip;
          oj["input"] = o.input;
        }
        break;
      case catalog::Kind::kEcc:
        oj["controller"] = o.controller;
        if (!o.dimm.empty()) oj["dimm"] = o.dimm;
        break;
      case catalog::Kind::kDisk:
        oj["device"] = o.device;
        oj["timeout"] = o.timeout;
        if (!o.command.empty()) oj["command"] = o.command;
        break;
      case catalog::Kind::kRaid:
        oj["array"] = o.array;
        break;
      case catalog::Kind::kUnit:
        oj["unit"] = o.unit;
        break;
      case catalog::Kind::kNode:
        break;
    }
    j["objects"].push_back(std::move(oj));
  }
  if (p.cluster) {
    static const char* kQuorumLoss[] = {"stop", "freeze"};
    j["cluster"] = {{"name", p.cluster->name},
                    {"group", p.cluster->group},
                    {"on_quorum_loss", kQuorumLoss[static_cast<int>(p.cluster->on_quorum_loss)]},
                    {"fence", p.cluster->fence},
                    {"watchdog", p.cluster->watchdog},
                    {"watchdog_timeout", p.cluster->watchdog_timeout}};
    if (p.cluster->remote_port != 0) {
      j["cluster"]["remote_port"] = p.cluster->remote_port;
      j["cluster"]["remote_address"] = p.cluster->remote_address;
      j["cluster"]["remote_timeout_ms"] = p.cluster->remote_timeout_ms;
    }
    if (p.cluster->remote_node()) {
      json attach = json::array();
      for (const auto& m : p.cluster->attach) {
        attach.push_back({{"name", m.name}, {"host", m.host}, {"port", m.port}});
      }
      j["cluster"]["attach"] = std::move(attach);
    }
    if (!p.cluster->tls_cert.empty() || !p.cluster->tls_key.empty() || !p.cluster->tls_ca.empty()) {
      j["cluster"]["tls"] = {
          {"cert", p.cluster->tls_cert}, {"key", p.cluster->tls_key}, {"ca", p.cluster->tls_ca}};
    }
  }
  if (!p.channels.empty()) {
    static const char* kChannelType[] = {"hook", "webhook", "alertmanager", "email"};
    j["channels"] = json::array();
    for (const auto& c : p.channels) {
      json cj = {{"name", c.name}, {"type", kChannelType[static_cast<int>(c.type)]}};
      if (c.type != catalog::ChannelSpec::Type::kHook) {
        cj["url"] = c.url;
        cj["timeout"] = c.timeout;
        cj["retries"] = c.retries;
        if (!c.ca.empty()) cj["ca"] = c.ca;
      }
      if (c.type == catalog::ChannelSpec::Type::kEmail) {
        cj["from"] = c.from;
        cj["to"] = c.to;
      }
      j["channels"].push_back(std::move(cj));
    }
  }
  j["constants"] = json::array();
  for (const auto& c : p.constants) {
    j["constants"].push_back({{"name", c.name}, {"value", expr_to_json(c.value)}});
  }
  j["events"] = json::array();
  for (std::size_t i = 0; i < p.events.size(); ++i) {
    const auto& e = p.events[i];
    j["events"].push_back({{"id", i},
                           {"name", e.name},
                           {"params", params_json(e.params)},
                           {"notify_only", e.notify_only},
                           {"declared", e.declared}});
  }
  j["discover"] = json::array();
  for (const auto& r : p.discover) {
    static const char* kTemporal[] = {"none", "for", "for_checks", "times_within"};
    json args = json::array();
    for (const auto& a : r.args) args.push_back(ref_json(a));
    j["discover"].push_back({{"name", r.name},
                             {"params", params_json(r.params)},
                             {"condition", expr_to_json(r.condition)},
                             {"temporal",
                              {{"kind", kTemporal[static_cast<int>(r.temporal.kind)]},
                               {"seconds", r.temporal.duration},
                               {"count", r.temporal.count}}},
                             {"event", r.event},
                             {"args", args}});
    if (r.temporal.clear_after > 0) {
      j["discover"].back()["temporal"]["clear_after"] = r.temporal.clear_after;
    }
  }
  j["recover"] = json::array();
  for (const auto& r : p.recover) {
    j["recover"].push_back({{"event", r.event},
                            {"event_name", r.event_name},
                            {"params", params_json(r.params)},
                            {"body", checked_actions_json(r.body)}});
  }
  return j;
}

std::string dump_json(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace amata::frontend
