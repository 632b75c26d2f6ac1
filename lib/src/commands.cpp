#include "box/commands.hpp"

#include <memory>

#include "box/cli.hpp"
#include "box/util.hpp"

namespace box {

void register_lib_commands() {
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
