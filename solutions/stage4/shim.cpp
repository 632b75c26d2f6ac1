// Chapter 4: box-shim, the small program that stays with a detached container.
//
//   box run -d ──fork+exec──▶ box-shim (own session, child subreaper)
//                               │  ├─ fork+exec `box __start ID` ──clone──▶ container
//                               │  │    (box exits: the container is re-parented to the shim)
//                               │  ├─ relays the container's stdout/stderr into container.log
//                               │  ├─ reaps it and records its exit            ← exercise 1
//                               │  └─ fork+exec `box __cleanup ID STATUS` (cgroup, state, --restart)
//   box run -d reads "ok" from the shim and prints the id
//
// It is a program of its own, apart from box, so that what stays in memory
// for each running container is small: no CLI, no JSON library, no image code.
// Usage: box-shim BOX ROOT ID READY_FD
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "box/channel.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"

namespace {

constexpr int kRestart = 3;  // `box __cleanup` says: start it again (--restart)

struct Paths {
    std::string box, root, id, dir;
};

// One stream of the container's output, cut into lines for the log.
struct Stream {
    int fd = -1;
    const char* name;
    std::string partial;
};

std::string json_escape(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// docker's json-file log format: one JSON object per line of output.
void log_line(int log, const char* stream, const std::string& line) {
    std::string record = "{\"log\":\"" + json_escape(line) + "\",\"stream\":\"" + stream + "\",\"time\":\"" +
                         box::now_rfc3339() + "\"}\n";
    if (::write(log, record.data(), record.size()) < 0) {
    }
}

// Reads what is there; returns false at end-of-file.
bool pump(Stream& s, int log) {
    char buf[16384];
    ssize_t n = ::read(s.fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
        if (!s.partial.empty()) log_line(log, s.name, s.partial);
        s.partial.clear();
        return false;
    }
    s.partial.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = s.partial.find('\n')) != std::string::npos;) {
        log_line(log, s.name, s.partial.substr(0, nl + 1));
        s.partial.erase(0, nl + 1);
    }
    if (s.partial.size() >= 16384) {  // docker too cuts very long lines
        log_line(log, s.name, s.partial);
        s.partial.clear();
    }
    return true;
}

void write_file_atomic(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (ok) ::rename(tmp.c_str(), path.c_str());
}

}  // namespace

/// Exercise 1: reaps every child of the shim that has ended — the
/// container's first process, and any orphan the kernel handed to the shim as
/// their subreaper — without blocking. When `container` is among them, writes
/// its wait status and the time to DIR/exit ("STATUS TIME\n", atomically: the
/// record must survive the shim) and returns true with `wait_status` set.
bool reap_and_record(pid_t container, const std::string& dir, int& wait_status) {
    // BEGIN EXERCISE 1: reap_and_record()
    bool ended = false;
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid == 0) break;                     // children left, none ended
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) break;                      // ECHILD: no children at all
        if (pid != container) continue;          // an orphan of the container: reaped, nothing to record
        wait_status = status;
        ended = true;
        write_file_atomic(dir + "/exit", std::to_string(status) + " " + box::now_rfc3339() + "\n");
    }
    return ended;
    // END EXERCISE
}

namespace {

// Runs `box --root ROOT VERB ID [ARG]` with the given stdio; returns its pid.
pid_t spawn_box(const Paths& p, const char* verb, const std::string& arg, int in, int out, int err, int ctl,
                const sigset_t& unblock) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    sigprocmask(SIG_SETMASK, &unblock, nullptr);
    signal(SIGPIPE, SIG_DFL);  // ignored only by the shim: an exec would pass that on
    int fds[] = {in, out, err, ctl};
    for (int i = 0; i < 4; ++i) {
        if (fds[i] < 0) continue;
        int copy = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);  // out of the way of 0-3
        fds[i] = copy;
    }
    for (int i = 0; i < 4; ++i)
        if (fds[i] >= 0) dup2(fds[i], i);
    std::string root = p.root;
    if (arg.empty())
        execl(p.box.c_str(), p.box.c_str(), "--root", root.c_str(), verb, p.id.c_str(), nullptr);
    else
        execl(p.box.c_str(), p.box.c_str(), "--root", root.c_str(), verb, p.id.c_str(), arg.c_str(), nullptr);
    _exit(127);
}

int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One run of the container: starts it through `box __start`, tells `ready`
// (then closes it) that it runs, logs its output until it has been reaped, and
// returns its wait status; or -1 with `error` set if it could not start.
int run_once(const Paths& p, int log, int sigchld, const sigset_t& unblock, std::string& error, int& ready) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
        error = std::string("pipe: ") + strerror(errno);
        return -1;
    }
    auto [mine, theirs] = box::Channel::pair();
    pid_t helper = spawn_box(p, "__start", "", in[0], out[1], err[1], theirs.fd(), unblock);
    theirs.close();
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    // in[1] stays open and unwritten: a container run with -i keeps its stdin.
    pid_t container = -1;
    box::Fd terminal;
    while (auto m = mine.receive()) {
        if (m->text[0] == 'P') {
            container = std::atoi(m->text.c_str() + 1);
            terminal = std::move(m->fd);
        } else {
            error = m->text;  // "E<status>\t<what>\t<why>", passed on as it is
        }
    }
    int helper_status = wait_for(helper);
    if (container <= 0) {
        if (error.empty())
            error = box::error_message(
                box::Error("container start", "box __start exited with " + std::to_string(helper_status)));
        ::close(in[1]);
        ::close(out[0]);
        ::close(err[0]);
        return -1;
    }
    if (ready >= 0) {  // `box run -d` may print the id and go
        if (::write(ready, "ok", 2) < 0) {
        }
        ::close(ready);
        ready = -1;
    }
    Stream streams[2] = {{out[0], "stdout", {}}, {err[0], "stderr", {}}};
    if (terminal) {  // -t: one stream, the terminal's
        ::close(out[0]);
        ::close(err[0]);
        streams[0].fd = terminal.release();
        streams[1].fd = -1;
    }
    int wait_status = 0;
    bool ended = false;
    for (int i = 0; i < 2; ++i)
        if (streams[i].fd >= 0) fcntl(streams[i].fd, F_SETFL, O_NONBLOCK);
    while (!ended || streams[0].fd >= 0 || streams[1].fd >= 0) {
        struct pollfd fds[3] = {{sigchld, POLLIN, 0}, {streams[0].fd, POLLIN, 0}, {streams[1].fd, POLLIN, 0}};
        // Once it ended, only drain what is left (the pid namespace is gone, so
        // every writer is too), and give up on a terminal after a moment.
        int n = poll(fds, 3, ended ? 200 : -1);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (::read(sigchld, &info, sizeof info) == sizeof info) {
            }
            try {
                if (reap_and_record(container, p.dir, wait_status)) ended = true;
            } catch (const std::exception& e) {
                // Say why in its log, and end the container rather than leave
                // it with nobody to reap it; it is recorded as box's failure
                // (125), not with the status it had, which we did not learn.
                log_line(log, "stderr", std::string("box-shim: ") + e.what() + "\n");
                ::kill(container, SIGKILL);
                while (::waitpid(container, nullptr, 0) < 0 && errno == EINTR) {
                }
                wait_status = W_EXITCODE(125, 0);
                ended = true;
            }
        }
        for (int i = 0; i < 2; ++i) {
            if (streams[i].fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(streams[i], log)) {
                ::close(streams[i].fd);
                streams[i].fd = -1;
            }
        }
    }
    for (auto& s : streams)
        if (s.fd >= 0) ::close(s.fd);
    ::close(in[1]);
    return wait_status;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: box-shim BOX ROOT ID READY_FD (started by box run -d and box start)\n");
        return 2;
    }
    Paths p{argv[1], argv[2], argv[3], std::string(argv[2]) + "/containers/" + argv[3]};
    int ready = std::atoi(argv[4]);
    fcntl(ready, F_SETFD, FD_CLOEXEC);        // only we may hold it: run -d waits for its end
    setsid();                                 // no terminal's signals reach us
    signal(SIGPIPE, SIG_IGN);                 // `box run -d` may be gone when we answer it
    prctl(PR_SET_CHILD_SUBREAPER, 1);         // orphans of the container come to us
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    int sigchld = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    int log = ::open((p.dir + "/container.log").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    try {
        int delay_ms = 100;
        for (;;) {
            std::string error;
            int status = run_once(p, log, sigchld, old, error, ready);
            if (status < 0) {
                if (ready >= 0 && ::write(ready, error.data(), error.size()) < 0) {
                }
                return 1;
            }
            int cleanup = wait_for(spawn_box(p, "__cleanup", std::to_string(status), -1, -1, -1, -1, old));
            if (cleanup != kRestart) return 0;
            struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
            nanosleep(&pause, nullptr);
            delay_ms = delay_ms >= 30000 ? 60000 : delay_ms * 2;  // docker's back-off
        }
    } catch (const std::exception& e) {
        std::string msg = box::error_message(box::Error("box-shim", e.what()));
        if (ready >= 0 && ::write(ready, msg.data(), msg.size()) < 0) {
        }
        log_line(log, "stderr", std::string("box-shim: ") + e.what() + "\n");
        return 1;
    }
}
