/// @file terminal.hpp
/// @brief The user's terminal while box relays to a container's (chapter 1's
/// take_new_terminal() makes the container's).
#pragma once

#include <termios.h>


namespace box {

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
