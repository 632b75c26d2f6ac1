/// @file supervise.hpp
/// @brief Chapter 1: what box does while its container runs — forward
/// signals, relay the terminal, wait, and turn the wait status into an exit
/// status. Stage 4's exec, attach and foreground run use it too.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "box/fd.hpp"

namespace box::stage1 {

/// Blocks, for its lifetime, the signals box forwards to the container plus
/// SIGCHLD, so that none is lost between clone() and the wait loop. Make one
/// before clone(); the child must call unblock_in_child() before execve().
class SignalForwarder {
public:
    SignalForwarder();
    ~SignalForwarder();
    SignalForwarder(const SignalForwarder&) = delete;
    SignalForwarder& operator=(const SignalForwarder&) = delete;

    /// Gives the child the signals of a fresh process, as the container's
    /// command must start with: nothing blocked, every action the default
    /// (none ignored because box's caller ignored it, as nohup does SIGHUP).
    static void unblock_in_child();
    /// The signals box forwards (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
    /// SIGUSR2, SIGCONT, SIGWINCH, SIGALRM) plus SIGCHLD.
    const sigset_t& blocked() const { return set_; }

private:
    sigset_t set_;
};

/// Runs until `child` ends: forwards each signal box receives to it, and when
/// `pty_master` is open relays box's terminal to it (stdin only if
/// `interactive`), in raw mode, keeping the window size in step.
/// Returns the exit status as a shell reports it (see exit_status()).
int supervise(pid_t child, const SignalForwarder& signals, Fd pty_master, bool interactive);

/// The exit status for a waitpid() status: the code for a normal exit,
/// 128+N for death by signal N (137 for SIGKILL), as docker and shells report.
int exit_status(int wait_status);

}  // namespace box::stage1
