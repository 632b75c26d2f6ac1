/// @file channel.hpp
/// @brief Channel: the socket pair box and its child talk over while the container starts.
///
/// Both ends close on exec. That is the trick the start-up relies on: when the
/// child's execve() succeeds its end closes, and box reads end-of-file — so
/// "EOF" means "the command is running", and anything else is a message.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "box/fd.hpp"

namespace box {

/// One end of a SOCK_SEQPACKET socket pair: whole messages, each of which may
/// carry one file descriptor (SCM_RIGHTS).
class Channel {
public:
    /// A message: its text, and the descriptor that came with it, if any.
    struct Message {
        std::string text;  ///< the message (empty for a bare descriptor)
        Fd fd;             ///< the descriptor sent with it, if any
    };

    /// Makes a connected pair; give one end to each process.
    static std::pair<Channel, Channel> pair();
    /// The end this process was given as descriptor `fd` (chapter 4: the shim
    /// hands one to the box that starts its container); made close-on-exec.
    static Channel from_fd(int fd);

    /// Sends one message, with `fd` attached unless it is -1. Throws box::Error.
    void send(const std::string& text, int fd = -1);
    /// Receives one message; nothing on end-of-file (the peer exited or exec'd).
    std::optional<Message> receive();
    /// Closes this end.
    void close() { fd_.reset(); }
    /// The socket's descriptor (to hand to a child process).
    int fd() const { return fd_.get(); }

private:
    explicit Channel(int fd) : fd_(fd) {}
    Fd fd_;
};

}  // namespace box
