// Unit tests of lib/: sys::clone() with a cgroup2 directory to be born in.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "box/cgroup_layout.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "harness.hpp"

namespace fs = std::filesystem;

namespace {

// Clones with `dir` as the cgroup2 to be born in; the child's 0:: line of
// /proc/self/cgroup, as it saw it, and what the parent's `dir` became.
std::pair<std::string, std::string> born_in(std::string dir) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = box::sys::clone(SIGCHLD, &dir);
    if (pid == 0) {
        std::string line;
        for (const auto& m : box::parse_proc_cgroup(box::read_file("/proc/self/cgroup")))
            if (m.unified()) line = m.path;
        ssize_t n = write(fds[1], line.data(), line.size());
        _exit(n < 0);
    }
    close(fds[1]);
    char buf[512];
    ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(status == 0);
    return {std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), dir};
}

}  // namespace

TEST_CASE("clone: a child born in a cgroup2 directory; a plain clone where the kernel cannot", "[lib][clone]") {
    // Not a cgroup2 directory: a plain clone, and the caller is told so.
    std::string plain = boxtest::random_name("/tmp/not-a-cgroup-");
    fs::create_directories(plain);
    auto [where, dir] = born_in(plain);
    CHECK(dir.empty());
    fs::remove(plain);

    box::CgroupLayout layout = box::detect_cgroup_layout();
    if (layout.unified.empty() || geteuid() != 0) {
        WARN("no cgroup2 hierarchy to be born in here (or not root): CLONE_INTO_CGROUP untried");
        return;
    }
    std::string own = layout.unified + "/" + boxtest::random_name("box-clone-test-");
    REQUIRE(mkdir(own.c_str(), 0755) == 0);
    auto [inside, kept] = born_in(own);
    CHECK(kept == own);
    CHECK(inside == own.substr(layout.unified.size()));  // born there: nobody moved it
    CHECK(rmdir(own.c_str()) == 0);
}
