// Stage 1, black-box: what the kernel shows inside a container started with
// `box run --rootfs`. Values are random per run, so answers cannot be
// hard-coded; each test checks what the kernel and the files say.
#include <catch2/catch.hpp>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "harness.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {

std::string host_hostname() {
    char buf[HOST_NAME_MAX + 1] = {};
    gethostname(buf, sizeof buf);
    return buf;
}

std::string ns_link(const std::string& pid, const std::string& ns) {
    return fs::read_symlink("/proc/" + pid + "/ns/" + ns).string();
}

}  // namespace

TEST_CASE("the hostname inside is the one asked for, and the host's is unchanged", "[stage1][uts]") {
    Sandbox sb;
    std::string name = random_name("web", 6);
    std::string before = host_hostname();
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-h", name, "sh", "-c",
                     "hostname; cat /proc/sys/kernel/hostname"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(lines(r.out) == std::vector<std::string>{name, name});
    CHECK(host_hostname() == before);
}

TEST_CASE("-h takes what docker and the kernel take: host_ubuntu, 64 bytes", "[stage1][uts]") {
    Sandbox sb;
    for (std::string name : {std::string("host_ubuntu"), std::string(64, 'x')}) {
        auto r = sb.box({"run", "--rootfs", base_rootfs(), "-h", name, "cat", "/proc/sys/kernel/hostname"});
        BOX_SHOW(r);
        REQUIRE(r.status == 0);
        CHECK(trim(r.out) == name);
    }
}

TEST_CASE("without -h the hostname is a fresh random id, like docker's", "[stage1][uts]") {
    Sandbox sb;
    auto a = sb.box({"run", "--rootfs", base_rootfs(), "hostname"});
    auto b = sb.box({"run", "--rootfs", base_rootfs(), "hostname"});
    BOX_SHOW(a);
    REQUIRE(a.status == 0);
    REQUIRE(b.status == 0);
    CHECK(std::regex_match(trim(a.out), std::regex("[0-9a-f]{12}")));
    CHECK(trim(a.out) != trim(b.out));
    CHECK(trim(a.out) != host_hostname());
}

TEST_CASE("the command is PID 1 and /proc lists only the container's processes", "[stage1][pid]") {
    Sandbox sb;
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "sh", "-c",
                     "echo $$; for p in /proc/[0-9]*; do echo ${p#/proc/}; done"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(!l.empty());
    CHECK(l[0] == "1");
    // PID 1 (the shell) and the short-lived `for` loop have no helpers: the
    // only process in the namespace is the shell itself.
    std::vector<std::string> pids(l.begin() + 1, l.end());
    CHECK(pids == std::vector<std::string>{"1"});
}

TEST_CASE("the container's mount table holds only its own mounts", "[stage1][mnt]") {
    Sandbox sb;
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "cat", "/proc/self/mountinfo"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    std::set<std::string> points;
    std::string root_source, sys_options;
    for (const auto& line : lines(r.out)) {
        std::istringstream ss(line);
        std::string id, parent, dev, root, point, options;
        ss >> id >> parent >> dev >> root >> point >> options;
        // From stage 5 on docker's masked and read-only paths are mounts of their own.
        if (box_stage() >= 5 && (point.rfind("/proc/", 0) == 0 || point.rfind("/sys/", 0) == 0)) continue;
        points.insert(point);
        if (point == "/") root_source = root;
        if (point == "/sys") sys_options = options;
    }
    CHECK(sys_options.rfind("ro,", 0) == 0);  // /sys is read-only
    std::set<std::string> expected = {"/", "/proc", "/sys", "/dev", "/dev/pts", "/dev/shm"};
    // From stage 4 on a container also has docker's three files of its own.
    if (box_stage() >= 4) expected.insert({"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"});
    CHECK(points == expected);
    // "/" is the rootfs we gave, not the host's root.
    CHECK(root_source == base_rootfs());
    // And the host's own mounts are still all there.
    CHECK(read_host_file("/proc/self/mountinfo").find(" /sys/fs/cgroup ") != std::string::npos);
}

TEST_CASE("every namespace box creates differs from the host's", "[stage1][ns]") {
    Sandbox sb;
    const std::vector<std::string> kinds = {"uts", "pid", "mnt", "ipc", "net", "cgroup"};
    std::string script;
    for (const auto& k : kinds) script += "readlink /proc/self/ns/" + k + "; ";
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "sh", "-c", script});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == kinds.size());
    for (size_t i = 0; i < kinds.size(); ++i) {
        INFO("namespace " << kinds[i]);
        CHECK(l[i] != ns_link("self", kinds[i]));
        CHECK(l[i].rfind(kinds[i] + ":[", 0) == 0);
    }
}

TEST_CASE("a new network namespace has only lo, and lo is up", "[stage1][net]") {
    Sandbox sb;
    // --network none: stage 1's default, said out loud (from chapter 7 on the default is a bridge)
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "--network", "none", "sh", "-c",
                     "ls /sys/class/net; cat /sys/class/net/lo/flags; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo ping-ok"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto l = lines(r.out);
    REQUIRE(l.size() == 3);
    CHECK(l[0] == "lo");
    CHECK((std::stoul(l[1], nullptr, 16) & 1) == 1);  // IFF_UP
    CHECK(l[2] == "ping-ok");
}

TEST_CASE("--net host keeps the host's network namespace", "[stage1][net]") {
    Sandbox sb;
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "--net", "host", "readlink", "/proc/self/ns/net"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(trim(r.out) == ns_link("self", "net"));
    auto uts = sb.box({"run", "--rootfs", base_rootfs(), "--net", "host", "readlink", "/proc/self/ns/uts"});
    CHECK(trim(uts.out) != ns_link("self", "uts"));  // only the network is shared
}

TEST_CASE("IPC objects made on the host are invisible inside", "[stage1][ipc]") {
    Sandbox sb;
    key_t key = static_cast<key_t>(random_int(100000, 2000000000));
    int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    REQUIRE(id >= 0);
    struct Remove {
        int id;
        ~Remove() { shmctl(id, IPC_RMID, nullptr); }
    } remove{id};
    auto keys_in = [](const std::string& table) {
        std::set<std::string> keys;
        for (const auto& line : lines(table)) {
            std::istringstream ss(line);
            std::string k;
            ss >> k;
            keys.insert(k);
        }
        return keys;
    };
    REQUIRE(keys_in(read_host_file("/proc/sysvipc/shm")).count(std::to_string(key)) == 1);
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "cat", "/proc/sysvipc/shm"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(keys_in(r.out).count(std::to_string(key)) == 0);
    CHECK(lines(r.out).size() == 1);  // the header line only: a fresh IPC namespace
}

TEST_CASE("the chroot escape that frees a chrooted process stays inside the container", "[stage1][mnt]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string marker = random_name("marker-");
    std::ofstream(rootfs + "/" + marker) << "";
    std::string exe = fs::read_symlink("/proc/self/exe").parent_path() / "chroot-escape";
    fs::copy_file(exe, rootfs + "/escape");
    // pivot_root plus a detached old root leave nothing above "/" to climb to.
    auto r = sb.box({"run", "--rootfs", rootfs, "/escape"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    auto names = lines(r.out);
    CHECK(std::find(names.begin(), names.end(), marker) != names.end());
    CHECK(std::find(names.begin(), names.end(), "bin") != names.end());
}
