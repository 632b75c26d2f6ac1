// Chapter 3: box's daemon configuration — /etc/box/config.json (or
// $BOX_CONFIG), docker's daemon.json: registry mirrors, insecure registries,
// later the default bridge and DNS — and `box info`, which shows it with the
// machine and the store.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "box/cgroup_layout.hpp"
#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/render.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "stage3.hpp"

namespace box::stage3 {
namespace {

std::vector<std::function<void(json&)>>& info_fillers() {
    static std::vector<std::function<void(json&)>> all;
    return all;
}

// `box info`: docker's fields, one document for --format ({{.Images}}).
json info_document() {
    json config = daemon_config();
    struct utsname u {};
    uname(&u);
    std::string os = "Linux";
    for (const auto& line : split(try_read_file("/etc/os-release").value_or(""), '\n'))
        if (starts_with(line, "PRETTY_NAME=")) {
            os = line.substr(12);
            if (os.size() >= 2 && os.front() == '"' && os.back() == '"') os = os.substr(1, os.size() - 2);
        }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    CgroupLayout layout = detect_cgroup_layout();
    json insecure = config.value("insecure-registries", json::array());
    insecure.push_back("127.0.0.0/8");
    json info = {{"Containers", 0}, {"ContainersRunning", 0}, {"ContainersPaused", 0}, {"ContainersStopped", 0},
                 {"Images", ImageStore(state_root()).list().size()},
                 {"ServerVersion", BOX_VERSION},
                 {"Driver", "overlay2"},
                 {"CgroupDriver", "cgroupfs"},
                 {"CgroupVersion", layout.v2_has({"cpu", "memory", "pids"}) ? "2" : "1"},
                 {"KernelVersion", u.release},
                 {"OperatingSystem", os},
                 {"OSType", "linux"},
                 {"Architecture", u.machine},
                 {"NCPU", sysconf(_SC_NPROCESSORS_ONLN)},
                 {"MemTotal", static_cast<std::int64_t>(pages) * page},
                 {"DockerRootDir", state_root()},
                 {"RegistryConfig",
                  {{"Mirrors", config.value("registry-mirrors", json::array())}, {"InsecureRegistryCIDRs", insecure}}}};
    for (const auto& fill : info_fillers()) fill(info);  // chapter 4: the containers
    return info;
}

int cmd_info(const std::string& format) {
    json i = info_document();
    if (!format.empty()) {
        printf("%s\n", render::format(format, i).c_str());
        return 0;
    }
    auto str = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
    printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: false\n\nServer:\n", BOX_VERSION);
    printf(" Containers: %s\n  Running: %s\n  Paused: %s\n  Stopped: %s\n", str(i["Containers"]).c_str(),
           str(i["ContainersRunning"]).c_str(), str(i["ContainersPaused"]).c_str(), str(i["ContainersStopped"]).c_str());
    printf(" Images: %s\n", str(i["Images"]).c_str());
    printf(" Server Version: %s\n", str(i["ServerVersion"]).c_str());
    printf(" Storage Driver: %s\n", str(i["Driver"]).c_str());
    printf(" Cgroup Driver: %s\n", str(i["CgroupDriver"]).c_str());
    printf(" Cgroup Version: %s\n", str(i["CgroupVersion"]).c_str());
    if (i.contains("SecurityOptions")) {  // chapter 5: "name=seccomp,profile=builtin" as docker prints it
        printf(" Security Options:\n");
        for (const auto& o : i["SecurityOptions"]) {
            std::string name;
            std::vector<std::string> rest;
            for (const auto& kv : split(str(o), ',')) {
                size_t eq = kv.find('=');
                std::string key = kv.substr(0, eq), value = eq == std::string::npos ? "" : kv.substr(eq + 1);
                if (key == "name") name = value;
                else rest.push_back(std::string(1, static_cast<char>(toupper(key[0]))) + key.substr(1) + ": " + value);
            }
            printf("  %s\n", name.c_str());
            for (const auto& r : rest) printf("   %s\n", r.c_str());
        }
    }
    printf(" Kernel Version: %s\n", str(i["KernelVersion"]).c_str());
    printf(" Operating System: %s\n", str(i["OperatingSystem"]).c_str());
    printf(" OSType: %s\n", str(i["OSType"]).c_str());
    printf(" Architecture: %s\n", str(i["Architecture"]).c_str());
    printf(" CPUs: %s\n", str(i["NCPU"]).c_str());
    printf(" Total Memory: %s\n", format_bytes(i["MemTotal"].get<std::int64_t>()).c_str());
    printf(" Docker Root Dir: %s\n", str(i["DockerRootDir"]).c_str());
    printf(" Registry Mirrors:\n");
    for (const auto& m : i["RegistryConfig"]["Mirrors"]) printf("  %s\n", str(m).c_str());
    printf(" Insecure Registries:\n");
    for (const auto& m : i["RegistryConfig"]["InsecureRegistryCIDRs"]) printf("  %s\n", str(m).c_str());
    if (i.contains("BoxNetwork")) {  // chapter 7: the default bridge and the daemon config's DNS
        printf(" Default Bridge: %s\n", str(i["BoxNetwork"]["Bridge"]).c_str());
        printf(" DNS:\n");
        for (const auto& d : i["BoxNetwork"]["Dns"]) printf("  %s\n", str(d).c_str());
    }
    return 0;
}

}  // namespace

json daemon_config() {
    const char* env = getenv("BOX_CONFIG");
    std::string path = env && *env ? env : "/etc/box/config.json";
    auto text = try_read_file(path);
    if (!text) return json::object();
    try {
        return json::parse(*text);
    } catch (const json::exception& e) {
        throw Error(path, std::string("not valid JSON: ") + e.what());
    }
}

void add_info_filler(std::function<void(json& info)> fill) { info_fillers().push_back(std::move(fill)); }

void register_info_command() {
    cli::define("info", "Display system-wide information", [](CLI::App& c) -> cli::Action {
        auto format = std::make_shared<std::string>();
        c.add_option("-f,--format", *format, "Format the output using a template ({{.Containers}})");
        return [format] { return cmd_info(*format); };
    });
    cli::define_group("system", "Manage box");
    cli::alias("system info", "info");
}

}  // namespace box::stage3
