// Black-box tests of the commands lib/ provides in every stage: the base
// rootfs, box doctor, and the command line's errors.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "harness.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

TEST_CASE("base-rootfs makes a busybox root filesystem with a minimal /etc", "[lib][rootfs]") {
    Sandbox sb;
    std::string dir = sb.dir() + "/" + random_name("base-");
    auto r = sb.box({"base-rootfs", dir});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(fs::is_regular_file(dir + "/bin/busybox"));
    CHECK(fs::read_symlink(dir + "/bin/sh") == "/bin/busybox");
    for (const char* f : {"passwd", "group", "hosts", "resolv.conf", "os-release"})
        CHECK(fs::is_regular_file(dir + "/etc/" + f));
    CHECK(read_host_file(dir + "/etc/passwd").rfind("root:x:0:0:", 0) == 0);
    CHECK(read_host_file(dir + "/etc/os-release").find("ID=box") != std::string::npos);
    struct stat st {};
    REQUIRE(stat((dir + "/tmp").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 01777);
    // Nothing beside it: it was built under a temporary name and renamed.
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(sb.dir())) entries += e.path().filename() != "state";
    CHECK(entries == 1);
}

TEST_CASE("base-rootfs refuses to overwrite, and leaves nothing when it fails", "[lib][rootfs][errors]") {
    Sandbox sb;
    std::string dir = sb.dir() + "/existing";
    fs::create_directories(dir);
    auto r = sb.box({"base-rootfs", dir});
    REQUIRE_ONE_ERROR_LINE(r, 1);
    CHECK(r.err.find("already exists") != std::string::npos);
    std::ofstream(sb.dir() + "/afile") << "x";
    auto bad = sb.box({"base-rootfs", sb.dir() + "/afile/sub"});
    REQUIRE_ONE_ERROR_LINE(bad, 1);
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(sb.dir())) entries += e.path().filename() != "state";
    CHECK(entries == 2);  // "existing" and "afile", no half-made rootfs
}

TEST_CASE("box doctor reports the cgroup layout this host really has", "[lib][doctor]") {
    Sandbox sb;
    auto r = sb.box({"doctor"});
    BOX_SHOW(r);
    bool v1 = false, v2 = false;
    for (const auto& line : lines(read_host_file("/proc/self/mountinfo"))) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::string type = line.substr(dash + 3, line.find(' ', dash + 3) - dash - 3);
        v1 = v1 || type == "cgroup";
        v2 = v2 || type == "cgroup2";
    }
    std::string expected = v1 && v2 ? "hybrid" : v2 ? "v2 (unified)" : v1 ? "v1 (legacy)" : "none mounted";
    // And which one box will use: v2 only if cgroup2's root offers the controllers.
    std::string controllers;
    for (const auto& line : lines(read_host_file("/proc/self/mountinfo")))
        if (line.find(" - cgroup2 ") != std::string::npos) {
            std::istringstream ss(line);
            std::string id, parent, dev, root, mnt;
            ss >> id >> parent >> dev >> root >> mnt;
            controllers = read_host_file(mnt + "/cgroup.controllers");
        }
    bool v2_usable = controllers.find("memory") != std::string::npos && controllers.find("pids") != std::string::npos;
    CHECK(r.out.find(v2_usable ? "box uses cgroup v2" : "box uses cgroup v1") != std::string::npos);
    bool found = false;
    for (const auto& line : lines(r.out))
        if (line.rfind("cgroup layout", 0) == 0) found = line.find(expected) != std::string::npos;
    CHECK(found);
    for (const char* ns : {"uts", "pid", "mnt", "ipc", "net", "cgroup", "user"}) {
        bool ok = false;
        for (const auto& line : lines(r.out))
            if (line.rfind(std::string("namespace ") + ns + " ", 0) == 0) ok = line.find(" ok ") != std::string::npos;
        CHECK(ok);
    }
    // Exit 0 exactly when no line failed.
    CHECK((r.status == 0) == (r.out.find("FAIL") == std::string::npos));
}

TEST_CASE("usage errors are one line and exit 125; help and version exit 0", "[lib][cli]") {
    Sandbox sb;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--log-level", "loud", "doctor"}, {"doctor", "--no-such-flag"}, {"base-rootfs", "a", "b", "c"}}) {
        auto r = sb.box(args);
        REQUIRE_ONE_ERROR_LINE(r, 125);
    }
    // An unknown command: one line, and 1 as docker's.
    auto unknown = sb.box({"no-such-command"});
    REQUIRE_ONE_ERROR_LINE(unknown, 1);
    CHECK(unknown.err.find("unknown command: box no-such-command") != std::string::npos);
    auto help = sb.box({"--help"});
    CHECK(help.status == 0);
    CHECK(help.out.find("run") != std::string::npos);
    auto run_help = sb.box({"run", "--help"});
    CHECK(run_help.status == 0);
    CHECK(run_help.out.find("--rootfs") != std::string::npos);
    auto version = sb.box({"--version"});
    CHECK(version.status == 0);
    CHECK(version.out.rfind("box ", 0) == 0);
}

TEST_CASE("box alone prints docker's usage screen and exits 0", "[lib][cli]") {
    Sandbox sb;
    auto r = sb.box({});
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    auto out = lines(r.out);
    REQUIRE(!out.empty());
    CHECK(out[0] == "Usage:  box [OPTIONS] COMMAND");
    // docker's sections, in docker's order, and every command once.
    size_t common = r.out.find("\nCommon Commands:\n"), other = r.out.find("\nCommands:\n"),
           global = r.out.find("\nGlobal Options:\n");
    CHECK(common != std::string::npos);
    CHECK(other != std::string::npos);
    CHECK(global != std::string::npos);
    CHECK(common < other);
    CHECK(other < global);
    CHECK(r.out.find("\n  run ") < other);          // a common command
    CHECK(r.out.find("\n  doctor ") > other);       // the others after, sorted
    CHECK(r.out.find("\n  base-rootfs ") < r.out.find("\n  doctor "));
    CHECK(r.out.find("__") == std::string::npos);   // the shim's helpers are not for people
    CHECK(sb.box({"--help"}).out == r.out);        // as `docker --help`
}

TEST_CASE("box version shows the client and the engine, and takes --format", "[lib][cli]") {
    Sandbox sb;
    auto r = sb.box({"version"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    CHECK(r.out.rfind("Client:\n Version:", 0) == 0);
    CHECK(r.out.find("\nServer: box Engine\n Engine:\n") != std::string::npos);
    struct utsname u {};
    uname(&u);
    CHECK(r.out.find(std::string("Kernel:           ") + u.release) != std::string::npos);
    auto f = sb.box({"version", "--format", "{{.Server.KernelVersion}}|{{.Client.Os}}"});
    BOX_SHOW(f);
    CHECK(trim(f.out) == std::string(u.release) + "|linux");
    auto j = sb.box({"version", "--format", "{{json .}}"});
    CHECK(nlohmann::json::parse(j.out)["Server"]["RootDir"] == sb.dir() + "/state");
    REQUIRE_ONE_ERROR_LINE(sb.box({"version", "--format", "{{.Nope}}"}), 1);
}
