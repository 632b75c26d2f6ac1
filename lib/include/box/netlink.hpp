/// @file netlink.hpp
/// @brief A netlink socket of the kernel's routing family (NETLINK_ROUTE) or
/// of its packet filter's (NETLINK_NETFILTER), each request traced and
/// checked as sys.hpp's calls are.
///
/// Chapter 7 builds its requests (new link, address, route) with libmnl and
/// sends them here: the socket talks to the network namespace it was opened
/// in, every request asks for the kernel's acknowledgement, and a refusal
/// throws box::Error whose "what" is the request as traced, e.g.
///
///     [pid 42] netlink(RTM_NEWLINK, NLM_F_CREATE|NLM_F_EXCL, {ifname="box0", kind="bridge", up}) = 0
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

struct nlmsghdr;

namespace box {

/// One netlink socket, closed when destroyed.
class Netlink {
public:
    /// socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, `protocol`), bound: it
    /// belongs to the caller's network namespace from now on. `protocol` is
    /// NETLINK_ROUTE (0, links, addresses, routes) unless given.
    explicit Netlink(int protocol = 0);
    ~Netlink();
    Netlink(const Netlink&) = delete;
    Netlink& operator=(const Netlink&) = delete;

    /// The sequence number for the next request: put it in its nlmsg_seq.
    std::uint32_t next_seq() { return ++seq_; }
    /// Sends `msg` (a whole request with NLM_F_REQUEST, NLM_F_ACK is added)
    /// and waits for the kernel's answer. Traced as `netlink(TYPE, FLAGS,
    /// {what})`; a negative answer throws box::Error with that text, unless it
    /// is `tolerated` (e.g. ENODEV for a delete of what may be gone already),
    /// which returns it. Returns 0 or the tolerated errno.
    int request(nlmsghdr* msg, const std::string& what, int tolerated = 0);
    /// Sends a dump request (NLM_F_DUMP) and calls `each` with every message
    /// of the answer. Not traced: it reads, it changes nothing.
    void dump(nlmsghdr* msg, const std::function<void(const nlmsghdr*)>& each);
    /// Sends a batch of nfnetlink messages (NFNL_MSG_BATCH_BEGIN, the
    /// messages, each with NLM_F_ACK, NFNL_MSG_BATCH_END: `len` bytes at
    /// `msgs`), which the kernel applies as one transaction, whole or not at
    /// all, while the send runs. Traced as `netlink(NFNL_MSG_BATCH, {what})`;
    /// a refusal throws box::Error, unless it is `tolerated`, which returns
    /// it. Returns 0 or the tolerated errno.
    int batch(const void* msgs, std::size_t len, const std::string& what, int tolerated = 0);
    /// Closes the socket without waiting for what its release waits for
    /// (after a batch that deleted something: an RCU grace period), with
    /// box::close_later's helper.
    void close_later();

private:
    int fd_ = -1;
    std::uint32_t seq_ = 0;
};

}  // namespace box
