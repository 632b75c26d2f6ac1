// Unit tests of lib/: telling v1, v2 and hybrid cgroup layouts apart.
#include <catch2/catch.hpp>

#include "box/cgroup_layout.hpp"

using namespace box;

namespace {
const std::string kCgroups =
    "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
    "cpuset\t3\t1\t1\ncpu\t1\t1\t1\ncpuacct\t1\t1\t1\nmemory\t4\t20\t1\npids\t8\t1\t1\nhugetlb\t0\t1\t1\n";

std::string mount(int id, const std::string& point, const std::string& type, const std::string& opts) {
    return std::to_string(id) + " 1 0:" + std::to_string(id) + " / " + point + " rw,relatime - " + type + " " +
           type + " " + opts + "\n";
}
}  // namespace

TEST_CASE("a pure cgroup v2 host is v2, with the root's controllers", "[lib][cgroup]") {
    std::string mi = mount(30, "/sys/fs/cgroup", "cgroup2", "rw,nsdelegate");
    auto l = parse_cgroup_layout(mi, kCgroups, "0::/user.slice\n",
                                 [](const std::string&) { return std::string("cpuset cpu io memory pids\n"); });
    CHECK(l.kind() == "v2");
    CHECK(l.unified == "/sys/fs/cgroup");
    CHECK(l.v2_has({"cpu", "memory", "pids"}));
    CHECK_FALSE(l.v2_has({"hugetlb"}));
}

TEST_CASE("v1 hierarchies map each controller, co-mounted ones to one place", "[lib][cgroup]") {
    std::string mi = mount(31, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct") +
                     mount(32, "/sys/fs/cgroup/memory", "cgroup", "rw,memory") +
                     mount(33, "/sys/fs/cgroup/pids", "cgroup", "rw,pids") +
                     mount(34, "/sys/fs/cgroup/systemd", "cgroup", "rw,xattr,name=systemd");
    auto l = parse_cgroup_layout(mi, kCgroups, "4:memory:/user/1000\n1:cpu,cpuacct:/\n",
                                 [](const std::string&) { return std::string(); });
    CHECK(l.kind() == "v1");
    CHECK(l.v1.at("cpu") == "/sys/fs/cgroup/cpu,cpuacct");
    CHECK(l.v1.at("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct");
    CHECK(l.v1.count("name=systemd") == 0);
    CHECK(l.self_v1.at("memory") == "/user/1000");
    CHECK(l.self_v1.at("cpuacct") == "/");
    CHECK(l.v1_has({"cpu", "memory", "pids"}));
}

TEST_CASE("a hybrid host whose cgroup2 holds only hugetlb is not usable as v2", "[lib][cgroup]") {
    std::string mi = mount(31, "/sys/fs/cgroup/memory", "cgroup", "rw,memory") +
                     mount(32, "/sys/fs/cgroup/unified", "cgroup2", "rw");
    auto l = parse_cgroup_layout(mi, kCgroups, "", [](const std::string&) { return std::string("hugetlb\n"); });
    CHECK(l.kind() == "hybrid");
    CHECK_FALSE(l.v2_has({"memory"}));
    CHECK(l.v1_has({"memory"}));
}
