// The TCP plumbing of the remote-node link: listening, connecting without blocking, and
// addresses in words.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace amata::remote {

/// A non-blocking socket listening on numeric `address` (IPv4 or IPv6) and `port` (0: any).
Result<base::UniqueFd> listen_on(const std::string& address, std::uint16_t port);
/// The port a socket is bound to.
std::uint16_t bound_port(int fd);
/// A non-blocking socket connecting to `host` (a name or a numeric address) and `port`: the
/// connection completes when it becomes writable (then connect_error() says how it went).
Result<base::UniqueFd> start_connect(const std::string& host, std::uint16_t port);
/// The outcome of a start_connect(): 0, or the errno it failed with.
int connect_error(int fd);
/// "10.0.0.7:50312", "[fd00::7]:50312".
std::string describe(const sockaddr_storage& address);

}  // namespace amata::remote
