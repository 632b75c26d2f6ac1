// Chapter 4, inside the stage: entering a running container.
#pragma once

#include <string>
#include <vector>

#include "box/fd.hpp"
#include "stage4.hpp"

namespace box::stage4 {

/// `box exec`'s flags.
struct ExecOptions {
    std::vector<std::string> args;  ///< the command and its arguments
    std::vector<std::string> env;   ///< -e KEY=VALUE, over the container's own
    std::string workdir;            ///< -w (default: the container's)
    std::string user;               ///< -u (default: the container's)
    bool interactive = false;       ///< -i: keep stdin open
    bool tty = false;               ///< -t: a terminal of the container's devpts
    bool detach = false;            ///< -d: do not wait for it
    bool privileged = false;        ///< --privileged: every capability (chapter 5), whatever the container has
};

/// Starts a command in running container `c` as exec does — its cgroup, its
/// protections (chapter 5), its namespaces — and returns the command's host
/// PID, a child of the caller (with -t, `terminal` gets the terminal's master
/// end). The calling process itself joins the container (cgroup, namespaces):
/// call it from a process made for it (a fork), or as the caller's last act.
/// Throws box::Error if `c` does not run or the command cannot be started.
pid_t start_in(const Container& c, const ExecOptions& options, Fd* terminal = nullptr);

/// Runs a command in running container `c` (its namespaces and cgroup) and
/// returns its exit status (0 at once with -d). Throws box::Error if `c`
/// does not run or the command cannot be started.
int exec_in(const Container& c, const ExecOptions& options);

/// Lists the processes of running container `c` with the host's ps (its
/// options `ps_args`, default -f), as docker top does; returns ps's status.
int top(const Container& c, const std::vector<std::string>& ps_args);

/// Registers `box exec` and `box top`.
void register_exec_commands();

}  // namespace box::stage4
