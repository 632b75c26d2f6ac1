// Unit tests of lib/: close_later() hands a file's last reference to a
// helper process, and netlink_sockets() finds a library's netfilter socket.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "box/fd.hpp"

namespace {

// True if `fd` is open in this process.
bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Waits (at most `ms`) for `fd` to be readable or at its end; true if so.
bool ready(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

}  // namespace

TEST_CASE("close_later: box's copy is closed at once, a helper's after it, and the helper ends by itself", "[lib][close_later]") {
    // A pipe stands for the socket: its read end sees the end of file when
    // the last reference to the write end is gone, box's and the helper's.
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    pid_t helper = box::close_later(&p[1], 1);
    CHECK_FALSE(is_open(p[1]));
    REQUIRE(helper > 0);
    // The helper closes its copy and ends (bounded waits); box reaps it
    // with __WCLONE: its end sends no signal.
    CHECK(ready(p[0], 5000));
    char byte;
    CHECK(read(p[0], &byte, 1) == 0);
    int status = -1;
    pid_t reaped = 0;
    for (int i = 0; i < 250 && reaped == 0; ++i) {
        reaped = waitpid(helper, &status, __WCLONE | WNOHANG);
        if (reaped == 0) usleep(20 * 1000);
    }
    CHECK(reaped == helper);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    close(p[0]);
}

TEST_CASE("netlink_sockets finds this process's netfilter sockets and no other", "[lib][close_later]") {
    int nf = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    int route = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    REQUIRE(nf >= 0);
    REQUIRE(route >= 0);
    int fds[4];
    int n = box::netlink_sockets(NETLINK_NETFILTER, fds, 4);
    CHECK(std::count(fds, fds + n, nf) == 1);
    CHECK(std::count(fds, fds + n, route) == 0);
    close(nf);
    close(route);
}
