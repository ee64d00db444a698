#include "compiler/check/checked_policy.h"

namespace amata::check {

int CheckedPolicy::find_object(std::string_view name) const {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int CheckedPolicy::find_event(std::string_view name) const {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace amata::check
