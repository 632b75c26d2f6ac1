// Stage 5 tests' helpers: containers of the kit's busybox image, what the
// kernel says about their processes, and the syscall-probe fixture.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../stage4/support.hpp"
#include "harness.hpp"

namespace boxtest {

/// docker's default capability set, as /proc/PID/status prints it (CapBnd:
/// CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
/// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP).
inline const char* kDockerCaps = "00000000a80425fb";

/// `box run --rm [FLAGS] busybox CMD...`, expected to succeed; its stdout.
inline std::string run_ok(const Sandbox& sb, std::vector<std::string> flags, const std::vector<std::string>& cmd,
                          const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back("busybox");
    args.insert(args.end(), cmd.begin(), cmd.end());
    RunOptions o;
    o.env = env;
    auto r = sb.box(args, o);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    return r.out;
}

/// The fields of a /proc/PID/status text: "CapEff" → "00000000a80425fb".
inline std::map<std::string, std::string> status_fields(const std::string& text) {
    std::map<std::string, std::string> out;
    for (const auto& l : lines(text)) {
        size_t colon = l.find(':');
        if (colon != std::string::npos) out[l.substr(0, colon)] = trim(l.substr(colon + 1));
    }
    return out;
}

/// /proc/self/status of a container's command run with `flags`.
inline std::map<std::string, std::string> container_status(const Sandbox& sb, const std::vector<std::string>& flags) {
    return status_fields(run_ok(sb, flags, {"cat", "/proc/self/status"}));
}

/// The flags that put the test's static programs at /fixtures in a container.
inline std::vector<std::string> with_fixtures(std::vector<std::string> flags = {}) {
    std::string dir = std::filesystem::path(fixture_path("syscall-probe")).parent_path();
    flags.insert(flags.begin(), {"-v", dir + ":/fixtures:ro"});
    return flags;
}

/// What syscall-probe printed: name → "EPERM", "ok", ...
inline std::map<std::string, std::string> probe_results(const std::string& out) {
    std::map<std::string, std::string> r;
    for (const auto& l : lines(out)) {
        size_t eq = l.find('=');
        if (eq != std::string::npos) r[l.substr(0, eq)] = l.substr(eq + 1);
    }
    return r;
}

/// This test process's own bounding set, as /proc prints it: what box can give.
inline std::string host_bounding_set() { return status_fields(read_host_file("/proc/self/status"))["CapBnd"]; }

}  // namespace boxtest
