/// @file trace.hpp
/// @brief The `--explain` trace: each kernel-facing step, printed as the call it is.
///
/// Lines are written by the wrappers in sys.hpp right after they make the call,
/// so the trace shows exactly what happened, in order, with the real arguments
/// and the result, in strace's style:
///
///     [pid 4242] mount("proc", "/proc", "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0
///
/// The pid is the caller's own view of itself: inside a new PID namespace the
/// container's first process sees itself as pid 1.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace box::trace {

/// Turns the trace on; lines go to a duplicate of `fd` that closes on exec,
/// so the container's command never inherits it.
void enable(int fd = 2);
/// True when `--explain` was given.
bool enabled();
/// Writes one line (prefixed with the caller's pid) when the trace is on.
void line(const std::string& text);

/// A string argument as C source would spell it: `"a\"b\n"`. nullptr → `NULL`.
std::string quote(const char* s);
/// quote() for a std::string.
std::string quote(const std::string& s);
/// A list of strings: `["sh", "-c", "echo hi"]`.
std::string quote_list(const std::vector<std::string>& items);

/// One named bit of a flags argument.
using FlagName = std::pair<std::uint64_t, const char*>;
/// Spells `value` as `A|B|0x40`, naming the bits found in `names` (in their
/// order) and printing what is left in hex; 0 prints as `0`.
std::string flags(std::uint64_t value, std::initializer_list<FlagName> names);

/// `MS_BIND|MS_REC` for mount(2) flags.
std::string mount_flags(unsigned long value);
/// `CLONE_NEWUTS|CLONE_NEWPID|...|SIGCHLD` for clone(2) flags.
std::string clone_flags(unsigned long value);
/// The result column: `= 0`, or `= -1 EPERM (Operation not permitted)`.
std::string result(long value, int err);

}  // namespace box::trace
