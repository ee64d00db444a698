#include "probes/interface_probe.h"

// <net/if.h> must come before <linux/if.h>.
// clang-format off
#include <net/if.h>
#include <linux/if.h>
// clang-format on

#include <charconv>

namespace amata::probes {
namespace {

constexpr const char* kCounterFiles[8] = {"rx_bytes",  "tx_bytes",  "rx_packets", "tx_packets",
                                          "rx_errors", "tx_errors", "rx_dropped", "tx_dropped"};

std::optional<std::uint64_t> read_number(ProcFile& f) {
  auto text = f.read();
  if (!text) return std::nullopt;
  std::string_view s = *text;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

int operstate_from_name(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s == "notpresent") return IF_OPER_NOTPRESENT;
  if (s == "down") return IF_OPER_DOWN;
  if (s == "lowerlayerdown") return IF_OPER_LOWERLAYERDOWN;
  if (s == "testing") return IF_OPER_TESTING;
  if (s == "dormant") return IF_OPER_DORMANT;
  if (s == "up") return IF_OPER_UP;
  return IF_OPER_UNKNOWN;
}

}  // namespace

Result<std::unique_ptr<InterfaceProbe>> InterfaceProbe::create(int object,
                                                               const catalog::ObjectSpec& spec,
                                                               ProbeContext& ctx) {
  if (spec.ifname.empty() || spec.ifname.size() >= IFNAMSIZ ||
      spec.ifname.find('/') != std::string::npos) {
    return Error{"object " + spec.name + ": bad interface name '" + spec.ifname + "'"};
  }
  std::unique_ptr<InterfaceProbe> p(new InterfaceProbe(object, spec, ctx));
  p->open_sysfs();
  if (ctx.link_monitor != nullptr) {
    ctx.link_monitor->add_listener(p.get());
    if (const LinkState* s = ctx.link_monitor->find(spec.ifname)) p->on_link(*s);
  }
  return p;
}

InterfaceProbe::~InterfaceProbe() {
  if (ctx_.link_monitor != nullptr) ctx_.link_monitor->remove_listener(this);
}

bool InterfaceProbe::open_sysfs() {
  std::string dir = ctx_.options.sys_root + "/class/net/" + spec().ifname + "/";
  for (int i = 0; i < 8; ++i) {
    auto f = ProcFile::open(dir + "statistics/" + kCounterFiles[i], -100, 64);
    if (!f) {
      for (auto& c : counters_) c.close();
      sysfs_open_ = false;
      return false;
    }
    counters_[i] = std::move(*f);
  }
  if (auto f = ProcFile::open(dir + "operstate", -100, 64)) operstate_file_ = std::move(*f);
  if (auto f = ProcFile::open(dir + "carrier", -100, 64)) carrier_file_ = std::move(*f);
  if (auto f = ProcFile::open(dir + "mtu", -100, 64)) mtu_file_ = std::move(*f);
  sysfs_open_ = true;
  return true;
}

std::optional<LinkCounters> InterfaceProbe::read_sysfs_counters() {
  std::uint64_t v[8];
  for (int i = 0; i < 8; ++i) {
    auto n = read_number(counters_[i]);
    if (!n) return std::nullopt;
    v[i] = *n;
  }
  return LinkCounters{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
}

void InterfaceProbe::write_state(int carrier, int operstate, double mtu, bool notify) {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  bool differs = carrier != last_carrier_ || operstate != last_operstate_ || mtu != last_mtu_;
  sink.set_number(o, "carrier", carrier);
  sink.set_number(o, "operstate", operstate);
  sink.set_number(o, "mtu", mtu);
  last_carrier_ = carrier;
  last_operstate_ = operstate;
  last_mtu_ = mtu;
  if (notify && differs) sink.changed(o);
}

void InterfaceProbe::on_link(const LinkState& state) {
  if (state.name != spec().ifname) return;
  if (!state.present) {
    // The link is gone: its sysfs files now answer for nothing; reopen when it returns.
    for (auto& c : counters_) c.close();
    sysfs_open_ = false;
    have_prev_ = false;
  }
  write_state(state.carrier, state.operstate, state.present ? state.mtu : kUnknown, true);
}

void InterfaceProbe::poll() {
  MeasurementSink& sink = ctx_.sink;
  int o = object();
  if (!sysfs_open_) open_sysfs();
  std::optional<LinkCounters> counters;
  if (sysfs_open_) counters = read_sysfs_counters();
  if (!counters && sysfs_open_) {
    // Read failures mean the link went away under the open files.
    for (auto& c : counters_) c.close();
    sysfs_open_ = false;
  }
  const LinkState* announced =
      ctx_.link_monitor != nullptr ? ctx_.link_monitor->find(spec().ifname) : nullptr;
  if (!counters && announced != nullptr) counters = announced->counters;

  if (ctx_.link_monitor == nullptr) {
    // No rtnetlink: state is polled too, and changes are still reported as events.
    if (sysfs_open_) {
      int operstate = IF_OPER_UNKNOWN;
      if (auto t = operstate_file_.read()) operstate = operstate_from_name(*t);
      // Reading carrier of an administratively down link fails with EINVAL: that is down.
      int carrier = 0;
      if (auto c = read_number(carrier_file_)) carrier = *c ? 1 : 0;
      double mtu = kUnknown;
      if (auto m = read_number(mtu_file_)) mtu = static_cast<double>(*m);
      write_state(carrier, operstate, mtu, true);
    } else {
      write_state(0, IF_OPER_NOTPRESENT, kUnknown, true);
    }
  } else if (announced == nullptr && last_operstate_ < 0) {
    write_state(0, IF_OPER_NOTPRESENT, kUnknown, false);
  }

  const char* names[] = {"rx_bytes",  "tx_bytes",  "rx_packets", "tx_packets",
                         "rx_errors", "tx_errors", "rx_drops",   "tx_drops"};
  const char* rates[] = {"rx_rate",        "tx_rate",    "rx_packet_rate",
                         "tx_packet_rate", "error_rate", "drop_rate"};
  if (!counters) {
    for (const char* n : names) sink.set_number(o, n, kUnknown);
    for (const char* r : rates) sink.set_number(o, r, kUnknown);
    have_prev_ = false;
    sink.sampled(o);
    return;
  }
  const LinkCounters& c = *counters;
  std::uint64_t values[8] = {c.rx_bytes,  c.tx_bytes,  c.rx_packets, c.tx_packets,
                             c.rx_errors, c.tx_errors, c.rx_drops,   c.tx_drops};
  for (int i = 0; i < 8; ++i) sink.set_number(o, names[i], static_cast<double>(values[i]));
  double now = base::monotonic_now();
  if (have_prev_ && now > prev_time_) {
    double dt = now - prev_time_;
    // Counters reset when a link is recreated; a negative delta is unknown, not huge.
    auto rate = [dt](std::uint64_t a, std::uint64_t b) {
      return b >= a ? static_cast<double>(b - a) / dt : kUnknown;
    };
    sink.set_number(o, "rx_rate", rate(prev_.rx_bytes, c.rx_bytes));
    sink.set_number(o, "tx_rate", rate(prev_.tx_bytes, c.tx_bytes));
    sink.set_number(o, "rx_packet_rate", rate(prev_.rx_packets, c.rx_packets));
    sink.set_number(o, "tx_packet_rate", rate(prev_.tx_packets, c.tx_packets));
    sink.set_number(o, "error_rate",
                    rate(prev_.rx_errors + prev_.tx_errors, c.rx_errors + c.tx_errors));
    sink.set_number(o, "drop_rate", rate(prev_.rx_drops + prev_.tx_drops, c.rx_drops + c.tx_drops));
  } else {
    for (const char* r : rates) sink.set_number(o, r, kUnknown);
  }
  prev_ = c;
  prev_time_ = now;
  have_prev_ = true;
  sink.sampled(o);
}

}  // namespace amata::probes
