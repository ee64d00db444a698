#include "probes/proc_connector.h"

// clang-format off
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
// clang-format on
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace amata::probes {
namespace {

Status send_mcast_op(int fd, proc_cn_mcast_op op) {
  // nlmsghdr | cn_msg | op, laid out by hand: cn_msg ends in a flexible array.
  alignas(nlmsghdr) char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(proc_cn_mcast_op))] = {};
  auto* header = reinterpret_cast<nlmsghdr*>(buf);
  header->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_cn_mcast_op));
  header->nlmsg_type = NLMSG_DONE;
  header->nlmsg_pid = 0;
  auto* message = static_cast<cn_msg*>(NLMSG_DATA(header));
  message->id.idx = CN_IDX_PROC;
  message->id.val = CN_VAL_PROC;
  message->len = sizeof(proc_cn_mcast_op);
  std::memcpy(message->data, &op, sizeof op);
  if (send(fd, buf, header->nlmsg_len, 0) < 0) return errno_error("proc connector send", errno);
  return {};
}

}  // namespace

Result<std::unique_ptr<ProcConnector>> ProcConnector::create(base::EventLoop& loop) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) return errno_error("proc connector socket", errno);
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  addr.nl_pid = 0;  // let the kernel pick a port: several sockets may live in one process
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return errno_error("proc connector bind", err);
  }
  // A bigger receive buffer rides out fork storms without ENOBUFS.
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  if (Status s = send_mcast_op(fd, PROC_CN_MCAST_LISTEN); !s) {
    close(fd);
    return s.error();
  }
  std::unique_ptr<ProcConnector> pc(new ProcConnector(loop, fd));
  ProcConnector* raw = pc.get();
  if (Status s = loop.watch(fd, EPOLLIN, [raw](std::uint32_t) { raw->on_readable(); }); !s) {
    return s.error();
  }
  return pc;
}

ProcConnector::~ProcConnector() {
  loop_.unwatch(fd_);
  (void)send_mcast_op(fd_, PROC_CN_MCAST_IGNORE);
  close(fd_);
}

void ProcConnector::add_listener(ProcEventListener* listener) {
  listeners_.push_back(listener);
}

void ProcConnector::remove_listener(ProcEventListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

void ProcConnector::on_readable() {
  alignas(nlmsghdr) char buf[8192];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == ENOBUFS) {
        // Lost events: every listener must look again rather than trust its picture.
        for (std::size_t i = 0; i < listeners_.size(); ++i) listeners_[i]->on_events_lost();
        continue;
      }
      return;  // EAGAIN: drained
    }
    // Walk the messages by hand: NLMSG_OK mixes signed and unsigned lengths.
    std::size_t offset = 0;
    const std::size_t total = static_cast<std::size_t>(n);
    while (offset + sizeof(nlmsghdr) <= total) {
      auto* h = reinterpret_cast<nlmsghdr*>(buf + offset);
      if (h->nlmsg_len < sizeof(nlmsghdr) || h->nlmsg_len > total - offset) break;
      offset += NLMSG_ALIGN(h->nlmsg_len);
      if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_NOOP) continue;
      auto* msg = static_cast<cn_msg*>(NLMSG_DATA(h));
      if (msg->id.idx != CN_IDX_PROC || msg->id.val != CN_VAL_PROC) continue;
      if (msg->len < sizeof(proc_event) - sizeof(proc_event::event_data)) continue;
      proc_event ev{};
      std::memcpy(&ev, msg->data, std::min<std::size_t>(msg->len, sizeof ev));
      ++events_seen_;
      // Listeners may remove themselves while being called: iterate by index over a size
      // taken per step.
      switch (ev.what) {
        case proc_event::PROC_EVENT_EXEC:
          if (ev.event_data.exec.process_pid != ev.event_data.exec.process_tgid) break;
          for (std::size_t i = 0; i < listeners_.size(); ++i) {
            listeners_[i]->on_exec(ev.event_data.exec.process_tgid);
          }
          break;
        case proc_event::PROC_EVENT_EXIT:
          // Threads exit too; only the group leader's exit is the process's death.
          if (ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid) break;
          for (std::size_t i = 0; i < listeners_.size(); ++i) {
            listeners_[i]->on_exit(ev.event_data.exit.process_tgid,
                                   static_cast<int>(ev.event_data.exit.exit_code));
          }
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace amata::probes
