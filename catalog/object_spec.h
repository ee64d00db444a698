// What an operator declared about one object, after checking: its kind and its settings,
// with every value normalised (durations in seconds, signals as numbers, argv as vectors).
//
// The checker produces these; the probes and the engine read them. Like the catalog this is
// a leaf (standard library only), so probes/ depends on nothing else of the compiler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"

namespace amata::catalog {

/// A health check of a service: is it answering, not merely alive?
struct HealthCheckSpec {
  enum class Protocol : std::uint8_t { kTcp, kUnix, kHttp };
  Protocol protocol = Protocol::kTcp;
  std::string target;       // "127.0.0.1:8080", "/run/app.sock", "http://127.0.0.1:8080/healthz"
  double interval = 1.0;    // seconds between checks
  double timeout = 1.0;     // seconds before a check counts as failed
  int expect_status = 200;  // kHttp: the status that counts as healthy (2xx if 0)
  std::string ca_file;  // kHttp, https: the CAs (PEM) that verify the server; empty: the system's
};

/// How a service is stopped: a first signal, then SIGKILL to its process group after a timeout.
struct StopSpec {
  int signal = 15;          // SIGTERM
  double kill_after = 5.0;  // seconds before SIGKILL
};

/// How a host is probed.
struct HostProbeSpec {
  enum class Method : std::uint8_t { kTcp, kIcmp };
  Method method = Method::kTcp;
  std::string address;  // name or literal address
  int port = 0;         // kTcp
  double timeout = 1.0;
};

/// One declared object. Fields that do not apply to the object's kind stay empty.
struct ObjectSpec {
  std::string name;
  Kind kind = Kind::kNode;
  double every = 1.0;  // probe period, seconds

  // service: what to run and how.
  std::vector<std::string> start;  // argv, never a shell
  StopSpec stop;
  std::vector<HealthCheckSpec> health;
  std::vector<std::string> depends;                      // names of services started first
  std::string user, group;                               // run as (empty: amatad's own)
  std::string workdir;                                   // working directory (empty: /)
  std::vector<std::pair<std::string, std::string>> env;  // extra environment
  std::string log;                                       // stdout/stderr file (empty: default)
  double grace = 5.0;  // after a start, health failures do not count
  // service in a cluster: the cluster decides where it runs; amatad does not start it at boot.
  bool clustered = false;
  std::vector<std::string> prefer;  // node names (the peers' `name`), most preferred first
  bool only_preferred = false;      // never run on a node outside `prefer`
  bool failback = false;  // move back to a better-ranked node of `prefer` when it (re)joins

  // process (and optionally service): how to find it.
  std::string pidfile;
  std::string match;  // RE2 regex over the command line (base/regex.h)

  // interface
  std::string ifname;
  // filesystem
  std::string path;
  // host
  HostProbeSpec host;
  // check: the plugin and its timeout
  std::vector<std::string> command;
  double timeout = 10.0;
  // sensor: an hwmon input of a chip (`chip` is the chip's `name`, or NAME@DEVICE with the
  // basename of its device link; `input` a label or an input's file stem, "temp1"), or a
  // thermal zone by its `type` (`zone`).
  std::string chip, input, zone;
  // ecc: an EDAC memory controller ("mc0") and, optionally, one DIMM of it (label or "dimm3")
  std::string controller, dimm;
  // raid: an MD array ("md0")
  std::string array;
  // disk: the block device smartctl reads ("/dev/sda"); `timeout` bounds each smartctl run
  std::string device;
  // unit: a systemd unit ("sshd.service")
  std::string unit;
  // peer
  std::string peer_name;
  std::optional<std::uint32_t> node_id;
};

/// `cluster NAME { group "G"; on_quorum_loss stop|freeze; fence "/abs/agent" "arg"... }`:
/// this node is one member of a Corosync cluster that places the `clustered` services.
struct ClusterSpec {
  enum class QuorumLoss : std::uint8_t {
    kStop,    // a node without quorum stops its clustered services (the majority takes over)
    kFreeze,  // a node without quorum keeps what runs, starts nothing new
  };
  std::string name;
  std::string group;  // the Corosync CPG group (default: "amata-" + name)
  QuorumLoss on_quorum_loss = QuorumLoss::kStop;
  std::vector<std::string> fence;  // argv of the fence agent (empty: no fencing)
  /// `watchdog "/dev/watchdog"`: the device amatad feeds while its node may hold clustered
  /// services (empty: none). A node that cannot show it is safe is reset by it, and the
  /// majority waits twice `watchdog_timeout` before taking over a lost node's services.
  std::string watchdog;
  int watchdog_timeout = 10;  // seconds (the watchdog API takes whole seconds)

  // Remote nodes (docs/operations.md, "Remote nodes"): a ring member may listen for them; a
  // remote node attaches to the ring instead of joining Corosync.
  std::uint16_t remote_port = 0;  // a ring member listens for remote nodes here (0: it does not)
  std::string remote_address;     // the address it listens on ("": every address)
  int remote_timeout_ms = 2000;   // a remote node whose heartbeat stops this long is gone
  /// `attach "n1@10.0.0.1:7420" ...`: the ring members this remote node may attach to (empty:
  /// it is a ring member).
  struct RingMember {
    std::string name;
    std::string host;
    std::uint16_t port = 7420;
  };
  std::vector<RingMember> attach;
  // This node's certificate and key, and the CA every node's certificate is signed by (PEM).
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;

  bool remote_node() const { return !attach.empty(); }
};

/// `channel NAME { ... }`: where `notify "NAME"` delivers. amatad delivers webhooks,
/// Alertmanager alerts and mail itself (off its loop, with retries); a `hook` channel runs
/// the hook script DIR/NAME. "console" is built in: the log and the console only.
struct ChannelSpec {
  enum class Type : std::uint8_t {
    kHook,          // `hook`: the script HOOKS_DIR/NAME, with the event in its environment
    kWebhook,       // `webhook "http(s)://..."`: a JSON POST
    kAlertmanager,  // `alertmanager "http(s)://host:9093"`: its v2 API; resolved on clear
    kEmail,         // `email "smtp(s)://host[:port]"` with `from` and `to`
  };
  std::string name;
  Type type = Type::kHook;
  std::string url;
  std::string from;             // email: the envelope and From: address
  std::vector<std::string> to;  // email: the recipients
  std::string ca;       // https / smtps: CA bundle to verify the server by (else the system's)
  double timeout = 10;  // seconds, one attempt
  int retries = 3;      // attempts after the first, with a doubling backoff from 1 s
};

}  // namespace amata::catalog
