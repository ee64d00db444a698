// libFuzzer target: the sysfs parsers of the hardware probes on arbitrary bytes, used both as
// a file's text and as a file name. Drivers print what they like; a parser must never crash,
// read out of bounds or return a value outside its range.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probes/sysfs_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace amata::probes;
  std::string_view trimmed = trim_sysfs(text);
  if (trimmed.data() < text.data() || trimmed.data() + trimmed.size() > text.data() + size) {
    __builtin_trap();
  }
  if (auto v = parse_sysfs_int(text)) (void)valid_trip_millicelsius(*v);
  if (auto name = parse_hwmon_name(text)) {
    // The item is a piece of the input, and the index a small non-negative number.
    if (!name->item.empty() && (name->item.data() < text.data() ||
                                name->item.data() + name->item.size() > text.data() + size)) {
      __builtin_trap();
    }
    if (name->index < 0 || name->index > 999999) __builtin_trap();
    (void)hwmon_type_prefix(name->type);
  }
  if (auto state = md_array_state_ordinal(text); state && (*state < 0 || *state > 9)) {
    __builtin_trap();
  }
  if (auto action = md_sync_action_ordinal(text); action && (*action < 0 || *action > 6)) {
    __builtin_trap();
  }
  if (auto percent = parse_md_sync_completed(text);
      percent && !(*percent >= 0 && *percent <= 100)) {
    __builtin_trap();
  }
  (void)md_dev_state_faulty(text);
  return 0;
}
