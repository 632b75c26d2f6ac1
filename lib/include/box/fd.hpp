/// @file fd.hpp
/// @brief Fd: a file descriptor that closes itself.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>
#include <utility>

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

}  // namespace box
