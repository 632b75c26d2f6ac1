/// @file attach.hpp
/// @brief The messages box-shim and an attached box (`attach`, `run -it`,
/// `start -a`) exchange over a container's attach socket.
///
/// The socket is a SOCK_SEQPACKET one, `attach` in the container's directory,
/// so every message arrives whole: one tag byte, then the payload.
#pragma once

#include <cstddef>

namespace box::attach {

/// The socket's name in the container's directory.
inline constexpr const char* kSocketName = "attach";
/// The largest payload of one message.
inline constexpr std::size_t kMaxPayload = 16384;

// From the shim to box:
inline constexpr char kStdout = 'o';  ///< bytes the container wrote to stdout (or its terminal)
inline constexpr char kStderr = 'e';  ///< bytes it wrote to stderr
inline constexpr char kExit = 'x';    ///< it ended and its end is recorded; payload: the exit status in decimal

// From box to the shim:
inline constexpr char kStdin = 'i';       ///< bytes for the container's stdin (or its terminal)
inline constexpr char kCloseStdin = 'c';  ///< box's input ended (acted on only for the box that started it)
inline constexpr char kResize = 'w';      ///< the window size changed; payload: "ROWS COLS"
inline constexpr char kSignal = 's';      ///< send the container this signal; payload: its number

}  // namespace box::attach
