/// @file stage1.hpp
/// @brief Stage 1 (chapter 1, namespaces): the functions you write, and the
/// `box run` command that calls them.
///
/// The container's first process is started by box with clone(2) and then,
/// before it executes the user's command, calls these functions in the order
/// they are listed here. Each function states its contract; the chapter
/// (chapters/01-namespaces/README.md) explains the kernel interfaces.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "box/channel.hpp"
#include "box/extension.hpp"
#include "box/fd.hpp"
#include "box/spec.hpp"
#include "box/user.hpp"
#include "supervise.hpp"

namespace box::stage1 {

/// Exercise 1. The clone(2) flags that give the container the namespaces
/// `spec` asks for: always new UTS, PID, mount and IPC namespaces; a new
/// network namespace unless `spec.network` is NetworkMode::Host; a new user
/// namespace if `spec.userns`. Not SIGCHLD: the caller adds it.
unsigned long namespace_flags(const ContainerSpec& spec);

/// Exercise 2. Run by box (the parent) while the child waits: maps ids in the
/// child's new user namespace by writing /proc/PID/uid_map, then
/// /proc/PID/setgroups ("allow" as root, who may keep setgroups(2); "deny"
/// otherwise), then /proc/PID/gid_map — setgroups must come before gid_map.
/// Each map file gets one line, "INSIDE OUTSIDE COUNT\n", from spec.uid_map
/// and spec.gid_map.
void write_id_maps(pid_t pid, const ContainerSpec& spec);

/// Exercise 3. Makes every mount in this (new) mount namespace private,
/// recursively, so that nothing the container mounts or unmounts propagates
/// back to the host, and pivot_root(2) does not fail with EINVAL on hosts
/// whose / is a shared mount (systemd's default).
void make_mounts_private();

/// Exercise 4. Bind-mounts `rootfs` (an absolute host path) onto itself,
/// recursively. pivot_root(2) will need the new root to be a mount point, and
/// the mounts of exercises 5 and 6 then land on this mount and move with it.
void bind_rootfs(const std::string& rootfs);

/// Exercise 5. Mounts a fresh proc filesystem (it shows the container's PID
/// namespace) at ROOTFS/proc and a read-only sysfs at ROOTFS/sys, creating
/// the directories if the rootfs lacks them. proc gets
/// MS_NOSUID|MS_NODEV|MS_NOEXEC; sysfs also MS_RDONLY. With `spec.userns` and
/// the host's network namespace, sysfs cannot be mounted (only the owner of
/// the network namespace may), so the host's /sys is bind-mounted instead and
/// then remounted read-only.
void mount_proc_and_sys(const std::string& rootfs, const ContainerSpec& spec);

/// Exercise 6. Makes ROOTFS/dev a small tmpfs holding what programs expect:
/// the character devices null (1,3), zero (1,5), full (1,7), random (1,8),
/// urandom (1,9) and tty (5,0), mode 0666; pts as a new devpts instance with
/// ptmx a symlink to pts/ptmx; shm a tmpfs; and the links fd, stdin, stdout,
/// stderr into /proc/self/fd. In a user namespace mknod(2) is refused, so each
/// device is instead an empty file with the host's device bind-mounted onto it.
void populate_dev(const std::string& rootfs, const ContainerSpec& spec);

/// Exercise 7. Makes `rootfs` the root directory: changes into it, calls
/// pivot_root(".", ".") — the old root is then stacked on top of the new one,
/// at the same place — unmounts that old root lazily (MNT_DETACH) and changes
/// to "/". After this the container can no longer reach the host's files.
void pivot_into(const std::string& rootfs);

/// Exercise 8. Switches to `id`: supplementary groups, then gid, then uid —
/// in this order, because after setresuid() to a non-root uid the process
/// may no longer change its groups.
void set_identity(const Identity& id);

/// Exercise 9. Finds the program to execute, as execvp(3) would but in the
/// container's PATH: a name containing '/' is used as it is; otherwise each
/// directory of `path` (colon-separated) is tried in order, and the first
/// executable regular file wins. Throws box::Error with status 127
/// (`exec "NAME": executable file not found in $PATH`, or `... no such file or
/// directory` for a path) or 126 (`exec "NAME": permission denied`, or `...
/// is a directory`).
std::string find_executable(const std::string& name, const std::string& path);

/// The environment the command gets, as docker builds it: PATH (docker's
/// default), HOSTNAME, TERM=xterm with a terminal, HOME from the user's
/// passwd entry, then the -e variables (which override those).
std::vector<std::string> container_environment(const ContainerSpec& spec, const Identity& id);

/// Run in the container after its /dev/pts (a new devpts instance) and
/// /dev/ptmx are in place (`-t`): opens a new terminal pair from /dev/ptmx,
/// binds the terminal to /dev/console, sends the master side to box over
/// `channel`, and makes the terminal this process's controlling terminal and
/// its stdin, stdout and stderr. Throws box::Error on failure.
void take_new_terminal(Channel& channel);

/// A container whose command runs: what start_container() made.
struct StartedContainer {
    pid_t pid = -1;  ///< its first process, as box's PID namespace sees it
    Fd terminal;     ///< with -t: the master side of its terminal
    /// What later stages made for it (its cgroup...); destroying them undoes it,
    /// so keep them until the container has been reaped.
    Extensions extensions;
};

/// Starts the container `spec` describes and returns once its command runs
/// (the caller waits for it, having made a SignalForwarder first). Throws
/// box::Error when it cannot start, leaving nothing behind.
StartedContainer start_container(const ContainerSpec& spec);

/// Starts the container `spec` describes and waits for it; returns its exit
/// status (the command's code, 128+N if killed by signal N), or throws
/// box::Error (125 box's error, 126 cannot execute, 127 not found).
int run_container(const ContainerSpec& spec);

/// Registers `box run` (see cli::define).
void register_commands();

}  // namespace box::stage1
