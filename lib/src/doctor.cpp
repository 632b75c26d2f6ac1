// `box doctor`: can this host run the kit? Each check tries the real thing
// where it can (unshare in a throw-away child) rather than guessing.
#include <dlfcn.h>
#include <sched.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "box/cgroup_layout.hpp"
#include "box/commands.hpp"
#include "box/nftables.hpp"
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

// Forks a child that runs `work` in a network namespace of its own; true if
// it did not throw.
bool in_new_netns(const std::function<void()>& work) {
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        try {
            if (::unshare(CLONE_NEWNET) != 0) _exit(1);
            work();
            _exit(0);
        } catch (...) {
            _exit(1);
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Check kernel_check() {
    struct utsname u {};
    uname(&u);
    bool ok = kernel_version(u.release) >= std::pair{5, 4};
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

// The layout box's stage 2 will pick from, and each hierarchy's controllers.
std::vector<Check> cgroup_checks() {
    CgroupLayout layout = detect_cgroup_layout();
    std::vector<Check> out;
    std::string kind = layout.kind();
    std::string detail = kind == "v2"       ? "v2 (unified)"
                         : kind == "v1"     ? "v1 (legacy)"
                         : kind == "hybrid" ? "hybrid (v1 controllers, plus a cgroup2 mount)"
                                            : "none mounted";
    out.push_back({"cgroup layout", kind != "none", detail, "mount cgroup2: mount -t cgroup2 none /sys/fs/cgroup"});
    if (!layout.unified.empty()) {
        std::string ctl;
        for (const auto& c : layout.unified_controllers) ctl += (ctl.empty() ? "" : " ") + c;
        out.push_back({"cgroup2 " + layout.unified, true, ctl.empty() ? "(no controllers)" : ctl, ""});
    }
    std::map<std::string, std::string> by_mount;  // co-mounted controllers on one line
    for (const auto& [controller, mount] : layout.v1)
        by_mount[mount] += (by_mount[mount].empty() ? "" : ",") + controller;
    for (const auto& [mount, controllers] : by_mount) out.push_back({"cgroup v1 " + mount, true, controllers, ""});
    const std::set<std::string> needed = {"cpu", "memory", "pids"};
    bool v2 = layout.v2_has(needed), v1 = layout.v1_has(needed);
    out.push_back({"cgroup controllers", v2 || v1,
                   v2 ? "box uses cgroup v2 (memory, cpu, pids)"
                   : v1 ? "box uses cgroup v1 (memory, cpu, pids)"
                        : "no hierarchy offers memory, cpu and pids",
                   "enable the missing controllers (on v2: in the root's cgroup.subtree_control)"});
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
    // Chapter 5: seccomp filters (the kernel's "Seccomp:" line says it has them) and the
    // library that compiles them, which box loads with dlopen.
    bool seccomp = try_read_file("/proc/self/status").value_or("").find("\nSeccomp:") != std::string::npos;
    void* lib = seccomp ? dlopen("libseccomp.so.2", RTLD_LAZY | RTLD_LOCAL) : nullptr;
    checks.push_back({"seccomp", seccomp && lib,
                      !seccomp ? "the kernel has no seccomp filters" : lib ? "filters, and libseccomp.so.2" : "no libseccomp.so.2",
                      !seccomp ? "enable CONFIG_SECCOMP_FILTER in the kernel" : "apt-get install libseccomp2"});
    // Chapter 7: libnftables (loaded with dlopen) and the kernel's nf_tables, tried
    // for real: a table made in a throw-away network namespace.
    bool nft_lib = dlopen("libnftables.so.1", RTLD_LAZY | RTLD_LOCAL) != nullptr;
    bool nft_kernel = nft_lib && in_new_netns([] { nft("add table ip box-doctor"); });
    checks.push_back({"nftables (NAT)", nft_kernel,
                      !nft_lib ? "no libnftables.so.1" : nft_kernel ? "libnftables.so.1, a table made" : "the kernel refused a table",
                      nft_lib ? "the kernel needs nf_tables: modprobe nf_tables" : "apt-get install libnftables1 nftables"});
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
