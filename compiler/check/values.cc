#include "compiler/check/values.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

namespace amata::check {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

/// A literal IPv6 address, optionally with a %zone (an interface name or index).
bool is_ipv6(std::string_view s) {
  const std::size_t pct = s.find('%');
  if (pct != std::string_view::npos &&
      (pct + 1 == s.size() || interface_name_problem(s.substr(pct + 1)))) {
    return false;
  }
  const std::string addr(s.substr(0, pct));
  in6_addr out{};
  return inet_pton(AF_INET6, addr.c_str(), &out) == 1;
}

bool is_ipv4(std::string_view s) {
  const std::string addr(s);
  in_addr out{};
  return inet_pton(AF_INET, addr.c_str(), &out) == 1;
}

/// A host name by RFC 1123 (one trailing dot allowed, as in a fully qualified name).
std::optional<std::string> hostname_problem(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return "an empty host name";
  if (name.size() > 253) return "a host name has at most 253 characters";
  std::size_t begin = 0;
  while (begin <= name.size()) {
    std::size_t end = name.find('.', begin);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view label = name.substr(begin, end - begin);
    if (label.empty()) return "a host name has no empty parts between dots";
    if (label.size() > 63) return "each part of a host name has at most 63 characters";
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') {
        return std::string("'") + c +
               "' is not allowed in a host name (letters, digits, '-' and dots; RFC 1123)";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "a part of a host name neither starts nor ends with '-'";
    }
    begin = end + 1;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> path_problem(std::string_view path) {
  if (path.empty() || path[0] != '/') return "expected an absolute path";
  if (path.size() > kMaxPathBytes) {
    return "a path has at most " + std::to_string(kMaxPathBytes) + " bytes (PATH_MAX)";
  }
  std::size_t begin = 1;
  while (begin < path.size()) {
    std::size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    if (end - begin > kMaxNameBytes) {
      return "each part of a path has at most " + std::to_string(kMaxNameBytes) +
             " bytes (NAME_MAX)";
    }
    begin = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> socket_path_problem(std::string_view path) {
  if (auto p = path_problem(path)) return p;
  if (path.size() > kMaxSocketPathBytes) {
    return "a Unix socket path has at most " + std::to_string(kMaxSocketPathBytes) +
           " bytes (the size of sun_path)";
  }
  return std::nullopt;
}

std::optional<std::string> port_problem(std::string_view digits) {
  if (digits.empty()) return "a port number is missing";
  if (!all_digits(digits)) return "a port is a number from 1 to 65535";
  if (digits.size() > 5 || std::stoi(std::string(digits)) < 1 ||
      std::stoi(std::string(digits)) > 65535) {
    return "port " + std::string(digits) + " is not from 1 to 65535";
  }
  return std::nullopt;
}

std::optional<std::string> host_problem(std::string_view host) {
  if (host.empty()) return "an empty address";
  if (host.front() == '[') {
    if (host.back() != ']' || !is_ipv6(host.substr(1, host.size() - 2))) {
      return "brackets hold an IPv6 address, as in [::1]";
    }
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos) {
    if (is_ipv6(host)) return std::nullopt;
    return "not an IPv6 address";
  }
  // Only digits and dots: an IPv4 address, never a name (getaddrinfo reads "10.1" as
  // 10.0.0.1, which nobody means).
  if (std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    if (is_ipv4(host)) return std::nullopt;
    return "not an IPv4 address (four numbers from 0 to 255, as in 10.0.0.1)";
  }
  return hostname_problem(host);
}

std::optional<std::string> host_port_problem(std::string_view target) {
  std::string_view host, port;
  if (!target.empty() && target.front() == '[') {
    const std::size_t close = target.find("]:");
    if (close == std::string_view::npos) {
      return "expected \"[IPv6]:PORT\", as in \"[::1]:8080\"";
    }
    host = target.substr(0, close + 1);
    port = target.substr(close + 2);
  } else {
    const std::size_t colon = target.find(':');
    if (colon == std::string_view::npos) return "expected \"HOST:PORT\", as in \"127.0.0.1:8080\"";
    if (target.find(':', colon + 1) != std::string_view::npos) {
      return "expected \"HOST:PORT\"; an IPv6 address goes in brackets, as in \"[::1]:8080\"";
    }
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  if (auto p = host_problem(host)) return p;
  return port_problem(port);
}

std::optional<std::string> http_url_problem(std::string_view url) {
  const std::string_view scheme = url.starts_with("https://") ? "https://" : "http://";
  if (!url.starts_with(scheme)) return "the URL must start with http:// or https://";
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return "a URL holds no blanks, control characters or non-ASCII bytes (percent-encode "
             "them, as in %20)";
    }
  }
  const std::string_view rest = url.substr(scheme.size());
  const std::size_t end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, end);
  if (authority.empty()) return "the URL names no host, as in http://127.0.0.1:8080/healthz";
  if (authority.find('@') != std::string_view::npos) {
    return "a health check URL carries no user or password";
  }
  // HOST or HOST:PORT, the IPv6 form in brackets.
  const std::size_t close = authority.front() == '[' ? authority.find(']') : 0;
  if (close == std::string_view::npos) return "brackets hold an IPv6 address, as in [::1]";
  const std::size_t colon = authority.find(':', close);
  if (colon == std::string_view::npos) return host_problem(authority);
  if (auto p = host_problem(authority.substr(0, colon))) return p;
  return port_problem(authority.substr(colon + 1));
}

std::optional<std::string> account_name_problem(std::string_view name) {
  if (name.empty()) return "an empty name";
  if (name.size() > kMaxAccountNameBytes) {
    return "a user or group name has at most " + std::to_string(kMaxAccountNameBytes) +
           " characters";
  }
  if (name == "." || name == "..") return "'.' and '..' are not names";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = is_alpha(c) || is_digit(c) || c == '_' || c == '.' || (c == '-' && i > 0) ||
                    (c == '$' && i + 1 == name.size() && i > 0);
    if (!ok) {
      return std::string("'") + c +
             "' is not allowed here: a user or group name is letters, digits, '_', '.' and '-' "
             "(not first), as useradd(8) creates them";
    }
  }
  if (all_digits(name)) return "a name of digits only would be read as a numeric id";
  return std::nullopt;
}

std::optional<std::string> interface_name_problem(std::string_view name) {
  if (name.empty()) return "an empty interface name";
  if (name.size() > kMaxInterfaceNameBytes) {
    return "an interface name has at most " + std::to_string(kMaxInterfaceNameBytes) +
           " characters (IFNAMSIZ)";
  }
  if (name == "." || name == "..") return "'.' and '..' are not interface names";
  for (char c : name) {
    if (c == '/' || c == ':' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "an interface name holds no '/', ':', blanks or control characters";
    }
  }
  return std::nullopt;
}

std::optional<std::string> env_name_problem(std::string_view name) {
  if (name.empty()) return "an empty variable name";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!(is_alpha(c) || c == '_' || (i > 0 && is_digit(c)))) {
      return "a variable name is a letter or '_', then letters, digits and '_'";
    }
  }
  return std::nullopt;
}

std::optional<std::string> sysfs_name_problem(std::string_view name, std::string_view what) {
  if (name.empty()) return "an empty " + std::string(what);
  if (name.size() > kMaxNameBytes) {
    return "a " + std::string(what) + " has at most " + std::to_string(kMaxNameBytes) +
           " characters";
  }
  if (name == "." || name == "..") return "'.' and '..' name no " + std::string(what);
  for (char c : name) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "a " + std::string(what) + " holds no '/' or control characters";
    }
  }
  return std::nullopt;
}

std::optional<std::string> unit_name_problem(std::string_view name) {
  // systemd's unit types (unit_type_from_string); a name without one is rejected by systemd.
  static constexpr std::string_view kTypes[] = {"service", "socket",    "target", "device",
                                                "mount",   "automount", "swap",   "timer",
                                                "path",    "slice",     "scope"};
  if (name.size() > 255) return "a unit name has at most 255 characters";
  // A bare name is a service, as systemctl reads it ("sshd" is sshd.service).
  auto dot = name.rfind('.');
  if (dot == 0) return "a unit name has a name before its type, as in \"sshd.service\"";
  if (dot != std::string_view::npos) {
    const std::string_view type = name.substr(dot + 1);
    if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes)) {
      return "unknown unit type '" + std::string(type) + "' (service, socket, mount, timer, ...)";
    }
  } else {
    dot = name.size();
  }
  if (dot == 0) return "an empty unit name";
  for (char c : name.substr(0, dot)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
    if (!ok) return "a unit name holds only letters, digits and \":-_.\\@\"";
  }
  return std::nullopt;
}

std::optional<std::string> device_path_problem(std::string_view path) {
  if (auto why = path_problem(path)) return why;
  if (!path.starts_with("/dev/")) return "a disk is a device under /dev, as in \"/dev/sda\"";
  return std::nullopt;
}

std::optional<std::string> chip_problem(std::string_view chip) {
  const auto at = chip.find('@');
  if (auto why = sysfs_name_problem(chip.substr(0, at), "chip name")) return why;
  if (at == std::string_view::npos) return std::nullopt;
  return sysfs_name_problem(chip.substr(at + 1), "device name after '@'");
}

std::optional<std::string> label_problem(std::string_view label) {
  if (label.empty()) return "an empty label";
  if (label.size() > kMaxNameBytes) {
    return "a label has at most " + std::to_string(kMaxNameBytes) + " characters";
  }
  for (char c : label) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "a label holds no control characters";
  }
  return std::nullopt;
}

namespace {
/// PREFIX followed by one or more digits.
bool numbered(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix) || name.size() == prefix.size()) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::optional<std::string> edac_controller_problem(std::string_view name) {
  if (numbered(name, "mc")) return std::nullopt;
  return "an EDAC memory controller is named \"mc\" and its number, as in \"mc0\"";
}

std::optional<std::string> md_array_problem(std::string_view name) {
  if (numbered(name, "md")) return std::nullopt;
  if (name.starts_with("md_") && !sysfs_name_problem(name, "array")) return std::nullopt;
  return "an MD array is named \"md\" and its number, as in \"md0\" (or \"md_NAME\")";
}

}  // namespace amata::check
