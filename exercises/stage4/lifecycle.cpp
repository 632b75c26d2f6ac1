// Chapter 4: a container's life — created, started (in the foreground, or
// detached under a shim), stopped, restarted, removed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <thread>

#include "box/channel.hpp"
#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/file_lock.hpp"
#include "box/filters.hpp"
#include "box/log.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "attach.hpp"
#include "health.hpp"
#include "lifecycle.hpp"
#include "pause.hpp"
#include "volumes.hpp"
#include "stage1.hpp"
#include "stage3.hpp"

namespace box::stage4 {
namespace {

constexpr int kRestart = 3;  // __cleanup's answer to the shim: start it again

// What a container writes into the pipe run_foreground() gave it, passed to
// `sink` as it comes, by a thread of box's own while the main thread waits
// for the container. The thread starts only once the container's command
// runs: its first process has exec'd, so no box code runs in a child that a
// lock held by this thread (malloc's) could block; and it inherits the
// signals blocked for supervise(), which stay the signalfd's.
class OutputReader {
public:
    OutputReader(Fd pipe, const OutputSink& sink) : pipe_(std::move(pipe)), sink_(sink) {
        stop_ = Fd(::eventfd(0, EFD_CLOEXEC));
        if (!stop_) throw_errno("eventfd", errno);
        thread_ = std::thread([this] { loop(); });
    }
    // Called once the container's PID 1 has ended, and with it every process
    // of its PID namespace: the thread passes on what the pipe still holds, and ends.
    ~OutputReader() {
        ::eventfd_write(stop_.get(), 1);  // cannot fail: the counter is far from full
        thread_.join();
    }
    OutputReader(const OutputReader&) = delete;
    OutputReader& operator=(const OutputReader&) = delete;

private:
    void pass(const char* data, ssize_t n) {
        try {
            sink_(std::string_view(data, static_cast<size_t>(n)));
        } catch (...) {  // the sink's trouble is not the container's: it runs on
        }
    }
    void loop() {
        char buf[16384];
        for (;;) {
            struct pollfd fds[2] = {{pipe_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[0].revents) {
                ssize_t n = ::read(pipe_.get(), buf, sizeof buf);
                if (n > 0) pass(buf, n);
                if (n > 0 || (n < 0 && errno == EINTR)) continue;
                return;  // every writer is gone
            }
            if (fds[1].revents) {
                // What is left, without waiting for a writer that outlived it.
                ::fcntl(pipe_.get(), F_SETFL, O_NONBLOCK);
                for (ssize_t n; (n = ::read(pipe_.get(), buf, sizeof buf)) > 0;) pass(buf, n);
                return;
            }
        }
    }

    Fd pipe_, stop_;
    const OutputSink& sink_;
    std::thread thread_;
};

void update_state(const ContainerStore& store, const std::string& id, const std::function<void(Container&)>& change) {
    FileLock lock(store.dir());
    Container c = store.find(id);
    change(c);
    store.save_state(c);
}

// The container's cgroup (and whatever else later stages made for it), made
// by a box that is gone: adopted from their records, reported on (OOM?), removed.
ExitReport clean_up_resources(const Container& c, int status) {
    ExitReport report{status};
    Extensions extensions = Extensions::make(c.spec, ExtensionMode::Adopt, c.state.extensions);
    extensions.each([&](ContainerExtension& e) { e.after_exit(report); });
    return report;
}

// Waits up to `timeout` for process `pid` to end (it need not be our child).
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
    int pidfd = sys::pidfd_open(pid);
    if (pidfd < 0) return errno == ESRCH;
    struct pollfd p = {pidfd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(pidfd);
    return n > 0;
}

// docker's merge of an image's HEALTHCHECK under the request's: the image's
// whole check when the request has none, else each field the request left unset.
void merge_healthcheck(std::optional<RequestHealthcheck>& mine, const json& image) {
    if (!image.is_object()) return;
    RequestHealthcheck theirs = json_as<RequestHealthcheck>(image, "the image's Healthcheck");
    if (!mine) {
        mine = theirs;
        return;
    }
    if (mine->Test.empty()) mine->Test = theirs.Test;
    if (mine->Interval == 0) mine->Interval = theirs.Interval;
    if (mine->Timeout == 0) mine->Timeout = theirs.Timeout;
    if (mine->StartPeriod == 0) mine->StartPeriod = theirs.StartPeriod;
    if (mine->Retries == 0) mine->Retries = theirs.Retries;
}

// docker's daemon's checks of a Healthcheck, whoever made the request.
void check_healthcheck(const RequestHealthcheck& hc) {
    const std::pair<const char*, std::int64_t> durations[] = {
        {"Interval", hc.Interval}, {"Timeout", hc.Timeout}, {"StartPeriod", hc.StartPeriod}};
    for (const auto& [name, ns] : durations)
        if (ns != 0 && ns < 1000000)
            throw Error(std::string(name) + " in Healthcheck cannot be less than 1ms", "give 0 (the default) or more");
    if (hc.Retries < 0) throw Error("Retries in Healthcheck cannot be negative", "give 0 (the default: 3) or more");
    if (!hc.Test.empty() && hc.Test[0] != "NONE" && hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL")
        throw Error("invalid health check test \"" + hc.Test[0] + "\"", "use NONE, CMD or CMD-SHELL");
}

}  // namespace

std::string self_path() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n < 0) throw_errno("readlink /proc/self/exe", errno);
    return std::string(buf, static_cast<size_t>(n));
}

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

int run_foreground(const ContainerStore& store, const Container& c, const OutputSink& output) {
    stage1::SignalForwarder signals;
    stage1::StartedContainer started;
    std::optional<FileLock> starting = starting_lock(c);
    const ContainerSpec* spec = &c.spec;
    ContainerSpec with_output;
    Fd output_read, output_write;
    if (output) {  // the command's stdout and stderr: one pipe, so their order is kept
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe", errno);
        output_read = Fd(p[0]);
        output_write = Fd(p[1]);
        with_output = c.spec;
        with_output.output_fd = p[1];
        spec = &with_output;
    }
    try {
        started = stage1::start_container(*spec);
        output_write.reset();  // the container's now
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
        x.state.status = Status::Running;
        x.state.pid = started.pid;
        x.state.pid_start = process_start_time(started.pid);
        x.state.supervisor = ::getpid();
        x.state.supervisor_start = process_start_time(::getpid());
        x.state.started_at = now_rfc3339();
        x.state.restart_count = c.state.restart_count;
        x.state.extensions = started.extensions.records();  // should this box be killed
        restart_health(x);  // starting again, the last run's log kept
    });
    start_health_monitor(c, started.pid);
    std::optional<OutputReader> reader;
    if (output) reader.emplace(std::move(output_read), output);  // after the last fork
    starting.reset();
    ExitReport report{stage1::supervise(started.pid, signals, std::move(started.terminal), c.spec.interactive)};
    reader.reset();  // all it wrote, passed on
    started.extensions.each([&](ContainerExtension& e) { e.after_exit(report); });
    started.extensions.clear();  // the cgroup goes now
    int status = report.status;
    if (c.auto_remove) {  // --rm: nothing to record, it goes now (each write costs a file)
        store.remove(store.find(c.id));
        remove_anonymous_volumes(c);  // --rm takes them too, as docker's does
        return status;
    }
    update_state(store, c.id, [&](Container& x) {
        x.state.status = Status::Exited;
        x.state.pid = 0;
        x.state.exit_code = status;
        x.state.oom_killed = report.oom_killed;
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
    if ((c.state.status == Status::Running || c.state.status == Status::Paused) &&
        process_alive(c.state.pid, c.state.pid_start)) {
        // Started while we waited for the lock, by a start whose box was
        // killed before it could see so, say: nothing to do, as `docker
        // start` of a running container. The shim, told "A", lets its caller go.
        shim.send("A");
        return 0;
    }
    if (c.state.status == Status::Restarting && c.state.stopped_by_user) {
        // Stopped between two runs of --restart: no next run. The shim, told
        // no pid, ends.
        update_state(store, id, [](Container& x) { x.state.status = Status::Exited; });
        return 0;
    }
    stage1::SignalForwarder signals;  // the container unblocks them before its exec
    try {
        stage1::StartedContainer started = stage1::start_container(c.spec);
        update_state(store, id, [&](Container& x) {
            x.state.status = Status::Running;
            x.state.pid = started.pid;
            x.state.pid_start = process_start_time(started.pid);
            x.state.supervisor = ::getppid();  // the shim
            x.state.supervisor_start = process_start_time(::getppid());
            x.state.started_at = now_rfc3339();
            x.state.exit_code = 0;
            x.state.oom_killed = false;
            x.state.error.clear();
            x.state.extensions = started.extensions.records();  // for the shim's __cleanup to adopt
            ::unlink((x.dir + "/exit").c_str());
            restart_health(x);  // starting again, the last run's log kept
        });
        started.extensions.each([](ContainerExtension& e) { e.release(); });  // the shim's __cleanup takes them over
        start_health_monitor(c, started.pid);  // it becomes the shim's, as the container does
        shim.send("P" + std::to_string(started.pid), started.terminal ? started.terminal.get() : -1);
        return 0;
    } catch (const Error& e) {
        update_state(store, id, [&](Container& x) {
            x.state.exit_code = e.status();
            x.state.error = e.what();
            if (x.state.status == Status::Restarting) x.state.status = Status::Exited;
        });
        shim.send(error_message(e));
        return e.status();
    }
}

int cleanup_helper(const std::string& id, int wait_status) {
    ContainerStore store(state_root());
    Container c = store.find(id);
    ExitReport report = clean_up_resources(c, stage1::exit_status(wait_status));
    int status = report.status;
    bool restart = false, remove = false;
    update_state(store, id, [&](Container& x) {
        x.state.status = Status::Exited;
        x.state.pid = 0;
        x.state.exit_code = status;
        x.state.oom_killed = report.oom_killed;
        x.state.finished_at = now_rfc3339();
        // --restart, as docker applies it: never after `stop`/`kill`.
        restart = !x.state.stopped_by_user && x.restart.restarts(status, x.state.restart_count);
        if (restart) {
            x.state.status = Status::Restarting;
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

void stop_container(const ContainerStore& store, const std::string& ref, std::optional<int> grace) {
    Container c = store.find(ref);
    // The container as it is now, or none if its end removed it (--rm) meanwhile: stopped.
    auto now_or_gone = [&]() -> std::optional<Container> {
        try {
            return store.find(c.id);
        } catch (const Error&) {  // its record goes first when it is removed, then its directory
            if (!std::filesystem::exists(c.dir + "/config.json")) return std::nullopt;
            throw;
        }
    };
    // Not told: the container's own --stop-timeout (-1: no limit), else 10 s; and its --stop-signal.
    int grace_seconds = grace ? *grace : c.request.Config.StopTimeout.value_or(10);
    int stop_signal = c.request.Config.StopSignal.empty() ? SIGTERM : parse_signal(c.request.Config.StopSignal);
    if (c.running()) {
        try {
            update_state(store, c.id, [](Container& x) { x.state.stopped_by_user = true; });
        } catch (const Error&) {
            if (!now_or_gone()) return;
            throw;
        }
        {
            // A `box __start` in progress holds this lock until the container
            // runs and is recorded; one after it sees stopped_by_user and does
            // not start a --restart's next run.
            FileLock starting = starting_lock(c);
            auto now = now_or_gone();  // as it is now: it may have ended, or be between two runs
            if (!now) return;
            c = *now;
            if (c.state.status == Status::Restarting && c.state.pid <= 0 &&
                process_alive(c.state.supervisor, c.state.supervisor_start))
                ::kill(c.state.supervisor, SIGKILL);  // only the shim waits, between two runs
        }
        if (c.state.status == Status::Paused) set_frozen(c, false);  // frozen processes do not die
        if (c.running() && c.state.pid > 0) {
            // docker's stop: its stop signal, and SIGKILL once the grace time is over.
            auto wait = grace_seconds < 0 ? std::chrono::milliseconds(INT_MAX) : std::chrono::seconds(grace_seconds);
            if (grace_seconds != 0) signal_container(c, stop_signal);
            if (grace_seconds == 0 || !wait_gone(c.state.pid, wait)) {
                signal_container(c, SIGKILL);
                wait_gone(c.state.pid, std::chrono::seconds(5));
            }
        }
        // Until its supervisor (the shim's __cleanup, or a foreground box) has
        // recorded the end, the container is "running" to everyone else.
        for (int i = 0; i < 200; ++i) {
            auto now = now_or_gone();
            if (!now) return;  // a --rm container: its end removed it
            if (!now->running() || !process_alive(now->state.supervisor, now->state.supervisor_start)) break;
            wait_gone(now->state.supervisor, std::chrono::milliseconds(50));
        }
    }
    if (auto now = now_or_gone()) clean_up_leftovers(store, *now);
}

void clean_up_leftovers(const ContainerStore& store, const Container& c) {
    if (c.running()) return;
    // Its supervisor gone (killed with box, say), its cgroup may be left.
    Extensions::make(c.spec, ExtensionMode::Adopt, c.state.extensions).clear();
    FileLock lock(store.dir());
    Container now = store.find(c.id);
    if (!now.running()) store.save_state(now);  // what find() repaired, kept
}

FileLock starting_lock(const Container& c) { return FileLock(c.dir, FileLock::On::Directory); }

void set_status(const ContainerStore& store, const Container& c, Status status) {
    update_state(store, c.id, [&](Container& x) { x.state.status = status; });
}

void update_stopped_by_user(const ContainerStore& store, const Container& c, bool stopped) {
    update_state(store, c.id, [&](Container& x) { x.state.stopped_by_user = stopped; });
}

// ---- the commands ----------------------------------------------------------

namespace {

struct RunFlags {
    bool detach = false, auto_remove = false, create_only = false;
    std::string name, restart = "no", detach_keys = "ctrl-p,ctrl-q", stop_signal;
    std::optional<int> stop_timeout;
    std::vector<std::string> volumes, mounts, volumes_from, labels, label_files;
};

// Starts container `c` under a shim (see start_detached); a --rm container
// that cannot start is removed, as docker's is.
void start_or_remove(const ContainerStore& s, const Container& c, int attach_socket = -1) {
    try {
        // Started again by the user: --restart applies again, as in docker.
        if (c.state.stopped_by_user) update_stopped_by_user(s, c, false);
        start_detached(c, attach_socket);
    } catch (const Error&) {
        if (c.auto_remove) {
            s.remove(s.find(c.id));
            remove_anonymous_volumes(c);
        }
        throw;
    }
}

// Chapter 4's flags, into the request (a RequestFiller).
void fill(const RunFlags& f, ContainerRequest& r) {
    RestartPolicy policy = RestartPolicy::parse(f.restart);
    r.Name = f.name;
    r.HostConfig.RestartPolicy = {policy.docker_name(), policy.max_retries};
    r.HostConfig.AutoRemove = f.auto_remove;
    r.HostConfig.Binds = f.volumes;
    for (const auto& m : f.mounts) r.HostConfig.Mounts.push_back(parse_mount(m));
    r.HostConfig.VolumesFrom = f.volumes_from;
    r.Config.Labels = parse_labels(f.labels, f.label_files);
    r.Config.StopSignal = f.stop_signal;
    r.Config.StopTimeout = f.stop_timeout;
}

int run(const RunFlags& f, const ContainerRequest& request) {
    parse_detach_keys(f.detach_keys);  // refused before anything is made
    // -it: under a shim, as -d, with this terminal attached from the first
    // byte, so that Ctrl-P Ctrl-Q can leave it running. The sockets first, so
    // that nothing is recorded if they cannot be had.
    bool attached = !f.detach && !f.create_only && request.Config.Tty && request.Config.OpenStdin;
    std::pair<Fd, Fd> ends;
    if (attached) ends = attach_pair();
    Container c = create_container(request);
    if (f.create_only) {
        printf("%s\n", c.id.c_str());
        return 0;
    }
    ContainerStore s(state_root());
    if (f.detach) {
        start_or_remove(s, c);
        printf("%s\n", c.id.c_str());
        return 0;
    }
    if (!attached) return run_foreground(s, c);
    AttachOptions o;
    o.input = o.tty = true;
    o.detach_keys = f.detach_keys;
    start_or_remove(s, c, ends.second.get());
    ends.second.reset();
    return attach_and_wait(s, c, std::move(ends.first), o, false);
}

}  // namespace

int parse_signal(const std::string& text) {
    std::string name = to_upper(text);
    if (starts_with(name, "SIG")) name = name.substr(3);
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::atoi(name.c_str());
        if (n > 0 && n < NSIG) return n;
    }
    for (int n = 1; n < NSIG; ++n)
        if (sigabbrev_np(n) && name == sigabbrev_np(n)) return n;
    throw Error("Invalid signal: " + text, "use a name (KILL, TERM, HUP...) or a number");
}

bool signal_container(const Container& c, int sig) {
    if (sig <= 0 || sig >= NSIG) throw Error("Invalid signal: " + std::to_string(sig), "signals are 1 to " + std::to_string(NSIG - 1));
    if (!c.running() || c.state.pid <= 0) return false;
    // Its first process, not a process that took its PID since: the start
    // time says so (records of an older box have none: alive is all we know).
    bool ours = c.state.pid_start ? process_alive(c.state.pid, c.state.pid_start) : process_running(c.state.pid);
    if (!ours) return false;
    if (::kill(c.state.pid, sig) == 0) return true;
    if (errno == ESRCH) return false;
    throw_errno("kill " + c.name, errno);
}

Container wait_container(const ContainerStore& store, const std::string& ref) {
    std::string id = store.find(ref).id;
    for (;;) {
        Container c = store.find(id);
        if (!c.running()) return c;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

void remove_container(const ContainerStore& store, const std::string& ref, bool force, bool volumes) {
    // With -f, a start in progress (-d's shim still starting it) is waited
    // for and its container stopped too: a few rounds, as it may be started
    // again (--restart) between them.
    for (int round = 0;; ++round) {
        if (force && store.find(ref).running()) stop_container(store, ref, 0);  // it takes the start lock itself
        FileLock not_starting = starting_lock(store.find(ref));
        Container c = store.find(ref);
        if (c.running() && !force)
            throw Error("You cannot remove a running container " + c.id,
                        "Stop the container before attempting removal or force remove");
        if (c.running()) {
            if (round == 4)
                throw Error("cannot remove container " + c.name, "it was started again while being removed: try again");
            continue;  // it started meanwhile: stop it too
        }
        clean_up_leftovers(store, store.find(c.id));
        store.remove(store.find(c.id));
        if (volumes) remove_anonymous_volumes(c);  // -v: its anonymous volumes go with it
        return;
    }
}

std::vector<std::string> prune_containers(const Filters& filters) {
    ContainerStore s(state_root());
    std::vector<std::string> removed;
    for (const auto& listed : s.list()) {
        if (listed.running() || !filters.match_labels(listed.request.Config.Labels)) continue;
        FileLock not_starting = starting_lock(listed);
        Container ct = s.find(listed.id);
        if (ct.running()) continue;
        clean_up_leftovers(s, ct);
        s.remove(ct);
        removed.push_back(ct.id);
    }
    s.repair();  // what creates and removes cut short
    return removed;
}

Container create_container(const ContainerRequest& request) {
    const RequestRestartPolicy& rp = request.HostConfig.RestartPolicy;
    RestartPolicy policy = RestartPolicy::parse(
        rp.Name.empty() ? "no" : rp.Name == "on-failure" && rp.MaximumRetryCount > 0 ? "on-failure:" + std::to_string(rp.MaximumRetryCount) : rp.Name);
    bool auto_remove = request.HostConfig.AutoRemove;
    if (auto_remove && policy.name != RestartPolicy::Name::No) throw Error("Conflicting options", "--restart and --rm");
    if (request.Config.Healthcheck) check_healthcheck(*request.Config.Healthcheck);
    if (!request.Config.StopSignal.empty()) parse_signal(request.Config.StopSignal);
    ContainerSpec spec = spec_from_request(request);  // every stage's fields, checked
    spec.keep_rootfs = true;  // its writable layer stays until `box rm`
    std::string image_id;
    json image_volumes;
    ContainerRequest stored = request;
    if (!spec.image.empty()) {
        auto image = stage3::ImageStore(state_root()).find(spec.image);
        image_id = image.id;
        const json& config = image.config.value("config", json::object());
        image_volumes = config.value("Volumes", json());
        // docker's merge: the image's labels and exposed ports, under the request's own.
        stored.Config.Labels.merge(stage3::image_labels(image));  // emplaces only keys the request lacks
        merge_healthcheck(stored.Config.Healthcheck, config.value("Healthcheck", json()));
        if (stored.Config.StopSignal.empty()) stored.Config.StopSignal = config.value("StopSignal", "");
        json exposed = config.value("ExposedPorts", json::object());
        if (exposed.is_object())
            for (const auto& [port, unused] : exposed.items()) stored.Config.ExposedPorts.emplace(port, json::object());
    }
    fill_volumes(spec, request.HostConfig, image_volumes);
    Container c = ContainerStore(state_root()).create(spec, stored, image_id, policy);
    create_volumes(spec);  // only now: a refused create (a taken name) makes none
    return c;
}

void register_lifecycle_commands() {
    // run: -d, --name, --rm, --restart, -v, and the store in front of chapter
    // 1's run. `create` takes the same options and records the container only.
    cli::extend("run", [](CLI::App& r) {
        auto rf = std::make_shared<RunFlags>();
        rf->create_only = r.get_name() == "create";
        if (!rf->create_only) r.add_flag("-d,--detach", rf->detach, "Run container in background and print container ID");
        r.add_option("--name", rf->name, "Assign a name to the container");
        r.add_flag("--rm", rf->auto_remove, "Automatically remove the container when it exits");
        r.add_option("--restart", rf->restart, "Restart policy: no, on-failure[:max-retries], always, unless-stopped")
            ->capture_default_str();
        r.add_option("-v,--volume", rf->volumes, "Bind mount a volume: /host/dir:/path[:ro], NAME:/path[:ro], /path")
            ->allow_extra_args(false);
        r.add_option("--mount", rf->mounts, "Attach a filesystem mount to the container: type=bind|volume|tmpfs,source=,target=[,readonly]")
            ->allow_extra_args(false);
        r.add_option("--volumes-from", rf->volumes_from, "Mount volumes from the specified container(s): NAME[:ro|rw]")
            ->allow_extra_args(false);
        r.add_option("-l,--label", rf->labels, "Set meta data on a container: KEY=VALUE (or KEY)")->allow_extra_args(false);
        r.add_option("--label-file", rf->label_files, "Read in a line delimited file of labels")->allow_extra_args(false);
        r.add_option("--stop-signal", rf->stop_signal, "Signal to stop the container (default: the image's STOPSIGNAL, else SIGTERM)");
        r.add_option("--stop-timeout", rf->stop_timeout, "Timeout (in seconds) to stop a container (default 10; -1: no limit)");
        r.add_option("--detach-keys", rf->detach_keys, "Override the key sequence for detaching a container (-it)")
            ->capture_default_str();
        add_request_filler([rf](ContainerRequest& request) { fill(*rf, request); });
        set_container_runner([rf](const ContainerRequest& request) { return run(*rf, request); });
    });
    cli::define("create", "Create a new container (run's options; it does not start)",
                [](CLI::App& c) { return cli::declare_like("run", c); });
    cli::keep_failure_status("create");
    cli::keep_failure_status("start");

    cli::define("start", "Start one or more stopped containers", [](CLI::App& c) -> cli::Action {
        struct StartFlags {
            std::vector<std::string> refs;
            bool attach = false, interactive = false;
            std::string detach_keys = "ctrl-p,ctrl-q";
        };
        auto f = std::make_shared<StartFlags>();
        c.add_option("CONTAINER", f->refs, "Containers to start")->required();
        c.add_flag("-a,--attach", f->attach, "Attach STDOUT/STDERR and forward signals; exit with the container's code");
        c.add_flag("-i,--interactive", f->interactive, "Attach container's STDIN");
        c.add_option("--detach-keys", f->detach_keys, "Override the key sequence for detaching a container")
            ->capture_default_str();
        return [f] {
            ContainerStore s(state_root());
            if (!f->attach && !f->interactive) {
                return cli::for_each(f->refs, [&](const std::string& ref) {
                    Container ct = s.find(ref);
                    if (!ct.running()) {
                        clean_up_leftovers(s, ct);
                        start_or_remove(s, s.find(ct.id));
                    }
                    printf("%s\n", ref.c_str());
                });
            }
            // -a/-i: attached from the first byte; box exits with its exit code.
            if (f->refs.size() != 1) throw Error("start -a", "you cannot start and attach multiple containers at once");
            Container ct = s.find(f->refs.front());
            AttachOptions o;
            o.input = f->interactive && ct.spec.interactive;
            o.tty = ct.spec.tty;
            o.detach_keys = f->detach_keys;
            parse_detach_keys(o.detach_keys);
            if (ct.running()) return attach_and_wait(s, ct, connect_attach(ct), o, false);
            clean_up_leftovers(s, ct);
            auto [mine, theirs] = attach_pair();
            start_or_remove(s, s.find(ct.id), theirs.get());
            theirs.reset();
            return attach_and_wait(s, ct, std::move(mine), o, false);
        };
    });

    cli::define("stop", "Stop one or more running containers", [](CLI::App& c) -> cli::Action {
        auto refs = std::make_shared<std::vector<std::string>>();
        auto grace = std::make_shared<std::optional<int>>();
        c.add_option("CONTAINER", *refs, "Containers to stop")->required();
        c.add_option("-t,--time", *grace, "Seconds to wait for stop before killing it (default: the container's --stop-timeout, else 10)");
        return [refs, grace] {
            return cli::for_each(*refs, [&](const std::string& ref) {
                stop_container(ContainerStore(state_root()), ref, *grace);
                printf("%s\n", ref.c_str());
            });
        };
    });

    cli::define("restart", "Restart one or more containers", [](CLI::App& c) -> cli::Action {
        auto refs = std::make_shared<std::vector<std::string>>();
        auto grace = std::make_shared<std::optional<int>>();
        c.add_option("CONTAINER", *refs, "Containers to restart")->required();
        c.add_option("-t,--time", *grace, "Seconds to wait for stop before killing it (default: the container's --stop-timeout, else 10)");
        return [refs, grace] {
            ContainerStore s(state_root());
            return cli::for_each(*refs, [&](const std::string& ref) {
                stop_container(s, ref, *grace);
                Container ct = s.find(ref);
                update_stopped_by_user(s, ct, false);
                start_detached(s.find(ct.id));
                printf("%s\n", ref.c_str());
            });
        };
    });

    cli::define("kill", "Kill one or more running containers", [](CLI::App& c) -> cli::Action {
        auto refs = std::make_shared<std::vector<std::string>>();
        auto sig = std::make_shared<std::string>("KILL");
        c.add_option("CONTAINER", *refs, "Containers to kill")->required();
        c.add_option("-s,--signal", *sig, "Signal to send to the container")->capture_default_str();
        return [refs, sig] {
            int signal = parse_signal(*sig);
            ContainerStore s(state_root());
            return cli::for_each(*refs, [&](const std::string& ref) {
                Container ct = s.find(ref);
                if (!ct.running() || ct.state.pid <= 0)
                    throw Error("Cannot kill container: " + ref, "container " + ct.id + " is not running");
                update_stopped_by_user(s, ct, true);
                if (!signal_container(ct, signal))
                    throw Error("Cannot kill container: " + ref, "container " + ct.id + " is not running");
                printf("%s\n", ref.c_str());
            });
        };
    });

    cli::define("wait", "Block until one or more containers stop, then print their exit codes", [](CLI::App& c) -> cli::Action {
        auto refs = std::make_shared<std::vector<std::string>>();
        c.add_option("CONTAINER", *refs, "Containers to wait for")->required();
        return [refs] {
            ContainerStore s(state_root());
            return cli::for_each(*refs, [&](const std::string& ref) {
                printf("%d\n", wait_container(s, ref).state.exit_code);
                fflush(stdout);
            });
        };
    });

    cli::define("rm", "Remove one or more containers", [](CLI::App& c) -> cli::Action {
        struct RmFlags { std::vector<std::string> refs; bool force = false, volumes = false; };
        auto f = std::make_shared<RmFlags>();
        c.add_option("CONTAINER", f->refs, "Containers to remove")->required();
        c.add_flag("-f,--force", f->force, "Force the removal of a running container (uses SIGKILL)");
        c.add_flag("-v,--volumes", f->volumes, "Remove anonymous volumes associated with the container");
        return [f] {
            ContainerStore s(state_root());
            return cli::for_each(f->refs, [&](const std::string& ref) {
                remove_container(s, ref, f->force, f->volumes);
                printf("%s\n", ref.c_str());
            });
        };
    });

    cli::define_group("container", "Manage containers");
    cli::define("container prune", "Remove all stopped containers", [](CLI::App& c) -> cli::Action {
        auto force = std::make_shared<bool>(false);
        auto filters = std::make_shared<std::vector<std::string>>();
        c.add_flag("-f,--force", *force, "Do not prompt for confirmation");
        c.add_option("--filter", *filters, "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]")->allow_extra_args(false);
        return [force, filters] {
            Filters f = Filters::parse(*filters, {"label", "label!"});
            if (!*force && !cli::confirm("WARNING! This will remove all stopped containers.\nAre you sure you want to continue?"))
                return 0;
            std::vector<std::string> removed = prune_containers(f);
            printf("Deleted Containers:\n");
            for (const auto& id : removed) printf("%s\n", id.c_str());
            printf("\nTotal reclaimed space: 0B\n");
            return 0;
        };
    });

    // What box-shim runs (not for people: hidden from --help).
    cli::define("__start", "(box-shim) start a container", [](CLI::App& c) -> cli::Action {
        auto id = std::make_shared<std::string>();
        auto fd = std::make_shared<int>(3);
        c.group("");
        c.add_option("ID", *id)->required();
        c.add_option("FD", *fd);
        return [id, fd] { return start_helper(*id, *fd); };
    });
    cli::define("__cleanup", "(box-shim) record a container's end", [](CLI::App& c) -> cli::Action {
        auto id = std::make_shared<std::string>();
        auto status = std::make_shared<int>(0);
        c.group("");
        c.add_option("ID", *id)->required();
        c.add_option("WAIT_STATUS", *status)->required();
        return [id, status] { return cleanup_helper(*id, *status); };
    });
}

}  // namespace box::stage4
