// A blocking sd-bus connection for tests that need a real systemd (tests/systemd/units_test.sh
// boots one and runs them inside it): a second opinion on a unit's properties, and a way to
// start it or clear its failure, independent of the code under test. Test-only.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace amata::probes {

class TestBus {
 public:
  TestBus() { open(); }
  ~TestBus() {
    if (bus_ != nullptr) sd_bus_flush_close_unref(bus_);
  }
  TestBus(const TestBus&) = delete;
  TestBus& operator=(const TestBus&) = delete;

  /// A system bus with systemd on it (not the case on a build machine without systemd).
  bool has_systemd() {
    return !get_string("/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "Version")
                .empty();
  }

  std::string get_string(const std::string& path, const char* interface, const char* name) {
    if (!open()) return {};
    char* value = nullptr;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int r = sd_bus_get_property_string(bus_, "org.freedesktop.systemd1", path.c_str(), interface,
                                       name, &e, &value);
    sd_bus_error_free(&e);
    if (r < 0) return {};
    std::string out(value);
    free(value);  // NOLINT(cppcoreguidelines-no-malloc): sd-bus hands over a malloc'd string
    return out;
  }
  std::uint32_t get_u32(const std::string& path, const char* interface, const char* name) {
    std::uint32_t value = 0;
    trivial(path, interface, name, 'u', &value);
    return value;
  }
  std::uint64_t get_u64(const std::string& path, const char* interface, const char* name) {
    std::uint64_t value = 0;
    trivial(path, interface, name, 't', &value);
    return value;
  }

  /// The unit's object path (LoadUnit), or "".
  std::string path_of(const std::string& unit) { return manager_call("LoadUnit", unit, true); }
  std::string active_state(const std::string& unit) {
    return get_string(path_of(unit), "org.freedesktop.systemd1.Unit", "ActiveState");
  }
  std::uint32_t main_pid(const std::string& unit) {
    return get_u32(path_of(unit), "org.freedesktop.systemd1.Service", "MainPID");
  }
  std::uint32_t restarts(const std::string& unit) {
    return get_u32(path_of(unit), "org.freedesktop.systemd1.Service", "NRestarts");
  }
  /// Queues a start job (does not wait for it); "" or the error.
  std::string start(const std::string& unit) { return manager_call("StartUnit", unit, false); }
  std::string stop(const std::string& unit) { return manager_call("StopUnit", unit, false); }
  void reset_failed(const std::string& unit) { manager_call("ResetFailedUnit", unit, false); }

 private:
  /// (Re)opens the connection: a test may restart dbus under it.
  bool open() {
    if (bus_ != nullptr && sd_bus_is_open(bus_) > 0) return true;
    if (bus_ != nullptr) sd_bus_flush_close_unref(bus_);
    if (sd_bus_open_system(&bus_) < 0) bus_ = nullptr;
    return bus_ != nullptr;
  }
  void trivial(const std::string& path, const char* interface, const char* name, char type,
               void* value) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    if (open()) {
      sd_bus_get_property_trivial(bus_, "org.freedesktop.systemd1", path.c_str(), interface, name,
                                  &e, type, value);
    }
    sd_bus_error_free(&e);
  }
  /// Calls a Manager method on `unit` (with mode "replace" for jobs). With `want_path` the
  /// object path it returns, else "" or the error's message.
  std::string manager_call(const char* method, const std::string& unit, bool want_path) {
    if (!open()) return "no bus";
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const bool job = std::string(method) != "LoadUnit" && std::string(method) != "ResetFailedUnit";
    int r = job ? sd_bus_call_method(bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", method, &e, &reply, "ss",
                                     unit.c_str(), "replace")
                : sd_bus_call_method(bus_, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", method, &e, &reply, "s",
                                     unit.c_str());
    std::string out;
    if (r < 0) {
      out = want_path ? "" : (e.message != nullptr ? e.message : "call failed");
    } else if (want_path) {
      const char* path = nullptr;
      if (sd_bus_message_read(reply, "o", &path) > 0) out = path;
    }
    sd_bus_error_free(&e);
    sd_bus_message_unref(reply);
    return out;
  }

  sd_bus* bus_ = nullptr;
};

/// The test unit named by environment variable `var` (tests/systemd/units_test.sh sets them),
/// or "" outside the lab.
inline std::string test_unit(const char* var) {
  const char* v = std::getenv(var);
  return v != nullptr ? v : "";
}

}  // namespace amata::probes
