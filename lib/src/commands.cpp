#include "box/commands.hpp"

#include <memory>

#include <sys/utsname.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/render.hpp"
#include "box/util.hpp"

namespace box {
namespace {

// `box version`: docker's Client and Server sections, as one document that
// --format reads ({{.Client.Version}}, {{json .Server}}).
nlohmann::json version_document() {
    struct utsname u {};
    uname(&u);
    std::string arch = native_arch();
    CgroupLayout layout = detect_cgroup_layout();
    bool v2 = layout.v2_has({"cpu", "memory", "pids"});
    int stage = cli::stage();
    nlohmann::json client = {{"Version", BOX_VERSION}, {"ApiVersion", "1.0"}, {"Stage", stage},
                             {"Os", "linux"}, {"Arch", arch}, {"Context", "default"}};
    nlohmann::json server = {{"Platform", {{"Name", "box Engine"}}},
                             {"Version", BOX_VERSION},
                             {"ApiVersion", "1.0"},
                             {"Os", "linux"},
                             {"Arch", arch},
                             {"KernelVersion", u.release},
                             {"CgroupVersion", v2 ? "2" : "1"},
                             {"CgroupDriver", "cgroupfs"},
                             {"StorageDriver", stage >= 3 ? "overlay2" : "rootfs"},
                             {"RootDir", state_root()}};
    return {{"Client", client}, {"Server", server}};
}

int print_version(const std::string& format) {
    nlohmann::json v = version_document();
    if (!format.empty()) {
        printf("%s\n", render::format(format, v).c_str());
        return 0;
    }
    const auto& c = v["Client"];
    const auto& s = v["Server"];
    auto str = [](const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
    printf("Client:\n");
    printf(" %-19s%s\n", "Version:", str(c["Version"]).c_str());
    printf(" %-19s%s\n", "API version:", str(c["ApiVersion"]).c_str());
    printf(" %-19s%s\n", "Stage:", str(c["Stage"]).c_str());
    printf(" %-19s%s/%s\n", "OS/Arch:", str(c["Os"]).c_str(), str(c["Arch"]).c_str());
    printf(" %-19s%s\n", "Context:", str(c["Context"]).c_str());
    printf("\nServer: %s\n Engine:\n", str(s["Platform"]["Name"]).c_str());
    printf("  %-18s%s\n", "Version:", str(s["Version"]).c_str());
    printf("  %-18s%s\n", "API version:", str(s["ApiVersion"]).c_str());
    printf("  %-18s%s/%s\n", "OS/Arch:", str(s["Os"]).c_str(), str(s["Arch"]).c_str());
    printf("  %-18s%s\n", "Kernel:", str(s["KernelVersion"]).c_str());
    printf("  %-18s%s\n", "Cgroup version:", str(s["CgroupVersion"]).c_str());
    printf("  %-18s%s\n", "Cgroup driver:", str(s["CgroupDriver"]).c_str());
    printf("  %-18s%s\n", "Storage driver:", str(s["StorageDriver"]).c_str());
    printf("  %-18s%s\n", "Root dir:", str(s["RootDir"]).c_str());
    return 0;
}

}  // namespace

void register_lib_commands() {
    cli::define("version", "Show the box version information", [](CLI::App& c) -> cli::Action {
        auto format = std::make_shared<std::string>();
        c.add_option("-f,--format", *format, "Format the output using a template ({{.Client.Version}})");
        return [format] { return print_version(*format); };
    });

    cli::define("doctor", "Check that this host can run containers, and say how to fix what it lacks",
                [](CLI::App&) -> cli::Action { return [] { return run_doctor(); }; });

    cli::define("base-rootfs", "Make the kit's base root filesystem from the host's busybox-static (offline)",
                [](CLI::App& c) -> cli::Action {
                    auto opts = std::make_shared<std::pair<std::string, bool>>();
                    c.add_option("DIR", opts->first, "Where to make it (default: <root>/base-rootfs)");
                    c.add_flag("-f,--force", opts->second, "Replace DIR if it exists");
                    return [opts] {
                        std::string dir = opts->first.empty() ? state_root() + "/base-rootfs" : opts->first;
                        make_base_rootfs(dir, opts->second);
                        printf("%s\n", dir.c_str());
                        return 0;
                    };
                });
}

}  // namespace box
