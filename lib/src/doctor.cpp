// `box doctor`: can this host run the kit? Each check tries the real thing
// where it can (unshare in a throw-away child) rather than guessing.
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>

#include "box/commands.hpp"
#include "box/util.hpp"

namespace box {
namespace {

struct Check {
    std::string name;
    bool ok;
    std::string detail;
    std::string fix;  // shown when !ok
};

// Forks a child that calls unshare(flag); true if it succeeded.
bool can_unshare(int flag) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) _exit(::unshare(flag) == 0 ? 0 : 1);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool on_path(const std::string& name) {
    const char* path = getenv("PATH");
    for (const auto& dir : split(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin", ':'))
        if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    for (const char* dir : {"/usr/sbin", "/sbin"})  // root's tools, even if PATH lacks them
        if (access((std::string(dir) + "/" + name).c_str(), X_OK) == 0) return true;
    return false;
}

Check kernel_check() {
    struct utsname u {};
    uname(&u);
    int major = 0, minor = 0;
    sscanf(u.release, "%d.%d", &major, &minor);
    bool ok = major > 5 || (major == 5 && minor >= 4);
    return {"kernel", ok, std::string(u.sysname) + " " + u.release, "box needs Linux 5.4 or newer"};
}

std::vector<Check> namespace_checks() {
    struct Ns { const char* name; int flag; const char* fix; };
    const Ns all[] = {
        {"uts", CLONE_NEWUTS, "enable CONFIG_UTS_NS in the kernel"},
        {"pid", CLONE_NEWPID, "enable CONFIG_PID_NS in the kernel"},
        {"mnt", CLONE_NEWNS, "run box as root (or with CAP_SYS_ADMIN)"},
        {"ipc", CLONE_NEWIPC, "enable CONFIG_IPC_NS in the kernel"},
        {"net", CLONE_NEWNET, "enable CONFIG_NET_NS in the kernel"},
        {"cgroup", CLONE_NEWCGROUP, "enable CONFIG_CGROUPS and a kernel >= 4.6"},
        {"user", CLONE_NEWUSER,
         "set sysctl user.max_user_namespaces above 0 (and kernel.unprivileged_userns_clone=1 where it exists)"},
    };
    std::vector<Check> out;
    for (const auto& ns : all) {
        bool ok = can_unshare(ns.flag);
        out.push_back({std::string("namespace ") + ns.name, ok,
                       ok ? "unshare() works" : "unshare() refused", ns.fix});
    }
    return out;
}

// Each cgroup hierarchy mounted, from /proc/self/mountinfo: mount point →
// controllers (v1: from the super options; v2: from cgroup.controllers).
std::vector<Check> cgroup_checks() {
    std::map<std::string, std::string> v1, v2;
    auto info = try_read_file("/proc/self/mountinfo").value_or("");
    for (const auto& line : split(info, '\n')) {
        auto dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        auto left = split(line.substr(0, dash), ' ');
        auto right = split(line.substr(dash + 3), ' ');
        if (left.size() < 5 || right.size() < 3) continue;
        const std::string& mnt = left[4];
        if (right[0] == "cgroup2") {
            auto c = try_read_file(mnt + "/cgroup.controllers").value_or("");
            while (!c.empty() && c.back() == '\n') c.pop_back();
            v2[mnt] = c.empty() ? "(no controllers)" : c;
        } else if (right[0] == "cgroup") {
            std::string ctl;
            for (const auto& opt : split(right[2], ','))
                if (opt != "rw" && opt != "ro" && !starts_with(opt, "relatime") && opt != "nosuid" &&
                    opt != "nodev" && opt != "noexec" && !starts_with(opt, "release_agent") &&
                    opt != "clone_children" && opt != "xattr" && opt != "nsdelegate")
                    ctl += (ctl.empty() ? "" : ",") + opt;
            v1[mnt] = ctl;
        }
    }
    std::vector<Check> out;
    std::string layout = v1.empty() && !v2.empty() ? "v2 (unified)"
                         : !v1.empty() && v2.empty() ? "v1 (legacy)"
                         : !v1.empty() && !v2.empty() ? "hybrid (v1 controllers, plus a cgroup2 mount)"
                                                      : "none mounted";
    out.push_back({"cgroup layout", !v1.empty() || !v2.empty(), layout,
                   "mount cgroup2: mount -t cgroup2 none /sys/fs/cgroup"});
    std::set<std::string> have;
    for (const auto& [mnt, ctl] : v2) {
        out.push_back({"cgroup2 " + mnt, true, ctl, ""});
        for (const auto& c : split(ctl, ' ')) have.insert(c);
    }
    for (const auto& [mnt, ctl] : v1) {
        out.push_back({"cgroup v1 " + mnt, true, ctl, ""});
        for (const auto& c : split(ctl, ',')) have.insert(c);
    }
    std::string missing;
    for (const char* c : {"memory", "cpu", "pids"})
        if (!have.count(c)) missing += (missing.empty() ? "" : ", ") + std::string(c);
    out.push_back({"cgroup controllers", missing.empty(),
                   missing.empty() ? "memory, cpu and pids available" : "missing: " + missing,
                   "enable the missing controllers (kernel command line cgroup_enable=...)"});
    return out;
}

}  // namespace

int run_doctor() {
    std::vector<Check> checks;
    checks.push_back({"root", geteuid() == 0, geteuid() == 0 ? "running as root" : "not root",
                      "run box as root (sudo) until the rootless stage"});
    checks.push_back(kernel_check());
    for (auto& c : namespace_checks()) checks.push_back(std::move(c));
    for (auto& c : cgroup_checks()) checks.push_back(std::move(c));
    auto fss = try_read_file("/proc/filesystems").value_or("");
    bool overlay = fss.find("\toverlay\n") != std::string::npos;
    checks.push_back({"overlayfs", overlay, overlay ? "in /proc/filesystems" : "not in /proc/filesystems",
                      "modprobe overlay"});
    bool ipt = on_path("iptables"), nft = on_path("nft");
    checks.push_back({"NAT tool", ipt || nft,
                      std::string(ipt ? "iptables " : "") + (nft ? "nft" : "") + (ipt || nft ? "" : "neither iptables nor nft"),
                      "apt-get install iptables"});
    bool busybox = false;
    for (const char* p : {"/bin/busybox", "/usr/bin/busybox"}) busybox = busybox || exists(p);
    checks.push_back({"busybox-static", busybox, busybox ? "found" : "not found",
                      "apt-get install busybox-static"});

    size_t width = 0;
    for (const auto& c : checks) width = std::max(width, c.name.size());
    printf("%-*s  %-6s  %s\n", static_cast<int>(width), "CHECK", "STATUS", "DETAIL");
    bool all_ok = true;
    for (const auto& c : checks) {
        printf("%-*s  %-6s  %s\n", static_cast<int>(width), c.name.c_str(), c.ok ? "ok" : "FAIL",
               c.detail.c_str());
        if (!c.ok) {
            printf("%-*s  %-6s  fix: %s\n", static_cast<int>(width), "", "", c.fix.c_str());
            all_ok = false;
        }
    }
    printf("\n%s\n", all_ok ? "All checks passed." : "Some checks failed: see the fix lines above.");
    return all_ok ? 0 : 1;
}

}  // namespace box
