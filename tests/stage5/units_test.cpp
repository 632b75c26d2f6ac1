// Stage 5, units: the pure rules of capabilities, seccomp profiles and flags.
#include <catch2/catch.hpp>
#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "box/error.hpp"
#include "stage5.hpp"

using namespace box;
using namespace box::stage5;

TEST_CASE("capability names as docker takes them", "[stage5][unit][caps]") {
    CHECK(capability_number("NET_ADMIN") == 12);
    CHECK(capability_number("cap_net_admin") == 12);
    CHECK(capability_number("CAP_SYS_ADMIN") == 21);
    CHECK(capability_number("chown") == 0);
    CHECK_THROWS_AS(capability_number("FLY"), Error);
    CHECK_THROWS_AS(capability_number("ALL"), Error);
    CHECK_THROWS_AS(capability_number("12"), Error);
    CHECK_THROWS_AS(capability_number(""), Error);
}

TEST_CASE("resolve_capabilities: docker's order of ALL, drops and adds", "[stage5][unit][caps]") {
    const CapSet all = (bit(41) - 1);  // 0..40
    SecuritySpec s;
    CHECK(resolve_capabilities(s, all) == default_capabilities());
    s.cap_drop = {"ALL"};
    s.cap_add = {"NET_ADMIN", "chown"};
    CHECK(resolve_capabilities(s, all) == (bit(12) | bit(0)));
    s = {};
    s.cap_add = {"all"};
    s.cap_drop = {"SYS_ADMIN"};
    CHECK(resolve_capabilities(s, all) == (all & ~bit(21)));
    s = {};
    s.cap_add = {"ALL"};
    s.cap_drop = {"ALL"};  // docker: ALL added wins; the drop list names no one capability
    CHECK(resolve_capabilities(s, all) == all);
    s = {};
    s.cap_drop = {"CAP_KILL"};
    s.cap_add = {"CAP_KILL"};  // added after dropping
    CHECK(resolve_capabilities(s, all) == default_capabilities());
    s = {};
    s.cap_add = {"SYS_TIME"};
    CHECK(resolve_capabilities(s, default_capabilities()) == default_capabilities());  // never more than available
    s = {};
    s.privileged = true;
    s.cap_drop = {"ALL"};
    CHECK(resolve_capabilities(s, all) == all);
    s = {};
    s.cap_add = {"WINGS"};
    CHECK_THROWS_AS(resolve_capabilities(s, all), Error);
}

TEST_CASE("rule_applies: includes and excludes of caps, arches and minKernel", "[stage5][unit][seccomp]") {
    SeccompRule r;
    r.names = {"mount"};
    CHECK(rule_applies(r, 0, "amd64", "6.1.0"));
    r.include_caps = {"CAP_SYS_ADMIN"};
    CHECK_FALSE(rule_applies(r, default_capabilities(), "amd64", "6.1.0"));
    CHECK(rule_applies(r, default_capabilities() | bit(21), "amd64", "6.1.0"));
    r = {};
    r.exclude_caps = {"CAP_SYS_ADMIN"};
    CHECK(rule_applies(r, default_capabilities(), "amd64", "6.1.0"));
    CHECK_FALSE(rule_applies(r, bit(21), "amd64", "6.1.0"));
    r = {};
    r.include_arches = {"amd64", "x32"};
    CHECK(rule_applies(r, 0, "amd64", "6.1.0"));
    CHECK_FALSE(rule_applies(r, 0, "arm64", "6.1.0"));
    r = {};
    r.exclude_arches = {"arm64"};
    CHECK_FALSE(rule_applies(r, 0, "arm64", "6.1.0"));
    r = {};
    r.include_min_kernel = "4.8";
    CHECK(rule_applies(r, 0, "amd64", "4.8.0"));
    CHECK(rule_applies(r, 0, "amd64", "6.18.44-fc"));
    CHECK_FALSE(rule_applies(r, 0, "amd64", "4.4.0-210-generic"));
    r = {};
    r.exclude_min_kernel = "5.10";
    CHECK(rule_applies(r, 0, "amd64", "5.4.0"));
    CHECK_FALSE(rule_applies(r, 0, "amd64", "5.10.1"));
    r = {};
    r.include_caps = {"CAP_NO_SUCH_THING"};  // a capability this kernel lacks is not held
    CHECK_FALSE(rule_applies(r, ~CapSet{0}, "amd64", "6.1.0"));
}

TEST_CASE("parse_profile reads docker's format and names what is wrong", "[stage5][unit][seccomp][advanced]") {
    auto p = parse_profile(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "unknownKey": 1,
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
        "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                      "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                      "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
                     {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "args": null, "includes": {"minKernel": "4.8"}}]})");
    CHECK(p.default_action == "SCMP_ACT_ERRNO");
    CHECK(p.default_errno == 38u);
    REQUIRE(p.arch_map.size() == 1);
    CHECK(p.arch_map[0].second == std::vector<std::string>{"SCMP_ARCH_X86"});
    REQUIRE(p.rules.size() == 2);
    REQUIRE(p.rules[0].args.size() == 1);
    CHECK(p.rules[0].args[0].value == 2114060288u);
    CHECK(p.rules[0].args[0].op == "SCMP_CMP_MASKED_EQ");
    CHECK(p.rules[0].exclude_caps == std::vector<std::string>{"CAP_SYS_ADMIN"});
    CHECK(p.rules[1].names == std::vector<std::string>{"ptrace"});
    CHECK(p.rules[1].include_min_kernel == "4.8");
    auto fails = [](const std::string& text, const std::string& words) {
        try {
            parse_profile(text);
        } catch (const Error& e) {
            return std::string(e.what()).find(words) != std::string::npos;
        }
        return false;
    };
    CHECK(fails("[]", "not a JSON object"));
    CHECK(fails("{", "not a JSON object"));
    CHECK(fails(R"({"syscalls": []})", "defaultAction"));
    CHECK(fails(R"({"defaultAction": "SCMP_ACT_DANCE"})", "SCMP_ACT_DANCE"));
    CHECK(fails(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"]}]})", "syscalls[0]"));
    CHECK(fails(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]})", "index"));
    CHECK(fails(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "x", "action": "SCMP_ACT_ALLOW"}]})",
                "names"));
}

TEST_CASE("box's default profile is docker's format and refuses by default", "[stage5][unit][seccomp][given]") {
    auto p = parse_profile(default_profile());
    CHECK(p.default_action == "SCMP_ACT_ERRNO");
    CHECK(p.default_errno == unsigned{EPERM});
    for (const auto& r : p.rules)
        for (const auto& n : r.names)
            for (const char* never : {"keyctl", "add_key", "request_key", "kexec_load", "swapon", "swapoff", "userfaultfd"}) {
                INFO(n);
                CHECK(n != never);
            }
    CHECK(std::string(default_profile_digest()).size() == 7 + 64);
}

TEST_CASE("compile_profile leaves x32's rules out where the kernel runs no x32", "[stage5][unit][seccomp][advanced]") {
    // Whether this kernel runs an x32 call (x86-64's ILP32 ABI, bit 30 of the
    // number), asked in a child as box asks.
    bool x32 = false;
#ifdef __x86_64__
    pid_t pid = fork();
    if (pid == 0) _exit(syscall(0x40000000L | SYS_getpid) >= 0 ? 0 : 1);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    x32 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
#endif
    SeccompProfile with = parse_profile(default_profile());
    SeccompProfile without = with, native = with;
    bool has_x32 = false;
    for (auto& [arch, subs] : without.arch_map)
        has_x32 = has_x32 || std::erase(subs, std::string("SCMP_ARCH_X32")) > 0;
    for (auto& [arch, subs] : native.arch_map) subs.clear();
    REQUIRE(has_x32);  // the default profile names x32, as docker's does
    size_t full = compile_profile(with, default_capabilities()).size();
    size_t no_x32 = compile_profile(without, default_capabilities()).size();
    size_t alone = compile_profile(native, default_capabilities()).size();
    INFO("instructions: " << full << " as given, " << no_x32 << " without x32, " << alone << " native only");
    // x32's rules are a few hundred instructions; left out, the program is
    // the one without them but for its bad-architecture answer (ENOSYS).
    long x32_part = static_cast<long>(full) - static_cast<long>(no_x32);
    if (x32) CHECK(x32_part > 100);
    else CHECK(std::labs(x32_part) < 16);
    CHECK(no_x32 > alone);       // and x86's (32-bit) kept: this kernel may run those
}

TEST_CASE("--ulimit and --device as docker reads them", "[stage5][unit][given]") {
    auto u = parse_ulimit("nofile=1024:2048");
    CHECK(u.name == "nofile");
    CHECK(u.soft == 1024);
    CHECK(u.hard == 2048);
    CHECK(parse_ulimit("core=0").hard == 0);
    CHECK(parse_ulimit("memlock=-1").soft == -1);
    CHECK_THROWS_AS(parse_ulimit("nofile"), Error);
    CHECK_THROWS_AS(parse_ulimit("nofile=x"), Error);
    CHECK_THROWS_AS(parse_ulimit("nofile=10:5"), Error);
    CHECK_THROWS_AS(parse_ulimit("wings=1"), Error);
    auto d = parse_device("/dev/fuse");
    CHECK(d.container == "/dev/fuse");
    CHECK(d.permissions == "rwm");
    d = parse_device("/dev/fuse:r");
    CHECK(d.container == "/dev/fuse");
    CHECK(d.permissions == "r");
    d = parse_device("/dev/sdc:/dev/xvdc:rw");
    CHECK(d.container == "/dev/xvdc");
    CHECK(d.permissions == "rw");
    CHECK_THROWS_AS(parse_device("fuse"), Error);
    CHECK_THROWS_AS(parse_device("/dev/fuse:/x:rwz"), Error);
    CHECK(DeviceRule{'c', 136, -1, "rwm"}.text() == "c 136:* rwm");
    CHECK(DeviceRule{'b', -1, -1, "m"}.text() == "b *:* m");
}
