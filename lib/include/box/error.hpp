/// @file error.hpp
/// @brief The one kind of error box reports: `box: <what>: <why>`, then an exit status.
#pragma once

#include <stdexcept>
#include <string>

namespace box {

/// Exit status for a failure of box itself (as docker's 125).
inline constexpr int kExitBoxError = 125;
/// Exit status for a command that exists but cannot be executed.
inline constexpr int kExitCannotInvoke = 126;
/// Exit status for a command that does not exist.
inline constexpr int kExitNotFound = 127;

/// An error box reports as a single line `box: <what>: <why>` and exits with
/// status() (125 unless the error says otherwise).
class Error : public std::runtime_error {
public:
    /// @param what   what box tried, e.g. `mount("proc", "/proc", ...)`
    /// @param why    why it failed, e.g. `Operation not permitted`
    /// @param status the exit status the error maps to
    Error(std::string what, std::string why, int status = kExitBoxError);

    /// The part before the colon: what was tried.
    const std::string& tried() const { return what_; }
    /// The part after the colon: why it failed.
    const std::string& reason() const { return why_; }
    /// The exit status this error maps to.
    int status() const { return status_; }

private:
    std::string what_;
    std::string why_;
    int status_;
};

/// Throws Error{call, strerror(err)}: for a system call that failed.
[[noreturn]] void throw_errno(const std::string& call, int err);

/// `error` as one line another process can turn back into it with
/// error_from_message(): "E<status>\t<what>\t<why>" (a child reports why it
/// could not exec; box-shim passes on why a container could not start).
std::string error_message(const Error& error);

/// The Error that error_message() wrote; `fallback_what` names the step if
/// the message does not.
Error error_from_message(const std::string& message, const std::string& fallback_what);

/// Thrown by an exercise stub that the student has not written yet.
/// @param function  the function to write, e.g. `enter_rootfs()`
/// @param chapter   the chapter that teaches it, e.g. `chapters/01-namespaces`
/// @param exercise  the exercise number in that chapter
[[noreturn]] void not_implemented(const char* function, const char* chapter, int exercise);

}  // namespace box
