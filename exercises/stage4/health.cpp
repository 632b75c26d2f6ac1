// Chapter 4: health checks (健康检查). A container with one gets a monitor,
// `box __health ID`, started with it by whoever starts it (the shim's
// `box __start`, or a foreground `box run`):
//
//   box __health ID  (its own session; holds a pidfd of the container's PID 1)
//     every interval:  fork ─▶ joins the container as exec does ─▶ fork+exec the probe
//                       │        (cgroup, protections, namespaces)     stdout+stderr → pipe
//                       │        waits up to the timeout, else SIGKILL ← exercise 14
//                       └ reads the output (4 KiB kept), records the result ← exercise 15
//                         into DIR/health.json (atomically: a kill -9 leaves the last whole one)
//     ends when the container's first process does (its pidfd becomes readable).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/fd.hpp"
#include "box/log.hpp"
#include "box/sys.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "exec.hpp"
#include "health.hpp"
#include "lifecycle.hpp"
#include "supervise.hpp"

namespace box::stage4 {
namespace {

using namespace std::chrono;

// Whether the process behind `pidfd` has ended, waiting up to `wait`.
bool ended(int pidfd, milliseconds wait) {
    struct pollfd p = {pidfd, POLLIN, 0};
    int n;
    int ms = static_cast<int>(std::min<long long>(wait.count(), INT_MAX));  // (days: as good as forever)
    while ((n = ::poll(&p, 1, ms)) < 0 && errno == EINTR) {
    }
    return n > 0;
}

// What a probe's output keeps: its first 4096 bytes, and "..." if there was more.
struct LimitedOutput {
    std::string text;
    bool cut = false;
    void add(const char* data, size_t n) {
        size_t room = kMaxProbeOutput - text.size();
        text.append(data, std::min(n, room));
        cut = cut || n > room;
    }
    std::string str() const { return cut ? text + "..." : text; }
};

// The probe's own status, from its fork (the process that joined the
// container) to us, on a pipe of its own: "E<code>" it exited, "T" it ran past
// its timeout and was killed, "X<message>" it could not be started.
void report(int fd, const std::string& what) {
    if (!write_all(fd, what.data(), what.size())) {
    }
}

}  // namespace

std::optional<HealthSettings> health_settings(const ContainerRequest& r) {
    if (!r.Config.Healthcheck) return std::nullopt;
    const RequestHealthcheck& hc = *r.Config.Healthcheck;
    if (hc.Test.empty() || hc.Test[0] == "NONE") return std::nullopt;
    HealthSettings s;
    if (hc.Test[0] == "CMD-SHELL" && hc.Test.size() == 2) s.command = {"/bin/sh", "-c", hc.Test[1]};
    else if (hc.Test[0] == "CMD" && hc.Test.size() > 1) s.command.assign(hc.Test.begin() + 1, hc.Test.end());
    else return std::nullopt;  // not a test docker would run either
    if (hc.Interval > 0) s.interval = nanoseconds(hc.Interval);
    if (hc.Timeout > 0) s.timeout = nanoseconds(hc.Timeout);
    if (hc.StartPeriod > 0) s.start_period = nanoseconds(hc.StartPeriod);
    if (hc.Retries > 0) s.retries = hc.Retries;
    return s;
}

json health_json(const Health& h) {
    json log = json::array();
    for (const auto& r : h.log)
        log.push_back({{"Start", r.start}, {"End", r.end}, {"ExitCode", r.exit_code}, {"Output", r.output}});
    return {{"Status", h.status}, {"FailingStreak", h.failing_streak}, {"Log", log}};
}

Health health_from_json(const json& j) {
    Health h;
    if (!j.is_object()) return h;
    h.status = j.value("Status", h.status);
    h.failing_streak = j.value("FailingStreak", 0);
    for (const auto& e : j.value("Log", json::array()))
        if (e.is_object())
            h.log.push_back({e.value("Start", ""), e.value("End", ""), e.value("ExitCode", -1), e.value("Output", "")});
    return h;
}

ProbeResult run_probe(const Container& c, const std::vector<std::string>& command, nanoseconds timeout) {
    ProbeResult result;
    result.start = now_rfc3339();
    int out[2], status_pipe[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw_errno("pipe", errno);
    Fd out_read(out[0]), out_write(out[1]);
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) throw_errno("pipe", errno);
    Fd status_read(status_pipe[0]), status_write(status_pipe[1]);
    pid_t entering = ::fork();
    if (entering < 0) throw_errno("fork", errno);
    if (entering == 0) {
        // This process joins the container (exec's way), starts the probe and
        // times it: only it may kill the probe, its own child, by PID.
        try {
            ::dup2(out_write.get(), 1);
            ::dup2(out_write.get(), 2);
            ExecOptions o;
            o.args = command;
            pid_t probe = start_in(c, o);
            Fd probe_fd(sys::pidfd_open(probe));
            if (probe_fd && !ended(probe_fd.get(), duration_cast<milliseconds>(timeout))) {
                ::kill(probe, SIGKILL);  // ours, not yet reaped
                ::waitpid(probe, nullptr, 0);
                report(status_write.get(), "T");
                _exit(0);
            }
            int status = 0;
            while (::waitpid(probe, &status, 0) < 0 && errno == EINTR) {
            }
            report(status_write.get(), "E" + std::to_string(stage1::exit_status(status)));
        } catch (const std::exception& e) {
            report(status_write.get(), std::string("X") + e.what());
        }
        _exit(0);
    }
    out_write.reset();
    status_write.reset();
    // Its output until it has ended: a probe may leave a process behind
    // holding the pipe, so its end-of-file is not waited for.
    Fd entering_fd(sys::pidfd_open(entering));
    LimitedOutput output;
    ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
    char buf[4096];
    for (bool done = false; !done;) {
        struct pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {entering_fd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        done = fds[1].revents != 0;
        for (ssize_t n; (n = ::read(out_read.get(), buf, sizeof buf)) > 0;) output.add(buf, static_cast<size_t>(n));
    }
    int ignored = 0;
    while (::waitpid(entering, &ignored, 0) < 0 && errno == EINTR) {
    }
    std::string status;
    for (ssize_t n; (n = ::read(status_read.get(), buf, sizeof buf)) > 0;) status.append(buf, static_cast<size_t>(n));
    result.end = now_rfc3339();
    if (starts_with(status, "E")) {
        result.exit_code = std::atoi(status.c_str() + 1);
        result.output = output.str();
    } else if (status == "T") {
        result.output = "Health check exceeded timeout (" + format_duration(timeout.count()) + ")";
    } else {
        result.output = status.empty() ? "the probe's process ended without a word" : status.substr(1);
    }
    return result;
}

void record_probe(Health& h, const ProbeResult& result, int retries, bool in_start_period) {
    h.log.push_back(result);
    if (h.log.size() > kMaxHealthLog) h.log.erase(h.log.begin(), h.log.end() - kMaxHealthLog);
    if (result.exit_code == 0) {
        h.failing_streak = 0;
        h.status = "healthy";
        return;
    }
    // Until its first success, failures within the start period do not count.
    if (h.status == "starting" && in_start_period) return;
    ++h.failing_streak;
    if (h.failing_streak >= retries) h.status = "unhealthy";
}

std::optional<Health> read_health(const Container& c) {
    if (!health_settings(c.request)) return std::nullopt;
    auto text = try_read_file(c.dir + "/health.json");
    if (!text) return Health{};
    json j = json::parse(*text, nullptr, false);
    return health_from_json(j);
}

void restart_health(const Container& c) {
    auto h = read_health(c);
    if (!h) return;  // no health check
    h->status = "starting";
    h->failing_streak = 0;
    write_file_atomic(c.dir + "/health.json", health_json(*h).dump(), 0644, false);
}

std::string health_word(const Container& c) {
    auto h = read_health(c);
    return h ? h->status : "none";
}

void start_health_monitor(const Container& c, pid_t init) noexcept {
    if (!health_settings(c.request)) return;
    // The container runs already: a monitor that cannot start is said, and
    // the container goes on unprobed ("starting"), rather than left with
    // nobody to supervise it by a start reported as failed.
    Fd init_fd(sys::pidfd_open(init));
    std::string self;
    try {
        self = self_path();
    } catch (const std::exception& e) {
        log::warn("no health monitor for " + c.name + ": " + e.what());
        return;
    }
    pid_t pid = init_fd ? ::fork() : -1;
    if (pid < 0) log::warn("no health monitor for " + c.name + ": " + strerror(errno));
    if (pid != 0) return;  // it goes on by itself: the container's end ends it
    // A clean slate: no terminal, none of our descriptors, signals as new.
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    ::dup2(init_fd.get(), 3);
    stage1::SignalForwarder::unblock_in_child();
    sys::close_fds_on_exec();
    ::fcntl(3, F_SETFD, 0);  // the pidfd crosses
    std::string root = state_root();
    ::execl(self.c_str(), self.c_str(), "--root", root.c_str(), "__health", c.id.c_str(), "3", nullptr);
    _exit(127);
}

int health_monitor(const std::string& id, int init_fd) {
    ContainerStore store(state_root());
    Container c = store.find(id);
    auto settings = health_settings(c.request);
    if (!settings) return 0;
    Health h = read_health(c).value_or(Health{});  // its start made it "starting", with the last run's log
    h.status = "starting";
    h.failing_streak = 0;
    auto started = steady_clock::now();
    for (;;) {
        if (ended(init_fd, duration_cast<milliseconds>(settings->interval))) return 0;
        try {
            c = store.find(id);
        } catch (const Error&) {
            return 0;  // removed
        }
        if (c.state.status == Status::Paused) continue;  // a frozen container is not probed
        auto probe_start = steady_clock::now();
        ProbeResult result;
        try {
            result = run_probe(c, settings->command, settings->timeout);
        } catch (const std::exception& e) {  // no pipe, no fork: a failed probe, and the next one later
            result = {now_rfc3339(), now_rfc3339(), -1, e.what()};
        }
        if (ended(init_fd, milliseconds(0))) return 0;  // a probe of a container that ended says nothing
        record_probe(h, result, settings->retries, probe_start - started < settings->start_period);
        write_file_atomic(c.dir + "/health.json", health_json(h).dump(), 0644, false);
    }
}

void register_health() {
    struct HealthFlags {
        std::string cmd, interval, timeout, start_period;
        int retries = 0;
        bool none = false;
    };
    cli::extend("run", [](CLI::App& r) {
        auto f = std::make_shared<HealthFlags>();
        r.add_option("--health-cmd", f->cmd, "Command to run to check health");
        r.add_option("--health-interval", f->interval, "Time between running the check (ms|s|m|h) (default 0s)");
        r.add_option("--health-timeout", f->timeout, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)");
        r.add_option("--health-start-period", f->start_period,
                     "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)");
        r.add_option("--health-retries", f->retries, "Consecutive failures needed to report unhealthy");
        r.add_flag("--no-healthcheck", f->none, "Disable any container-specified HEALTHCHECK");
        add_request_filler([f](ContainerRequest& request) {
            auto duration = [](const std::string& text, const std::string& flag) -> std::int64_t {
                if (text.empty()) return 0;
                std::int64_t ns = parse_duration(text, flag);
                if (ns < 0) throw Error(flag + " cannot be negative", "give a duration such as 10s");
                return ns;
            };
            bool any = !f->cmd.empty() || !f->interval.empty() || !f->timeout.empty() || !f->start_period.empty() ||
                       f->retries != 0;
            if (f->none) {
                if (any) throw Error("--no-healthcheck conflicts with --health-* options", "give one or the other");
                request.Config.Healthcheck = RequestHealthcheck{{"NONE"}};
                return;
            }
            if (!any) return;
            RequestHealthcheck hc;
            if (!f->cmd.empty()) hc.Test = {"CMD-SHELL", f->cmd};
            hc.Interval = duration(f->interval, "--health-interval");
            hc.Timeout = duration(f->timeout, "--health-timeout");
            hc.StartPeriod = duration(f->start_period, "--health-start-period");
            if (f->retries < 0) throw Error("--health-retries cannot be negative", "give a count of failures");
            hc.Retries = f->retries;
            request.Config.Healthcheck = hc;
        });
    });
    // What `box __start` and a foreground `box run` start (hidden from --help).
    cli::define("__health", "(box) probe a container's health", [](CLI::App& c) -> cli::Action {
        auto id = std::make_shared<std::string>();
        auto fd = std::make_shared<int>(3);
        c.group("");
        c.add_option("ID", *id)->required();
        c.add_option("FD", *fd);
        return [id, fd] { return health_monitor(*id, *fd); };
    });
}

}  // namespace box::stage4
