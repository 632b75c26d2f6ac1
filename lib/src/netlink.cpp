#include "box/netlink.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <cstring>
#include <vector>

#include "box/error.hpp"
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

namespace {

// The helper of Netlink::close_later(): in memory shared with box
// (CLONE_VM), its own copy of box's file table.
struct Closer {
    int socket, go;
    static int run(void* arg) {
        auto* c = static_cast<Closer*>(arg);
        int a = std::min(c->socket, c->go), b = std::max(c->socket, c->go);
        // Nothing of box's held open but these two (a pipe's reader waiting
        // for box's end must not wait for this helper too).
        if (a > 0) ::syscall(SYS_close_range, 0u, static_cast<unsigned>(a - 1), 0u);
        if (b > a + 1) ::syscall(SYS_close_range, static_cast<unsigned>(a + 1), static_cast<unsigned>(b - 1), 0u);
        ::syscall(SYS_close_range, static_cast<unsigned>(b + 1), ~0u, 0u);
        char byte;
        while (::read(c->go, &byte, 1) < 0 && errno == EINTR) {
        }  // end of file: box has closed its copy of the socket
        ::close(c->socket);  // the last reference: this waits for the kernel
        ::syscall(SYS_exit, 0);
        return 0;
    }
};

}  // namespace

void Netlink::close_later() {
    if (fd_ < 0) return;
    int go[2];
    constexpr std::size_t kStack = 64 * 1024;
    void* stack = MAP_FAILED;
    if (::pipe2(go, O_CLOEXEC) == 0) {
        stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack != MAP_FAILED) {
            // The arguments live at the helper's stack's far end; the mapping
            // is never unmapped (box does not know when the helper is done
            // with it; a process makes one or two of these).
            auto* c = new (stack) Closer{fd_, go[0]};
            char* top = static_cast<char*>(stack) + kStack;
            // Exit signal 0: no SIGCHLD, and no wait() of box's reaps it by mistake.
            if (::clone(&Closer::run, top, CLONE_VM, c) > 0) {
                ::close(fd_);  // not the last reference now: no wait
                fd_ = -1;
            }
        }
        ::close(go[1]);  // the helper goes on
        ::close(go[0]);
    }
    if (fd_ >= 0) {  // no helper: close it here, and wait
        ::close(fd_);
        fd_ = -1;
    }
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
