#include "compiler/check/checker.h"

#include <gtest/gtest.h>

#include <csignal>

#include "catalog/catalog.h"
#include "compiler/frontend/frontend.h"

namespace amata::check {
namespace {

struct Compiled {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  std::optional<CheckedPolicy> policy;

  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& d : diags.sorted()) out.push_back(d.code);
    return out;
  }
  std::string messages() const {
    std::string out;
    for (const auto& d : diags.sorted()) out += d.code + ": " + d.message + "\n";
    return out;
  }
};

std::unique_ptr<Compiled> compile(std::string text) {
  auto c = std::make_unique<Compiled>();
  c->policy = frontend::compile_text("test.amata", std::move(text), c->sources, c->diags);
  return c;
}

TEST(CheckerTest, ObjectsBecomeSpecsInBaseUnits) {
  auto c = compile(
      "service web {\n"
      "  start \"/usr/bin/web\" \"--port\" \"8080\"\n"
      "  stop TERM then KILL after 1500ms\n"
      "  health http \"http://127.0.0.1:8080/\" every 2s timeout 250ms expect 204\n"
      "  env MODE \"prod\"\n"
      "  every 1min\n"
      "}\n"
      "interface up {}\n"
      "host gw { address \"10.0.0.1\"; port 22; timeout 2s }\n");
  ASSERT_TRUE(c->policy) << c->messages();
  const auto& web = c->policy->objects.at(0);
  EXPECT_EQ(web.kind, catalog::Kind::kService);
  EXPECT_EQ(web.start, (std::vector<std::string>{"/usr/bin/web", "--port", "8080"}));
  EXPECT_EQ(web.stop.signal, SIGTERM);
  EXPECT_DOUBLE_EQ(web.stop.kill_after, 1.5);
  ASSERT_EQ(web.health.size(), 1u);
  EXPECT_EQ(web.health[0].protocol, catalog::HealthCheckSpec::Protocol::kHttp);
  EXPECT_DOUBLE_EQ(web.health[0].interval, 2);
  EXPECT_DOUBLE_EQ(web.health[0].timeout, 0.25);
  EXPECT_EQ(web.health[0].expect_status, 204);
  EXPECT_EQ(web.env.at(0), (std::pair<std::string, std::string>{"MODE", "prod"}));
  EXPECT_DOUBLE_EQ(web.every, 60);
  EXPECT_EQ(c->policy->objects.at(1).ifname, "up");  // defaults to the object's name
  EXPECT_EQ(c->policy->objects.at(2).host.port, 22);
  EXPECT_EQ(c->policy->find_object("gw"), 2);
}

TEST(CheckerTest, ConstantsFoldAndLiteralsNormalise) {
  auto c = compile(
      "let high = 90%\n"
      "let mem = 2GiB\n"
      "let grace = 1min + 30s\n"
      "node self {}\n"
      "discover hot when self.cpu > high and self.mem_used > mem for grace raise Hot(self)\n"
      "event Hot(n: node) notify_only\n");
  ASSERT_TRUE(c->policy) << c->messages();
  const auto& r = c->policy->discover.at(0);
  EXPECT_EQ(r.temporal.kind, Temporal::Kind::kForDuration);
  EXPECT_DOUBLE_EQ(r.temporal.duration, 90);
  ASSERT_EQ(r.condition.op, TypedExpr::Op::kAnd);
  const TypedExpr& mem = r.condition.operands[1].operands[1];
  EXPECT_EQ(mem.op, TypedExpr::Op::kNumber);
  EXPECT_DOUBLE_EQ(mem.number, 2147483648.0);
  EXPECT_EQ(mem.type, catalog::Type::number(catalog::Dimension::kBytes));
  const TypedExpr& cpu = r.condition.operands[0].operands[0];
  EXPECT_EQ(cpu.op, TypedExpr::Op::kAttr);
  EXPECT_EQ(cpu.attr.attribute, "cpu");
  EXPECT_EQ(cpu.attr.object.base, ObjectRef::Base::kObject);
}

// Minutes and days as Prometheus and systemd write them; units spelled out get a fix-it.
TEST(CheckerTest, DurationsInTheSpellingsOperatorsUse) {
  auto c = compile(
      "let hold = 1d + 2m\n"
      "node self {}\n"
      "discover hot when avg(self.cpu, 5m) > 90% for hold raise Hot(self)\n"
      "discover warm when self.cpu > 50% for 5m raise Hot(self)\n"
      "event Hot(n: node) notify_only\n");
  ASSERT_TRUE(c->policy) << c->messages();
  EXPECT_DOUBLE_EQ(c->policy->discover.at(0).temporal.duration, 86400 + 120);
  EXPECT_DOUBLE_EQ(c->policy->discover.at(0).condition.operands[0].duration, 300);  // avg's window
  EXPECT_DOUBLE_EQ(c->policy->discover.at(1).temporal.duration, 300);
  auto spelled = compile(
      "node self {}\n"
      "discover hot when self.cpu > 90% for 5minutes raise Hot(self)\n"
      "event Hot(n: node) notify_only\n");
  EXPECT_FALSE(spelled->policy);
  EXPECT_NE(spelled->messages().find("unknown unit 'minutes'; did you mean 'min'?"),
            std::string::npos)
      << spelled->messages();
}

// W0205 follows restarts through `when` branches, raised events and fixed objects, and a
// rule over every service covers each one.
TEST(CheckerTest, AServiceNothingRestartsIsWarnedAbout) {
  const std::string services =
      "service web { start \"/web\" }\nservice db { start \"/db\" }\n"
      "service cache { start \"/cache\" }\n";
  auto c = compile(services +
                   "discover a when not web.alive raise Down(web)\n"
                   "recover Down(s) { when s.restarts within 5min > 3 { raise Page(s) } else "
                   "{ restart s } }\n"
                   "event Page(s: service) notify_only\n"
                   "discover b when not db.alive raise Gone(db)\n"
                   "recover Gone(s) { raise Again(s) }\n"
                   "recover Again(s) { notify \"console\"; start cache }\n");
  ASSERT_TRUE(c->policy) << c->messages();
  // web: restarted in the else branch; cache: started by name from Again; db: only paged.
  EXPECT_EQ(c->codes(), std::vector<std::string>{"W0205"}) << c->messages();
  EXPECT_NE(c->messages().find("service 'db' is never restarted"), std::string::npos)
      << c->messages();
  auto every = compile(services +
                       "discover down(s: service) when not s.alive raise Down(s)\n"
                       "recover Down(s) { restart s }\n");
  EXPECT_EQ(every->codes(), std::vector<std::string>{}) << every->messages();
}

// An enum member is written bare, so one that is also a word of the language (`check`,
// `recover`) could never be compared with: every member of every enum must check clean
// against an attribute of its own type.
TEST(CheckerTest, EveryEnumMemberCanBeWritten) {
  for (catalog::Kind kind : catalog::all_kinds()) {
    for (const catalog::Attribute& a : catalog::attributes(kind)) {
      if (a.type.kind != catalog::ValueKind::kEnum) continue;
      for (std::string_view member : catalog::enum_members(a.type.enum_type)) {
        const std::string decl = std::string(catalog::kind_name(kind)) + " x {" +
                                 (kind == catalog::Kind::kDisk ? " device \"/dev/sda\" " : "") +
                                 (kind == catalog::Kind::kSensor ? " zone \"acpitz\" " : "") +
                                 (kind == catalog::Kind::kEcc ? " controller \"mc0\" " : "") +
                                 (kind == catalog::Kind::kRaid ? " array \"md0\" " : "") +
                                 (kind == catalog::Kind::kProcess ? " match \"x\" " : "") +
                                 (kind == catalog::Kind::kHost ? " address \"h\"; port 1 " : "") +
                                 (kind == catalog::Kind::kCheck ? " command \"/bin/true\" " : "") +
                                 (kind == catalog::Kind::kFilesystem ? " path \"/\" " : "") +
                                 (kind == catalog::Kind::kService ? " start \"/bin/true\" " : "") +
                                 "}\n";
        auto c = compile(decl + "event E(o: " + std::string(catalog::kind_name(kind)) +
                         ") notify_only\ndiscover d when x." + std::string(a.name) +
                         " == " + std::string(member) + " raise E(x)\n");
        EXPECT_TRUE(c->diags.sorted().empty())
            << catalog::kind_name(kind) << "." << a.name << " == " << member << "\n"
            << c->messages();
      }
    }
  }
}

TEST(CheckerTest, PerMinuteAndPerHourAreUnitsButMinStaysAWindowFunction) {
  auto c = compile(
      "node self {}\nevent E(n: node) notify_only\n"
      "discover a when rate(self.procs, 1h) > 10/h raise E(self)\n"
      "discover b when rate(self.procs) > 6/min raise E(self)\n"
      "discover c when 100/min(self.load1, 5m) > 2 raise E(self)\n");
  ASSERT_TRUE(c->policy) << c->messages();
  EXPECT_TRUE(c->diags.sorted().empty()) << c->messages();
  // 10/h is 10 an hour, in the base unit per second; rate(x, D) is delta(x, D) / D.
  const auto& a = c->policy->discover[0].condition;
  EXPECT_NEAR(a.operands[1].number, 10.0 / 3600, 1e-12);
  EXPECT_EQ(a.operands[0].op, TypedExpr::Op::kDiv);
  EXPECT_EQ(a.operands[0].operands[0].op, TypedExpr::Op::kDelta);
  EXPECT_DOUBLE_EQ(a.operands[0].operands[0].duration, 3600);
  EXPECT_NEAR(c->policy->discover[1].condition.operands[1].number, 0.1, 1e-12);
}

TEST(CheckerTest, EnumsResolveToOrdinals) {
  auto c = compile(
      "interface eth0 {}\n"
      "discover a when eth0.carrier == up raise A(eth0)\n"
      "discover b when eth0.operstate == down raise A(eth0)\n"
      "event A(i: interface) notify_only\n");
  ASSERT_TRUE(c->policy) << c->messages();
  EXPECT_EQ(c->policy->discover[0].condition.operands[1].enum_ordinal,
            *catalog::enum_ordinal(catalog::EnumType::kLinkState, "up"));
  EXPECT_EQ(c->policy->discover[1].condition.operands[1].enum_ordinal,
            *catalog::enum_ordinal(catalog::EnumType::kOperState, "down"));
}

TEST(CheckerTest, ClusterDeclarationAndClusteredServices) {
  auto c = compile(
      "service db { start \"/bin/db\"; clustered; prefer b a; only_preferred }\n"
      "service web { start \"/bin/web\" }\n"
      "cluster pair {\n"
      "  group \"amata-db\"\n"
      "  on_quorum_loss freeze\n"
      "  fence \"/usr/sbin/fence_x\" \"--ip\" \"10.0.0.9\"\n"
      "}\n"
      "peer a { node_id 1 }\n"
      "peer b { name \"node-b\"; node_id 2 }\n");
  ASSERT_TRUE(c->policy) << c->messages();
  ASSERT_TRUE(c->policy->cluster);
  EXPECT_EQ(c->policy->cluster->name, "pair");
  EXPECT_EQ(c->policy->cluster->group, "amata-db");
  EXPECT_EQ(c->policy->cluster->on_quorum_loss, catalog::ClusterSpec::QuorumLoss::kFreeze);
  EXPECT_EQ(c->policy->cluster->fence,
            (std::vector<std::string>{"/usr/sbin/fence_x", "--ip", "10.0.0.9"}));
  const auto& db = c->policy->objects.at(c->policy->find_object("db"));
  EXPECT_TRUE(db.clustered);
  EXPECT_TRUE(db.only_preferred);
  // Peers declared after the service: prefer holds their node names, in the written order.
  EXPECT_EQ(db.prefer, (std::vector<std::string>{"node-b", "a"}));
  EXPECT_FALSE(c->policy->objects.at(c->policy->find_object("web")).clustered);
  EXPECT_EQ(c->policy->find_object("pair"), -1);  // a cluster is not an object
}

TEST(CheckerTest, ClusterDefaultsAndMisuse) {
  auto ok = compile("cluster web_pair {}\n");
  ASSERT_TRUE(ok->policy) << ok->messages();
  EXPECT_EQ(ok->policy->cluster->group, "amata-web_pair");
  EXPECT_EQ(ok->policy->cluster->on_quorum_loss, catalog::ClusterSpec::QuorumLoss::kStop);
  EXPECT_TRUE(ok->policy->cluster->fence.empty());

  auto none = compile("service web { start \"/bin/web\" }\n");
  ASSERT_TRUE(none->policy);
  EXPECT_FALSE(none->policy->cluster);

  auto bad = compile(
      "cluster c { on_quorum_loss panic; fence \"relative\"; grup \"x\" }\n"
      "service web { start \"/bin/web\"; only_preferred }\n"
      "service db { start \"/bin/db\"; clustered; prefer web }\n");
  EXPECT_FALSE(bad->policy);
  const std::string m = bad->messages();
  EXPECT_NE(m.find("unknown policy 'panic'"), std::string::npos) << m;
  EXPECT_NE(m.find("expected an absolute path"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'group'"), std::string::npos) << m;
  EXPECT_NE(m.find("needs 'clustered'"), std::string::npos) << m;
  EXPECT_NE(m.find("'web' is a service, not a peer"), std::string::npos) << m;
}

TEST(CheckerTest, KindRulesEventsAndRecovery) {
  auto c = compile(
      "cluster pair { group \"amata-pair\" }\n"
      "service web { start \"/bin/web\"; clustered }\n"
      "peer beta {}\n"
      "discover down(s: service) when not s.alive 3 times within 1min raise Down(s)\n"
      "recover Down(x) {\n"
      "  restart x backoff 100ms .. 10s limit 5 within 10min\n"
      "  when x.restarts within 5min > 3 { failover x to beta } else { signal x HUP }\n"
      "  run \"/bin/report\" x.name x.pid\n"
      "  raise Escalated(x)\n"
      "}\n"
      "event Escalated(s: service) notify_only\n");
  ASSERT_TRUE(c->policy) << c->messages();
  const auto& d = c->policy->discover.at(0);
  ASSERT_EQ(d.params.size(), 1u);
  EXPECT_EQ(d.temporal.kind, Temporal::Kind::kTimesWithin);
  EXPECT_EQ(d.temporal.count, 3);
  EXPECT_DOUBLE_EQ(d.temporal.duration, 60);
  EXPECT_EQ(d.args.at(0).base, ObjectRef::Base::kParameter);
  const auto& ev = c->policy->events.at(d.event);
  EXPECT_EQ(ev.name, "Down");
  EXPECT_FALSE(ev.declared);
  const auto& r = c->policy->recover.at(0);
  EXPECT_EQ(r.event, d.event);
  ASSERT_EQ(r.body.size(), 4u);
  EXPECT_DOUBLE_EQ(r.body[0].backoff->min, 0.1);
  EXPECT_EQ(r.body[0].limit->count, 5);
  EXPECT_EQ(r.body[1].condition.operands[0].op, TypedExpr::Op::kDelta);
  EXPECT_DOUBLE_EQ(r.body[1].condition.operands[0].duration, 300);
  EXPECT_EQ(r.body[1].then_body.at(0).peer->index, 1);
  EXPECT_EQ(r.body[1].else_body.at(0).signal, SIGHUP);
  EXPECT_EQ(r.body[2].argv[1].kind, RunArg::Kind::kObjectName);
  EXPECT_EQ(r.body[2].argv[2].kind, RunArg::Kind::kAttribute);
  EXPECT_EQ(c->policy->events.at(r.body[3].event).name, "Escalated");
  EXPECT_EQ(c->diags.warning_count(), 0u) << c->messages();
}

TEST(CheckerTest, WindowFunctionsAndTypes) {
  auto c = compile(
      "node self {}\n"
      "interface i {}\n"
      "filesystem f { path \"/\" }\n"
      "discover a when avg(self.cpu, 5min) > 50% raise E(self)\n"
      "discover b when rate(i.rx_bytes) > 10MB/s raise E(self)\n"
      "discover c when predict(f.used, 1h) > 100% raise E(self)\n"
      "discover d when changed(i.carrier) raise E(self)\n"
      "discover e when delta(self.procs) > 100 raise E(self)\n"
      "event E(n: node) notify_only\n");
  ASSERT_TRUE(c->policy) << c->messages();
  const auto& b = c->policy->discover[1].condition.operands[0];
  EXPECT_EQ(b.op, TypedExpr::Op::kRate);
  EXPECT_EQ(b.type, catalog::Type::number(catalog::Dimension::kBytesPerSecond));
  EXPECT_DOUBLE_EQ(c->policy->discover[1].condition.operands[1].number, 10e6);
  EXPECT_DOUBLE_EQ(c->policy->discover[2].condition.operands[0].duration, 3600);
  EXPECT_EQ(c->policy->discover[3].condition.op, TypedExpr::Op::kChanged);
}

TEST(CheckerTest, TypeAndUnitErrors) {
  EXPECT_EQ(compile("node self {}\ndiscover h when self.cpu > 2GB raise H(self)\n"
                    "event H(n: node) notify_only\n")
                ->codes(),
            std::vector<std::string>{"E0300"});
  EXPECT_EQ(compile("node self {}\ndiscover h when self.cpu raise H(self)\n"
                    "event H(n: node) notify_only\n")
                ->codes(),
            std::vector<std::string>{"E0302"});
  EXPECT_EQ(compile("node self {}\ndiscover h when self.cpu > 1% for 3 raise H(self)\n"
                    "event H(n: node) notify_only\n")
                ->codes(),
            std::vector<std::string>{"E0303"});
  EXPECT_EQ(compile("service s { start \"/x\" }\n"
                    "discover h when s.alive + 1 > 0 raise H(s)\nevent H(s: service) notify_only\n")
                ->codes(),
            std::vector<std::string>{"E0301"});
}

TEST(CheckerTest, DidYouMeanSuggestions) {
  auto c = compile(
      "node self {}\ndiscover h when self.cpus > 1% raise H(self)\n"
      "event H(n: node) notify_only\n");
  ASSERT_EQ(c->codes(), std::vector<std::string>{"E0203"});
  EXPECT_NE(c->diags.diagnostics()[0].message.find("did you mean 'cpu'"), std::string::npos);
  ASSERT_EQ(c->diags.diagnostics()[0].fixits.size(), 1u);
  EXPECT_EQ(c->diags.diagnostics()[0].fixits[0].replacement, "cpu");
  auto k = compile("servce web { start \"/x\" }\n");
  EXPECT_NE(k->messages().find("did you mean 'service'"), std::string::npos);
}

TEST(CheckerTest, EventConsistencyAndWarnings) {
  auto c = compile(
      "service web { start \"/x\" }\nnode self {}\n"
      "discover a when not web.alive raise Down(web)\n"
      "discover b when self.cpu > 1% raise Down(self)\n"
      "recover Down(s) { restart s }\n");
  EXPECT_EQ(c->codes(), std::vector<std::string>{"E0401"});
  ASSERT_EQ(c->diags.diagnostics()[0].notes.size(), 1u);
  auto w = compile(
      "service web { start \"/x\" }\n"
      "discover a when not web.alive raise Down(web)\n"
      "recover Up(s) { start s }\n");
  // W0205 too: Down is never recovered, so nothing restarts web.
  EXPECT_EQ(w->codes(), (std::vector<std::string>{"W0205", "W0201", "W0202"}));
  EXPECT_TRUE(w->policy);  // warnings do not fail the check
}

TEST(CheckerTest, DependencyCycle) {
  auto c = compile(
      "service a { start \"/a\"; depends b }\n"
      "service b { start \"/b\"; depends a }\n");
  EXPECT_EQ(c->codes(), std::vector<std::string>{"E0211"});
  EXPECT_NE(c->messages().find("a -> b -> a"), std::string::npos) << c->messages();
}

TEST(CheckerTest, PassesAreObservable) {
  source::SourceManager sources;
  diag::DiagnosticEngine diags;
  const auto id = sources.add("t.amata", "node self {}\nlet x = 1s\n");
  auto program = frontend::parse_program(id, sources, diags);
  std::vector<std::string> seen;
  std::size_t objects_after_declarations = 0;
  check_program(program, sources, diags, [&](std::string_view pass, const CheckedPolicy& p) {
    seen.emplace_back(pass);
    if (pass == "declarations") objects_after_declarations = p.objects.size();
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"declarations", "constants", "objects", "discover",
                                            "recover", "lint"}));
  EXPECT_EQ(objects_after_declarations, 1u);
}

// The default restart policy is applied by the checker, so `amatac dump` shows it; `none`
// turns each part off and `none` stays a usable constant name where a value is expected.
TEST(CheckerTest, RestartGetsTheDefaultBackoffAndLimitUnlessItNamesThem) {
  auto c = compile(
      "let none = 1s\n"
      "service web { start \"/bin/web\" }\n"
      "discover d when not web.alive raise Down(web)\n"
      "recover Down(s) {\n"
      "  restart s\n"
      "  restart s backoff none limit none\n"
      "  restart s backoff none .. 5s limit 2 within 1min\n"
      "  start s\n"
      "}\n");
  ASSERT_TRUE(c->policy) << c->messages();
  const auto& body = c->policy->recover.at(0).body;
  ASSERT_EQ(body.size(), 4u);
  ASSERT_TRUE(body[0].backoff && body[0].limit);
  EXPECT_DOUBLE_EQ(body[0].backoff->min, kDefaultBackoff.min);
  EXPECT_DOUBLE_EQ(body[0].backoff->max, kDefaultBackoff.max);
  EXPECT_EQ(body[0].limit->count, kDefaultLimit.count);
  EXPECT_DOUBLE_EQ(body[0].limit->window, kDefaultLimit.window);
  EXPECT_TRUE(body[0].default_backoff && body[0].default_limit);
  EXPECT_FALSE(body[1].backoff);
  EXPECT_FALSE(body[1].limit);
  ASSERT_TRUE(body[2].backoff && body[2].limit);
  EXPECT_DOUBLE_EQ(body[2].backoff->min, 1);  // the constant
  EXPECT_FALSE(body[2].default_backoff);
  EXPECT_EQ(body[2].limit->count, 2);
  EXPECT_FALSE(body[3].backoff);  // start restarts nothing
}

// `recover A { raise B }` with `recover B { raise A }` checked clean, and amatad followed it.
TEST(CheckerTest, RaiseCyclesAreErrorsWithANoteAtEachStep) {
  auto c = compile(
      "service web { start \"/bin/web\" }\n"
      "discover d when not web.alive raise A(web)\n"
      "recover A(s) { raise B(s) }\n"
      "recover B(s) { raise C(s) }\n"
      "recover C(s) { restart s; raise A(s) }\n");
  EXPECT_FALSE(c->policy);
  ASSERT_EQ(c->codes(), std::vector<std::string>{"E0408"}) << c->messages();
  const auto& d = c->diags.diagnostics().at(0);
  EXPECT_EQ(d.message,
            "escalation cycle: A -> B -> C -> A; amatad would run these recoveries forever");
  EXPECT_EQ(d.notes.size(), 3u);
  // A chain that ends is fine.
  auto ok = compile(
      "service web { start \"/bin/web\" }\n"
      "discover d when not web.alive raise A(web)\n"
      "recover A(s) { raise B(s) }\n"
      "recover B(s) { restart s }\n");
  EXPECT_TRUE(ok->policy) << ok->messages();
}

// The value checks reject exactly what the daemon would, and accept the examples' values.
TEST(CheckerTest, SettingValuesAreHeldToWhatAmatadLoads) {
  auto ok = compile(
      "service web {\n"
      "  start \"/usr/bin/web\"\n"
      "  health tcp \"[::1]:8080\"\n"
      "  health unix \"/run/web.sock\"\n"
      "  health http \"http://localhost:8080/healthz\"\n"
      "  health http \"https://localhost:8443/healthz\" ca \"/etc/amata/ca.pem\"\n"
      "  user \"www-data\"\n"
      "  group \"www-data\"\n"
      "  env HTTP_PORT \"8080\"\n"
      "}\n"
      "host gw { address \"fe80::1%eth0\"; method icmp }\n"
      "interface eth0 {}\n");
  EXPECT_TRUE(ok->policy) << ok->messages();
  for (const char* bad :
       {"health tcp \"127.0.0.1:99999\"", "health tcp \"127.0.0.1:0\"",
        "health http \"http://127.0.0.1:70000/\"", "user \"a b\"", "group \"a:b\"",
        "env \"A=B\" \"x\"", "log \"log.txt\"", "health http \"https://127.0.0.1/\" ca \"ca.pem\"",
        "health http \"http://127.0.0.1/\" ca \"/etc/ca.pem\""}) {
    auto c = compile(std::string("service web {\n  start \"/usr/bin/web\"\n  ") + bad + "\n}\n");
    EXPECT_EQ(c->codes(), std::vector<std::string>{"E0206"}) << bad << "\n" << c->messages();
  }
}

// Three shapes the checker accepted and the lowering (amatad's loader) then refused.
TEST(CheckerTest, WhatTheBackEndsCannotEvaluateIsRefusedHere) {
  const char* head =
      "process a { match \"^a\" }\nprocess b { match \"^b\" }\n"
      "event E(p: process) notify_only\n";
  auto changed = compile(std::string(head) + "discover d when changed(a.state) raise E(a)\n");
  EXPECT_EQ(changed->codes(), std::vector<std::string>{"E0306"}) << changed->messages();
  auto two = compile(std::string(head) + "discover d when a.state == b.state raise E(a)\n");
  EXPECT_EQ(two->codes(), std::vector<std::string>{"E0301"}) << two->messages();
  // Two literals match at check time.
  auto folded = compile(std::string(head) +
                        "let name = \"web-1\"\n"
                        "discover d when a.alive and name =~ \"^web-[0-9]$\" raise E(a)\n");
  ASSERT_TRUE(folded->policy) << folded->messages();
  EXPECT_EQ(folded->policy->discover.at(0).condition.op, TypedExpr::Op::kAnd);
  EXPECT_TRUE(folded->policy->discover.at(0).condition.operands.at(1).boolean);
}

}  // namespace
}  // namespace amata::check
