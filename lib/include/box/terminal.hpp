/// @file terminal.hpp
/// @brief `-t`: a pseudo-terminal made inside the container, handed to box;
/// and the user's terminal while box relays to it.
#pragma once

#include <termios.h>

#include "box/channel.hpp"

namespace box {

/// Run in the container after its /dev/pts (a new devpts instance) and
/// /dev/ptmx are in place: opens a new terminal pair from /dev/ptmx, binds the
/// terminal to /dev/console, sends the master side to box over `channel`,
/// and makes the terminal this process's controlling terminal and its stdin,
/// stdout and stderr. Throws box::Error on failure.
void take_new_terminal(Channel& channel);

/// Puts terminal `fd` in raw mode for as long as it lives (if it is a
/// terminal), so that keys — Ctrl-C too — reach the container's terminal as
/// bytes instead of being acted on by the user's.
class RawMode {
public:
    /// Switches `fd` to raw mode (nothing happens if it is no terminal).
    explicit RawMode(int fd);
    /// Restores the mode `fd` had.
    ~RawMode();
    RawMode(const RawMode&) = delete;
    RawMode& operator=(const RawMode&) = delete;

private:
    int fd_;
    struct termios saved_ {};
    bool active_ = false;
};

/// Gives terminal `to` the window size of terminal `from` (no-op if `from` is none).
void copy_window_size(int from, int to);

}  // namespace box
