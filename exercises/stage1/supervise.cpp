#include "supervise.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "box/error.hpp"
#include "box/terminal.hpp"
#include "box/trace.hpp"
#include "box/util.hpp"

namespace box::stage1 {
namespace {

sigset_t g_original_mask;

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGCONT, SIGWINCH, SIGALRM};

}  // namespace

SignalForwarder::SignalForwarder() {
    sigemptyset(&set_);
    for (int s : kForwarded) sigaddset(&set_, s);
    sigaddset(&set_, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set_, &g_original_mask);
}

SignalForwarder::~SignalForwarder() { sigprocmask(SIG_SETMASK, &g_original_mask, nullptr); }

void SignalForwarder::unblock_in_child() {
    // execve() resets handled signals to their default action but keeps ignored
    // ones ignored: a box started under nohup would pass on an ignored SIGHUP,
    // and a shell as PID 1 may not even trap a signal ignored on entry.
    // The system call itself: glibc refuses to touch the two real-time signals
    // it keeps for threads (32 and 33), which may be ignored too.
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)();
        unsigned long mask;
    } dfl = {SIG_DFL, 0, nullptr, 0};
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

int exit_status(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return kExitBoxError;
}

int supervise(pid_t child, const SignalForwarder& signals, Fd pty_master, bool interactive) {
    Fd sigfd(signalfd(-1, &signals.blocked(), SFD_CLOEXEC));
    if (!sigfd) throw_errno("signalfd", errno);

    std::optional<RawMode> raw;
    bool relay_stdin = pty_master && interactive;
    if (pty_master) {
        if (relay_stdin) raw.emplace(STDIN_FILENO);
        if (isatty(STDIN_FILENO)) copy_window_size(STDIN_FILENO, pty_master.get());
    }

    char buf[16384];
    std::optional<int> status;
    while (!status) {
        struct pollfd fds[3] = {{sigfd.get(), POLLIN, 0},
                                {pty_master ? pty_master.get() : -1, POLLIN, 0},
                                {relay_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll", errno);
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(pty_master.get(), buf, sizeof buf);
            if (n > 0) {
                write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
            } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
                // EIO: no process holds the terminal any more; wait for SIGCHLD.
                pty_master.reset();
            }
        }
        if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n > 0) {
                write_all(pty_master.get(), buf, static_cast<size_t>(n));
            } else if (n == 0) {
                // Our input ended: pass the terminal's end-of-file key on.
                char eof = 4;
                write_all(pty_master.get(), &eof, 1);
                relay_stdin = false;
            }
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si {};
            if (read(sigfd.get(), &si, sizeof si) != sizeof si) continue;
            int sig = static_cast<int>(si.ssi_signo);
            if (sig == SIGCHLD) {
                int ws = 0;
                pid_t r = waitpid(child, &ws, WNOHANG);
                if (r == child) status = exit_status(ws);
            } else if (sig == SIGWINCH && pty_master) {
                copy_window_size(STDIN_FILENO, pty_master.get());
            } else {
                int rc = kill(child, sig);
                trace::line("kill(" + std::to_string(child) + ", SIG" + sigabbrev_np(sig) + ") " +
                            trace::result(rc, errno));
            }
        }
    }
    // The command is gone; print what it wrote last before exiting.
    while (pty_master) {
        ssize_t n = read(pty_master.get(), buf, sizeof buf);
        if (n <= 0) break;
        write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
    }
    return *status;
}

}  // namespace box::stage1
