// amatactl: talks to a running amatad over its console socket. Command-line parsing only;
// the client, rendering and exit codes live in engine/console/ctl.h.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "base/version.h"
#include "engine/console/ctl.h"

int main(int argc, char** argv) try {
  using amata::console::CtlCommand;
  CtlCommand command;
  CLI::App app{"amatactl: query and control a running amatad", "amatactl"};
  app.set_help_all_flag("--help-all", "Print the help of every subcommand and exit");
  // amatactl's own version; `amatactl version` asks amatad for its.
  app.set_version_flag("--version", amata::base::version_line("amatactl"));
  app.require_subcommand(1, 1);
  app.fallthrough();  // global options may follow the subcommand: `amatactl status --json`
  app.add_option("--socket", command.socket_path, "amatad's console socket")
      ->envname("AMATA_SOCKET")
      ->capture_default_str();
  app.footer(
      "Exit codes: 0 ok, 1 amatad refused or the command failed, 2 usage, 3 cannot connect,\n"
      "4 permission denied, 5 a --wait action failed, 6 --wait timed out.\n"
      "Protocol and output: docs/console.md.");
  app.add_flag("--json", command.json, "print raw JSON results for scripts");
  bool no_colour = false;
  app.add_flag("--no-color", no_colour, "never colour the output");

  app.add_subcommand("status",
                     "every object (or those named): kind, state, key attributes, restarts; the "
                     "cluster, if any")
      ->add_option("OBJECT", command.objects, "only these objects");
  app.add_subcommand("rules", "every rule: armed, pending (time left) or firing; its last edge");
  auto* events = app.add_subcommand("events", "event history; --follow streams new events");
  events->add_option("--since", command.since, "a duration (10m, 2h, 1d) or a UTC time");
  events->add_option("--object", command.object, "only events about this object");
  events->add_option("--event", command.event, "only events of this name");
  events->add_option("-n,--limit", command.limit, "only the newest N (default 1000)")
      ->check(CLI::Range(0, 100000));
  events->add_flag("--follow,-f", command.follow, "keep streaming new events");
  events->add_flag("--cluster", command.cluster,
                   "the cluster log: every node's events and membership changes, in bus order");
  auto* explain = app.add_subcommand("explain", "why a rule is or is not firing");
  explain->add_option("RULE", command.target, "the rule")->required();
  std::string wait_timeout;
  for (const char* verb : {"restart", "start", "stop", "monitor", "unmonitor"}) {
    auto* sub = app.add_subcommand(verb, std::string(verb) + " an object");
    sub->add_option("OBJECT", command.target, "the object")->required();
    if (std::string_view(verb) == "monitor" || std::string_view(verb) == "unmonitor") continue;
    sub->add_flag("--wait", command.wait,
                  "wait until the action has ended; exit 0 if it succeeded, 5 if it failed");
    sub->add_option("--timeout", wait_timeout,
                    "with --wait: give up waiting after this long (seconds, or 2m...; default "
                    "90s), exit 6");
  }
  auto* maintenance = app.add_subcommand(
      "maintenance",
      "pause recovery and hooks of OBJECT (or --node) --for D --reason TEXT; --end ends it; "
      "alone: list the windows");
  maintenance->add_option("OBJECT", command.target, "the object (or --node)");
  maintenance->add_flag("--node", command.node, "every object of this node");
  maintenance->add_option("--for", command.for_duration, "how long: 30m, 2h, 1d (1s to 7d)");
  maintenance->add_option("--reason", command.reason, "why, for whoever reads the history");
  maintenance->add_flag("--end", command.end, "end the window now");
  auto* failover = app.add_subcommand(
      "failover",
      "move a clustered SERVICE to NODE (--to), or to the best other node; asked of the cluster");
  failover->add_option("SERVICE", command.target, "the clustered service")->required();
  failover->add_option("--to", command.to, "the node to move it to (a ring member or remote node)");
  auto* reload = app.add_subcommand("reload", "reload the policy (or load FILE)");
  reload->add_option("FILE", command.target, "a policy file to load instead");
  app.add_subcommand("version", "amatad's version and console protocol");
  auto* names =
      app.add_subcommand("names", "every object's or rule's name, one a line (for completion)");
  names->add_option("WHAT", command.target, "objects or rules")
      ->required()
      ->check(CLI::IsMember({"objects", "rules"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return amata::console::kExitUsage;
  }
  command.cmd = app.get_subcommands().front()->get_name();
  if (!wait_timeout.empty()) {
    if (!command.wait) {
      std::cerr << "amatactl: --timeout needs --wait\n";
      return amata::console::kExitUsage;
    }
    // Plain digits are seconds, as systemctl's are; anything else is a duration.
    const bool seconds = wait_timeout.find_first_not_of("0123456789") == std::string::npos;
    auto ms = amata::console::parse_duration_ms(seconds ? wait_timeout + "s" : wait_timeout);
    if (!ms || *ms <= 0) {
      std::cerr << "amatactl: --timeout: "
                << (ms ? "'" + wait_timeout + "' must be more than 0" : ms.error().message) << "\n";
      return amata::console::kExitUsage;
    }
    command.wait_timeout = std::chrono::milliseconds(*ms);
  }
  command.colour = !no_colour && isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  return amata::console::run_ctl(command, std::cout, std::cerr);
} catch (const std::exception& e) {
  // Out of memory or the like: the command failed.
  std::cerr << "amatactl: error: " << e.what() << "\n";
  return amata::console::kExitRefused;
}
