// Stage 2, unit tests: the conversions, and the v2 and v1 code against
// stand-in hierarchies (plain directories), so that both are checked whatever the host has
// (this one: v1 controllers and an empty cgroup2; a student's: often cgroup2
// only). They check what box would write where, not the kernel's enforcement
// of it: the black-box tests do that on the host's real hierarchy.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "box/cgroup_layout.hpp"
#include "harness.hpp"
#include "stage2.hpp"

using namespace box;
using namespace box::stage2;
namespace fs = std::filesystem;

TEST_CASE("cpu_quota gives --cpus N as N periods of 100 ms", "[stage2][unit]") {
    CHECK(cpu_quota(0.5).quota_us == 50000);
    CHECK(cpu_quota(0.5).period_us == 100000);
    CHECK(cpu_quota(1.5).quota_us == 150000);
    CHECK(cpu_quota(0.01).quota_us == 1000);
    CHECK(cpu_quota(0.333).quota_us == 33300);
}

TEST_CASE("cpu_weight maps shares onto v2's weight scale", "[stage2][unit]") {
    CHECK(cpu_weight(2) == 1);
    CHECK(cpu_weight(1024) == 39);
    CHECK(cpu_weight(262144) == 10000);
    CHECK(cpu_weight(0) == 1);           // clamped up
    CHECK(cpu_weight(1000000) == 10000);  // clamped down
    CHECK(cpu_weight(512) == 20);
}

TEST_CASE("oom_kill_count reads v2 memory.events and v1 memory.oom_control", "[stage2][unit]") {
    CHECK(oom_kill_count("low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n") == 2);
    CHECK(oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n") == 1);
    CHECK(oom_kill_count("oom_kill_disable 0\nunder_oom 0\n") == 0);
    CHECK(oom_kill_count("") == 0);
}

namespace {
// A directory of the sandbox laid out like the root of a cgroup2 mount (plain
// files: no mount to leave behind if the test binary dies).
struct FakeCgroup2 {
    std::string root;
    explicit FakeCgroup2(const std::string& dir) : root(dir) {
        fs::create_directories(root);
        write("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
        write("cgroup.subtree_control", "");
        write("cgroup.procs", "");
        // An existing delegated parent, as an administrator would make it.
        fs::create_directory(root + "/box");
        write("box/cgroup.controllers", "");
        write("box/cgroup.subtree_control", "");
        write("box/cgroup.procs", "");
    }
    void write(const std::string& rel, const std::string& text) const { std::ofstream(root + "/" + rel) << text; }
    std::string read(const std::string& rel) const { return boxtest::trim(boxtest::read_host_file(root + "/" + rel)); }
};
}  // namespace

TEST_CASE("on cgroup v2, box enables controllers top-down and writes the limits into the leaf", "[stage2][v2]") {
    boxtest::Sandbox sb;
    FakeCgroup2 fake(sb.dir() + "/cgroup2");
    CgroupLayout layout;
    layout.unified = fake.root;
    layout.unified_controllers = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};
    std::string id = boxtest::random_name("", 64);
    ResourceLimits limits;
    limits.memory = boxtest::random_int(8, 512) << 20;
    limits.memory_swap = *limits.memory * 2;
    limits.cpus = static_cast<double>(boxtest::random_int(1, 200)) / 100.0;
    limits.cpu_shares = static_cast<std::uint64_t>(boxtest::random_int(2, 4096));
    limits.pids = boxtest::random_int(5, 500);
    limits.cpuset_cpus = "0-1";

    auto cg = open_cgroup(layout, limits, id);
    auto* v2 = dynamic_cast<CgroupV2*>(cg.get());
    REQUIRE(v2 != nullptr);
    CHECK(v2->path() == fake.root + "/box/" + id);
    cg->create();
    CHECK(fake.read("cgroup.subtree_control") == "+cpu +cpuset +memory +pids");
    CHECK(fake.read("box/cgroup.subtree_control") == "+cpu +cpuset +memory +pids");
    REQUIRE(fs::is_directory(v2->path()));

    // The kernel would now show the enabled controllers' files in the leaf.
    std::string leaf = "box/" + id + "/";
    for (const char* f : {"cgroup.procs", "memory.max", "memory.swap.max", "cpu.max", "cpu.weight",
                          "cpuset.cpus", "pids.max"})
        fake.write(leaf + f, "");
    cg->set_limits(limits);
    CHECK(fake.read(leaf + "memory.max") == std::to_string(*limits.memory));
    CHECK(fake.read(leaf + "memory.swap.max") == std::to_string(*limits.memory));  // swap alone
    CHECK(fake.read(leaf + "cpu.max") == std::to_string(cpu_quota(*limits.cpus).quota_us) + " 100000");
    CHECK(fake.read(leaf + "cpu.weight") == std::to_string(cpu_weight(*limits.cpu_shares)));
    CHECK(fake.read(leaf + "cpuset.cpus") == "0-1");
    CHECK(fake.read(leaf + "pids.max") == std::to_string(*limits.pids));

    limits.memory_swap = -1;
    limits.pids = -1;
    cg->set_limits(limits);
    CHECK(fake.read(leaf + "memory.swap.max") == "max");
    CHECK(fake.read(leaf + "pids.max") == "max");

    // What the kernel counted, as usage() reads it back (box stats, --stats).
    std::int64_t peak = boxtest::random_int(1 << 20, 1 << 30), now = peak / 2, usec = boxtest::random_int(1, 1 << 30);
    long procs = boxtest::random_int(1, 50);
    fake.write(leaf + "memory.peak", std::to_string(peak) + "\n");
    fake.write(leaf + "memory.current", std::to_string(now) + "\n");
    fake.write(leaf + "cpu.stat", "usage_usec " + std::to_string(usec) + "\nuser_usec 1\nsystem_usec 2\n");
    fake.write(leaf + "pids.current", std::to_string(procs) + "\n");
    Usage u = cg->usage();
    CHECK(u.memory_peak == peak);
    CHECK(u.memory_now == now);
    CHECK(u.memory_limit == *limits.memory);
    CHECK(u.cpu_usec == usec);
    CHECK(u.pids == procs);  // no pids.peak on this kernel's stand-in: the current count
    CHECK(u.pids_now == procs);

    pid_t pid = static_cast<pid_t>(boxtest::random_int(1000, 99999));
    cg->add_process(pid);
    CHECK(fake.read(leaf + "cgroup.procs") == std::to_string(pid));
    // No process in a cgroup whose children have controllers.
    CHECK(fake.read("cgroup.procs").empty());
    CHECK(fake.read("box/cgroup.procs").empty());

    // On the real hierarchy rmdir succeeds with the files in; here they must go first.
    for (const auto& f : fs::directory_iterator(v2->path())) fs::remove(f.path());
    cg->remove();
    CHECK_FALSE(fs::exists(v2->path()));
}

namespace {
// Directories of the sandbox laid out like v1 hierarchies (cpu and cpuacct
// co-mounted, as Debian mounts them), each with box's shared parent. No cpuset: a new cpuset cgroup's files are the kernel's to make, and
// create() copies into them at once.
struct FakeCgroup1 {
    std::string root;
    explicit FakeCgroup1(const std::string& dir) : root(dir) {
        fs::create_directories(root);
        for (const char* h : kHierarchies) fs::create_directories(root + "/" + h + "/box");
    }
    std::map<std::string, std::string> parents() const {
        return {{"memory", root + "/memory/box"},
                {"cpu", root + "/cpu,cpuacct/box"},
                {"cpuacct", root + "/cpu,cpuacct/box"},
                {"pids", root + "/pids/box"}};
    }
    void write(const std::string& rel, const std::string& text) const { std::ofstream(root + "/" + rel) << text; }
    std::string read(const std::string& rel) const { return boxtest::trim(boxtest::read_host_file(root + "/" + rel)); }
    static constexpr const char* kHierarchies[] = {"memory", "cpu,cpuacct", "pids"};
};
}  // namespace

// This host has real v1 controllers, and the black-box tests use them; a host
// with cgroup v2 only has none, and this stand-in is what checks exercise 6 there.
TEST_CASE("on cgroup v1, box makes one directory per hierarchy and writes each limit into its controller's",
          "[stage2][v1]") {
    boxtest::Sandbox sb;
    FakeCgroup1 fake(sb.dir() + "/cgroup1");
    std::string id = boxtest::random_name("", 64);
    CgroupV1 cg(fake.parents(), id);
    cg.create();
    for (const char* h : FakeCgroup1::kHierarchies) CHECK(fs::is_directory(fake.root + "/" + h + "/box/" + id));

    // The kernel would now show the controllers' files in each directory.
    std::string mem = "memory/box/" + id + "/", cpu = "cpu,cpuacct/box/" + id + "/", pids = "pids/box/" + id + "/";
    for (const std::string& f : {mem + "memory.limit_in_bytes", mem + "memory.memsw.limit_in_bytes",
                                 cpu + "cpu.cfs_period_us", cpu + "cpu.cfs_quota_us", cpu + "cpu.shares",
                                 pids + "pids.max"})
        fake.write(f, "");
    for (const char* h : FakeCgroup1::kHierarchies) {
        fake.write(std::string(h) + "/box/" + id + "/cgroup.procs", "");
        fake.write(std::string(h) + "/box/" + id + "/tasks", "");
    }
    ResourceLimits limits;
    limits.memory = boxtest::random_int(8, 512) << 20;
    limits.cpus = static_cast<double>(boxtest::random_int(1, 200)) / 100.0;
    limits.cpu_shares = static_cast<std::uint64_t>(boxtest::random_int(2, 4096));
    limits.pids = boxtest::random_int(5, 500);
    cg.set_limits(limits);
    CHECK(fake.read(mem + "memory.limit_in_bytes") == std::to_string(*limits.memory));
    CHECK(fake.read(mem + "memory.memsw.limit_in_bytes") == std::to_string(2 * *limits.memory));  // docker's default
    CHECK(fake.read(cpu + "cpu.cfs_period_us") == "100000");
    CHECK(fake.read(cpu + "cpu.cfs_quota_us") == std::to_string(cpu_quota(*limits.cpus).quota_us));
    CHECK(fake.read(cpu + "cpu.shares") == std::to_string(*limits.cpu_shares));
    CHECK(fake.read(pids + "pids.max") == std::to_string(*limits.pids));
    limits.memory_swap = *limits.memory + (1 << 20);
    limits.pids = -1;
    cg.set_limits(limits);
    CHECK(fake.read(mem + "memory.memsw.limit_in_bytes") == std::to_string(*limits.memory_swap));
    CHECK(fake.read(pids + "pids.max") == "max");

    // What the kernel counted, as usage() reads it back.
    std::int64_t peak = boxtest::random_int(1 << 20, 1 << 30), ns = boxtest::random_int(1000, 1 << 30);
    long procs = boxtest::random_int(1, 50);
    fake.write(mem + "memory.max_usage_in_bytes", std::to_string(peak) + "\n");
    fake.write(mem + "memory.usage_in_bytes", std::to_string(peak / 2) + "\n");
    fake.write(cpu + "cpuacct.usage", std::to_string(ns) + "\n");
    fake.write(pids + "pids.current", std::to_string(procs) + "\n");
    Usage u = cg.usage();
    CHECK(u.memory_peak == peak);
    CHECK(u.memory_now == peak / 2);
    CHECK(u.memory_limit == *limits.memory);
    CHECK(u.cpu_usec == ns / 1000);
    CHECK(u.pids == procs);
    CHECK(u.pids_now == procs);

    pid_t pid = static_cast<pid_t>(boxtest::random_int(1000, 99999));
    cg.add_process(pid);
    for (const char* h : FakeCgroup1::kHierarchies)
        CHECK(fake.read(std::string(h) + "/box/" + id + "/cgroup.procs") == std::to_string(pid));
    // The calling process (pid 0, as the container's first process moves
    // itself): one thread through `tasks`, which the kernel does unlocked.
    cg.add_process(0);
    for (const char* h : FakeCgroup1::kHierarchies)
        CHECK(fake.read(std::string(h) + "/box/" + id + "/tasks") == "0");

    // On the real hierarchy rmdir succeeds with the files in; here they must go first.
    for (const char* h : FakeCgroup1::kHierarchies)
        for (const auto& f : fs::directory_iterator(fake.root + "/" + h + "/box/" + id)) fs::remove(f.path());
    cg.remove();
    for (const char* h : FakeCgroup1::kHierarchies) CHECK_FALSE(fs::exists(fake.root + "/" + h + "/box/" + id));
}
