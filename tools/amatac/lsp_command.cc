#include "tools/amatac/lsp_command.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <iostream>
#include <streambuf>

#include "compiler/lsp/server.h"

namespace amata::amatac {
namespace {

/// Reads a file descriptor and, unlike std::cin, can say whether more input is already
/// waiting (showmanyc), so the server can let a burst of edits through before re-checking.
class FdReader : public std::streambuf {
 public:
  explicit FdReader(int fd) : fd_(fd) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    ssize_t n;
    do {
      n = ::read(fd_, buffer_, sizeof buffer_);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return traits_type::eof();
    setg(buffer_, buffer_, buffer_ + n);
    return traits_type::to_int_type(*gptr());
  }

  std::streamsize showmanyc() override {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)) return 0;
    int pending = 0;
    if (::ioctl(fd_, FIONREAD, &pending) != 0) return 0;
    return pending;
  }

 private:
  int fd_;
  char buffer_[65536] = {};
};

}  // namespace

void add_lsp_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd =
      app.add_subcommand("lsp", "run the language server (LSP over stdin/stdout) for editors");
  cmd->callback([&exit_code] {
    // An editor that goes away closes the pipe: writes then fail instead of killing us,
    // and the next read sees the end of the input.
    std::signal(SIGPIPE, SIG_IGN);
    FdReader reader(STDIN_FILENO);
    std::istream in(&reader);
    std::ios::sync_with_stdio(false);
    amata::lsp::Server server(std::cout);
    exit_code = server.run(in);
  });
}

}  // namespace amata::amatac
