// Stage 4, black-box: health checks — a probe run inside the container by
// its monitor, State.Health in inspect, the state in ps and its filter.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <random>
#include <thread>

#include "box/util.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {

nlohmann::json health_of(const Sandbox& sb, const std::string& c) { return inspect(sb, c)["State"]["Health"]; }

std::string ps_names(const Sandbox& sb, const std::vector<std::string>& filters) {
    std::vector<std::string> args = {"ps", "-a", "--format", "{{.Names}}"};
    for (const auto& f : filters) args.insert(args.end(), {"--filter", f});
    auto r = sb.box(args);
    BOX_SHOW(r);
    return r.out;
}

// The host PIDs of the processes whose command line holds every one of `words`.
std::vector<pid_t> processes_with(const std::vector<std::string>& words) {
    std::vector<pid_t> found;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline = read_host_file(e.path().string() + "/cmdline");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        bool all = !cmdline.empty();
        for (const auto& w : words) all = all && cmdline.find(w) != std::string::npos;
        if (all) found.push_back(std::stoi(name));
    }
    return found;
}

}  // namespace

TEST_CASE("a health check probes inside the container: starting, unhealthy after its retries, healthy once the "
          "probe succeeds; inspect keeps the last 5 results, ps shows and filters the state",
          "[stage4][health]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb,
                                  {"--name", "web", "--health-cmd", "echo probe >> /tmp/probes; hostname; test -e /tmp/ok",
                                   "--health-interval", "400ms", "--health-retries", "2"},
                                  {"sleep", "300"});
    run_detached(sb, {"--name", "plain"}, {"sleep", "300"});
    // Before its first probe.
    CHECK(ps_names(sb, {"health=starting"}) == "web\n");
    CHECK(ps_names(sb, {"health=none"}) == "plain\n");
    CHECK(health_of(sb, "plain").is_null());

    REQUIRE(eventually([&] { return health_of(sb, "web")["Status"] == "unhealthy"; }));
    auto h = health_of(sb, "web");
    CHECK(h["FailingStreak"].get<int>() >= 2);
    REQUIRE(!h["Log"].empty());
    for (const auto& entry : h["Log"]) {
        CHECK(entry["ExitCode"] == 1);
        CHECK(entry["Output"] == id.substr(0, 12) + "\n");  // the container's hostname: its UTS namespace
        CHECK(entry["Start"].get<std::string>() <= entry["End"].get<std::string>());
    }
    // Each probe wrote into the container's own filesystem.
    auto probes = sb.box({"exec", "web", "cat", "/tmp/probes"});
    CHECK(lines(probes.out).size() >= 2);
    CHECK(sb.box({"ps", "--filter", "name=web", "--format", "{{.Status}}"}).out.find("(unhealthy)") != std::string::npos);
    CHECK(ps_names(sb, {"health=unhealthy"}) == "web\n");
    CHECK(ps_names(sb, {"health=healthy"}).empty());

    REQUIRE(sb.box({"exec", "web", "touch", "/tmp/ok"}).status == 0);
    REQUIRE(eventually([&] { return health_of(sb, "web")["Status"] == "healthy"; }));
    CHECK(health_of(sb, "web")["FailingStreak"] == 0);
    CHECK(sb.box({"ps", "--filter", "name=web", "--format", "{{.Status}}"}).out.find("(healthy)") != std::string::npos);
    CHECK(ps_names(sb, {"health=healthy", "health=unhealthy"}) == "web\n");  // one key: any
    // Enough probes for more than five results: only the last five are kept.
    REQUIRE(eventually([&] { return lines(sb.box({"exec", "web", "cat", "/tmp/probes"}).out).size() >= 7; },
                       std::chrono::seconds(15)));
    auto log = health_of(sb, "web")["Log"];
    CHECK(log.size() == 5);
    CHECK(log.back()["ExitCode"] == 0);
    // A restart: "starting" again with a streak of 0, the last run's log kept (docker's way).
    REQUIRE(sb.box({"exec", "web", "rm", "/tmp/ok"}).status == 0);
    REQUIRE(eventually([&] { return health_of(sb, "web")["Status"] == "unhealthy"; }));
    REQUIRE(sb.box({"restart", "-t", "0", "web"}).status == 0);
    auto again = health_of(sb, "web");
    CHECK(again["Status"] == "starting");
    CHECK(again["FailingStreak"] == 0);
    CHECK(again["Log"].size() == 5);
    auto bad = sb.box({"ps", "--filter", "health=sick"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    CHECK(bad.err.find("Unrecognised filter value for health: sick") != std::string::npos);
    CHECK(sb.box({"rm", "-f", "web", "plain"}).status == 0);
    // Its monitor went with it (the sandbox also fails on a process left behind).
    CHECK(eventually([&] { return processes_with({"__health", id}).empty(); }));
}

TEST_CASE("a probe past its timeout is killed and counts as a failure; a foreground container is checked too",
          "[stage4][health]") {
    Sandbox sb;
    import_busybox(sb);
    run_detached(sb,
                 {"--name", "slow", "--health-cmd", "sleep 30", "--health-timeout", "300ms", "--health-interval",
                  "100ms", "--health-retries", "1"},
                 {"sleep", "300"});
    REQUIRE(eventually([&] { return health_of(sb, "slow")["Log"].size() >= 3; }));
    auto h = health_of(sb, "slow");
    CHECK(h["Status"] == "unhealthy");
    CHECK(h["Log"][0]["ExitCode"] == -1);
    CHECK(h["Log"][0]["Output"] == "Health check exceeded timeout (300ms)");
    // Killed, not left running: at most the probe in progress is there.
    auto ps = sb.box({"exec", "slow", "ps"});
    BOX_SHOW(ps);
    size_t sleeping = 0;
    for (const auto& l : lines(ps.out))  // the probes' command, not PID 1's "sleep 300"
        sleeping += l.size() >= 9 && l.compare(l.size() - 9, 9, " sleep 30") == 0;
    CHECK(sleeping <= 1);
    CHECK(sb.box({"rm", "-f", "slow"}).status == 0);

    // Without -d: the box that runs it starts its monitor; its output is the command's alone.
    auto fg = sb.box({"run", "--rm", "--name", "fg", "--health-cmd", "echo probed > /tmp/p", "--health-interval",
                      "100ms", "busybox", "sh", "-c", "sleep 1; cat /tmp/p"});
    BOX_SHOW(fg);
    CHECK(fg.status == 0);
    CHECK(fg.out == "probed\n");
}

TEST_CASE("bad --health-* values get docker's error and make no container", "[stage4][health][given]") {
    Sandbox sb;
    import_busybox(sb);
    check_refusals(sb, {"run", "-d"}, {"busybox", "sleep", "300"}, {
        {{"--health-interval", "abc"}, "invalid argument \"abc\" for \"--health-interval\" flag: time: invalid duration \"abc\""},
        {{"--health-timeout", "3"}, "time: missing unit in duration \"3\""},
        {{"--health-interval", "500us"}, "Interval in Healthcheck cannot be less than 1ms"},
        {{"--health-start-period", "-1s"}, "--health-start-period cannot be negative"},
        {{"--health-retries", "-1"}, "--health-retries cannot be negative"},
        {{"--no-healthcheck", "--health-cmd", "true"}, "--no-healthcheck conflicts with --health-* options"},
    });
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(container_dirs(sb) == 0);
}

TEST_CASE("a monitor killed at any moment leaves a health record that inspect reads", "[stage4][health][given]") {
    Sandbox sb;
    import_busybox(sb);
    std::mt19937 random(std::random_device{}());
    for (int round = 0; round < 5; ++round) {
        std::string id =
            run_detached(sb, {"--health-cmd", "true", "--health-interval", "1ms"}, {"sleep", "300"});
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + random() % 150));
        // The monitor is the shim's child (it adopted it from `box __start`); a
        // probe's fork of it, with the same command line, is the monitor's.
        pid_t monitor = 0, shim = 0;
        for (pid_t p : processes_with({"__health", id})) {
            try {
                pid_t parent = std::stoi(proc_status(p, "PPid"));
                if (read_host_file("/proc/" + std::to_string(parent) + "/cmdline").find("box-shim") != std::string::npos)
                    monitor = p, shim = parent;
            } catch (const std::exception&) {  // a probe (the monitor's fork) that ended meanwhile
            }
        }
        REQUIRE(monitor > 0);
        ::kill(monitor, SIGKILL);
        ::kill(shim, SIGKILL);  // the container lives on, orphaned
        auto h = inspect(sb, id)["State"]["Health"];
        INFO(h.dump());
        CHECK((h["Status"] == "starting" || h["Status"] == "healthy"));
        CHECK(h["Log"].size() <= 5);
        CHECK(sb.box({"rm", "-f", id}).status == 0);
    }
}
