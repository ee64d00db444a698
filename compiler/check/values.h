// The values a setting hands to the operating system, held to what amatad's probes and
// supervisor accept when they load the policy (probes/net_checks.cc resolve_endpoint,
// probes/interface_probe.cc, base/spawn.cc), and to what the tools that create them
// accept (useradd). Each function says why a value is wrong, or nullopt when it is right;
// settings.cc and recover.cc turn the reason into a located E0206. The checker may refuse
// more than the daemon would (a stricter rule is a clear message now instead of a surprise
// later), never less.
//
// What depends on the machine rather than on the text is not checked: whether a user or a
// group exists, whether a host name resolves, whether a file is there. Those are the
// daemon's to report when it starts a service or a probe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace amata::check {

/// The longest absolute path the kernel takes (PATH_MAX, 4096, with its NUL).
inline constexpr std::size_t kMaxPathBytes = 4095;
/// The longest file name component (NAME_MAX).
inline constexpr std::size_t kMaxNameBytes = 255;
/// The longest Unix socket path (sizeof sockaddr_un::sun_path, 108, with its NUL).
inline constexpr std::size_t kMaxSocketPathBytes = 107;
/// The longest user or group name useradd and groupadd create.
inline constexpr std::size_t kMaxAccountNameBytes = 32;
/// The longest interface name (IFNAMSIZ, 16, with its NUL).
inline constexpr std::size_t kMaxInterfaceNameBytes = 15;

/// "/abs/path": absolute, at most kMaxPathBytes, each component at most kMaxNameBytes.
std::optional<std::string> path_problem(std::string_view path);
/// A Unix socket path: an absolute path of at most kMaxSocketPathBytes.
std::optional<std::string> socket_path_problem(std::string_view path);
/// A TCP port written as digits: 1 to 65535.
std::optional<std::string> port_problem(std::string_view digits);
/// An address to probe: an IPv4 address (four numbers 0-255), an IPv6 address (bare or in
/// brackets, optionally with a %zone) or a host name (RFC 1123: labels of letters, digits
/// and '-', at most 63 bytes each and 253 in all).
std::optional<std::string> host_problem(std::string_view host);
/// "HOST:PORT" for a TCP health check; an IPv6 address goes in brackets ("[::1]:80").
std::optional<std::string> host_port_problem(std::string_view target);
/// "http://HOST[:PORT][/PATH]": what the HTTP health check (libcurl) can fetch.
std::optional<std::string> http_url_problem(std::string_view url);
/// A user or group name as useradd(8) and groupadd(8) create them: 1 to 32 of letters,
/// digits, '_', '.' and '-' (not first), optionally ending in '$'; not only digits.
std::optional<std::string> account_name_problem(std::string_view name);
/// A network interface name as the kernel takes it: 1 to 15 bytes, no '/', ':' or blank.
std::optional<std::string> interface_name_problem(std::string_view name);
/// An environment variable name: a letter or '_', then letters, digits and '_'.
std::optional<std::string> env_name_problem(std::string_view name);
/// A name the kernel gives a sysfs entry (a chip's name, an MD array, an EDAC controller): a
/// single path component, no '/', no blanks or control characters.
std::optional<std::string> sysfs_name_problem(std::string_view name, std::string_view what);
/// A hwmon chip: its `name` (one sysfs word), optionally "@DEVICE" (its device's basename).
std::optional<std::string> chip_problem(std::string_view chip);
/// A label as chips and EDAC print them: any text of 1 to 255 characters without control
/// characters.
std::optional<std::string> label_problem(std::string_view label);
/// An EDAC memory controller: "mc" and its number.
std::optional<std::string> edac_controller_problem(std::string_view name);
/// An MD array: "md" and its number, or "md_NAME" for a named array.
std::optional<std::string> md_array_problem(std::string_view name);
/// A systemd unit name: NAME.TYPE with a known type (service, socket, mount, timer, ...) or a
/// bare NAME (a service), NAME of letters, digits and ":-_.\@", at most 255 characters
/// (systemd's unit_name_is_valid).
std::optional<std::string> unit_name_problem(std::string_view name);
/// A block device to read SMART data from: an absolute path under /dev.
std::optional<std::string> device_path_problem(std::string_view path);

}  // namespace amata::check
