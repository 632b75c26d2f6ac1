// Chapter 4, inside the stage: health checks — a probe run in the container
// now and then, and docker's State.Health made of its results.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "stage4.hpp"

namespace box::stage4 {

/// A container's health check with docker's defaults filled in.
struct HealthSettings {
    std::vector<std::string> command;            ///< what a probe runs: CMD's words, or /bin/sh -c CMD-SHELL's
    std::chrono::nanoseconds interval{30'000'000'000};  ///< from one probe's end to the next's start
    std::chrono::nanoseconds timeout{30'000'000'000};   ///< a probe running longer is killed: a failure
    std::chrono::nanoseconds start_period{0};    ///< failures then do not count, until a first success
    int retries = 3;                             ///< failures in a row that make it unhealthy
};

/// The health check request `r` asks for (its Config.Healthcheck, into which
/// create merged the image's), with docker's defaults; none when it has none
/// or its test is NONE.
std::optional<HealthSettings> health_settings(const ContainerRequest& r);

/// One probe's result: an entry of State.Health.Log.
struct ProbeResult {
    std::string start;   ///< RFC 3339 with nanoseconds, when it was started
    std::string end;     ///< when it ended (or was given up)
    int exit_code = -1;  ///< the command's status; -1: it could not run, or ran past its timeout
    std::string output;  ///< its stdout and stderr, at most 4096 bytes ("..." after when cut)
};

/// docker's State.Health.
struct Health {
    std::string status = "starting";  ///< starting, healthy, unhealthy
    int failing_streak = 0;           ///< failures since the last success
    std::vector<ProbeResult> log;     ///< the last 5 results, oldest first
};

/// State.Health as docker writes it: {"Status", "FailingStreak", "Log": [{"Start",
/// "End", "ExitCode", "Output"}]}; and back.
json health_json(const Health& h);
/// See health_json(); a malformed document reads as the starting state.
Health health_from_json(const json& j);

/// docker's most probes' output: 4096 bytes.
constexpr size_t kMaxProbeOutput = 4096;
/// docker keeps the last 5 results.
constexpr size_t kMaxHealthLog = 5;

/// Exercise 14 (advanced): runs one probe, `command`, in running container
/// `c` as `box exec` runs a command (start_in()), in a process forked for it;
/// returns its result (see chapter 4, exercise 14).
ProbeResult run_probe(const Container& c, const std::vector<std::string>& command, std::chrono::nanoseconds timeout);

/// Exercise 15 (advanced): adds `result` to `h` and moves its status as
/// docker does (see chapter 4, exercise 15); `in_start_period`: the probe
/// started within the start period.
void record_probe(Health& h, const ProbeResult& result, int retries, bool in_start_period);

/// The container's State.Health: what its monitor last wrote (DIR/health.json),
/// "starting" when it has a health check and no result yet; none without one.
std::optional<Health> read_health(const Container& c);

/// At a start of container `c` (with a health check): its State.Health is
/// "starting" again, FailingStreak 0, the last run's log kept (as docker's).
void restart_health(const Container& c);

/// docker ps's word for it: "healthy", "unhealthy", "starting", or "none".
std::string health_word(const Container& c);

/// Starts `box __health ID`, the container's monitor, if it has a health
/// check: a process of its own (stdio /dev/null, its own session, nothing
/// else of ours) that holds a pidfd of `init`, the container's first process
/// (a child of the caller, not yet reaped), and ends when that ends. Never
/// throws: the container runs already; a monitor that cannot start is logged.
void start_health_monitor(const Container& c, pid_t init) noexcept;

/// `box __health ID`: probes container `id` until its first process (pidfd
/// `init_fd`) ends, writing DIR/health.json after each probe.
int health_monitor(const std::string& id, int init_fd);

/// Registers `box __health` and run's --health-* flags.
void register_health();

}  // namespace box::stage4
