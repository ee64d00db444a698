#include "probes/proc_connector.h"

// clang-format off
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/connector.h>
#include <linux/cn_proc.h>
#include <linux/filter.h>
// clang-format on
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
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

// Where the filter reads, in the datagram: nlmsghdr, cn_msg, then the proc_event.
constexpr std::uint32_t kEventAt = NLMSG_HDRLEN + offsetof(cn_msg, data);
constexpr std::uint32_t kWhatAt = kEventAt + offsetof(proc_event, what);
constexpr std::uint32_t kPidAt = kEventAt + offsetof(proc_event, event_data.exec.process_pid);
constexpr std::uint32_t kTgidAt = kEventAt + offsetof(proc_event, event_data.exec.process_tgid);
static_assert(offsetof(proc_event, event_data.exit.process_pid) ==
                  offsetof(proc_event, event_data.exec.process_pid) &&
              offsetof(proc_event, event_data.exit.process_tgid) ==
                  offsetof(proc_event, event_data.exec.process_tgid));

constexpr std::uint32_t kAccept = 0xffffffff;  // keep the whole datagram
constexpr std::uint32_t kDrop = 0;

// A word load (BPF_ABS) reads in network byte order; the proc connector writes host order.
std::uint32_t as_loaded(std::uint32_t host) {
  return htonl(host);
}

// Conditional jumps reach at most 255 instructions ahead, so every test that accepts is
// followed by its own return rather than a jump to a shared one.
class FilterBuilder {
 public:
  void load_word(std::uint32_t offset) { add(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
  void ret(std::uint32_t verdict) { add(BPF_STMT(BPF_RET | BPF_K, verdict)); }
  /// If A == value, run the next instruction, else skip it.
  void if_equal_next(std::uint32_t value) { add(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1)); }
  /// If A != value, run the next instruction, else skip it.
  void if_not_equal_next(std::uint32_t value) {
    add(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 1, 0));
  }
  /// Drops the event unless its thread is its process's leader (pid == tgid): threads exit
  /// and exec too, and are none of a process probe's business.
  void drop_unless_leader() {
    load_word(kPidAt);
    add(BPF_STMT(BPF_MISC | BPF_TAX, 0));
    load_word(kTgidAt);
    add(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0));
    ret(kDrop);
  }
  /// An unconditional jump, its target patched in later with land_here().
  std::size_t jump_forward() {
    add(BPF_STMT(BPF_JMP | BPF_JA, 0));
    return code_.size() - 1;
  }
  void land_here(std::size_t jump) {
    code_[jump].k = static_cast<std::uint32_t>(code_.size() - jump - 1);
  }
  std::vector<sock_filter>& code() { return code_; }

 private:
  void add(sock_filter instruction) { code_.push_back(instruction); }
  std::vector<sock_filter> code_;
};

std::vector<sock_filter> build_filter(const ProcInterest& want) {
  FilterBuilder f;
  f.load_word(kWhatAt);
  f.if_equal_next(as_loaded(proc_event::PROC_EVENT_EXEC));
  const std::size_t to_exec = f.jump_forward();
  f.if_not_equal_next(as_loaded(proc_event::PROC_EVENT_EXIT));
  f.ret(kDrop);  // fork, uid, comm, ptrace, coredump...: nobody's
  f.drop_unless_leader();
  if (want.exits.size() > ProcConnector::kMaxFilteredExits) {
    f.ret(kAccept);
  } else {
    for (pid_t pid : want.exits) {  // A holds the tgid: tests leave it alone
      f.if_equal_next(as_loaded(static_cast<std::uint32_t>(pid)));
      f.ret(kAccept);
    }
    f.ret(kDrop);
  }
  f.land_here(to_exec);
  if (!want.execs) {
    f.ret(kDrop);
  } else {
    f.drop_unless_leader();
    f.ret(kAccept);
  }
  return std::move(f.code());
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
  interest_changed();
}

void ProcConnector::remove_listener(ProcEventListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
  interest_changed();
}

void ProcConnector::interest_changed() {
  ProcInterest want;
  for (const ProcEventListener* listener : listeners_) listener->add_interest(want);
  std::sort(want.exits.begin(), want.exits.end());
  want.exits.erase(std::unique(want.exits.begin(), want.exits.end()), want.exits.end());
  if (have_installed_ && want == installed_) return;
  installed_ = std::move(want);
  install_filter();
}

void ProcConnector::install_filter() {
  std::vector<sock_filter> code = build_filter(installed_);
  sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
  if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0) {
    have_installed_ = true;
    filter_length_ = code.size();
    return;
  }
  // Without a filter every event comes through and the listeners sort them out, as before
  // there was one: slower on a busy machine, never wrong. The next change tries again.
  int none = 0;
  setsockopt(fd_, SOL_SOCKET, SO_DETACH_FILTER, &none, sizeof none);
  have_installed_ = false;
  filter_length_ = 0;
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
