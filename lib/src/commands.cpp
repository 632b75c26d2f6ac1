#include "box/commands.hpp"

#include <memory>

#include "box/cli.hpp"
#include "box/util.hpp"

namespace box {

void add_lib_commands(CLI::App& app) {
    cli::add_command(app, "doctor", "Check that this host can run containers, and say how to fix what it lacks",
                     [] { return run_doctor(); });

    auto opts = std::make_shared<std::pair<std::string, bool>>();
    CLI::App* base = cli::add_command(
        app, "base-rootfs",
        "Make the kit's base root filesystem from the host's busybox-static (offline)", [opts] {
            std::string dir = opts->first.empty() ? state_root() + "/base-rootfs" : opts->first;
            make_base_rootfs(dir, opts->second);
            printf("%s\n", dir.c_str());
            return 0;
        });
    base->add_option("DIR", opts->first, "Where to make it (default: <root>/base-rootfs)");
    base->add_flag("-f,--force", opts->second, "Replace DIR if it exists");
}

}  // namespace box
