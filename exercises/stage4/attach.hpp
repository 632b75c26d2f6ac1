// Chapter 4, inside the stage: attaching this terminal to a container its
// shim holds (box attach, run -it, start -a).
#pragma once

#include <string>

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

}  // namespace box::stage4
