#include "probes/link_monitor.h"

// <net/if.h> must come before <linux/if.h> (pulled in by libnl), or the two clash.
// clang-format off
#include <net/if.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <netlink/route/rtnl.h>
// clang-format on

#include <algorithm>

namespace amata::probes {

Result<std::unique_ptr<LinkMonitor>> LinkMonitor::create(base::EventLoop& loop) {
  std::unique_ptr<LinkMonitor> m(new LinkMonitor(loop));
  m->sock_ = nl_socket_alloc();
  if (m->sock_ == nullptr) return Error{"rtnetlink: nl_socket_alloc failed"};
  // Multicast events carry no sequence numbers of ours.
  nl_socket_disable_seq_check(m->sock_);
  nl_socket_modify_cb(m->sock_, NL_CB_VALID, NL_CB_CUSTOM, &LinkMonitor::on_message, m.get());
  if (int rc = nl_connect(m->sock_, NETLINK_ROUTE); rc < 0) {
    return Error{std::string("rtnetlink connect: ") + nl_geterror(rc)};
  }
  if (int rc = nl_socket_add_membership(m->sock_, RTNLGRP_LINK); rc < 0) {
    return Error{std::string("rtnetlink join RTNLGRP_LINK: ") + nl_geterror(rc)};
  }
  nl_socket_set_nonblocking(m->sock_);
  nl_socket_set_buffer_size(m->sock_, 1 << 20, 0);
  m->fd_ = nl_socket_get_fd(m->sock_);
  LinkMonitor* raw = m.get();
  if (Status s = loop.watch(m->fd_, EPOLLIN, [raw](std::uint32_t) { raw->on_readable(); }); !s) {
    return s.error();
  }
  if (Status s = m->request_dump(); !s) return s.error();
  return m;
}

LinkMonitor::~LinkMonitor() {
  if (fd_ >= 0) loop_.unwatch(fd_);
  if (sock_ != nullptr) nl_socket_free(sock_);
}

Status LinkMonitor::request_dump() {
  if (int rc = nl_rtgen_request(sock_, RTM_GETLINK, AF_UNSPEC, NLM_F_DUMP); rc < 0) {
    return Error{std::string("rtnetlink RTM_GETLINK: ") + nl_geterror(rc)};
  }
  return {};
}

void LinkMonitor::add_listener(LinkListener* listener) {
  listeners_.push_back(listener);
}

void LinkMonitor::remove_listener(LinkListener* listener) {
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), listener), listeners_.end());
}

const LinkState* LinkMonitor::find(std::string_view name) const {
  for (const auto& l : links_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

void LinkMonitor::on_readable() {
  // Drain: each call handles one datagram; -NLE_AGAIN once the socket is empty.
  for (int i = 0; i < 64; ++i) {
    int rc = nl_recvmsgs_default(sock_);
    if (rc < 0) {
      // Overflow means lost announcements: ask for the whole picture again.
      if (rc == -NLE_NOMEM) (void)request_dump();
      return;
    }
  }
}

int LinkMonitor::on_message(nl_msg* msg, void* self_ptr) {
  auto* self = static_cast<LinkMonitor*>(self_ptr);
  int type = nlmsg_hdr(msg)->nlmsg_type;
  if (type != RTM_NEWLINK && type != RTM_DELLINK) return NL_OK;
  self->deleting_ = type == RTM_DELLINK;
  nl_msg_parse(msg, &LinkMonitor::on_object, self);
  return NL_OK;
}

void LinkMonitor::on_object(nl_object* obj, void* self_ptr) {
  auto* self = static_cast<LinkMonitor*>(self_ptr);
  auto* link = reinterpret_cast<rtnl_link*>(obj);
  const char* name = rtnl_link_get_name(link);
  int ifindex = rtnl_link_get_ifindex(link);
  LinkState* state = nullptr;
  for (auto& l : self->links_) {
    if (l.ifindex == ifindex) state = &l;
  }
  if (state == nullptr) {
    self->links_.emplace_back();
    state = &self->links_.back();
    state->ifindex = ifindex;
  }
  if (name != nullptr) state->name = name;
  state->present = !self->deleting_;
  state->carrier = self->deleting_ ? 0 : (rtnl_link_get_carrier(link) ? 1 : 0);
  state->operstate = self->deleting_ ? static_cast<int>(IF_OPER_NOTPRESENT)
                                     : static_cast<int>(rtnl_link_get_operstate(link));
  state->mtu = rtnl_link_get_mtu(link);
  LinkCounters& c = state->counters;
  c.rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
  c.tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
  c.rx_packets = rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS);
  c.tx_packets = rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS);
  c.rx_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS);
  c.tx_errors = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
  c.rx_drops = rtnl_link_get_stat(link, RTNL_LINK_RX_DROPPED);
  c.tx_drops = rtnl_link_get_stat(link, RTNL_LINK_TX_DROPPED);
  LinkState copy = *state;  // listeners may trigger a dump that reallocates links_
  if (self->deleting_) {
    self->links_.erase(std::remove_if(self->links_.begin(), self->links_.end(),
                                      [&](const LinkState& l) { return l.ifindex == ifindex; }),
                       self->links_.end());
  }
  for (std::size_t i = 0; i < self->listeners_.size(); ++i) self->listeners_[i]->on_link(copy);
}

}  // namespace amata::probes
