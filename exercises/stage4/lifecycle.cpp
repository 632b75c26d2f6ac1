// Chapter 4: a container's life — created, started (in the foreground, or
// detached under a shim), stopped, restarted, removed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "box/channel.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/file_lock.hpp"
#include "box/log.hpp"
#include "box/supervise.hpp"
#include "box/util.hpp"
#include "lifecycle.hpp"
#include "pause.hpp"
#include "volumes.hpp"
#include "stage1.hpp"

namespace box::stage4 {
namespace {

constexpr int kRestart = 3;  // __cleanup's answer to the shim: start it again

// Where box-shim is: beside the box binary that runs now.
std::string self_path() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0) throw_errno("readlink /proc/self/exe", errno);
    return std::string(buf, static_cast<size_t>(n));
}

void update_state(const ContainerStore& store, const std::string& id, const std::function<void(Container&)>& change) {
    FileLock lock(store.dir());
    Container c = store.find(id);
    change(c);
    store.save_state(c);
}

// The container's cgroup (and whatever else later stages made for it), made
// by a box that is gone: adopted, reported on (OOM?), removed.
bool clean_up_resources(const Container& c, int& status) {
    ContainerSpec spec = c.spec;
    spec.adopt = true;
    bool oom = false;
    auto extensions = make_extensions(spec);
    for (auto& e : extensions) {
        e->after_exit(status);
        oom = oom || e->oom_killed();
    }
    return oom;
}

// Waits up to `timeout` for process `pid` to end (it need not be our child).
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) return errno == ESRCH;
    struct pollfd p = {pidfd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(pidfd);
    return n > 0;
}

}  // namespace

void start_detached(const Container& c, int attach_socket) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw_errno("pipe", errno);
    std::string box = self_path();
    std::string shim = box.substr(0, box.rfind('/') + 1) + "box-shim";
    if (::access(shim.c_str(), X_OK) != 0) throw_errno("box-shim " + shim, errno);
    // Twice forked, so that the shim is nobody's child here: it outlives us,
    // and init (or the nearest subreaper) reaps it.
    pid_t first = ::fork();
    if (first < 0) throw_errno("fork", errno);
    if (first == 0) {
        if (::fork() != 0) _exit(0);
        int null = ::open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);  // hold none of the caller's pipes or terminal
        std::string ready_fd = std::to_string(::fcntl(ready[1], F_DUPFD, 3));
        std::string attach_fd = attach_socket >= 0 ? std::to_string(::fcntl(attach_socket, F_DUPFD, 3)) : "";
        ::execl(shim.c_str(), shim.c_str(), box.c_str(), state_root().c_str(), c.id.c_str(), ready_fd.c_str(),
                attach_socket >= 0 ? attach_fd.c_str() : nullptr, nullptr);
        _exit(127);
    }
    ::close(ready[1]);
    ::waitpid(first, nullptr, 0);
    std::string answer;
    char buf[4096];
    for (ssize_t n; (n = ::read(ready[0], buf, sizeof buf)) > 0;) answer.append(buf, static_cast<size_t>(n));
    ::close(ready[0]);
    if (answer == "ok") return;
    if (answer.empty()) throw Error("start " + c.name, "box-shim ended before the container started");
    throw error_from_message(answer, "start");  // as the container's start reported it
}

int run_foreground(const ContainerStore& store, const Container& c) {
    SignalForwarder signals;
    stage1::StartedContainer started;
    std::optional<FileLock> starting = starting_lock(c);
    try {
        started = stage1::start_container(c.spec);
    } catch (const Error& e) {
        update_state(store, c.id, [&](Container& x) {
            x.state.exit_code = e.status();
            x.state.error = e.what();
        });
        if (c.auto_remove) {
            store.remove(store.find(c.id));
            remove_anonymous_volumes(c);
        }
        throw;
    }
    update_state(store, c.id, [&](Container& x) {
        x.state = ContainerState{};
        x.state.status = "running";
        x.state.pid = started.pid;
        x.state.supervisor = ::getpid();
        x.state.supervisor_start = process_start_time(::getpid());
        x.state.started_at = now_rfc3339();
        x.state.restart_count = c.state.restart_count;
    });
    starting.reset();
    int status = supervise(started.pid, signals, std::move(started.terminal), c.spec.interactive);
    bool oom = false;
    for (auto& e : started.extensions) {
        e->after_exit(status);
        oom = oom || e->oom_killed();
    }
    started.extensions.clear();  // the cgroup goes now
    if (c.auto_remove) {  // --rm: nothing to record, it goes now (each write costs a file)
        store.remove(store.find(c.id));
        remove_anonymous_volumes(c);  // --rm takes them too, as docker's does
        return status;
    }
    update_state(store, c.id, [&](Container& x) {
        x.state.status = "exited";
        x.state.pid = 0;
        x.state.exit_code = status;
        x.state.oom_killed = oom;
        x.state.finished_at = now_rfc3339();
    });
    return status;
}

int start_helper(const std::string& id, int control_fd) {
    Channel shim = Channel::from_fd(control_fd);
    ContainerStore store(state_root());
    // Held until the container runs and says so in state.json: an `rm -f` or a
    // prune meanwhile waits, and then finds it running (see starting_lock).
    FileLock starting = starting_lock(store.find(id));
    Container c = store.find(id);
    SignalForwarder signals;  // the container unblocks them before its exec
    try {
        stage1::StartedContainer started = stage1::start_container(c.spec);
        update_state(store, id, [&](Container& x) {
            x.state.status = "running";
            x.state.pid = started.pid;
            x.state.supervisor = ::getppid();  // the shim
            x.state.supervisor_start = process_start_time(::getppid());
            x.state.started_at = now_rfc3339();
            x.state.exit_code = 0;
            x.state.oom_killed = false;
            x.state.error.clear();
            ::unlink((x.dir + "/exit").c_str());
        });
        for (auto& e : started.extensions) e->release();  // the shim's __cleanup takes them over
        shim.send("P" + std::to_string(started.pid), started.terminal ? started.terminal.get() : -1);
        return 0;
    } catch (const Error& e) {
        update_state(store, id, [&](Container& x) {
            x.state.exit_code = e.status();
            x.state.error = e.what();
            if (x.state.status == "restarting") x.state.status = "exited";
        });
        shim.send(error_message(e));
        return e.status();
    }
}

int cleanup_helper(const std::string& id, int wait_status) {
    ContainerStore store(state_root());
    Container c = store.find(id);
    int status = exit_status(wait_status);
    bool oom = clean_up_resources(c, status);
    bool restart = false, remove = false;
    update_state(store, id, [&](Container& x) {
        x.state.status = "exited";
        x.state.pid = 0;
        x.state.exit_code = status;
        x.state.oom_killed = oom;
        x.state.finished_at = now_rfc3339();
        // --restart, as docker applies it: never after `stop`/`kill`.
        std::string policy = x.restart.substr(0, x.restart.find(':'));
        int max = x.restart.find(':') == std::string::npos ? 0 : std::atoi(x.restart.c_str() + x.restart.find(':') + 1);
        if (!x.state.stopped_by_user)
            restart = policy == "always" || policy == "unless-stopped" ||
                      (policy == "on-failure" && status != 0 && (max == 0 || x.state.restart_count < max));
        if (restart) {
            x.state.status = "restarting";
            ++x.state.restart_count;
        }
        remove = !restart && x.auto_remove;
    });
    if (remove) {
        store.remove(store.find(id));
        remove_anonymous_volumes(c);
    }
    return restart ? kRestart : 0;
}

void stop_container(const ContainerStore& store, const std::string& ref, int grace_seconds) {
    Container c = store.find(ref);
    if (c.running()) {
        update_state(store, c.id, [](Container& x) { x.state.stopped_by_user = true; });
        if (c.state.status == "paused") set_frozen(c, false);  // frozen processes do not die
        if (c.state.pid > 0) {
            // docker's stop: SIGTERM, and SIGKILL once the grace time is over.
            if (grace_seconds > 0) ::kill(c.state.pid, SIGTERM);
            if (grace_seconds <= 0 || !wait_gone(c.state.pid, std::chrono::seconds(grace_seconds))) {
                ::kill(c.state.pid, SIGKILL);
                wait_gone(c.state.pid, std::chrono::seconds(5));
            }
        } else if (process_alive(c.state.supervisor, c.state.supervisor_start)) {
            ::kill(c.state.supervisor, SIGKILL);  // restarting: only the shim waits, between two runs
        }
        // Until its supervisor (the shim's __cleanup, or a foreground box) has
        // recorded the end, the container is "running" to everyone else.
        for (int i = 0; i < 200; ++i) {
            Container now = store.find(c.id);
            if (!now.running() || !process_alive(now.state.supervisor, now.state.supervisor_start)) break;
            wait_gone(now.state.supervisor, std::chrono::milliseconds(50));
        }
    }
    clean_up_leftovers(store, store.find(c.id));
}

void clean_up_leftovers(const ContainerStore& store, const Container& c) {
    if (c.running()) return;
    // Its supervisor gone (killed with box, say), its cgroup may be left.
    ContainerSpec spec = c.spec;
    spec.adopt = true;
    make_extensions(spec).clear();
    FileLock lock(store.dir());
    Container now = store.find(c.id);
    if (!now.running()) store.save_state(now);  // what find() repaired, kept
}

FileLock starting_lock(const Container& c) { return FileLock(c.dir, FileLock::On::Directory); }

void set_status(const ContainerStore& store, const Container& c, const std::string& status) {
    update_state(store, c.id, [&](Container& x) { x.state.status = status; });
}

void update_stopped_by_user(const ContainerStore& store, const Container& c, bool stopped) {
    update_state(store, c.id, [&](Container& x) { x.state.stopped_by_user = stopped; });
}

void remove_partial_containers(const ContainerStore& store) {
    FileLock lock(store.dir());
    const std::string& names = store.names_dir();
    if (is_directory(names))  // names whose container is gone
        for (const auto& e : std::filesystem::directory_iterator(names))
            if (!exists(store.dir() + "/" + std::filesystem::read_symlink(e.path()).string() + "/config.json"))
                ::unlink(e.path().c_str());
    for (const auto& e : std::filesystem::directory_iterator(store.dir())) {
        std::string name = e.path().filename();
        if (e.is_directory() && name.size() == 64 && !exists(e.path().string() + "/config.json")) {
            std::error_code ec;
            std::filesystem::remove_all(e.path(), ec);
        }
    }
}

}  // namespace box::stage4
