// For the metrics tests only: a plain TCP client on the loopback interface, below httplib's,
// so a test can hold a connection idle, send half a request or read what a refusal sends.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace amata::metrics::testing {

/// A TCP connection to 127.0.0.1:`port`, or -1.
inline int tcp_connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace amata::metrics::testing
