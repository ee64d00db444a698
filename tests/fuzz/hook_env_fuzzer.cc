// libFuzzer target over the environment of hooks and `run` actions
// (engine/actions/job_runner.h, EventEnvironment::variables()): an event of an example policy
// with any object names, messages, arguments and times, its AMATA_VALUES built by the metric
// store from any samples (check output is whatever a plugin prints), merged into a base
// environment as JobRunner does. Invariants: every variable is NAME=VALUE with a name of
// [A-Z0-9_] and no NUL anywhere; nothing is cut short (each value is its field in full, a NUL
// written as \0); AMATA_TIME and AMATA_EVENT_ID read back as the numbers they came from;
// AMATA_VALUES is a JSON object of the object's slots.
#include <fuzzer/FuzzedDataProvider.h>

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/spawn.h"
#include "engine/actions/job_runner.h"
#include "engine/discovery/metric_store.h"
#include "tests/fuzz/example_policies.h"

namespace {

using amata::fuzz::fail;

// A field as the environment must carry it: whole, each NUL as the two characters \0.
std::string carried(const std::string& field) {
  std::string out;
  for (char c : field) {
    if (c == '\0') {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

double any_double(FuzzedDataProvider& in) {
  return std::bit_cast<double>(in.ConsumeIntegral<std::uint64_t>());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace amata;
  FuzzedDataProvider in(data, size);
  const auto& policies = fuzz::example_policies();
  const auto& policy = policies[in.ConsumeIntegralInRange<std::size_t>(0, policies.size() - 1)];
  const ir::PolicyTables& tables = policy.program->tables;

  discovery::MetricStore store(tables, nullptr, nullptr);
  actions::EventEnvironment env;
  std::vector<int> objects;
  const int object_count = in.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < object_count; ++i) {
    if (in.ConsumeBool() && !tables.objects.empty()) {
      const int o = in.ConsumeIntegralInRange<int>(0, static_cast<int>(tables.objects.size()) - 1);
      objects.push_back(o);
      env.objects.push_back(tables.objects[static_cast<std::size_t>(o)].name);
    } else {
      env.objects.push_back(in.ConsumeRandomLengthString(32));
    }
  }
  for (const auto& slot : tables.slots) {
    if (std::find(objects.begin(), objects.end(), slot.object) == objects.end()) continue;
    if (slot.is_string) {
      store.set_string(slot.object, slot.attribute, in.ConsumeRandomLengthString(64));
    } else {
      store.set_number(slot.object, slot.attribute, any_double(in));
    }
  }
  env.values = store.values_json(objects);
  env.event = in.ConsumeRandomLengthString(32);
  env.rule = in.ConsumeRandomLengthString(32);
  env.edge = in.ConsumeRandomLengthString(16);
  env.time = any_double(in);
  env.event_id = in.ConsumeIntegral<std::int64_t>();
  env.message = in.ConsumeRandomLengthString(128);
  env.policy = in.ConsumeRandomLengthString(32);
  while (in.remaining_bytes() > 0 && env.args.size() < 4) {
    env.args.push_back(in.ConsumeRandomLengthString(32));
  }

  const auto vars = env.variables();
  std::set<std::string> names;
  for (const auto& [name, value] : vars) {
    if (name.empty()) fail("a variable without a name");
    for (char c : name) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
        fail("variable name '" + name + "' is not [A-Z0-9_]");
      }
    }
    if (!names.insert(name).second) fail("variable " + name + " twice");
    if (value.find('\0') != std::string::npos) fail(name + " has a NUL inside its value");
  }
  const auto value_of = [&](const std::string& name) -> const std::string& {
    for (const auto& [n, v] : vars) {
      if (n == name) return v;
    }
    fail("no variable " + name);
  };
  const auto expect = [&](const std::string& name, const std::string& want) {
    if (value_of(name) != want) fail(name + " is '" + value_of(name) + "', not '" + want + "'");
  };
  expect("AMATA_EVENT", carried(env.event));
  expect("AMATA_RULE", carried(env.rule));
  expect("AMATA_OBJECT", carried(env.objects.empty() ? "" : env.objects.front()));
  expect("AMATA_OBJECTS", carried(joined(env.objects)));
  expect("AMATA_EDGE", carried(env.edge));
  expect("AMATA_MESSAGE", carried(env.message));
  expect("AMATA_POLICY", carried(env.policy));
  expect("AMATA_ARGS", carried(joined(env.args)));
  expect("AMATA_EVENT_ID", std::to_string(env.event_id));

  const std::string& time = value_of("AMATA_TIME");
  char* end = nullptr;
  const double read_back = std::strtod(time.c_str(), &end);
  if (end != time.c_str() + time.size()) fail("AMATA_TIME '" + time + "' is not a number");
  if (std::isnan(env.time)
          ? !std::isnan(read_back)
          : std::fabs(read_back - env.time) > 1e-6 * std::fmax(1, std::fabs(env.time))) {
    fail("AMATA_TIME '" + time + "' does not read back as the event's time");
  }

  const auto values = nlohmann::json::parse(value_of("AMATA_VALUES"), nullptr, false);
  if (!values.is_object()) fail("AMATA_VALUES is not a JSON object: " + value_of("AMATA_VALUES"));
  for (const auto& [key, value] : values.items()) {
    if (!(value.is_null() || value.is_number() || value.is_string())) {
      fail("AMATA_VALUES: " + key + " is neither a number, a string nor null");
    }
  }

  // As JobRunner hands it to the child: whole C strings, ours replacing stale copies.
  const auto merged = base::merge_environment(
      {"PATH=/usr/bin:/bin", "AMATA_EVENT=stale", "AMATA_EVENT_X=kept"}, vars);
  for (const auto& entry : merged) {
    if (std::strlen(entry.c_str()) != entry.size()) fail("an environment entry with a NUL");
  }
  for (const auto& [name, value] : vars) {
    int found = 0;
    for (const auto& entry : merged) {
      if (entry.starts_with(name + "=")) {
        ++found;
        if (entry != name + "=" + value) fail("merged " + name + " differs");
      }
    }
    if (found != 1)
      fail(name + " is in the merged environment " + std::to_string(found) + " times");
  }
  if (std::find(merged.begin(), merged.end(), "AMATA_EVENT_X=kept") == merged.end()) {
    fail("merging dropped another variable");
  }
  return 0;
}
