#include "compiler/import/monit_conditions.h"

#include <cmath>
#include <cstddef>
#include <optional>
#include <vector>

#include "compiler/check/values.h"
#include "compiler/import/monit_values.h"

namespace amata::importer {
namespace {

/// Takes the trailing `[for] N [times within M] cycles` off `t` into `r.temporal`.
bool temporal(Tokens& t, Rule& r, std::string& why) {
  if (t.empty() || !lw(t.back()).starts_with("cycle")) return true;
  std::size_t k = t.size() - 1;
  if (k == 0 || !is_number(t[k - 1].text)) {
    why = "expected a number before 'cycles'";
    return false;
  }
  const double m = std::stod(t[k - 1].text);
  k -= 1;
  double n = m;
  if (k >= 2 && lw(t[k - 1]) == "within" && lw(t[k - 2]).starts_with("time")) {
    if (k < 3 || !is_number(t[k - 3].text)) {
      why = "expected 'N times within M cycles'";
      return false;
    }
    n = std::stod(t[k - 3].text);
    k -= 3;
    if (n != m) {
      r.notes.push_back("Monit: " + t[k].text + " failures within " + t[k + 3].text +
                        " cycles; amata: " + t[k].text + " consecutive checks");
    }
  }
  if (k > 0 && lw(t[k - 1]) == "for") --k;
  t.resize(k);
  if (n < 1 || n > 1000000 || n != std::floor(n)) {
    why = "the number of cycles must be a whole number from 1";
    return false;
  }
  if (n > 1) r.temporal = "for " + std::to_string(static_cast<long>(n)) + " checks";
  return true;
}

/// `NAME.ATTR OP VALUE`, the value read as `dim`.
bool compare(const Tokens& t, std::size_t i, const std::string& lhs, Dim dim, Rule& r,
             std::string& why) {
  auto op = comparison(t, i);
  if (!op) {
    why = "expected a comparison such as '> 80%'";
    return false;
  }
  auto v = literal(t, i, dim, why);
  if (!v) return false;
  if (i < t.size()) {
    why = "'" + t[i].text + "' after the value is not understood";
    return false;
  }
  r.condition = lhs + " " + *op + " " + *v;
  return true;
}

/// `N restarts [within] M cycles`: the process died N times in the window.
bool restarts(const CheckContext& x, const Tokens& t, Rule& r, std::string& why) {
  if (x.kind != "process") {
    why = "amata counts the deaths of processes only";
    return false;
  }
  const double n = std::stod(t[0].text);
  std::size_t i = 2;
  if (i < t.size() && lw(t[i]) == "within") ++i;
  if (i + 2 != t.size() || !is_number(t[i].text) || !lw(t[i + 1]).starts_with("cycle")) {
    why = "expected 'N restarts within M cycles'";
    return false;
  }
  const double m = std::stod(t[i].text);
  if (n < 1 || n > 1000 || n != std::floor(n) || m < 1 || m * x.cycle > 8760 * 3600) {
    why = "N must be 1 to 1000 and the window at most a year";
    return false;
  }
  r.name_hint = "flapping";
  r.condition = "not " + x.obj + ".alive";
  r.temporal = std::to_string(static_cast<long>(n)) + " times within " + duration(m * x.cycle);
  r.notes.push_back("Monit counts its restarts; amata counts the deaths that led to them");
  return true;
}

/// `failed [host H] port N [type tcp|udp] [protocol P ...] [timeout N seconds]`, or
/// `failed ping|icmp`: a host object probed every cycle, and `not H.reachable`.
bool port_test(CheckContext& x, const Tokens& t, Rule& r, std::string& why) {
  std::string address = x.kind == "host" ? x.host_address : "localhost";
  std::optional<long> port;
  bool icmp = false;
  double timeout = 0;
  std::vector<std::string> dropped;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const std::string w = lw(t[i]);
    if (w == "host" || w == "address") {
      if (i + 1 >= t.size()) break;
      address = t[++i].text;
    } else if (w == "port") {
      if (i + 1 >= t.size() || !is_number(t[i + 1].text)) {
        why = "expected a port number";
        return false;
      }
      const double p = std::stod(t[++i].text);
      if (p < 1 || p > 65535 || p != std::floor(p)) {
        why = "the port must be 1 to 65535";
        return false;
      }
      port = static_cast<long>(p);
    } else if (w == "ping" || w == "icmp") {
      icmp = true;
    } else if (w == "type" && i + 1 < t.size()) {
      const std::string ty = lw(t[++i]);
      if (ty == "udp") {
        why = "amata probes hosts over TCP or ICMP, not UDP";
        return false;
      }
      if (ty == "tcpssl") dropped.push_back("type tcpssl");
      if (ty == "echo") continue;
    } else if (w == "timeout" && i + 1 < t.size() && is_number(t[i + 1].text)) {
      timeout = std::stod(t[++i].text);
      if (i + 1 < t.size() && lw(t[i + 1]).starts_with("sec")) ++i;
    } else if (w == "unixsocket" || w == "unix") {
      why =
          "amata probes no Unix sockets of processes it does not start (a service's "
          "'health unix' does)";
      return false;
    } else if (w == "protocol" || w == "proto") {
      dropped.push_back(t[i].text + " " + (i + 1 < t.size() ? t[i + 1].text : ""));
      ++i;
    } else {
      dropped.push_back(t[i].text);
    }
  }
  if (!icmp && !port) {
    why = "amata has no equivalent of this test";
    return false;
  }
  if (auto bad = check::host_problem(address)) {
    why = "the address '" + address + "': " + *bad;
    return false;
  }
  if (!dropped.empty()) {
    std::string d;
    for (const auto& x : dropped) d += (d.empty() ? "" : " ") + x;
    x.rep.warn(t[0].loc, "partly imported: amata checks that " +
                             std::string(icmp ? "the host answers a ping"
                                              : "the port accepts a "
                                                "TCP connection") +
                             "; '" + d + "' is not imported");
  }
  const std::string name =
      x.names.claim(x.obj + (icmp ? "_ping" : "_port" + std::to_string(*port)));
  std::string obj = "host " + name + " { address " + quote(address);
  obj += icmp ? "; method icmp" : "; port " + std::to_string(*port);
  if (timeout >= 0.001 && timeout <= 3600) obj += "; timeout " + duration(timeout);
  obj += "; every " + duration(x.every) + " }\n";
  x.pending_objects.push_back(obj);
  r.name_hint = icmp ? "ping_failed" : "port" + std::to_string(*port) + "_failed";
  r.condition = "not " + name + ".reachable";
  // The event carries the checked object (its recovery restarts or unmonitors it), unless
  // the check is the host itself.
  if (x.kind == "host") {
    r.object = name;
    r.kind = "host";
  }
  return true;
}

}  // namespace

bool condition(CheckContext& x, Tokens t, Rule& r, std::string& why) {
  if (t.size() >= 2 && is_number(t[0].text) && lw(t[1]).starts_with("restart")) {
    return restarts(x, t, r, why);
  }
  if (!temporal(t, r, why)) return false;
  if (t.empty()) {
    why = "no condition";
    return false;
  }
  const std::string& o = x.obj;
  const std::string w0 = lw(t[0]);
  const std::string w1 = t.size() > 1 ? lw(t[1]) : "";
  auto tail = [&](std::size_t from) {
    std::string s;
    for (std::size_t i = from; i < t.size(); ++i) s += (s.empty() ? "" : " ") + t[i].text;
    return s;
  };

  if (x.kind == "process") {
    if ((w0 == "does" && w1 == "not" && t.size() == 3 && lw(t[2]).starts_with("exist")) ||
        (w0 == "not" && t.size() == 2 && w1.starts_with("exist"))) {
      x.explicit_nonexist = true;
      r.name_hint = "down";
      r.condition = "not " + o + ".alive";
      return true;
    }
    if (t.size() == 1 && w0.starts_with("exist")) {
      r.name_hint = "exists";
      r.condition = o + ".alive";
      return true;
    }
    if (w0 == "changed" && w1 == "pid" && t.size() == 2) {
      r.name_hint = "pid_changed";
      r.condition = "changed(" + o + ".pid)";
      return true;
    }
    if (w0 == "failed") return port_test(x, t, r, why);
    if (w0 == "cpu") {
      r.name_hint = "cpu";
      r.notes.push_back(
          "Monit's cpu is a share of all cores; amata's process cpu is a share "
          "of one core");
      return compare(t, 1, o + ".cpu", Dim::kPercent, r, why);
    }
    if (w0 == "mem" || w0 == "memory" || w0 == "totalmem" || (w0 == "total" && w1 == "mem") ||
        (w0 == "total" && w1 == "memory")) {
      const std::size_t at = w0 == "total" ? 2 : 1;
      r.name_hint = "memory";
      std::size_t probe = at;
      (void)comparison(t, probe);
      std::string dummy;
      if (literal(t, probe, Dim::kPercent, dummy)) {
        why =
            "amata has no process memory as a share of the machine's; compare the rss "
            "(as in 'mem > 200 MB')";
        return false;
      }
      if (w0 != "mem" && w0 != "memory") {
        r.notes.push_back(
            "Monit's total memory counts the children; amata reads the "
            "process's own rss");
      }
      return compare(t, at, o + ".rss", Dim::kBytes, r, why);
    }
    if (w0 == "children") {
      r.name_hint = "children";
      return compare(t, 1, o + ".children", Dim::kCount, r, why);
    }
    if (w0 == "threads") {
      r.name_hint = "threads";
      return compare(t, 1, o + ".threads", Dim::kCount, r, why);
    }
    if (w0 == "uptime") {
      r.name_hint = "uptime";
      return compare(t, 1, o + ".uptime", Dim::kDuration, r, why);
    }
    if ((w0 == "disk" && (w1 == "read" || w1 == "write")) || w0 == "read" || w0 == "write") {
      const std::string dir = w0 == "disk" ? w1 : w0;
      std::size_t at = w0 == "disk" ? 2 : 1;
      if (at < t.size() && lw(t[at]) == "rate") ++at;
      r.name_hint = "disk_" + dir;
      return compare(t, at, o + "." + dir + "_rate", Dim::kByteRate, r, why);
    }
  } else if (x.kind == "node") {
    if (w0 == "loadavg") {
      if (t.size() < 4 || t[1].text != "(" || t[3].text != ")") {
        why = "expected loadavg (1min), (5min) or (15min)";
        return false;
      }
      const std::string span = lw(t[2]);
      const std::string attr = span == "1min"    ? "load1"
                               : span == "5min"  ? "load5"
                               : span == "15min" ? "load15"
                                                 : "";
      if (attr.empty()) {
        why = "expected loadavg (1min), (5min) or (15min)";
        return false;
      }
      if (t.size() > 5 && lw(t[4]) == "per" && lw(t[5]) == "core") {
        why = "amata's load average is not divided by the number of cores";
        return false;
      }
      r.name_hint = attr;
      return compare(t, 4, o + "." + attr, Dim::kCount, r, why);
    }
    if (w0 == "cpu") {
      std::string attr = "cpu";
      std::size_t at = 1;
      if (t.size() > 3 && t[1].text == "(" && t[3].text == ")") {
        const std::string which = lw(t[2]);
        attr = which == "user"     ? "cpu_user"
               : which == "system" ? "cpu_system"
               : which == "wait"   ? "cpu_iowait"
               : which == "steal"  ? "cpu_steal"
                                   : "";
        if (attr.empty()) {
          why = "amata has no cpu (" + t[2].text + ")";
          return false;
        }
        at = 4;
      }
      r.name_hint = attr;
      return compare(t, at, o + "." + attr, Dim::kPercent, r, why);
    }
    if (w0 == "memory" || w0 == "mem" || w0 == "swap") {
      std::size_t probe = 1;
      (void)comparison(t, probe);
      std::string dummy;
      const bool percent = literal(t, probe, Dim::kPercent, dummy).has_value();
      r.name_hint = w0 == "swap" ? "swap" : "memory";
      if (w0 == "swap" && !percent) {
        why = "amata reads swap as a percentage only";
        return false;
      }
      if (percent)
        return compare(t, 1, o + "." + (w0 == "swap" ? "swap" : "mem"), Dim::kPercent, r, why);
      return compare(t, 1, o + ".mem_used", Dim::kBytes, r, why);
    }
    if (w0 == "uptime") {
      r.name_hint = "uptime";
      return compare(t, 1, o + ".uptime", Dim::kDuration, r, why);
    }
  } else if (x.kind == "filesystem") {
    std::size_t probe = 0;
    auto is_percent = [&](std::size_t at) {
      probe = at;
      (void)comparison(t, probe);
      std::string dummy;
      return literal(t, probe, Dim::kPercent, dummy).has_value();
    };
    if (w0 == "space" || w0 == "inode" || w0 == "inodes") {
      const bool free = w1 == "free";
      const std::size_t at = free ? 2 : 1;
      const bool space = w0 == "space";
      r.name_hint = std::string(space ? "space" : "inodes") + (free ? "_free" : "");
      if (is_percent(at)) {
        const std::string attr = o + (space ? ".used" : ".inodes");
        return compare(t, at, free ? "100% - " + attr : attr, Dim::kPercent, r, why);
      }
      if (!space) {
        why = "amata reads inodes as a percentage only";
        return false;
      }
      return compare(t, at, free ? o + ".free" : o + ".size - " + o + ".free", Dim::kBytes, r, why);
    }
    if (w0 == "read" || w0 == "write") {
      std::size_t at = w1 == "rate" ? 2 : 1;
      r.name_hint = w0 + "_rate";
      return compare(t, at, o + "." + w0 + "_rate", Dim::kByteRate, r, why);
    }
  } else if (x.kind == "interface") {
    if ((w0 == "link" && (w1 == "down" || w1 == "up") && t.size() == 2) ||
        (w0 == "failed" && w1 == "link" && t.size() == 2)) {
      r.name_hint = "link";
      r.condition = o + ".carrier == " + (w1 == "up" ? "up" : "down");
      return true;
    }
    if (w0 == "changed" && w1 == "link" && t.size() == 2) {
      r.name_hint = "link_changed";
      r.condition = "changed(" + o + ".carrier)";
      return true;
    }
    if (w0 == "upload" || w0 == "download") {
      const std::string dir = w0 == "upload" ? "tx" : "rx";
      std::size_t probe = 1;
      (void)comparison(t, probe);
      std::string dummy;
      std::size_t p2 = probe;
      const bool packets = literal(t, p2, Dim::kRate, dummy).has_value();
      r.name_hint = w0;
      return compare(t, 1, o + "." + dir + (packets ? "_packet_rate" : "_rate"),
                     packets ? Dim::kRate : Dim::kByteRate, r, why);
    }
    if (w0 == "total" && (w1 == "uploaded" || w1 == "downloaded")) {
      // total uploaded > 1 GB in last hour ("in" is noise)
      const std::string dir = w1 == "uploaded" ? "tx" : "rx";
      std::size_t i = 2;
      auto op = comparison(t, i);
      if (!op) {
        why = "expected a comparison";
        return false;
      }
      auto v = literal(t, i, Dim::kBytes, why);
      if (!v) return false;
      if (i < t.size() && lw(t[i]) == "last") ++i;
      double n = 1;
      if (i < t.size() && is_number(t[i].text)) n = std::stod(t[i++].text);
      const std::string unit = i < t.size() ? lw(t[i]) : "";
      const double seconds = unit.starts_with("minute") ? 60
                             : unit.starts_with("hour") ? 3600
                             : unit.starts_with("day")  ? 86400
                                                        : 0;
      if (seconds == 0 || i + 1 != t.size() || n * seconds > 86400) {
        why = "expected 'in last N minutes|hours|day' (at most a day)";
        return false;
      }
      r.name_hint = "total_" + w1;
      r.condition =
          "delta(" + o + "." + dir + "_bytes, " + duration(n * seconds) + ") " + *op + " " + *v;
      return true;
    }
  } else if (x.kind == "host") {
    if (w0 == "failed") return port_test(x, t, r, why);
  } else if (x.kind == "check") {
    if (w0 == "status") {
      r.name_hint = "status";
      return compare(t, 1, o + ".exit_code", Dim::kCount, r, why);
    }
  }
  why = "amata has no equivalent of '" + tail(0) + "' for " +
        (x.kind == "interface" ? "an " : "a ") + x.kind;
  return false;
}

}  // namespace amata::importer
