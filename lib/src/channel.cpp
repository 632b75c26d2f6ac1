#include "box/channel.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "box/error.hpp"

namespace box {

std::pair<Channel, Channel> Channel::pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
        throw_errno("socketpair(AF_UNIX, SOCK_SEQPACKET)", errno);
    return {Channel(fds[0]), Channel(fds[1])};
}

Channel Channel::from_fd(int fd) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return Channel(fd);
}

void Channel::send(const std::string& text, int fd) {
    std::string body = text.empty() ? std::string(1, '\0') : text;  // never a 0-byte message: that reads as EOF
    struct iovec iov { body.data(), body.size() };
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    while (::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR) throw_errno("sendmsg on start-up channel", errno);
    }
}

std::optional<Channel::Message> Channel::receive() {
    char buf[4096];
    struct iovec iov { buf, sizeof buf };
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    while ((n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC)) < 0) {
        if (errno == ECONNRESET) return std::nullopt;
        if (errno != EINTR) throw_errno("recvmsg on start-up channel", errno);
    }
    if (n == 0) return std::nullopt;
    Message m;
    m.text.assign(buf, static_cast<size_t>(n));
    if (m.text == std::string(1, '\0')) m.text.clear();
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
            m.fd.reset(fd);
        }
    }
    return m;
}

}  // namespace box
