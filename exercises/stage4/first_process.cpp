// Chapter 4: what a container's first process starts with, beyond its
// command — `--init` (box's init as PID 1, reaping orphans, as docker's tini),
// `--sysctl` (kernel parameters of the container's own namespaces), and the
// descriptor its output goes to when box reads it (a build step's pipe).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/fd.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage4.hpp"

namespace box::stage4 {
namespace {

// docker's rule: only parameters a namespace of the container's own holds —
// the IPC namespace's (these, and fs.mqueue.*) and the network namespace's (net.*).
const std::set<std::string> kIpcSysctls = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
                                           "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};

void check_sysctl(const std::string& key, const std::string& value, const std::string& network_mode) {
    bool net = starts_with(key, "net.");
    if (!net && !kIpcSysctls.count(key) && !starts_with(key, "fs.mqueue."))
        throw Error("sysctl '" + key + "=" + value + "' is not whitelisted",
                    "only namespaced ones: net.*, fs.mqueue.*, kernel.msg*, kernel.sem, kernel.shm*");
    if (net && network_mode == "host")
        throw Error("sysctl \"" + key + "\" not allowed in host network namespace", "it would change the host's");
    if (key.find("..") != std::string::npos || key.find('/') != std::string::npos)
        throw Error("sysctl '" + key + "' is not whitelisted", "not a kernel parameter's name");
}

void read_request(const ContainerRequest& r, ContainerSpec& spec) {
    spec.init = r.HostConfig.Init.value_or(false);
    for (const auto& [key, value] : r.HostConfig.Sysctls) check_sysctl(key, value, r.HostConfig.NetworkMode);
    spec.sysctls = r.HostConfig.Sysctls;
}

class FirstProcessExtension : public ContainerExtension {
public:
    explicit FirstProcessExtension(const ContainerSpec& spec)
        : init_(spec.init), output_fd_(spec.output_fd), sysctls_(spec.sysctls) {}

    // The child's next execve is its command's: under box's init with --init.
    // Its stdout and stderr are box's pipe, if box reads them: only the
    // child's descriptors change, never box's own.
    void in_child_first(const NamespacePlan&) override {
        sys::exec_as_init(init_);
        if (output_fd_ < 0) return;
        if (::dup2(output_fd_, STDOUT_FILENO) < 0 || ::dup2(output_fd_, STDERR_FILENO) < 0)
            throw_errno("dup2 of the output pipe", errno);
    }

    // Through the container's own /proc (its namespaces' values), before
    // chapter 5 makes /proc/sys read-only (the Security phase comes after).
    void in_child_before_pivot(const std::string& rootfs) override {
        for (const auto& [key, value] : sysctls_) {
            std::string path = rootfs + "/proc/sys/" + key;
            std::replace(path.begin() + static_cast<long>(rootfs.size()), path.end(), '.', '/');
            sys::write_file(path, value);
        }
    }

private:
    bool init_;
    int output_fd_;
    std::map<std::string, std::string> sysctls_;
};

}  // namespace

void register_first_process() {
    add_request_reader(read_request);
    add_extension("first-process", ExtensionPhase::Mounts, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        if (ctx.mode != ExtensionMode::Create || (!ctx.spec.init && ctx.spec.sysctls.empty() && ctx.spec.output_fd < 0))
            return nullptr;
        return std::make_unique<FirstProcessExtension>(ctx.spec);
    });
    cli::extend("run", [](CLI::App& r) {
        struct Flags {
            bool init = false;
            std::vector<std::string> sysctls;
        };
        auto f = std::make_shared<Flags>();
        r.add_flag("--init", f->init, "Run an init inside the container that forwards signals and reaps processes");
        r.add_option("--sysctl", f->sysctls, "Sysctl options: KEY=VALUE (namespaced ones: net.*, kernel.shm*, ...)")
            ->allow_extra_args(false);
        add_request_filler([f](ContainerRequest& request) {
            if (f->init) request.HostConfig.Init = true;
            for (const auto& kv : f->sysctls) {
                size_t eq = kv.find('=');
                if (eq == std::string::npos || eq == 0)
                    throw Error("invalid argument \"" + kv + "\" for \"--sysctl\" flag",
                                "sysctl '" + kv + "' is not whitelisted");
                request.HostConfig.Sysctls[kv.substr(0, eq)] = kv.substr(eq + 1);
            }
        });
    });
}

}  // namespace box::stage4
