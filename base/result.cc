#include "base/result.h"

#include <cstring>

namespace amata {

Error errno_error(std::string_view what, int err) {
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return Error{std::move(message)};
}

}  // namespace amata
