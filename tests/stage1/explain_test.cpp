// Stage 1, black-box: --explain narrates the kernel steps that really happen.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace boxtest;

namespace {
// The index of the first trace line containing `text`, or -1.
long find_line(const std::vector<std::string>& l, const std::string& text) {
    for (size_t i = 0; i < l.size(); ++i)
        if (l[i].find(text) != std::string::npos) return static_cast<long>(i);
    return -1;
}
}  // namespace

TEST_CASE("--explain prints each kernel step, in order, with its real arguments", "[stage1][explain]") {
    Sandbox sb;
    std::string name = random_name("x", 6);
    auto r = sb.box({"--explain", "run", "--rootfs", base_rootfs(), "-h", name, "hostname"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    REQUIRE(trim(r.out) == name);  // what the trace claims did happen
    auto l = lines(r.err);
    long clone = find_line(l, "clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWNET|SIGCHLD) = ");
    long priv = find_line(l, "mount(NULL, \"/\", NULL, MS_REC|MS_PRIVATE, NULL) = 0");
    long host = find_line(l, "sethostname(\"" + name + "\") = 0");
    long bind = find_line(l, "mount(\"" + base_rootfs() + "\", \"" + base_rootfs() + "\", NULL, MS_BIND|MS_REC, NULL) = 0");
    long proc = find_line(l, "mount(\"proc\", \"" + base_rootfs() + "/proc\", \"proc\", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) = 0");
    long pivot = find_line(l, "pivot_root(\".\", \".\") = 0");
    long exec = find_line(l, "execve(\"/bin/hostname\", [\"hostname\"], ");
    CHECK(clone >= 0);
    CHECK(priv > clone);
    CHECK(host > priv);
    CHECK(bind > priv);
    CHECK(proc > bind);
    CHECK(pivot > proc);
    CHECK(exec > pivot);
    // The child's steps are made by the container's first process: PID 1.
    if (host >= 0) CHECK(l[static_cast<size_t>(host)].rfind("[pid 1] ", 0) == 0);

    // Without --explain there is no trace at all.
    auto quiet = sb.box({"run", "--rootfs", base_rootfs(), "-h", name, "hostname"});
    CHECK(quiet.status == 0);
    CHECK(quiet.err.empty());
}
