// Chapter 4: box-shim, the small program that stays with a detached container.
//
//   box run -d ──fork+exec──▶ box-shim (own session, child subreaper)
//                               │  ├─ fork+exec `box __start ID` ──clone──▶ container
//                               │  │    (box exits: the container is re-parented to the shim)
//                               │  ├─ relays the container's stdout/stderr into container.log
//                               │  │    and to every box attached to DIR/attach  ← exercises 4-7 (advanced)
//                               │  ├─ reaps it and records its exit            ← exercise 1
//                               │  └─ fork+exec `box __cleanup ID STATUS` (cgroup, state, --restart)
//   box run -d reads "ok" from the shim and prints the id
//
// It is a program of its own, apart from box, so that what stays in memory
// for each running container is small: no CLI, no JSON library, no image code.
// Usage: box-shim BOX ROOT ID READY_FD [ATTACH_FD]
// (ATTACH_FD: a socket of `box run -it` or `start -a`, attached from the start.)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "box/attach.hpp"
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
    char tag;  // for attached boxes: attach::kStdout or kStderr
    std::string partial;
};

// A box attached through the socket (box attach, run -it, start -a).
struct Client {
    int fd;
    bool stdin_once;  // the box that started the container: its end of input ends the container's
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
    // EXERCISE 1: write reap_and_record() — see chapters/04-lifecycle/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("reap_and_record()", "chapters/04-lifecycle", 1);
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

// The attach socket, DIR/attach. Bound through /proc/self/fd/N/ so that a long
// state root does not overflow sun_path's 108 bytes.
int listen_for_attach(const std::string& dir) {
    int dirfd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    int s = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (dirfd < 0 || s < 0) throw box::Error("box-shim", std::string("attach socket: ") + strerror(errno));
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dirfd, box::attach::kSocketName);
    ::unlink(addr.sun_path);  // left by a shim that was killed
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(s, 16) != 0)
        throw box::Error("box-shim", std::string("attach socket: ") + strerror(errno));
    ::close(dirfd);
    return s;
}

// Output for attached boxes is never waited for: each gets a 1 MiB socket
// buffer (as docker's ~1 MB), and one that falls further behind is dropped.
void prepare_client(int fd) {
    int size = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    fcntl(fd, F_SETFL, O_NONBLOCK);
}

class Shim {
    static constexpr int kAlreadyRunning = -2;  // run_once(): started by another shim meanwhile

public:
    Shim(const Paths& p, int log, int sigchld, const sigset_t& unblock, int ready)
        : p_(p), log_(log), sigchld_(sigchld), unblock_(unblock), ready_(ready) {}

    void add_client(int fd, bool stdin_once) {
        prepare_client(fd);
        clients_.push_back({fd, stdin_once});
    }

    // Runs the container until --restart says no more; returns the shim's exit status.
    int run() {
        int delay_ms = 100;
        for (;;) {
            std::string error;
            int status = run_once(error);
            if (status == kAlreadyRunning) return 0;  // another shim has it
            if (status < 0) {
                fail(error);
                finish(-1);
                return 1;
            }
            int cleanup = wait_for(spawn_box(p_, "__cleanup", std::to_string(status), -1, -1, -1, -1, unblock_));
            // The end is recorded (and a --rm container removed): attached boxes may go.
            finish(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
            if (cleanup != kRestart) break;
            struct timespec pause = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
            nanosleep(&pause, nullptr);
            delay_ms = delay_ms >= 30000 ? 60000 : delay_ms * 2;  // docker's back-off
        }
        return 0;
    }

    // Tells `box run -d` why the container could not start, if it still waits.
    void fail(const std::string& message) {
        if (ready_ >= 0 && ::write(ready_, message.data(), message.size()) < 0) {
        }
    }

    // Attached boxes learn the exit status (none if it never started) and are let go.
    void finish(int exit_status) {
        std::string msg = std::string(1, box::attach::kExit) + std::to_string(exit_status);
        for (auto& c : clients_) {
            if (exit_status >= 0) ::send(c.fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            ::close(c.fd);
        }
        clients_.clear();
    }

    ~Shim() {
        finish(-1);
        if (listener_ >= 0) ::unlink((p_.dir + "/" + box::attach::kSocketName).c_str());
    }

private:
    // One run of the container: starts it through `box __start`, tells `ready`
    // (then closes it) that it runs, relays its output until it has been
    // reaped, and returns its wait status; or -1 with `error` set if it could
    // not start; or kAlreadyRunning (`ready` told "ok") if `__start` found it
    // started meanwhile by another shim — whose attach socket stays its own.
    int run_once(std::string& error) {
        int in[2], out[2], err[2];
        if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
            error = box::error_message(box::Error("box-shim", std::string("pipe: ") + strerror(errno)));
            return -1;
        }
        auto [mine, theirs] = box::Channel::pair();
        pid_t helper = spawn_box(p_, "__start", "", in[0], out[1], err[1], theirs.fd(), unblock_);
        theirs.close();
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        container_ = -1;
        box::Fd terminal;
        bool already = false;
        while (auto m = mine.receive()) {
            if (m->text == "A") {
                already = true;
            } else if (m->text[0] == 'P') {
                container_ = std::atoi(m->text.c_str() + 1);
                terminal = std::move(m->fd);
            } else {
                error = m->text;  // "E<status>\t<what>\t<why>", passed on as it is
            }
        }
        int helper_status = wait_for(helper);
        if (already) {
            ::close(in[1]);
            ::close(out[0]);
            ::close(err[0]);
            if (ready_ >= 0 && ::write(ready_, "ok", 2) < 0) {
            }
            return kAlreadyRunning;
        }
        if (container_ <= 0) {
            if (error.empty())
                error = box::error_message(
                    box::Error("container start", "box __start exited with " + std::to_string(helper_status)));
            ::close(in[1]);
            ::close(out[0]);
            ::close(err[0]);
            return -1;
        }
        // Attached boxes may come from now on (once: --restart's next runs keep it).
        if (listener_ < 0) {
            try {
                listener_ = listen_for_attach(p_.dir);
            } catch (const box::Error&) {  // no attaching, but the container it runs stays supervised
            }
        }
        if (ready_ >= 0) {  // `box run -d` may print the id and go
            if (::write(ready_, "ok", 2) < 0) {
            }
            ::close(ready_);
            ready_ = -1;
        }
        streams_[0] = {out[0], "stdout", box::attach::kStdout, {}};
        streams_[1] = {err[0], "stderr", box::attach::kStderr, {}};
        input_ = in[1];  // kept open and unwritten unless a box attaches with input: -i keeps stdin open
        tty_ = static_cast<bool>(terminal);
        if (tty_) {  // -t: one stream, the terminal's, which is its input too
            ::close(out[0]);
            ::close(err[0]);
            ::close(in[1]);
            streams_[0].fd = input_ = terminal.release();
            streams_[1].fd = -1;
        }
        pending_.clear();
        close_input_ = false;
        for (auto& s : streams_)
            if (s.fd >= 0) fcntl(s.fd, F_SETFL, O_NONBLOCK);
        fcntl(input_, F_SETFL, O_NONBLOCK);
        int wait_status = relay();
        for (auto& s : streams_)
            if (s.fd >= 0) ::close(s.fd);
        if (!tty_ && input_ >= 0) ::close(input_);
        input_ = -1;
        return wait_status;
    }

    // The shim's event loop, for one run of the container: relays its output
    // (pump) and the attached boxes' messages (serve, flush_input), accepts new
    // attachments, and reaps on SIGCHLD (reap_and_record, exercise 1); returns
    // the container's wait status once it has been reaped and its output
    // drained.
    int relay() {
        int wait_status = 0;
        bool ended = false;
        std::vector<struct pollfd> fds;
        while (!ended || streams_[0].fd >= 0 || streams_[1].fd >= 0) {
            fds.assign({{sigchld_, POLLIN, 0},
                        {streams_[0].fd, POLLIN, 0},
                        {streams_[1].fd, POLLIN, 0},
                        {ended ? -1 : listener_, POLLIN, 0},
                        {pending_.empty() ? -1 : input_, POLLOUT, 0}});
            // Input waiting for the container: read no more until it took it.
            for (const auto& c : clients_) fds.push_back({c.fd, static_cast<short>(pending_.empty() ? POLLIN : 0), 0});
            // Once it ended, only drain what is left (the pid namespace is gone, so
            // every writer is too), and give up on a terminal after a moment.
            int n = poll(fds.data(), fds.size(), ended ? 200 : -1);
            if (n < 0 && errno == EINTR) continue;
            if (n == 0) break;
            if (fds[0].revents & POLLIN) {
                struct signalfd_siginfo info;
                while (::read(sigchld_, &info, sizeof info) == sizeof info) {
                }
            }
            if ((fds[0].revents & POLLIN) && !ended) {
                try {
                    ended = reap_and_record(container_, p_.dir, wait_status);
                } catch (const std::exception& e) {
                    // Say why in its log, and end the container rather than leave
                    // it with nobody to reap it; it is recorded as box's failure
                    // (125), not with the status it had, which we did not learn.
                    log_line(log_, "stderr", std::string("box-shim: ") + e.what() + "\n");
                    signal_container(SIGKILL);
                    while (::waitpid(container_, nullptr, 0) < 0 && errno == EINTR) {
                    }
                    wait_status = W_EXITCODE(125, 0);
                    ended = true;
                }
                if (ended) container_ = -1;  // reaped: its PID may be anyone's now
            }
            for (int i = 0; i < 2; ++i) {
                if (streams_[i].fd >= 0 && (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(streams_[i])) {
                    if (streams_[i].fd == input_) input_ = -1;
                    ::close(streams_[i].fd);
                    streams_[i].fd = -1;
                }
            }
            if (fds[3].revents & POLLIN) accept_clients();
            if (fds[4].revents) flush_input();
            // Clients (in the order polled; ones dropped meanwhile are skipped).
            for (size_t i = 5; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                for (size_t k = 0; k < clients_.size(); ++k)
                    if (clients_[k].fd == fds[i].fd && !serve(clients_[k])) drop(k);
            }
        }
        return wait_status;
    }

    // Signals the container, while it is ours to signal: once reaped, its PID
    // may be anyone's; and kill(-1, ...) would be everyone's.
    void signal_container(int sig) {
        if (container_ > 0 && sig > 0) ::kill(container_, sig);
    }

    // Reads what is there, logs whole lines and passes it to attached boxes;
    // returns false at end-of-file.
    bool pump(Stream& s) {
        char buf[1 + box::attach::kMaxPayload];
        buf[0] = s.tag;
        ssize_t n = ::read(s.fd, buf + 1, box::attach::kMaxPayload);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
        if (n <= 0) {
            if (!s.partial.empty()) log_line(log_, s.name, s.partial);
            s.partial.clear();
            return false;
        }
        for (size_t k = clients_.size(); k-- > 0;)
            if (::send(clients_[k].fd, buf, static_cast<size_t>(n) + 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) drop(k);
        s.partial.append(buf + 1, static_cast<size_t>(n));
        for (size_t nl; (nl = s.partial.find('\n')) != std::string::npos;) {
            log_line(log_, s.name, s.partial.substr(0, nl + 1));
            s.partial.erase(0, nl + 1);
        }
        if (s.partial.size() >= 16384) {  // docker too cuts very long lines
            log_line(log_, s.name, s.partial);
            s.partial.clear();
        }
        return true;
    }

    void accept_clients() {
        for (int fd; (fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) add_client(fd, false);
    }

    void drop(size_t k) {
        ::close(clients_[k].fd);
        clients_.erase(clients_.begin() + static_cast<long>(k));
    }

    // Handles what client `c` sent; false once it is gone.
    bool serve(const Client& c) {
        char buf[1 + box::attach::kMaxPayload + 1];
        for (;;) {
            ssize_t n = ::recv(c.fd, buf, sizeof buf - 1, MSG_DONTWAIT);
            if (n < 0) return errno == EAGAIN || errno == EINTR;
            if (n == 0) return false;
            buf[n] = '\0';
            const char* payload = buf + 1;
            switch (buf[0]) {
            case box::attach::kStdin:
                pending_.append(payload, static_cast<size_t>(n - 1));
                break;
            case box::attach::kCloseStdin:
                if (!c.stdin_once) break;
                if (tty_) pending_ += '\x04';  // the terminal's end-of-file key, as box's own relay sends
                else close_input_ = true;
                break;
            case box::attach::kResize: {
                struct winsize ws {};
                if (tty_ && input_ >= 0 && sscanf(payload, "%hu %hu", &ws.ws_row, &ws.ws_col) == 2)
                    ioctl(input_, TIOCSWINSZ, &ws);
                break;
            }
            case box::attach::kSignal:
                signal_container(std::atoi(payload));
                break;
            }
            flush_input();
            if (!pending_.empty()) return true;  // the rest when the container has taken this
        }
    }

    // Hands the container what attached boxes typed, as much as it takes now.
    void flush_input() {
        while (!pending_.empty() && input_ >= 0) {
            ssize_t n = ::write(input_, pending_.data(), pending_.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return;
            if (n < 0) {  // the container closed its stdin
                pending_.clear();
                break;
            }
            pending_.erase(0, static_cast<size_t>(n));
        }
        if (input_ < 0) pending_.clear();  // nobody will take it: read the clients again
        if (pending_.empty() && close_input_ && !tty_ && input_ >= 0) {
            ::close(input_);
            input_ = -1;
        }
    }

    Paths p_;
    int log_, sigchld_;
    sigset_t unblock_;
    int ready_;
    int listener_ = -1;
    std::vector<Client> clients_;
    // The run in progress:
    pid_t container_ = -1;
    Stream streams_[2] = {{-1, "stdout", box::attach::kStdout, {}}, {-1, "stderr", box::attach::kStderr, {}}};
    int input_ = -1;  // its stdin pipe, or its terminal
    bool tty_ = false;
    std::string pending_;  // input it has not taken yet
    bool close_input_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: box-shim BOX ROOT ID READY_FD [ATTACH_FD] (started by box run -d and box start)\n");
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
    Shim shim(p, log, sigchld, old, ready);
    if (argc == 6) {
        int attached = std::atoi(argv[5]);
        fcntl(attached, F_SETFD, FD_CLOEXEC);
        shim.add_client(attached, true);
    }
    try {
        return shim.run();
    } catch (const std::exception& e) {
        shim.fail(box::error_message(box::Error("box-shim", e.what())));
        log_line(log, "stderr", std::string("box-shim: ") + e.what() + "\n");
        return 1;
    }
}
