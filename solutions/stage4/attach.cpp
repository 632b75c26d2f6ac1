// Chapter 4: the box side of an attachment. The shim holds the container's
// stdio (or its terminal); box talks to it over the container's attach socket
// in whole messages (box/attach.hpp), relaying this terminal both ways.
#include "attach.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "box/attach.hpp"
#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/terminal.hpp"
#include "box/util.hpp"
#include "supervise.hpp"

namespace box::stage4 {
namespace {

void send_message(int socket, char tag, const char* data, size_t n) {
    std::string msg(1, tag);
    msg.append(data, n);
    // Blocking: if the shim is busy, our input waits, as typing into a slow terminal does.
    while (::send(socket, msg.data(), msg.size(), MSG_NOSIGNAL) < 0 && errno == EINTR) {
    }
}

void send_message(int socket, char tag, const std::string& text) { send_message(socket, tag, text.data(), text.size()); }

void send_window_size(int socket) {
    struct winsize ws {};
    if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        send_message(socket, attach::kResize, std::to_string(ws.ws_row) + " " + std::to_string(ws.ws_col));
}

// Watches typed input for the detach keys: bytes that start the sequence are
// held back until it is clear whether the rest follows.
class DetachKeys {
public:
    explicit DetachKeys(std::string keys) : keys_(std::move(keys)) {}
    /// Filters `in`; returns what to pass on. Sets `detach` when the keys were typed.
    std::string filter(const char* in, size_t n, bool& detach) {
        std::string out;
        for (size_t i = 0; i < n && !detach; ++i) {
            if (keys_.empty()) {
                out += in[i];
                continue;
            }
            if (in[i] == keys_[matched_]) {
                if (++matched_ == keys_.size()) detach = true;
                continue;
            }
            out.append(keys_, 0, matched_);  // a false start: pass it on
            matched_ = 0;
            if (in[i] == keys_[0]) ++matched_;
            else out += in[i];
        }
        return out;
    }

private:
    std::string keys_;
    size_t matched_ = 0;
};

}  // namespace

std::string parse_detach_keys(const std::string& spec) {
    std::string keys;
    for (const auto& key : split(spec, ',')) {
        if (key.size() == 1) {
            keys += key;
        } else if (starts_with(key, "ctrl-") && key.size() == 6) {
            char c = key[5];
            if (c >= 'a' && c <= 'z') keys += static_cast<char>(c - 'a' + 1);
            else if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_')
                keys += static_cast<char>(c == '@' ? 0 : c - '[' + 0x1b);
            else throw Error("invalid detach keys (" + spec + ")", "use ctrl-<a-z @ [ \\ ] ^ _> or single characters, comma separated");
        } else {
            throw Error("invalid detach keys (" + spec + ")", "use ctrl-<a-z @ [ \\ ] ^ _> or single characters, comma separated");
        }
    }
    return keys;
}

Fd connect_attach(const Container& c) {
    if (c.state.status == Status::Paused) throw Error("attach " + c.name, "You cannot attach to a paused container, unpause it first");
    if (!c.running()) throw Error("attach " + c.name, "You cannot attach to a stopped container, start it first");
    Fd dir(::open(c.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    Fd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!dir || !s) throw_errno("attach " + c.name, errno);
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    // Through /proc/self/fd, as the shim bound it: sun_path holds only 108 bytes.
    snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir.get(), attach::kSocketName);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw Error("attach " + c.name, std::string("cannot reach its shim (") + strerror(errno) +
                                            "); it may have been killed: see box ps -a");
    return s;
}

AttachResult relay_attached(Fd socket, const AttachOptions& o) {
    DetachKeys keys(o.tty ? parse_detach_keys(o.detach_keys) : "");
    stage1::SignalForwarder blocked;  // signals are read from a signalfd below, never acted on directly
    Fd sigfd(::signalfd(-1, &blocked.blocked(), SFD_CLOEXEC));
    if (!sigfd) throw_errno("signalfd", errno);
    std::optional<RawMode> raw;
    if (o.tty && o.input) raw.emplace(STDIN_FILENO);
    if (o.tty) send_window_size(socket.get());

    bool input = o.input;
    char buf[1 + attach::kMaxPayload];
    for (;;) {
        struct pollfd fds[3] = {{socket.get(), POLLIN, 0}, {input ? STDIN_FILENO : -1, POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno("poll", errno);
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::recv(socket.get(), buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return {AttachResult::Lost, 0};
            if (buf[0] == attach::kStdout) write_all(STDOUT_FILENO, buf + 1, static_cast<size_t>(n - 1));
            if (buf[0] == attach::kStderr) write_all(STDERR_FILENO, buf + 1, static_cast<size_t>(n - 1));
            if (buf[0] == attach::kExit) return {AttachResult::Exited, std::atoi(std::string(buf + 1, static_cast<size_t>(n - 1)).c_str())};
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(STDIN_FILENO, buf, attach::kMaxPayload);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                send_message(socket.get(), attach::kCloseStdin, "");
                input = false;
            } else {
                bool detach = false;
                std::string typed = keys.filter(buf, static_cast<size_t>(n), detach);
                if (!typed.empty()) send_message(socket.get(), attach::kStdin, typed);
                if (detach) return {AttachResult::Detached, 0};
            }
        }
        if (fds[2].revents & POLLIN) {
            struct signalfd_siginfo si {};
            if (::read(sigfd.get(), &si, sizeof si) != sizeof si) continue;
            int sig = static_cast<int>(si.ssi_signo);
            if (sig == SIGCHLD) continue;
            if (sig == SIGWINCH) {
                if (o.tty) send_window_size(socket.get());
            } else if (!o.tty && o.sig_proxy) {
                send_message(socket.get(), attach::kSignal, std::to_string(sig));  // docker's --sig-proxy
            } else if (sig != SIGCONT && sig != SIGALRM) {
                return {AttachResult::Signalled, 128 + sig};  // with a terminal, a signal only ends the attachment
            }
        }
    }
}

int attach_and_wait(const ContainerStore& s, const Container& c, Fd socket, const AttachOptions& o,
                    bool attach_command) {
    AttachResult r = relay_attached(std::move(socket), o);
    switch (r.how) {
    case AttachResult::Exited:
    case AttachResult::Signalled:
        return r.status;
    case AttachResult::Detached:
        if (!attach_command) return 0;
        fprintf(stderr, "read escape sequence\n");
        return 1;
    case AttachResult::Lost:
        break;
    }
    // The shim went without a word: killed, or it dropped us for reading its
    // output too slowly.
    std::optional<Container> found = [&]() -> std::optional<Container> {
        try {
            return s.find(c.id);
        } catch (const Error&) {
            return std::nullopt;  // --rm: removed meanwhile
        }
    }();
    if (!found) throw Error("attach " + c.name, "lost the connection to its shim, and it is removed: its exit status is unknown");
    const Container& now = *found;
    if (!now.running()) return now.state.exit_code;
    throw Error("attach " + c.name, "lost the connection to its shim; it still runs (box attach " + c.name + ")");
}

std::pair<Fd, Fd> attach_pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair", errno);
    return {Fd(sv[0]), Fd(sv[1])};
}

void register_attach_command() {
    cli::define("attach", "Attach local standard input, output, and error streams to a running container",
                [](CLI::App& c) -> cli::Action {
        struct AttachFlags {
            std::string ref, detach_keys = "ctrl-p,ctrl-q";
            bool no_stdin = false, sig_proxy = true;
        };
        auto f = std::make_shared<AttachFlags>();
        c.add_option("CONTAINER", f->ref, "Container")->required();
        c.add_flag("--no-stdin", f->no_stdin, "Do not attach STDIN");
        c.add_flag("--sig-proxy", f->sig_proxy, "Proxy all received signals to the process (without a terminal)")
            ->capture_default_str();
        c.add_option("--detach-keys", f->detach_keys, "Override the key sequence for detaching a container")
            ->capture_default_str();
        return [f] {
            ContainerStore s(state_root());
            Container ct = s.find(f->ref);
            AttachOptions o;
            o.input = !f->no_stdin && ct.spec.interactive;
            o.tty = ct.spec.tty;
            o.sig_proxy = f->sig_proxy;
            o.detach_keys = f->detach_keys;
            parse_detach_keys(o.detach_keys);
            return attach_and_wait(s, ct, connect_attach(ct), o, true);
        };
    });
}

}  // namespace box::stage4
