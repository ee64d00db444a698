#include "probes/unit_probe.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <utility>

#include "base/clock.h"

namespace amata::probes {
namespace {

// The unit types with a cgroup, whose interface has MemoryCurrent, TasksCurrent, CPUUsageNSec.
constexpr std::string_view kCgroupTypes[] = {"service", "socket", "mount",
                                             "swap",    "scope",  "slice"};
constexpr std::string_view kUnitTypes[] = {"service", "socket",    "target", "device",
                                           "mount",   "automount", "swap",   "timer",
                                           "path",    "slice",     "scope"};
// The properties systemd announces in PropertiesChanged, which the rules wait on.
constexpr std::string_view kSignalled[] = {"ActiveState", "SubState",  "LoadState",
                                           "Result",      "NRestarts", "MainPID"};
constexpr const char* kResourceProperties[] = {"MemoryCurrent", "TasksCurrent", "CPUUsageNSec"};

template <std::size_t N>
bool among(const std::string_view (&set)[N], std::string_view s) {
  return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

/// The value of the variant the message is at: a string, or an unsigned integer.
struct Value {
  bool ok = false;
  std::string text;
  std::uint64_t number = 0;
};

Value read_variant(sd_bus_message* m) {
  Value v;
  char type = 0;
  const char* contents = nullptr;
  if (sd_bus_message_peek_type(m, &type, &contents) <= 0 || type != 'v') return v;
  if (std::strlen(contents) != 1 || std::strchr("sut", contents[0]) == nullptr) {
    sd_bus_message_skip(m, "v");
    return v;
  }
  if (sd_bus_message_enter_container(m, 'v', contents) <= 0) return v;
  if (contents[0] == 's') {
    const char* s = nullptr;
    v.ok = sd_bus_message_read_basic(m, 's', &s) > 0;
    if (v.ok) v.text = s;
  } else if (contents[0] == 'u') {
    std::uint32_t u = 0;
    v.ok = sd_bus_message_read_basic(m, 'u', &u) > 0;
    v.number = u;
  } else {
    v.ok = sd_bus_message_read_basic(m, 't', &v.number) > 0;
  }
  sd_bus_message_exit_container(m);
  return v;
}

/// systemd's "no value" for a 64-bit figure (no accounting, no cgroup) is UINT64_MAX.
double figure(const Value& v) {
  return v.ok && v.number != UINT64_MAX ? static_cast<double>(v.number) : kUnknown;
}

double active_state_ordinal(std::string_view state) {
  auto it = std::find(std::begin(kActiveStates), std::end(kActiveStates), state);
  return it == std::end(kActiveStates) ? kUnknown
                                       : static_cast<double>(it - std::begin(kActiveStates));
}

bool same(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

}  // namespace

Result<std::string> unit_name(std::string_view name) {
  std::string unit(name);
  if (unit.find('.') == std::string::npos) unit += ".service";  // as systemctl does
  bool chars_ok = std::all_of(unit.begin(), unit.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::strchr(":-_.\\@", c) != nullptr;
  });
  std::string_view type = std::string_view(unit).substr(unit.rfind('.') + 1);
  if (!chars_ok || unit.size() > 255 || unit.front() == '.' || !among(kUnitTypes, type)) {
    return Error{"'" + std::string(name) + "' is not a systemd unit name"};
  }
  return unit;
}

UnitProbe::UnitProbe(int object, const catalog::ObjectSpec& spec, ProbeContext& ctx,
                     SystemdBus& bus, std::string unit)
    : Probe(object, spec), ctx_(ctx), bus_(bus), unit_(std::move(unit)) {
  std::string type = unit_.substr(unit_.rfind('.') + 1);
  has_cgroup_ = among(kCgroupTypes, type);
  type[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(type[0])));
  type_interface_ = "org.freedesktop.systemd1." + type;
}

Result<std::unique_ptr<UnitProbe>> UnitProbe::create(int object, const catalog::ObjectSpec& spec,
                                                     ProbeContext& ctx) {
  auto unit = unit_name(spec.unit.empty() ? spec.name : spec.unit);
  if (!unit) return Error{"object " + spec.name + ": " + unit.error().message};
  auto bus = ctx.get_systemd();
  if (!bus) return Error{"object " + spec.name + ": " + bus.error().message};
  std::unique_ptr<UnitProbe> p(new UnitProbe(object, spec, ctx, **bus, std::move(*unit)));
  (*bus)->add_listener(p.get());  // connected: LoadUnit goes out now
  return p;
}

UnitProbe::~UnitProbe() {
  bus_.remove_listener(this);
}

SystemdBus::Handler UnitProbe::guarded(Reply reply) {
  return [token = std::weak_ptr<char>(token_), reply = std::move(reply)](sd_bus_message* m) {
    if (!token.expired()) reply(m);
  };
}

void UnitProbe::say_once(const std::string& message) {
  if (said_) return;
  said_ = true;
  ctx_.sink.notice(object(), "unit " + unit_ + ": " + message);
}

void UnitProbe::on_connected() {
  said_ = false;  // a new connection: its problems are news
  load();
}

void UnitProbe::on_disconnected() {
  match_.reset();
  path_.clear();
  token_ = std::make_shared<char>();  // what is in flight on the old connection is dropped
  loading_ = false;
  poll_pending_ = 0;
}

void UnitProbe::load() {
  Status s = bus_.call(nullptr, kSystemdPath, kManagerInterface, "LoadUnit",
                       guarded([this](sd_bus_message* r) {
                         loading_ = false;
                         const char* path = nullptr;
                         if (std::string e = SystemdBus::error_of(r); !e.empty()) {
                           say_once("LoadUnit failed: " + e + " (tried again at each poll)");
                         } else if (sd_bus_message_read_basic(r, 'o', &path) > 0) {
                           watch(path);
                         }
                       }),
                       "s", unit_.c_str());
  loading_ = s.ok();
  if (!s) say_once(s.error().message);
}

void UnitProbe::watch(const std::string& path) {
  path_ = path;
  Status s = bus_.match_signal(
      &match_, path_.c_str(), kPropertiesInterface, "PropertiesChanged",
      guarded([this](sd_bus_message* m) { on_properties_changed(m); }),
      guarded([this](sd_bus_message* r) {
        if (std::string e = SystemdBus::error_of(r); !e.empty()) {
          say_once("cannot watch its state changes: " + e);
        }
        read_all();  // after the match is in place, so no change falls between the two
      }));
  if (!s) say_once("cannot watch its state changes: " + s.error().message);
  // A direct connection matches locally, at once (and never answers an AddMatch).
  if (!s || !bus_.bus_client()) read_all();
}

void UnitProbe::read_all() {
  // The two answers come back in turn; changed() once both are in.
  struct Batch {
    int pending = 0;
    bool changed = false;
  };
  auto batch = std::make_shared<Batch>();
  for (const std::string& interface : {std::string(kUnitInterface), type_interface_}) {
    Status s = bus_.call(nullptr, path_.c_str(), kPropertiesInterface, "GetAll",
                         guarded([this, batch](sd_bus_message* r) {
                           if (SystemdBus::error_of(r).empty()) batch->changed |= apply_all(r);
                           if (--batch->pending == 0 && batch->changed) ctx_.sink.changed(object());
                         }),
                         "s", interface.c_str());
    if (s) ++batch->pending;
  }
}

void UnitProbe::on_properties_changed(sd_bus_message* m) {
  const char* interface = nullptr;
  if (sd_bus_message_read_basic(m, 's', &interface) <= 0) return;
  bool changed = apply_all(m);
  // Properties systemd only invalidates are fetched; their answers report on their own.
  std::string iface = interface;
  if (sd_bus_message_enter_container(m, 'a', "s") > 0) {
    const char* name = nullptr;
    while (sd_bus_message_read_basic(m, 's', &name) > 0) {
      if (!among(kSignalled, name)) continue;
      std::string property = name;
      (void)bus_.call(nullptr, path_.c_str(), kPropertiesInterface, "Get",
                      guarded([this, property](sd_bus_message* r) {
                        if (SystemdBus::error_of(r).empty() && apply(property, r))
                          ctx_.sink.changed(object());
                      }),
                      "ss", iface.c_str(), property.c_str());
    }
    sd_bus_message_exit_container(m);
  }
  if (changed) ctx_.sink.changed(object());
}

bool UnitProbe::apply_all(sd_bus_message* m) {
  bool changed = false;
  if (sd_bus_message_enter_container(m, 'a', "{sv}") <= 0) return false;
  while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
    const char* name = nullptr;
    if (sd_bus_message_read_basic(m, 's', &name) <= 0) break;
    changed |= apply(name, m);
    sd_bus_message_exit_container(m);
  }
  sd_bus_message_exit_container(m);
  return changed;
}

bool UnitProbe::apply(std::string_view name, sd_bus_message* m) {
  if (!among(kSignalled, name) && name != "MemoryCurrent" && name != "TasksCurrent" &&
      name != "CPUUsageNSec") {
    sd_bus_message_skip(m, "v");
    return false;
  }
  Value v = read_variant(m);
  if (name == "ActiveState") {
    return set_number("active_state", active_state_,
                      v.ok ? active_state_ordinal(v.text) : kUnknown);
  }
  if (name == "SubState") return set_string("sub_state", sub_state_, v.text);
  if (name == "LoadState") return set_string("load_state", load_state_, v.text);
  if (name == "Result") return set_string("result", result_, v.text);
  const double number = v.ok ? static_cast<double>(v.number) : kUnknown;
  if (name == "NRestarts") return set_number("restarts", restarts_, number);
  if (name == "MainPID") return set_number("main_pid", main_pid_, number);
  // The resource figures are written by poll_done(), with the CPU rate they make.
  if (name == "MemoryCurrent") memory_ = figure(v);
  if (name == "TasksCurrent") tasks_ = figure(v);
  if (name == "CPUUsageNSec") cpu_ns_ = v.ok ? v.number : UINT64_MAX;
  return false;
}

bool UnitProbe::set_number(const char* attribute, double& last, double value) {
  ctx_.sink.set_number(object(), attribute, value);
  bool changed = !same(last, value);
  last = value;
  return changed;
}

bool UnitProbe::set_string(const char* attribute, std::optional<std::string>& last,
                           std::string_view value) {
  ctx_.sink.set_string(object(), attribute, value);
  bool changed = !last || *last != value;
  last = std::string(value);
  return changed;
}

void UnitProbe::poll() {
  if (poll_pending_ > 0) return;  // the last poll's answers are not all in yet
  memory_ = tasks_ = kUnknown;
  cpu_ns_ = UINT64_MAX;
  if (bus_.connected() && path_.empty() && !loading_) load();  // LoadUnit failed: again
  if (has_cgroup_ && !path_.empty()) {
    for (const char* property : kResourceProperties) {
      Status s = bus_.call(nullptr, path_.c_str(), kPropertiesInterface, "Get",
                           guarded([this, property](sd_bus_message* r) {
                             if (SystemdBus::error_of(r).empty()) apply(property, r);
                             if (--poll_pending_ == 0) poll_done();
                           }),
                           "ss", type_interface_.c_str(), property);
      if (s) ++poll_pending_;
    }
  }
  if (poll_pending_ == 0) poll_done();
}

void UnitProbe::poll_done() {
  const double now = base::monotonic_now();
  double cpu = kUnknown;
  // A restarted unit has a new cgroup whose counter starts again: no rate across that.
  if (cpu_ns_ != UINT64_MAX && prev_cpu_ns_ != UINT64_MAX && cpu_ns_ >= prev_cpu_ns_ &&
      now > prev_cpu_time_) {
    cpu = static_cast<double>(cpu_ns_ - prev_cpu_ns_) / 1e9 / (now - prev_cpu_time_) * 100;
  }
  prev_cpu_ns_ = cpu_ns_;
  prev_cpu_time_ = now;
  MeasurementSink& sink = ctx_.sink;
  sink.set_number(object(), "memory", memory_);
  sink.set_number(object(), "tasks", tasks_);
  sink.set_number(object(), "cpu", cpu);
  sink.sampled(object());
}

}  // namespace amata::probes
