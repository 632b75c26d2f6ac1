// Stage 2, black-box: the kernel enforces the limits `box run` asks for, on
// this host's real cgroup hierarchy, and the cgroup is gone afterwards (the
// Sandbox checks that no "box" cgroup is left after each test).
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include "box/cgroup_layout.hpp"
#include "harness.hpp"

using namespace boxtest;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// The container's first process, seen from the host, once it printed "ready".
pid_t container_pid(Background& box) {
    bool ready = box.wait_for_output("ready", 10s);
    INFO("box's stderr: " << box.err());
    REQUIRE(ready);
    auto kids = children_of(box.pid());
    REQUIRE(kids.size() == 1);
    return kids[0];
}

// The host path of `pid`'s cgroup in the hierarchy of `controller`.
std::string cgroup_dir(pid_t pid, const std::string& controller) {
    auto layout = box::detect_cgroup_layout();
    for (const auto& line : lines(read_host_file("/proc/" + std::to_string(pid) + "/cgroup"))) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        for (const auto& c : {controller})
            if (("," + controllers + ",").find("," + c + ",") != std::string::npos) return layout.v1.at(c) + path;
        if (controllers.empty() && layout.v2_has({controller})) return layout.unified + path;
    }
    return "";
}

std::string file(const std::string& path) { return trim(read_host_file(path)); }

// Ends a container that ignores SIGTERM the way docker stop would after the
// grace time, and waits for box to clean up and exit.
int kill_and_wait(Background& box, pid_t init) {
    kill(init, SIGKILL);
    auto status = box.wait(10s);
    REQUIRE(status);
    return *status;
}

}  // namespace

TEST_CASE("a process allocating past -m is OOM-killed with 137; one below finishes", "[stage2][memory]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string hog = install_fixture("memhog", rootfs);
    long limit = random_int(24, 48);
    auto over = sb.box({"run", "--rootfs", rootfs, "-m", std::to_string(limit) + "m", hog, std::to_string(3 * limit)});
    BOX_SHOW(over);
    CHECK(over.status == 137);
    CHECK(over.out.find("allocated") == std::string::npos);
    CHECK(over.err.find("OOM") != std::string::npos);
    long small = random_int(4, limit / 3);
    auto under = sb.box({"run", "--rootfs", rootfs, "-m", std::to_string(limit) + "m", hog, std::to_string(small)});
    BOX_SHOW(under);
    CHECK(under.status == 0);
    CHECK(trim(under.out) == "allocated " + std::to_string(small));
}

TEST_CASE("a fork loop stops at --pids-limit and the container still exits", "[stage2][pids]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string forker = install_fixture("forker", rootfs);
    long limit = random_int(8, 40);
    auto r = sb.box({"run", "--rootfs", rootfs, "--pids-limit", std::to_string(limit), forker, "500"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    // The forker is PID 1 and counts as one of the limit's processes.
    CHECK(trim(r.out) == "started " + std::to_string(limit - 1));
}

TEST_CASE("with --cpus 0.5 a busy loop gets about half a CPU", "[stage2][cpu]") {
    Sandbox sb;
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "--cpus", "0.5", "sh", "-c",
                                "echo ready; while :; do :; done"}));
    pid_t init = container_pid(box);
    auto cpu_seconds = [&] {  // utime + stime of the loop, from the host
        std::istringstream ss(read_host_file("/proc/" + std::to_string(init) + "/stat"));
        std::string field;
        double ticks = 0;
        for (int i = 1; ss >> field && i <= 15; ++i)
            if (i == 14 || i == 15) ticks += std::stod(field);
        return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
    };
    std::this_thread::sleep_for(300ms);
    double c0 = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);
    double c1 = cpu_seconds();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double rate = (c1 - c0) / wall;
    INFO("CPU-seconds per second: " << rate);
    CHECK(rate >= 0.35);
    CHECK(rate <= 0.65);
    kill_and_wait(box, init);
}

TEST_CASE("the cgroup files hold the converted limits", "[stage2][files]") {
    Sandbox sb;
    long mem_mib = random_int(8, 64), pids = random_int(10, 200), shares = random_int(2, 4096);
    double cpus = static_cast<double>(random_int(10, 150)) / 100.0;
    char cpus_text[16];
    snprintf(cpus_text, sizeof cpus_text, "%.2f", cpus);
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "-m", std::to_string(mem_mib) + "m",
                                "--memory-swap", std::to_string(3 * mem_mib) + "m", "--cpus", cpus_text,
                                "--cpu-shares", std::to_string(shares), "--pids-limit", std::to_string(pids),
                                "--cpuset-cpus", "0", "sh", "-c", "echo ready; exec sleep 60"}));
    pid_t init = container_pid(box);
    std::string mem = cgroup_dir(init, "memory"), cpu = cgroup_dir(init, "cpu"), pid_dir = cgroup_dir(init, "pids");
    INFO("memory cgroup " << mem);
    REQUIRE(mem.find("/box/") != std::string::npos);
    auto layout = box::detect_cgroup_layout();
    long quota = std::lround(cpus * 100000);
    if (layout.v2_has({"memory", "cpu", "pids"})) {
        CHECK(file(mem + "/memory.max") == std::to_string(mem_mib << 20));
        CHECK(file(cpu + "/cpu.max") == std::to_string(quota) + " 100000");
        CHECK(file(pid_dir + "/pids.max") == std::to_string(pids));
    } else {
        CHECK(file(mem + "/memory.limit_in_bytes") == std::to_string(mem_mib << 20));
        if (fs::exists(mem + "/memory.memsw.limit_in_bytes"))
            CHECK(file(mem + "/memory.memsw.limit_in_bytes") == std::to_string((3 * mem_mib) << 20));
        CHECK(file(cpu + "/cpu.cfs_quota_us") == std::to_string(quota));
        CHECK(file(cpu + "/cpu.cfs_period_us") == "100000");
        CHECK(file(cpu + "/cpu.shares") == std::to_string(shares));
        CHECK(file(pid_dir + "/pids.max") == std::to_string(pids));
        CHECK(file(cgroup_dir(init, "cpuset") + "/cpuset.cpus") == "0");
    }
    // The kernel applies the cpuset: the container may run on CPU 0 only.
    std::string status = read_host_file("/proc/" + std::to_string(init) + "/status");
    CHECK(status.find("Cpus_allowed_list:\t0\n") != std::string::npos);
    kill_and_wait(box, init);
    CHECK_FALSE(fs::exists(mem));
}

TEST_CASE("inside, /proc/self/cgroup shows the container's cgroup as /", "[stage2][cgroupns]") {
    Sandbox sb;
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "-m", "64m", "sh", "-c",
                                "cat /proc/self/cgroup; echo ready; exec sleep 60"}));
    pid_t init = container_pid(box);
    // Seen from the host the container is in a box cgroup...
    CHECK(cgroup_dir(init, "memory").find("/box/") != std::string::npos);
    // ...and from inside that cgroup is the root of every hierarchy.
    for (const auto& line : lines(box.out())) {
        if (line == "ready") break;
        INFO(line);
        CHECK(line.substr(line.rfind(':') + 1) == "/");
    }
    kill_and_wait(box, init);
}

TEST_CASE("the cgroup is removed after SIGTERM to box and after a failed start", "[stage2][cleanup]") {
    Sandbox sb;
    const auto before = box_cgroups();  // containers of others, if any
    Background box(sb.box_argv({"run", "--rootfs", base_rootfs(), "-m", "64m", "sh", "-c",
                                "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"}));
    pid_t init = container_pid(box);
    std::string mem = cgroup_dir(init, "memory");
    REQUIRE(fs::exists(mem));
    kill(box.pid(), SIGTERM);
    auto status = box.wait(10s);
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK_FALSE(fs::exists(mem));
    CHECK(box_cgroups() == before);

    auto failed = sb.box({"run", "--rootfs", base_rootfs(), "-m", "64m", random_name("no-such-command-")});
    BOX_SHOW(failed);
    CHECK(failed.status == 127);
    CHECK(box_cgroups() == before);
}

TEST_CASE("bad limits are refused with one line before anything is created", "[stage2][errors]") {
    Sandbox sb;
    const auto before = box_cgroups();  // containers of others, if any
    const std::vector<std::vector<std::string>> bad = {
        {"-m", "-1"},       {"-m", "12x"},          {"-m", "1m"},   {"--memory-swap", "64m"},
        {"-m", "64m", "--memory-swap", "32m"},      {"--cpus", "0"}, {"--cpus", "999"},
        {"--cpus", "abc"},  {"--cpuset-cpus", "99"}, {"--pids-limit", "-5"}, {"--cpu-shares", "-3"},
    };
    for (auto args : bad) {
        std::vector<std::string> argv = {"run", "--rootfs", base_rootfs()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("true");
        auto r = sb.box(argv);
        INFO("box run " << args[0] << " " << args.back());
        REQUIRE_ONE_ERROR_LINE(r, 125);
        CHECK(box_cgroups() == before);
    }
    auto good = sb.box({"run", "--rootfs", base_rootfs(), "-m", "64m", "--cpus", "1", "--pids-limit", "50", "true"});
    BOX_SHOW(good);
    CHECK(good.status == 0);
}

TEST_CASE("--explain shows each cgroup directory made and each file written", "[stage2][explain]") {
    Sandbox sb;
    long pids = random_int(10, 99);
    auto r = sb.box({"--explain", "run", "--rootfs", base_rootfs(), "--pids-limit", std::to_string(pids), "true"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    bool mkdir_box = false, wrote_pids = false, wrote_procs = false, removed = false;
    for (const auto& l : lines(r.err)) {
        mkdir_box = mkdir_box || (l.find("mkdir(\"") != std::string::npos && l.find("/box/") != std::string::npos);
        wrote_pids = wrote_pids || l.find("/pids.max\", \"" + std::to_string(pids) + "\") = ") != std::string::npos;
        // The child moves itself: "0" (into v1's tasks, or v2's cgroup.procs).
        wrote_procs = wrote_procs || l.find("/cgroup.procs\", \"0\")") != std::string::npos ||
                      l.find("/tasks\", \"0\")") != std::string::npos;
        removed = removed || (l.find("rmdir(\"") != std::string::npos && l.find("/box/") != std::string::npos);
    }
    CHECK(mkdir_box);
    CHECK(wrote_pids);
    CHECK(wrote_procs);
    CHECK(removed);
}

TEST_CASE("--stats reports what the kernel counted", "[stage2][stats]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string hog = install_fixture("memhog", rootfs);
    long mib = random_int(20, 40);
    auto r = sb.box({"run", "--rootfs", rootfs, "--stats", hog, std::to_string(mib)});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto at = r.err.find("memory peak ");
    REQUIRE(at != std::string::npos);
    double peak = std::stod(r.err.substr(at + 12));
    std::string unit = r.err.substr(at + 12 + std::to_string(static_cast<long>(peak)).size());
    INFO(r.err);
    CHECK(unit.find("MiB") != std::string::npos);
    CHECK(peak >= static_cast<double>(mib));
}

TEST_CASE("containers started and ended at once share box's parent cgroup safely", "[stage2][concurrency]") {
    Sandbox sb;
    const auto before = box_cgroups();
    // Each box removes the shared parent when its own container was the last;
    // the others must make it again rather than fail.
    std::vector<std::unique_ptr<Background>> boxes;
    for (int i = 0; i < 4; ++i)
        boxes.push_back(std::make_unique<Background>(sb.box_argv(
            {"run", "--rootfs", base_rootfs(), "--pids-limit", "50", "sh", "-c",
             "i=0; while [ $i -lt 15 ]; do i=$((i+1)); done"})));
    for (int round = 0; round < 10; ++round) {
        auto r = sb.box({"run", "--rootfs", base_rootfs(), "-m", "32m", "true"});
        BOX_SHOW(r);
        REQUIRE(r.status == 0);
    }
    for (auto& b : boxes) {
        auto status = b->wait(20s);
        INFO(b->err());
        REQUIRE(status);
        CHECK(*status == 0);
    }
    CHECK(box_cgroups() == before);
}
