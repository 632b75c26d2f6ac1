/// @file terminal.hpp
/// @brief `-t`: a pseudo-terminal made inside the container, handed to box.
#pragma once

#include "box/channel.hpp"

namespace box {

/// Run in the container after its /dev/pts (a new devpts instance) and
/// /dev/ptmx are in place: opens a new terminal pair from /dev/ptmx, binds the
/// terminal to /dev/console, sends the master side to box over `channel`,
/// and makes the terminal this process's controlling terminal and its stdin,
/// stdout and stderr. Throws box::Error on failure.
void take_new_terminal(Channel& channel);

}  // namespace box
