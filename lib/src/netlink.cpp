#include "box/netlink.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/trace.hpp"

namespace box {
namespace {

// A message type as the kernel's header names it (RTM_NEWLINK...).
std::string netlink_type_name(std::uint16_t type) {
    switch (type) {
        case RTM_NEWLINK: return "RTM_NEWLINK";
        case RTM_DELLINK: return "RTM_DELLINK";
        case RTM_GETLINK: return "RTM_GETLINK";
        case RTM_NEWADDR: return "RTM_NEWADDR";
        case RTM_DELADDR: return "RTM_DELADDR";
        case RTM_GETADDR: return "RTM_GETADDR";
        case RTM_NEWROUTE: return "RTM_NEWROUTE";
        case RTM_DELROUTE: return "RTM_DELROUTE";
        case RTM_GETROUTE: return "RTM_GETROUTE";
        default: return std::to_string(type);
    }
}

}  // namespace

Netlink::Netlink(int protocol) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd_ < 0)
        throw_errno(std::string("socket(AF_NETLINK, SOCK_RAW, ") +
                        (protocol == NETLINK_NETFILTER ? "NETLINK_NETFILTER" : "NETLINK_ROUTE") + ")",
                    errno);
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel picks this socket's port id
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        int err = errno;
        ::close(fd_);
        throw_errno("bind(AF_NETLINK)", err);
    }
    // An answer names the request it answers (its nlmsg_seq): start the
    // numbers somewhere a reused socket number would not repeat.
    seq_ = static_cast<std::uint32_t>(::getpid()) << 16;
}

Netlink::~Netlink() {
    if (fd_ >= 0) ::close(fd_);
}

void Netlink::close_later() {
    if (fd_ < 0) return;
    box::close_later(&fd_, 1);
    fd_ = -1;
}

namespace {

// Sends one request to the kernel (port id 0).
void send_to_kernel(int fd, nlmsghdr* msg, const std::string& call) {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t n = ::sendto(fd, msg, msg->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (n < 0) throw_errno(call, errno);
}

// Reads answers until `each` says the one for `seq` is complete.
void read_answers(int fd, std::uint32_t seq, const std::string& call,
                  const std::function<bool(const nlmsghdr*)>& each) {
    std::vector<char> buf(1 << 16);
    for (;;) {
        ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(call, errno);
        }
        int left = static_cast<int>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != seq) continue;  // an answer to an earlier request
            if (each(h)) return;
        }
    }
}

}  // namespace

int Netlink::request(nlmsghdr* msg, const std::string& what, int tolerated) {
    msg->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    std::string call = "netlink(" + netlink_type_name(msg->nlmsg_type) + ", " +
                       trace::flags(msg->nlmsg_flags & ~(NLM_F_REQUEST | NLM_F_ACK),
                                    {{NLM_F_CREATE, "NLM_F_CREATE"}, {NLM_F_EXCL, "NLM_F_EXCL"},
                                     {NLM_F_REPLACE, "NLM_F_REPLACE"}}) +
                       ", {" + what + "})";
    send_to_kernel(fd_, msg, call);
    int err = 0;
    read_answers(fd_, msg->nlmsg_seq, call, [&](const nlmsghdr* h) {
        if (h->nlmsg_type != NLMSG_ERROR) return false;
        err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
        return true;
    });
    trace::line(call + " " + trace::result(err ? -1 : 0, err));
    if (err && err != tolerated) throw Error(call, strerror(err));
    return err;
}

void Netlink::dump(nlmsghdr* msg, const std::function<void(const nlmsghdr*)>& each) {
    msg->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
    std::string call = "netlink(" + netlink_type_name(msg->nlmsg_type) + ", NLM_F_DUMP)";
    send_to_kernel(fd_, msg, call);
    read_answers(fd_, msg->nlmsg_seq, call, [&](const nlmsghdr* h) {
        if (h->nlmsg_type == NLMSG_DONE) return true;
        if (h->nlmsg_type == NLMSG_ERROR) {
            int err = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
            if (err) throw Error(call, strerror(err));
            return true;
        }
        each(h);
        return false;
    });
}

int Netlink::batch(const void* msgs, std::size_t len, const std::string& what, int tolerated) {
    std::string call = "netlink(NFNL_MSG_BATCH, {" + what + "})";
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_, msgs, len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) throw_errno(call, errno);
    // nfnetlink handles a batch within the send: every answer (an ack or an
    // error per message) is waiting already, so read until there is none.
    std::vector<char> buf(1 << 16);
    int err = 0, answers = 0;
    for (;;) {
        ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            throw_errno(call, errno);
        }
        int left = static_cast<int>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_type != NLMSG_ERROR) continue;
            ++answers;
            int e = -static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
            if (e && !err) err = e;  // the first refusal says why the batch failed
        }
    }
    if (answers == 0) err = ENOMSG;  // no ack at all: the kernel took none of it
    trace::line(call + " " + trace::result(err ? -1 : 0, err));
    if (err && err != tolerated) throw Error(call, strerror(err));
    return err;
}

}  // namespace box
