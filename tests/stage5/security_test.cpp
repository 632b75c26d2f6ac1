// Stage 5, black-box: what a container's root may do, as the kernel reports
// it (/proc/self/status, the errors of system calls, /proc/self/mountinfo,
// the devices cgroup), and what a hostile image tries and fails to do.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support.hpp"

using namespace boxtest;
namespace fs = std::filesystem;

namespace {

// The calls the issue (and docker's default profile) refuses, and how.
const std::vector<std::string> kRefused = {
    "keyctl", "add_key", "request_key", "kexec_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "settimeofday", "clock_settime", "bpf", "perf_event_open",
    "userfaultfd", "open_by_handle_at", "mount", "umount2", "pivot_root", "setns", "unshare", "clone"};

std::vector<std::string> probe_command(std::vector<std::string> names) {
    names.insert(names.begin(), "/fixtures/syscall-probe");
    return names;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("a container's root has docker's capabilities; another --user has none but the bounding set",
          "[stage5][caps]") {
    Sandbox sb;
    import_busybox(sb);
    auto root = container_status(sb, {});
    CHECK(root["CapBnd"] == kDockerCaps);
    CHECK(root["CapPrm"] == kDockerCaps);
    CHECK(root["CapEff"] == kDockerCaps);
    CHECK(root["CapInh"] == "0000000000000000");
    CHECK(root["CapAmb"] == "0000000000000000");

    auto user = container_status(sb, {"-u", "1000"});
    CHECK(user["Uid"].rfind("1000", 0) == 0);
    CHECK(user["CapBnd"] == kDockerCaps);  // docker's rule for a non-root --user
    CHECK(user["CapPrm"] == "0000000000000000");
    CHECK(user["CapEff"] == "0000000000000000");

    // What is missing is missing: without NET_ADMIN the container's root
    // cannot take its own loopback down; with --cap-add it can.
    auto denied = sb.box({"run", "--rm", "busybox", "ip", "link", "set", "lo", "down"});
    BOX_SHOW(denied);
    CHECK(denied.status != 0);
    CHECK(denied.err.find("ermitted") != std::string::npos);
    run_ok(sb, {"--cap-add", "NET_ADMIN"}, {"ip", "link", "set", "lo", "down"});
}

TEST_CASE("--cap-add, --cap-drop and --privileged follow docker's rules", "[stage5][caps]") {
    Sandbox sb;
    import_busybox(sb);
    CHECK(container_status(sb, {"--cap-drop", "ALL", "--cap-add", "net_admin"})["CapEff"] == "0000000000001000");
    CHECK(container_status(sb, {"--cap-drop", "all"})["CapBnd"] == "0000000000000000");
    // CHOWN (bit 0) and KILL (bit 5) dropped, SYS_TIME (bit 25) added.
    CHECK(container_status(sb, {"--cap-drop", "CAP_CHOWN", "--cap-drop", "kill", "--cap-add", "SYS_TIME"})["CapEff"] ==
          "00000000aa0425da");
    std::string host = host_bounding_set();
    CHECK(container_status(sb, {"--cap-add", "ALL"})["CapEff"] == host);
    auto privileged = container_status(sb, {"--privileged"});
    CHECK(privileged["CapEff"] == host);
    CHECK(privileged["Seccomp"] == "0");

    // A dropped capability's effect: chown fails without CAP_CHOWN.
    auto chown = sb.box({"run", "--rm", "--cap-drop", "CHOWN", "busybox", "sh", "-c", "touch /x && chown 1 /x"});
    BOX_SHOW(chown);
    CHECK(chown.status != 0);
    run_ok(sb, {}, {"sh", "-c", "touch /x && chown 1 /x"});
}

TEST_CASE("the default seccomp profile refuses what docker's refuses", "[stage5][seccomp]") {
    Sandbox sb;
    import_busybox(sb);
    auto status = container_status(sb, {});
    CHECK(status["Seccomp"] == "2");  // a filter
    CHECK(status["NoNewPrivs"] == "0");

    std::vector<std::string> names = kRefused;
    names.push_back("clone3");
    names.push_back("getpid");
    auto got = probe_results(run_ok(sb, with_fixtures(), probe_command(names)));
    for (const auto& name : kRefused) {
        INFO(name);
        CHECK(got[name] == "EPERM");
    }
    CHECK(got["clone3"] == "ENOSYS");  // libc falls back to clone, which the filter can inspect
    CHECK(got["getpid"] == "ok");

    // Without the filter the same root may make a user namespace.
    auto unconfined = probe_results(run_ok(sb, with_fixtures({"--security-opt", "seccomp=unconfined"}),
                                           probe_command({"unshare", "clone"})));
    CHECK(unconfined["unshare"] == "ok");
    CHECK(unconfined["clone"] == "ok");
    CHECK(container_status(sb, {"--security-opt", "seccomp=unconfined"})["Seccomp"] == "0");
}

TEST_CASE("box compiles the default profile once: the cached program refuses those calls even to full root",
          "[stage5][seccomp]") {
    Sandbox sb;
    import_busybox(sb);
    run_ok(sb, {}, {"true"});
    std::string cache = sb.dir() + "/state/seccomp";
    REQUIRE(fs::is_directory(cache));
    std::vector<fs::path> programs;
    for (const auto& e : fs::directory_iterator(cache)) programs.push_back(e.path());
    REQUIRE(programs.size() == 1);
    struct stat before {};
    REQUIRE(::stat(programs[0].c_str(), &before) == 0);

    // A second container loads the same program: nothing compiled again.
    run_ok(sb, {}, {"true"});
    struct stat after {};
    REQUIRE(::stat(programs[0].c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    size_t count = 0;
    for (const auto& e : fs::directory_iterator(cache)) count += e.is_regular_file();
    CHECK(count == 1);

    // This test runs as the host's root with every capability: the calls
    // fail with something else than EPERM (their arguments are wrong) ...
    std::vector<std::string> argv = {fixture_path("syscall-probe")};
    std::vector<std::string> harmless = {"keyctl", "add_key", "request_key", "kexec_load", "init_module",
                                         "finit_module", "delete_module", "reboot", "swapon", "swapoff",
                                         "settimeofday", "clock_settime", "bpf", "perf_event_open",
                                         "userfaultfd", "mount", "umount2", "pivot_root", "setns"};
    argv.insert(argv.end(), harmless.begin(), harmless.end());
    argv.push_back("x32_getpid");
    auto bare = run(argv);
    BOX_SHOW(bare);
    REQUIRE(bare.status == 0);
    auto free = probe_results(bare.out);
    // ... and under box's program, every one is EPERM: the filter's doing, not a capability's.
    argv.insert(argv.begin() + 1, {"--load", programs[0].string()});
    auto filtered = run(argv);
    BOX_SHOW(filtered);
    REQUIRE(filtered.status == 0);
    auto refused = probe_results(filtered.out);
    for (const auto& name : harmless) {
        INFO(name);
        CHECK(free[name] != "EPERM");
        CHECK(refused[name] == "EPERM");
    }
    // An x32 call gets the kernel's own answer (ENOSYS where the kernel has
    // no x32, as here; the program then leaves x32's rules out), not a kill.
    CHECK(!free["x32_getpid"].empty());
    CHECK(refused["x32_getpid"] == free["x32_getpid"]);
}

TEST_CASE("--cap-add SYS_ADMIN opens the profile's mount rules, as docker's", "[stage5][seccomp]") {
    Sandbox sb;
    import_busybox(sb);
    auto denied = sb.box({"run", "--rm", "busybox", "mount", "-t", "tmpfs", "t", "/mnt"});
    CHECK(denied.status != 0);
    auto out = run_ok(sb, {"--cap-add", "SYS_ADMIN"}, {"sh", "-c", "mount -t tmpfs t /mnt && grep ' /mnt ' /proc/mounts"});
    CHECK(out.find(" /mnt tmpfs ") != std::string::npos);
}

TEST_CASE("a seccomp profile of docker's format: the test's own, and the one podman ships", "[stage5][seccomp]") {
    Sandbox sb;
    import_busybox(sb);
    std::string profile = sb.dir() + "/profile.json";
    // Allow everything, but: mkdir fails with EACCES; chmod to 0777 (the
    // third argument of fchmodat) fails with EPERM, another mode works.
    write_text(profile, R"({"defaultAction": "SCMP_ACT_ALLOW", "comment": "ignored",
        "syscalls": [
          {"names": ["mkdir", "mkdirat", "no_such_call_anywhere"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
          {"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO",
           "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}], "includes": {"arches": ["amd64"]}},
          {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO",
           "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]},
          {"names": ["symlink", "symlinkat"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
        ]})");
    std::string script = "mkdir /d; echo mkdir=$?; touch /f; chmod 755 /f; echo chmod755=$?; chmod 777 /f; "
                         "echo chmod777=$?; ln -s /f /l; echo symlink=$?";
    auto out = run_ok(sb, {"--security-opt", "seccomp=" + profile}, {"sh", "-c", "{ " + script + "; } 2>&1"});
    CHECK(out.find("Permission denied") != std::string::npos);  // EACCES, the profile's errnoRet
    CHECK(out.find("mkdir=1") != std::string::npos);
    CHECK(out.find("chmod755=0") != std::string::npos);
    CHECK(out.find("chmod777=1") != std::string::npos);
    CHECK(out.find("symlink=0") != std::string::npos);  // its rule needs CAP_SYS_ADMIN, which it has not
    auto with_admin = run_ok(sb, {"--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=" + profile},
                             {"sh", "-c", "touch /f; ln -s /f /l; echo symlink=$?"});
    CHECK(with_admin.find("symlink=1") != std::string::npos);

    // The profile is kept with the container: it works once the file is gone.
    std::string id = trim(sb.box({"create", "--security-opt", "seccomp=" + profile, "busybox", "mkdir", "/d"}).out);
    REQUIRE(!id.empty());
    fs::remove(profile);
    auto started = sb.box({"start", "-a", id});
    CHECK(started.status == 1);
    CHECK(started.err.find("Permission denied") != std::string::npos);
    sb.box({"rm", id});

    const std::string podman = "/usr/share/containers/seccomp.json";
    if (!fs::exists(podman)) {
        WARN("podman's profile is not installed here (" + podman + "): that part is skipped");
        return;
    }
    auto status = container_status(sb, {"--security-opt", "seccomp=" + podman});
    CHECK(status["Seccomp"] == "2");
    // podman's choices differ from docker's (it lets keyctl and unshare
    // through); these it refuses.
    auto got = probe_results(run_ok(sb, with_fixtures({"--security-opt", "seccomp=" + podman}),
                                    probe_command({"kexec_load", "bpf", "swapon", "getpid"})));
    CHECK(got["kexec_load"] == "EPERM");
    CHECK(got["bpf"] == "EPERM");
    CHECK(got["swapon"] == "EPERM");
    CHECK(got["getpid"] == "ok");
}

TEST_CASE("--security-opt no-new-privileges: a setuid program no longer raises the user", "[stage5][nnp]") {
    Sandbox sb;
    std::string rootfs = sb.rootfs_copy();
    std::string probe = install_fixture("syscall-probe", rootfs);
    REQUIRE(::chmod((rootfs + probe).c_str(), 04755) == 0);  // setuid root
    auto run_probe = [&](std::vector<std::string> flags) {
        std::vector<std::string> args = {"run", "--rootfs", rootfs, "-u", "1000"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.insert(args.end(), {probe, "--euid"});
        auto r = sb.box(args);
        BOX_SHOW(r);
        REQUIRE(r.status == 0);
        return trim(r.out);
    };
    CHECK(run_probe({}) == "0");  // what setuid is for
    CHECK(run_probe({"--security-opt", "no-new-privileges"}) == "1000");
    CHECK(run_probe({"--security-opt", "no-new-privileges:true"}) == "1000");
    auto status = sb.box({"run", "--rootfs", rootfs, "--security-opt", "no-new-privileges", "cat", "/proc/self/status"});
    CHECK(status_fields(status.out)["NoNewPrivs"] == "1");
    CHECK(status_fields(status.out)["Seccomp"] == "2");
}

TEST_CASE("/proc and /sys: the host's secrets are masked and its knobs read-only", "[stage5][paths]") {
    Sandbox sb;
    import_busybox(sb);
    std::string core = read_host_file("/proc/sys/kernel/core_pattern");
    // The escape: write a program into core_pattern, which the host's kernel
    // would run as root at the next crash. It must fail, and the host's value stay.
    auto escape = sb.box({"run", "--rm", "busybox", "sh", "-c", "echo '|/tmp/evil' > /proc/sys/kernel/core_pattern"});
    BOX_SHOW(escape);
    CHECK(escape.status != 0);
    CHECK(escape.err.find("Read-only") != std::string::npos);
    CHECK(read_host_file("/proc/sys/kernel/core_pattern") == core);
    if (fs::exists("/proc/sysrq-trigger")) {  // 'h' only prints the help, were it to get through
        auto sysrq = sb.box({"run", "--rm", "busybox", "sh", "-c", "echo h > /proc/sysrq-trigger"});
        CHECK(sysrq.status != 0);
    }

    // What the container sees: each masked path this kernel has reads as
    // nothing and is a mount of its own; each read-only one is read-only.
    std::string script =
        "grep -E ' /(proc|sys)(/| )' /proc/self/mountinfo; "
        "for f in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do "
        "  [ -e $f ] && echo \"size $f $(cat $f 2>/dev/null | wc -c)\"; done; "
        "for d in /proc/acpi /proc/scsi /proc/asound /sys/firmware; do "
        "  [ -d $d ] && echo \"entries $d $(ls $d | wc -l)\"; done; "
        "umount /proc/keys && echo unmasked; mount -t proc proc /mnt && echo new-proc; "
        "mkdir -p /cg && mount -t cgroup -o devices cgroup /cg && echo cgroupfs; true";
    auto out = lines(run_ok(sb, {}, {"sh", "-c", script}));
    std::string all;
    for (const auto& l : out) all += l + "\n";
    INFO(all);
    auto mount_of = [&](const std::string& point) {
        for (const auto& l : out) {
            auto f = words(l);
            if (f.size() > 5 && f[4] == point) return l;
        }
        return std::string();
    };
    int masked = 0;
    for (const auto& p : {"/proc/keys", "/proc/timer_list", "/proc/kcore", "/proc/sched_debug"}) {
        if (!fs::exists(p)) continue;
        INFO(p);
        ++masked;
        CHECK(all.find(std::string("size ") + p + " 0\n") != std::string::npos);
        CHECK(!mount_of(p).empty());
    }
    for (const auto& p : {"/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware"}) {
        if (!fs::is_directory(p)) continue;
        INFO(p);
        ++masked;
        CHECK(all.find(std::string("entries ") + p + " 0\n") != std::string::npos);
        CHECK(mount_of(p).find(" - tmpfs ") != std::string::npos);
    }
    CHECK(masked > 0);  // this host has something to hide
    for (const auto& p : {"/proc/sys", "/proc/bus", "/proc/irq", "/proc/fs", "/proc/sysrq-trigger", "/sys"}) {
        if (!fs::exists(p)) continue;  // /proc/sysrq-trigger needs CONFIG_MAGIC_SYSRQ
        INFO(p);
        std::string m = mount_of(p);
        REQUIRE(!m.empty());
        CHECK(words(m)[5].rfind("ro", 0) == 0);
    }
    CHECK(all.find("unmasked") == std::string::npos);
    CHECK(all.find("new-proc") == std::string::npos);
    CHECK(all.find("cgroupfs") == std::string::npos);

    // The same tries, with the privileges given back, succeed: so the test can
    // tell the protection from a try that cannot work anyway. (core_pattern
    // gets its own value back: the host's stays as it was.)
    std::string again = run_ok(sb, {"--privileged"},
                               {"sh", "-c", "cat /proc/sys/kernel/core_pattern > /tmp/c && "
                                            "cat /tmp/c > /proc/sys/kernel/core_pattern && echo core-written; "
                                            "mkdir -p /cg && mount -t cgroup -o devices cgroup /cg && echo cgroupfs; "
                                            "umount /cg; true"});
    CHECK(again.find("core-written") != std::string::npos);
    if (fs::exists("/sys/fs/cgroup/devices/devices.allow")) CHECK(again.find("cgroupfs") != std::string::npos);
    CHECK(read_host_file("/proc/sys/kernel/core_pattern") == core);
    std::string proc = run_ok(sb, {"--cap-add", "SYS_ADMIN"}, {"sh", "-c", "mount -t proc proc /mnt && echo new-proc"});
    CHECK(proc.find("new-proc") != std::string::npos);

    // --privileged: nothing masked, /sys writable.
    auto privileged = run_ok(sb, {"--privileged"}, {"sh", "-c", "grep -E ' /(proc|sys)(/| )' /proc/self/mountinfo"});
    for (const auto& l : lines(privileged)) {
        auto f = words(l);
        REQUIRE(f.size() > 5);
        CHECK(f[4] != "/proc/keys");
        CHECK(f[4] != "/proc/sys");
        if (f[4] == "/sys") CHECK(f[5].rfind("rw", 0) == 0);
    }
}

TEST_CASE("devices: mknod is allowed, using the node is not; the allow list and --device work", "[stage5][devices]") {
    // Both of the kernel's ways: cgroup v1's devices controller, and a BPF
    // program on a cgroup2 directory (this host has both).
    std::string way = GENERATE(std::string("v1"), std::string("bpf"));
    if (way == "v1" && !fs::exists("/sys/fs/cgroup/devices/devices.allow")) {
        WARN("no cgroup v1 devices controller here: the v1 half is skipped");
        return;
    }
    INFO("devices cgroup: " << way);
    {
        Sandbox sb;
        import_busybox(sb);
        std::map<std::string, std::string> env = {{"BOX_DEVICE_CGROUP", way}};
        std::string script =
            "mknod /tmp/loop b 7 0 && echo made; head -c 1 /tmp/loop; echo loop=$?; "
            "mknod /tmp/fuse c 10 229; (exec 3<>/tmp/fuse) && echo fuse-opened; "
            "head -c 4 /dev/urandom | wc -c; echo x > /dev/null && echo null-ok; head -c 2 /dev/zero | wc -c";
        std::string out = run_ok(sb, {}, {"sh", "-c", "{ " + script + "; } 2>&1"}, env);
        CHECK(out.find("made") != std::string::npos);
        CHECK(out.find("loop=1") != std::string::npos);
        CHECK(out.find("Operation not permitted") != std::string::npos);
        CHECK(out.find("fuse-opened") == std::string::npos);
        CHECK(out.find("null-ok") != std::string::npos);
        CHECK(out.find("\n4\n") != std::string::npos);

        if (fs::exists("/dev/fuse")) {
            std::string fuse = run_ok(sb, {"--device", "/dev/fuse"}, {"sh", "-c", "(exec 3<>/dev/fuse) && echo fuse-opened"}, env);
            CHECK(fuse.find("fuse-opened") != std::string::npos);
            std::string renamed = run_ok(sb, {"--device", "/dev/fuse:/dev/myfuse:rw"},
                                         {"sh", "-c", "(exec 3<>/dev/myfuse) && echo fuse-opened"}, env);
            CHECK(renamed.find("fuse-opened") != std::string::npos);
        }
        std::string privileged = run_ok(sb, {"--privileged"}, {"sh", "-c", "head -c 1 /dev/loop0; echo loop=$?"}, env);
        CHECK(privileged.find("loop=0") != std::string::npos);
    }
}

TEST_CASE("--read-only root with a writable /dev/shm and --tmpfs; --ulimit lowers limits", "[stage5][rootfs]") {
    Sandbox sb;
    import_busybox(sb);
    std::string out = run_ok(sb, {"--read-only", "--tmpfs", "/run:size=1m,mode=700"},
                             {"sh", "-c", "touch /x 2>&1; touch /dev/shm/y && echo shm-ok; touch /run/z && echo run-ok; "
                                          "grep -E ' / | /run ' /proc/self/mountinfo"});
    CHECK(out.find("Read-only file system") != std::string::npos);
    CHECK(out.find("shm-ok") != std::string::npos);
    CHECK(out.find("run-ok") != std::string::npos);
    bool root_ro = false, run_tmpfs = false;
    for (const auto& l : lines(out)) {
        auto f = words(l);
        if (f.size() < 6) continue;
        if (f[4] == "/") root_ro = f[5].rfind("ro", 0) == 0;
        if (f[4] == "/run")
            run_tmpfs = l.find(" - tmpfs ") != std::string::npos && f[5].find("noexec") != std::string::npos &&
                        l.find("size=1024k") != std::string::npos;
    }
    CHECK(root_ro);
    CHECK(run_tmpfs);

    std::string limits = run_ok(sb, {"--ulimit", "nofile=100:200", "--ulimit", "core=0"}, {"cat", "/proc/self/limits"});
    bool nofile = false, core = false;
    for (const auto& l : lines(limits)) {
        auto f = words(l);
        if (l.rfind("Max open files", 0) == 0) nofile = f.size() >= 5 && f[3] == "100" && f[4] == "200";
        if (l.rfind("Max core file size", 0) == 0) core = f.size() >= 6 && f[4] == "0" && f[5] == "0";
    }
    CHECK(nofile);
    CHECK(core);
}

TEST_CASE("exec runs with the container's protections; exec --privileged with every capability", "[stage5][exec]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {"--cap-drop", "ALL", "--cap-add", "MKNOD"}, {"sleep", "60"});
    auto status = status_fields(sb.box({"exec", id, "cat", "/proc/self/status"}).out);
    CHECK(status["CapEff"] == "0000000008000000");  // MKNOD alone
    CHECK(status["Seccomp"] == "2");
    auto privileged = status_fields(sb.box({"exec", "--privileged", id, "cat", "/proc/self/status"}).out);
    CHECK(privileged["CapEff"] == host_bounding_set());
    sb.box({"rm", "-f", id});
    // The devices cgroup holds for exec too, the v1 controller's and the v2 program's.
    for (std::string way : {"v1", "bpf"}) {
        INFO("BOX_DEVICE_CGROUP=" << way);
        RunOptions o;
        o.env = {{"BOX_DEVICE_CGROUP", way}};
        auto made = sb.box({"run", "-d", "--cap-drop", "ALL", "--cap-add", "MKNOD", "busybox", "sleep", "60"}, o);
        REQUIRE(made.status == 0);
        std::string cid = trim(made.out);
        auto loop = sb.box({"exec", cid, "sh", "-c", "mknod /tmp/loop b 7 0 && head -c 1 /tmp/loop"});
        BOX_SHOW(loop);
        CHECK(loop.status != 0);
        CHECK(loop.err.find("Operation not permitted") != std::string::npos);
        sb.box({"rm", "-f", cid});
    }
}

TEST_CASE("box's own binary cannot be reached from inside while exec starts a command (CVE-2019-5736)",
          "[stage5][exec]") {
    // The container makes its /dev/null a FIFO, so the process box forks into
    // it for `exec` waits there, still box's image, until the container
    // writes. Meanwhile the container looks for it and opens /proc/PID/exe:
    // refused, as that process holds capabilities the container's root has
    // not (and is non-dumpable). A container given CAP_SYS_PTRACE could: the
    // default set leaves it out.
    Sandbox sb;
    import_busybox(sb);
    std::string id = run_detached(sb, {}, {"sleep", "60"});
    REQUIRE(sb.box({"exec", "-i", id, "sh", "-c", "rm /dev/null && mkfifo /dev/null"}).status == 0);
    Background blocked(sb.box_argv({"exec", id, "echo", "blocked-marker"}));
    // "blocked" and "-marker" apart: the prober's own command line must not
    // match; and no /dev/null in it until it lets the other one go.
    std::string prober =
        "m=blocked; for i in $(seq 100); do "
        "  for d in /proc/[0-9]*; do "
        "    case \"$(tr '\\0' ' ' < $d/cmdline 2>/tmp/err)\" in *\" exec \"*\"$m\"-marker*) "
        "      echo found; "
        "      if head -c 4 $d/exe > /tmp/exe 2>&1; then echo exe=read; else echo exe=refused; fi; "
        "      echo go > /dev/null; exit 0;; "
        "    esac; "
        "  done; sleep 0.05; "
        "done; echo not-found";
    auto probe = sb.box({"exec", "-i", id, "sh", "-c", prober});
    BOX_SHOW(probe);
    auto status = blocked.wait(std::chrono::seconds(20));
    INFO("blocked exec: " << blocked.out() << blocked.err());
    auto got = lines(probe.out);
    REQUIRE(got.size() >= 2);
    REQUIRE(got[0] == "found");  // the test caught it before it exec'd
    CHECK(got[1] == "exe=refused");
    CHECK(status == 0);
    CHECK(blocked.out() == "blocked-marker\n");
    sb.box({"rm", "-f", id});
}

TEST_CASE("a container's command cannot make box's binary run inside it (CVE-2019-5736)", "[stage5][exec]") {
    // The hostile image: a library preloaded into every dynamic program, the
    // host's own libraries (so that box's binary, were it run in here, would
    // load and run it), and a script whose interpreter is /proc/self/exe:
    // while the kernel execs it, that is the binary of the process calling
    // execve. The library prints where it landed.
    Sandbox sb;
    import_busybox(sb);
    std::string thief = fixture_path("thief/exe-thief.so");
    REQUIRE(fs::exists(thief));
    std::string dir = sb.dir() + "/evil";
    fs::create_directories(dir);
    { std::ofstream(dir + "/evil") << "#!/proc/self/exe\n"; }
    fs::permissions(dir + "/evil", fs::perms(0755));
    std::vector<std::string> hostile = {"-v", "/usr:/usr:ro", "-v", "/usr/lib:/lib:ro", "-v", "/usr/lib64:/lib64:ro",
                                        "-v", fs::path(thief).parent_path().string() + ":/thief:ro",
                                        "-v", dir + ":/evil:ro", "-e", "LD_PRELOAD=/thief/exe-thief.so"};
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.begin() + 1, hostile.begin(), hostile.end());
        return sb.box(args);
    };
    // The library does load into the container's dynamic programs: the test can tell.
    auto control = run({"run", "--rm", "busybox", "/usr/bin/true"});
    BOX_SHOW(control);
    CHECK(control.out.find("thief: exe=/usr/bin/true") != std::string::npos);
    // box's binary is never what the script's interpreter names: run, and exec.
    auto script = run({"run", "--rm", "busybox", "/evil/evil"});
    BOX_SHOW(script);
    CHECK(script.out.find("thief:") == std::string::npos);
    CHECK(script.status == 126);
    auto made = run({"run", "-d", "busybox", "sleep", "60"});
    REQUIRE(made.status == 0);
    std::string id = trim(made.out);
    auto exec = sb.box({"exec", id, "/evil/evil"});
    BOX_SHOW(exec);
    CHECK(exec.out.find("thief:") == std::string::npos);
    CHECK(exec.status == 126);
    sb.box({"rm", "-f", id});
}

TEST_CASE("inspect shows docker's security fields, and info the security options", "[stage5][inspect]") {
    Sandbox sb;
    import_busybox(sb);
    std::string id = trim(sb.box({"create", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--read-only",
                                  "--security-opt", "no-new-privileges", "--ulimit", "nofile=50:60",
                                  "--tmpfs", "/run", "busybox", "true"}).out);
    REQUIRE(!id.empty());
    auto h = inspect(sb, id)["HostConfig"];
    CHECK(h["CapAdd"] == nlohmann::json({"NET_ADMIN"}));
    CHECK(h["CapDrop"] == nlohmann::json({"MKNOD"}));
    CHECK(h["Privileged"] == false);
    CHECK(h["ReadonlyRootfs"] == true);
    CHECK(h["SecurityOpt"] == nlohmann::json({"no-new-privileges"}));
    CHECK(h["Ulimits"] == nlohmann::json::parse(R"([{"Name": "nofile", "Soft": 50, "Hard": 60}])"));
    CHECK(h["Tmpfs"] == nlohmann::json::parse(R"({"/run": ""})"));
    CHECK(h["MaskedPaths"].size() == 11);
    // The container's root does get what inspect says.
    auto started = sb.box({"start", "-a", id});
    CHECK(started.status == 0);
    sb.box({"rm", id});
    std::string plain = trim(sb.box({"create", "busybox", "true"}).out);
    auto p = inspect(sb, plain)["HostConfig"];
    CHECK(p["CapAdd"].is_null());
    CHECK(p["SecurityOpt"].is_null());
    sb.box({"rm", plain});

    auto info = sb.box({"info"});
    CHECK(info.out.find(" Security Options:\n  seccomp\n   Profile: default\n") != std::string::npos);
}

TEST_CASE("bad security flags: one error line, exit 125, nothing made", "[stage5][errors]") {
    Sandbox sb;
    import_busybox(sb);
    std::string bad_json = sb.dir() + "/bad.json";
    write_text(bad_json, R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_MAYBE"}]})");
    // Each case: the flags, and what the error line must name.
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--cap-add", "CAP_FLY"}, "invalid capability \"CAP_FLY\""},
        {{"--cap-drop", "NOPE"}, "invalid capability \"NOPE\""},
        {{"--cap-add", "12"}, "invalid capability \"12\""},
        {{"--security-opt", "sandbox=on"}, "sandbox=on"},
        {{"--security-opt", "seccomp=" + sb.dir() + "/missing.json"}, "missing.json"},
        {{"--security-opt", "seccomp=" + bad_json}, "SCMP_ACT_MAYBE"},
        {{"--ulimit", "nofile"}, "nofile"},
        {{"--ulimit", "wings=1"}, "wings"},
        {{"--ulimit", "nofile=10:5"}, "soft limit"},
        {{"--device", "/dev/no-such-device"}, "/dev/no-such-device"},
        {{"--device", "/etc/passwd"}, "not a character or block device"},
        {{"--tmpfs", "run"}, "absolute"},
    };
    for (const auto& [flags, words] : cases) {
        INFO(flags[0] << " " << flags[1]);
        std::vector<std::string> args = {"run", "--rm"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.insert(args.end(), {"busybox", "true"});
        auto r = sb.box(args);
        REQUIRE_ONE_ERROR_LINE(r, 125);
        BOX_SHOW(r);
        INFO("the error line should contain: " << words);
        CHECK(r.err.find(words) != std::string::npos);
    }
    CHECK(container_dirs(sb) == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("--explain shows each protection as the call it is", "[stage5][explain]") {
    Sandbox sb;
    import_busybox(sb);
    auto r = sb.box({"--explain", "run", "--rm", "busybox", "true"});
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    for (const char* step : {"PR_CAPBSET_DROP", "PR_SET_KEEPCAPS", "capset(", "PR_SET_SECCOMP", "/proc/sys\"",
                             "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND"}) {
        INFO(step);
        CHECK(r.err.find(step) != std::string::npos);
    }
    bool devices = r.err.find("devices.deny") != std::string::npos || r.err.find("BPF_PROG_ATTACH") != std::string::npos;
    CHECK(devices);
    // The order around the switch of user: bounding set, then the user, then capset.
    size_t bound = r.err.find("PR_CAPBSET_DROP"), user = r.err.find("setresuid("), caps = r.err.find("capset(");
    REQUIRE(user != std::string::npos);
    CHECK(bound < user);
    CHECK(user < caps);
}
