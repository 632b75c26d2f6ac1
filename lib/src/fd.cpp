#include "box/fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace box {

Fd open_in_root(int root, const std::string& path, int flags, mode_t mode) {
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.mode = mode;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return Fd(static_cast<int>(::syscall(SYS_openat2, root, path.empty() ? "/" : path.c_str(), &how, sizeof how)));
}

namespace {

// The helper of close_later(), in memory shared with box (CLONE_VM); its
// arguments live at the far end of its own stack, so box may go on (and
// free what it likes) at once. It shares box's thread-local storage too, so
// a failing call of its would set box's errno: it makes only calls that do
// not fail here (close_range, close of its own files, read of its pipe).
struct Closer {
    int keep[5];  // the files, then the pipe's read end; sorted
    int count;    // of keep
    int go;       // the pipe's read end: end of file once box has closed its copies

    static int run(void* arg) {
        auto* c = static_cast<Closer*>(arg);
        // Nothing of box's held open but these (a reader of a pipe of
        // box's, waiting for box's end, must not wait for this helper too).
        unsigned from = 0;
        for (int i = 0; i < c->count; ++i) {
            unsigned k = static_cast<unsigned>(c->keep[i]);
            if (k > from) ::syscall(SYS_close_range, from, k - 1, 0u);
            from = k + 1;
        }
        ::syscall(SYS_close_range, from, ~0u, 0u);
        char byte;
        while (::read(c->go, &byte, 1) < 0 && errno == EINTR) {
        }
        for (int i = 0; i < c->count; ++i)
            if (c->keep[i] != c->go) ::close(c->keep[i]);  // the last references: these wait
        ::syscall(SYS_exit, 0);
        return 0;
    }
};

}  // namespace

pid_t close_later(const int* fds, int count) {
    count = std::clamp(count, 0, 4);
    pid_t helper = 0;
    int go[2] = {-1, -1};
    if (count > 0 && ::pipe2(go, O_CLOEXEC) == 0) {
        constexpr std::size_t kStack = 64 * 1024;
        // Never unmapped: box does not know when the helper is done with it
        // (a process makes one or two of these).
        void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack != MAP_FAILED) {
            auto* c = new (stack) Closer{};
            std::copy(fds, fds + count, c->keep);
            c->keep[count] = go[0];
            c->count = count + 1;
            std::sort(c->keep, c->keep + c->count);
            c->go = go[0];
            // Exit signal 0: no SIGCHLD, and no wait() of box's reaps it by mistake.
            helper = std::max(0, ::clone(&Closer::run, static_cast<char*>(stack) + kStack, CLONE_VM, c));
            if (helper == 0) ::munmap(stack, kStack);
        }
        ::close(go[0]);
    }
    // With a helper these are not the last references: no wait. Without
    // one (the clone failed) this is where the wait is.
    for (int i = 0; i < count; ++i) ::close(fds[i]);
    if (go[1] >= 0) ::close(go[1]);  // the helper goes on
    return helper;
}

std::optional<std::vector<int>> open_fds() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return std::nullopt;
    std::vector<int> out;
    while (dirent* e = ::readdir(dir)) {
        char* end;
        long fd = std::strtol(e->d_name, &end, 10);
        if (!*end && end != e->d_name && fd != ::dirfd(dir)) out.push_back(static_cast<int>(fd));
    }
    ::closedir(dir);
    return out;
}

int netlink_sockets(int protocol, int* fds, int max) {
    int found = 0;
    for (int fd : open_fds().value_or(std::vector<int>{})) {
        if (found == max) break;
        struct stat st;
        int domain = 0, proto = -1;
        socklen_t len = sizeof domain;
        if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_NETLINK) continue;
        len = sizeof proto;
        if (::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0 || proto != protocol) continue;
        fds[found++] = fd;
    }
    return found;
}

}  // namespace box
