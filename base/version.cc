#include "base/version.h"

namespace amata::base {

std::string_view version() {
  return AMATA_VERSION;
}

std::string version_line(std::string_view tool) {
  std::string line(tool);
  line += ' ';
  line += version();
  line += " (commit ";
  line += commit();
  line += ')';
  return line;
}

}  // namespace amata::base
