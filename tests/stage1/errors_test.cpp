// Stage 1, black-box: bad input gets one clear line and docker's exit status,
// and leaves nothing behind (the Sandbox checks mounts and processes). Each
// test also runs a good container, so an empty stub cannot pass it.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "harness.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {
// The control: box does run a container on the base rootfs.
void require_a_good_run(const Sandbox& sb) {
    std::string word = random_name("ok-");
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "echo", word});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    REQUIRE(trim(r.out) == word);
}
}  // namespace

TEST_CASE("a rootfs that does not exist is refused with exit 125", "[stage1][errors]") {
    Sandbox sb;
    std::string missing = sb.dir() + "/" + random_name("no-such-rootfs-");
    auto r = sb.box({"run", "--rootfs", missing, "true"});
    REQUIRE_ONE_ERROR_LINE(r, 125);
    CHECK(r.err.find(missing) != std::string::npos);
    CHECK(r.err.find("No such file or directory") != std::string::npos);
    require_a_good_run(sb);
}

TEST_CASE("a command the rootfs lacks exits 127 and names the command", "[stage1][errors]") {
    Sandbox sb;
    std::string cmd = random_name("no-such-cmd-");
    auto r = sb.box({"run", "--rootfs", base_rootfs(), cmd});
    REQUIRE_ONE_ERROR_LINE(r, 127);
    CHECK(r.err.find(cmd) != std::string::npos);
    CHECK(r.err.find("not found") != std::string::npos);
    auto path = sb.box({"run", "--rootfs", base_rootfs(), "/bin/" + cmd});
    REQUIRE_ONE_ERROR_LINE(path, 127);
    require_a_good_run(sb);
}

TEST_CASE("a file that cannot be executed exits 126", "[stage1][errors]") {
    Sandbox sb;
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "/etc/passwd"});
    REQUIRE_ONE_ERROR_LINE(r, 126);
    CHECK(r.err.find("/etc/passwd") != std::string::npos);
    CHECK(r.err.find("permission denied") != std::string::npos);
    auto dir = sb.box({"run", "--rootfs", base_rootfs(), "/etc"});
    REQUIRE_ONE_ERROR_LINE(dir, 126);
    require_a_good_run(sb);
}

TEST_CASE("a user the container does not know is refused", "[stage1][errors][user]") {
    Sandbox sb;
    std::string user = random_name("nobody-");
    auto r = sb.box({"run", "--rootfs", base_rootfs(), "-u", user, "true"});
    REQUIRE_ONE_ERROR_LINE(r, 125);
    CHECK(r.err.find("unable to find user " + user) != std::string::npos);
    require_a_good_run(sb);
}

TEST_CASE("bad flags and values are refused before anything starts", "[stage1][errors]") {
    Sandbox sb;
    const std::vector<std::vector<std::string>> bad = {
        {"run", "--rootfs", base_rootfs(), "--no-such-flag", "true"},
        {"run", "--rootfs", base_rootfs(), "--net", "bogus", "true"},
        {"run", "--rootfs", base_rootfs(), "-w", "relative/dir", "true"},
        {"run", "--rootfs", base_rootfs(), "-u", "a:b:c", "true"},
        {"run", "--rootfs", base_rootfs(), "-h", std::string(65, 'h'), "true"},  // over the kernel's 64 bytes
        {"run", "--rootfs", base_rootfs(), "-h", "two\nlines", "true"},          // a second line of /etc/hosts
        {"run", "--rootfs", base_rootfs(), "--userns-range", "0:65536", "true"},
        {"run", "--rootfs", base_rootfs()},
        {"run"},
    };
    for (const auto& args : bad) {
        auto r = sb.box(args);
        std::string shown = "box";
        for (const auto& a : args) shown += " " + a;
        INFO(shown);
        REQUIRE_ONE_ERROR_LINE(r, 125);
    }
    require_a_good_run(sb);
}

TEST_CASE("a rootfs that is a file, or the host's /, is refused", "[stage1][errors]") {
    Sandbox sb;
    auto file = sb.box({"run", "--rootfs", "/etc/hostname", "true"});
    REQUIRE_ONE_ERROR_LINE(file, 125);
    auto host = sb.box({"run", "--rootfs", "/", "true"});
    REQUIRE_ONE_ERROR_LINE(host, 125);
    require_a_good_run(sb);
}
