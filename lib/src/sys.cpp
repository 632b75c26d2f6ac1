#include "box/sys.hpp"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"

// The launcher's program (lib/launcher/launcher.cpp), compiled into box as
// bytes by lib/launcher/embed.cmake.
extern "C" const char box_launcher_image[];
extern "C" const unsigned long box_launcher_size;

namespace box::sys {
namespace {

using trace::quote;

// Traces the call `describe()` spells with the result of a syscall that
// returned `rc`, and throws box::Error naming the call if it failed. The
// call's text is made only when it is shown: on every start most of these
// succeed with the trace off.
template <class Describe>
long check(Describe&& describe, long rc) {
    int err = errno;
    if (rc != -1 && !trace::enabled()) return rc;
    std::string call = describe();
    trace::line(call + " " + trace::result(rc, err));
    if (rc == -1) throw_errno(call, err);
    return rc;
}
long check(const char* call, long rc) {
    return check([call] { return std::string(call); }, rc);
}

std::string octal(mode_t mode) {
    char buf[16];
    snprintf(buf, sizeof buf, "0%o", static_cast<unsigned>(mode));
    return buf;
}

}  // namespace

void mount(const char* source, const std::string& target, const char* fstype,
           unsigned long flags, const char* data) {
    check([&] {
        return "mount(" + quote(source) + ", " + quote(target) + ", " + quote(fstype) + ", " +
               trace::mount_flags(flags) + ", " + quote(data) + ")";
    }, ::mount(source, target.c_str(), fstype, flags, data));
}

void umount2(const std::string& target, int flags) {
    check([&] {
        return "umount2(" + quote(target) + ", " +
               trace::flags(static_cast<unsigned>(flags), {{MNT_DETACH, "MNT_DETACH"}, {MNT_FORCE, "MNT_FORCE"}}) + ")";
    }, ::umount2(target.c_str(), flags));
}

void pivot_root(const std::string& new_root, const std::string& put_old) {
    // glibc has no wrapper for pivot_root(2).
    check([&] { return "pivot_root(" + quote(new_root) + ", " + quote(put_old) + ")"; },
          ::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()));
}

void chdir(const std::string& path) {
    check([&] { return "chdir(" + quote(path) + ")"; }, ::chdir(path.c_str()));
}

void mkdir(const std::string& path, mode_t mode, bool exist_ok) {
    auto call = [&] { return "mkdir(" + quote(path) + ", " + octal(mode) + ")"; };
    int rc = ::mkdir(path.c_str(), mode);
    if (rc == -1 && errno == EEXIST && exist_ok) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            if (trace::enabled()) trace::line(call() + " " + trace::result(rc, EEXIST) + " (already there)");
            return;
        }
        errno = EEXIST;
    }
    check(call, rc);
}

void rmdir(const std::string& path) {
    check([&] { return "rmdir(" + quote(path) + ")"; }, ::rmdir(path.c_str()));
}

void mknod(const std::string& path, mode_t mode, unsigned major, unsigned minor) {
    check([&] {
        std::string type = S_ISCHR(mode) ? "S_IFCHR|" : S_ISBLK(mode) ? "S_IFBLK|" : "";
        return "mknod(" + quote(path) + ", " + type + octal(mode & 07777) + ", makedev(" + std::to_string(major) +
               ", " + std::to_string(minor) + "))";
    }, ::mknod(path.c_str(), mode, makedev(major, minor)));
}

void symlink(const std::string& target, const std::string& linkpath) {
    check([&] { return "symlink(" + quote(target) + ", " + quote(linkpath) + ")"; },
          ::symlink(target.c_str(), linkpath.c_str()));
}

void create_file(const std::string& path, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, mode);
    check([&] { return "open(" + quote(path) + ", O_WRONLY|O_CREAT|O_CLOEXEC, " + octal(mode) + ")"; }, fd);
    ::close(fd);
}

void chmod(const std::string& path, mode_t mode) {
    check([&] { return "chmod(" + quote(path) + ", " + octal(mode) + ")"; }, ::chmod(path.c_str(), mode));
}

void sethostname(const std::string& name) {
    check([&] { return "sethostname(" + quote(name) + ")"; }, ::sethostname(name.data(), name.size()));
}

void setns(int fd, const std::string& kind) {
    check([&] { return "setns(<" + kind + " namespace>, 0)"; }, ::setns(fd, 0));
}

void unshare(int flags) {
    check([&] { return "unshare(" + trace::clone_flags(static_cast<unsigned long>(flags)) + ")"; }, ::unshare(flags));
}

pid_t clone(unsigned long flags, std::string* cgroup2) {
    if (cgroup2 && !cgroup2->empty()) {
        Fd dir(::open(cgroup2->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        clone_args args {};
        args.flags = (flags & ~static_cast<unsigned long>(CSIGNAL)) | CLONE_INTO_CGROUP;
        args.exit_signal = flags & CSIGNAL;
        args.cgroup = static_cast<std::uint64_t>(dir.get());
        long rc = dir ? ::syscall(SYS_clone3, &args, sizeof args) : -1;
        if (rc == 0) return 0;
        std::string call = "clone3(" + trace::clone_flags(flags) + "|CLONE_INTO_CGROUP, cgroup=" + quote(*cgroup2) + ")";
        if (rc > 0) {
            trace::line(call + " = " + std::to_string(rc));
            return static_cast<pid_t>(rc);
        }
        trace::line(call + " " + trace::result(-1, errno) + ": a plain clone, the child moves itself");
        cgroup2->clear();
    }
    // The raw system call with a null stack behaves like fork(): the child
    // continues from here on its own copy of our memory. (glibc's clone()
    // wrapper instead wants a function and a separately allocated stack.)
    long rc = ::syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
    if (rc == 0) return 0;  // the child: nothing to trace here
    return static_cast<pid_t>(check([&] { return "clone(" + trace::clone_flags(flags) + ")"; }, rc));
}

void write_file(const std::string& path, const std::string& content) {
    auto call = [&] { return "write(" + quote(path) + ", " + quote(content) + ")"; };
    // O_TRUNC, as a shell's `echo V > FILE`: control files ignore it, a plain
    // file (the tests' stand-in hierarchy) gets exactly the new value.
    Fd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!fd) {
        int err = errno;
        trace::line(call() + " " + trace::result(-1, err));
        throw_errno("open(" + quote(path) + ")", err);
    }
    ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n >= 0 && static_cast<size_t>(n) != content.size()) {
        errno = EIO;
        n = -1;
    }
    check(call, n);
}

void setgroups(const std::vector<gid_t>& groups) {
    check([&] {
        std::string list = "[";
        for (size_t i = 0; i < groups.size(); ++i) list += (i ? ", " : "") + std::to_string(groups[i]);
        return "setgroups(" + std::to_string(groups.size()) + ", " + list + "])";
    }, ::setgroups(groups.size(), groups.data()));
}

void setresgid(gid_t gid) {
    check([&] {
        std::string g = std::to_string(gid);
        return "setresgid(" + g + ", " + g + ", " + g + ")";
    }, ::setresgid(gid, gid, gid));
}

void setresuid(uid_t uid) {
    check([&] {
        std::string u = std::to_string(uid);
        return "setresuid(" + u + ", " + u + ", " + u + ")";
    }, ::setresuid(uid, uid, uid));
}

void set_link_up(const std::string& ifname) {
    Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno("socket(AF_INET, SOCK_DGRAM)", errno);
    struct ifreq ifr {};
    if (ifname.size() >= sizeof ifr.ifr_name) throw Error("set_link_up", "interface name too long");
    memcpy(ifr.ifr_name, ifname.c_str(), ifname.size() + 1);
    auto fd = [&] { return "ioctl(" + std::to_string(sock.get()); };
    check([&] { return fd() + ", SIOCGIFFLAGS, {ifr_name=" + quote(ifname) + "})"; },
          ::ioctl(sock.get(), SIOCGIFFLAGS, &ifr));
    ifr.ifr_flags |= IFF_UP;
    check([&] {
        std::string fl = trace::flags(static_cast<unsigned short>(ifr.ifr_flags),
                                      {{IFF_UP, "IFF_UP"}, {IFF_LOOPBACK, "IFF_LOOPBACK"}, {IFF_RUNNING, "IFF_RUNNING"}});
        return fd() + ", SIOCSIFFLAGS, {ifr_name=" + quote(ifname) + ", ifr_flags=" + fl + "})";
    }, ::ioctl(sock.get(), SIOCSIFFLAGS, &ifr));
}

void close_fds_on_exec() {
    if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
        trace::line("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) = 0");
        return;
    }
    int err = errno;
    if (err != EINVAL && err != ENOSYS) check("close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)", -1);
    auto fds = open_fds();
    if (!fds) check("opendir(\"/proc/self/fd\")", -1);
    for (int fd : *fds)
        if (fd > 2) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    trace::line("fcntl(FD_CLOEXEC) on each descriptor above 2 (no close_range flag)");
}

void set_non_dumpable() { check("prctl(PR_SET_DUMPABLE, 0)", ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)); }

namespace {

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

bool launch_as_init = false;  // exec_as_init(): this process's next execve

// A sealed memory file holding the launcher; -1 with errno if none can be made.
int launcher_file() {
    int fd = ::memfd_create("box-launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = ::memfd_create("box-launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
    if (fd < 0) return -1;
    Fd file(fd);
    if (!write_all(fd, box_launcher_image, box_launcher_size) ||
        ::fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) != 0)
        return -1;
    return file.release();
}

}  // namespace

void exec_as_init(bool on) { launch_as_init = on; }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

int execve(const std::string& path, const std::vector<std::string>& argv, const std::vector<std::string>& envp,
           int report_fd) {
    auto pointers = [](const std::vector<std::string>& v) {
        std::vector<char*> p;
        for (const auto& s : v) p.push_back(const_cast<char*>(s.c_str()));
        p.push_back(nullptr);
        return p;
    };
    std::vector<char*> e = pointers(envp);
    // Traced before the call: on success execve never returns to say so.
    if (trace::enabled())
        trace::line("execve(" + quote(path) + ", " + trace::quote_list(argv) + ", " + trace::quote_list(envp) + ")");
    Fd launcher(launcher_file());
    if (launcher && ::fcntl(report_fd, F_SETFD, 0) == 0) {
        std::vector<std::string> args = {launch_as_init ? "box-init" : "box-launch", std::to_string(report_fd),
                                         "exec \"" + (argv.empty() ? path : argv[0]) + "\"", path};
        args.insert(args.end(), argv.begin(), argv.end());
        if (trace::enabled())
            trace::line(std::string("  through box's launcher") + (launch_as_init ? " as the container's init" : "") +
                        ": execveat(" + std::to_string(launcher.get()) + " (a sealed memfd), \"\", AT_EMPTY_PATH)");
        ::syscall(SYS_execveat, launcher.get(), "", pointers(args).data(), e.data(), AT_EMPTY_PATH);
        int err = errno;
        ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
        trace::line("execveat(box's launcher) " + trace::result(-1, err));
        // A memfd this host will not execute (vm.memfd_noexec=2), a profile
        // without execveat: the plain way. Else the error is the command's.
        if (err != EACCES && err != EPERM && err != ENOSYS) return err;
        if (launch_as_init) return err;  // --init: not without its init
    } else if (launch_as_init) {
        return errno ? errno : EPERM;
    }
    ::execve(path.c_str(), pointers(argv).data(), e.data());
    int err = errno;
    trace::line("execve(" + quote(path) + ") " + trace::result(-1, err));
    return err;
}

}  // namespace box::sys
