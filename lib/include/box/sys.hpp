/// @file sys.hpp
/// @brief The kernel-facing steps box takes, each one traced and checked.
///
/// Every function here makes exactly one system call (or one file write),
/// prints it to the `--explain` trace with its arguments and result, and on
/// failure throws box::Error whose "what" is the call as traced — so an error
/// always says what was tried on which path, and why it failed.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace box::sys {

/// mount(2). `source`, `fstype` and `data` may be nullptr.
void mount(const char* source, const std::string& target, const char* fstype,
           unsigned long flags, const char* data = nullptr);
/// umount2(2).
void umount2(const std::string& target, int flags);
/// pivot_root(2): make `new_root` the root and move the old root to `put_old`.
void pivot_root(const std::string& new_root, const std::string& put_old);
/// chdir(2).
void chdir(const std::string& path);
/// mkdir(2). With `exist_ok`, an existing directory is not an error.
void mkdir(const std::string& path, mode_t mode, bool exist_ok = true);
/// rmdir(2).
void rmdir(const std::string& path);
/// mknod(2) with makedev(major, minor).
void mknod(const std::string& path, mode_t mode, unsigned major, unsigned minor);
/// symlink(2): create `linkpath` pointing at `target`.
void symlink(const std::string& target, const std::string& linkpath);
/// Creates an empty file (as a mount point for a bind mount); an existing
/// file is kept. Traced as the open(2) it is.
void create_file(const std::string& path, mode_t mode);
/// chmod(2).
void chmod(const std::string& path, mode_t mode);
/// sethostname(2).
void sethostname(const std::string& name);
/// unshare(2).
void unshare(int flags);
/// setns(2) into the namespace open at `fd`, whose kind (`net`, `mnt`...) is
/// `kind` (for the trace and the error message).
void setns(int fd, const std::string& kind);
/// clone(2) used like fork(2): returns the child's pid in the parent and 0 in
/// the child, which runs on a copy of the parent's memory and stack. With a
/// cgroup2 directory in `*cgroup2`, clone3(2)'s CLONE_INTO_CGROUP: the child
/// is born in that cgroup, so nobody has to move it there (a move takes the
/// kernel a global lock and an RCU grace period). Where the kernel cannot
/// (before 5.7, or a stand-in directory), a plain clone, and `*cgroup2` is
/// cleared first: the child sees it so, and moves itself.
pid_t clone(unsigned long flags, std::string* cgroup2 = nullptr);
/// Writes `content` to an existing file (a /proc or /sys control file), traced
/// as `write("/proc/42/uid_map", "0 100000 65536\n")`.
void write_file(const std::string& path, const std::string& content);
/// setgroups(2).
void setgroups(const std::vector<gid_t>& groups);
/// setresgid(2) with real, effective and saved ids all `gid`.
void setresgid(gid_t gid);
/// setresuid(2) with real, effective and saved ids all `uid`.
void setresuid(uid_t uid);
/// Brings a network interface up: ioctl(SIOCGIFFLAGS) then ioctl(SIOCSIFFLAGS)
/// with IFF_UP added.
void set_link_up(const std::string& ifname);
/// pidfd_open(2): a descriptor of process `pid` (close-on-exec) that poll(2)
/// finds readable once it has ended — for a process that is not our child
/// too, and without the PID's reuse to fear. -1 with errno (ESRCH: gone).
int pidfd_open(pid_t pid);
/// close_range(3, ~0U, CLOSE_RANGE_CLOEXEC): every descriptor above stderr is
/// closed by the next execve, so that none the caller of box held (a directory
/// of the host, say: runc's CVE-2024-21626) reaches a container's command.
/// Descriptors box means to pass are dup2'd to 0-2 before. On a kernel without
/// the flag (before 5.11), each descriptor of /proc/self/fd is marked by fcntl.
void close_fds_on_exec();
/// prctl(PR_SET_DUMPABLE, 0): until the next execve (which resets it) no
/// process without CAP_SYS_PTRACE over this one may open its /proc/PID/exe,
/// mem or fd/: a process of the container cannot reach box's own binary
/// through a box process that has joined its namespaces (runc's CVE-2019-5736).
void set_non_dumpable();
/// execve(2) of a container's command `path` (already resolved), through
/// box's launcher: a program of a few kilobytes that box writes into a sealed
/// memory file and execs, and that execs `path`. So the process that calls
/// the command's execve is not box: a command that is a script of
/// "#!/proc/self/exe" runs the launcher, which refuses, and not box's binary
/// of the host, which the container could then overwrite (runc's
/// CVE-2019-5736). `report_fd` (the start-up channel) stays open for the
/// launcher, which writes error_message()'s "E<status>\texec \"ARGV0\"\t<why>"
/// there if the command's execve fails; it closes when the command runs. A
/// host where a memory file cannot be executed (vm.memfd_noexec=2) or a
/// seccomp profile that refuses memfd_create or execveat gets a plain
/// execve. Returns only on failure, with errno.
int execve(const std::string& path, const std::vector<std::string>& argv, const std::vector<std::string>& envp,
           int report_fd);
/// Makes this process's next execve() (above) start the command under box's
/// init (`run --init`): the launcher stays as the process, runs the command
/// as its child, reaps every process that ends, passes on the signals it gets
/// and exits as the command did — docker's tini, with nothing added to the
/// container's files. Without the launcher (a host that will not execute a
/// memory file) execve() then fails rather than run without the init.
void exec_as_init(bool on);

}  // namespace box::sys
