// Chapter 4, inside the stage: attaching this terminal to a container its
// shim holds (box attach, run -it, start -a).
#pragma once

#include <string>
#include <utility>

#include "box/fd.hpp"
#include "stage4.hpp"

namespace box::stage4 {

/// How box relays between the user and a container's shim.
struct AttachOptions {
    bool input = false;      ///< pass our stdin on (the container keeps stdin open: -i)
    bool tty = false;        ///< it has a terminal: raw mode, window size, detach keys
    bool sig_proxy = true;   ///< without a terminal, pass the signals box gets on
    std::string detach_keys = "ctrl-p,ctrl-q";  ///< docker's --detach-keys
};

/// How an attachment ended.
struct AttachResult {
    /// It ended; the detach keys were typed; a signal ended box's side (with
    /// a terminal, signals are not passed on); the shim went away.
    enum How { Exited, Detached, Signalled, Lost };
    How how;         ///< which of these
    int status = 0;  ///< Exited: the container's exit status; Signalled: 128+N
};

/// The bytes of docker's --detach-keys (e.g. "ctrl-p,ctrl-q" is 0x10 0x11);
/// throws box::Error if `spec` is malformed.
std::string parse_detach_keys(const std::string& spec);

/// Connects to running container `c`'s attach socket; throws box::Error with
/// docker's message if it is stopped or paused.
Fd connect_attach(const Container& c);

/// Relays between this process's stdio and `socket` until the container
/// ends, the detach keys are typed, or the shim goes away.
AttachResult relay_attached(Fd socket, const AttachOptions& options);

/// run -it, start -a, attach: relays this terminal to container `c` through
/// `socket` until it ends; returns what box exits with. With
/// `attach_command`, the detach keys end `box attach` with docker's "read
/// escape sequence" and 1; they end run -it and start -a quietly with 0.
int attach_and_wait(const ContainerStore& store, const Container& c, Fd socket, const AttachOptions& options,
                    bool attach_command);

/// A connected pair of attach sockets: the shim gets one, this box keeps the other.
std::pair<Fd, Fd> attach_pair();

/// Registers `box attach`.
void register_attach_command();

}  // namespace box::stage4
