/// @file fd.hpp
/// @brief Fd: a file descriptor that closes itself.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace box {

/// Owns one file descriptor and closes it when it goes out of scope.
class Fd {
public:
    Fd() = default;
    /// Takes ownership of `fd` (-1 means none).
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    /// Takes the descriptor `other` owned.
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    /// Closes ours, then takes the descriptor `other` owned.
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~Fd() { reset(); }

    /// The descriptor, still owned.
    int get() const { return fd_; }
    /// Gives up ownership and returns the descriptor.
    int release() { return std::exchange(fd_, -1); }
    /// Closes the owned descriptor (if any) and takes `fd` instead.
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    /// True if a descriptor is owned.
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

/// openat2(`root`, `path`, `flags` | O_CLOEXEC, `mode`) with RESOLVE_IN_ROOT |
/// RESOLVE_NO_MAGICLINKS: `path` (absolute or not) is resolved as if `root`
/// were `/`, so a symlink of an image's (`/leak -> /etc/shadow`) leads to the
/// image's file, never the host's. An empty path is `root` itself. The Fd is
/// empty on failure, errno set.
Fd open_in_root(int root, const std::string& path, int flags, mode_t mode = 0);

/// Closes open files without waiting for what their release waits for: a
/// netfilter socket's release after a transaction that deleted something
/// waits until nf_tables has freed it, after an RCU grace period (5-15 ms
/// here; `close()`, or the process's exit, blocks that long). A helper
/// process (clone with CLONE_VM: no copy of box's memory) gets its own copy
/// of the file table, keeps only the files of `fds` (at most four), and
/// closes them after box has closed its own, then ends by itself, waited
/// for by nobody (a zombie child until box ends; `waitpid` with `__WCLONE`
/// reaps it). Returns its pid; without a helper (0: clone failed) the close
/// here waits.
pid_t close_later(const int* fds, int count);

/// This process's open descriptors, as /proc/self/fd lists them (without
/// the one that reads it); nullopt, errno set, if it cannot be read.
std::optional<std::vector<int>> open_fds();

/// This process's netlink sockets of `protocol` (NETLINK_NETFILTER: 12),
/// for close_later: a library's own (libnftables') is found this way.
int netlink_sockets(int protocol, int* fds, int max);

}  // namespace box
