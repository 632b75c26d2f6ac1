// Chapter 4: the commands, registered. Each one lives with the concept it
// uses (lifecycle.cpp, attach.cpp, ps.cpp, logs.cpp, exec.cpp, pause.cpp,
// commit.cpp, cp.cpp, volumes.cpp) and is only built when box is asked for it.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "attach.hpp"
#include "box/cli.hpp"
#include "box/record_store.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "commit.hpp"
#include "cp.hpp"
#include "etc_files.hpp"
#include "exec.hpp"
#include "health.hpp"
#include "lifecycle.hpp"
#include "logs.hpp"
#include "pause.hpp"
#include "ps.hpp"
#include "stage3.hpp"
#include "stage4.hpp"
#include "volumes.hpp"

namespace box::stage4 {

void register_commands() {
    register_lifecycle_commands();
    register_attach_command();
    register_ps_commands();
    register_logs_command();
    register_exec_commands();
    register_pause_commands();
    register_commit_commands();
    register_cp_command();
    register_volume_commands();
    register_health();
    register_first_process();

    // docker's management commands: the container commands under `container`.
    static const char* const kContainerCommands[][2] = {
        {"container run", "run"},         {"container create", "create"},   {"container start", "start"},
        {"container stop", "stop"},       {"container restart", "restart"}, {"container kill", "kill"},
        {"container rm", "rm"},           {"container logs", "logs"},       {"container exec", "exec"},
        {"container attach", "attach"},   {"container inspect", "inspect"}, {"container top", "top"},
        {"container diff", "diff"},       {"container commit", "commit"},   {"container export", "export"},
        {"container cp", "cp"},           {"container rename", "rename"},   {"container pause", "pause"},
        {"container unpause", "unpause"}, {"container wait", "wait"},       {"container stats", "stats"}};
    for (const auto& [alias, target] : kContainerCommands) cli::alias(alias, target);

    cli::define("system prune", "Remove stopped containers and unused images", [](CLI::App& c) -> cli::Action {
        struct Prune { bool all = false, force = false; std::vector<std::string> filters; };
        auto f = std::make_shared<Prune>();
        c.add_flag("-a,--all", f->all, "Remove all unused images, not just dangling ones");
        c.add_flag("-f,--force", f->force, "Do not prompt for confirmation");
        c.add_option("--filter", f->filters, "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]")->allow_extra_args(false);
        return [f] {
            Filters filters = Filters::parse(f->filters, {"label", "label!"});
            std::string what = std::string("WARNING! This will remove:\n  - all stopped containers\n") +
                               (f->all ? "  - all images without at least one container associated to them\n"
                                       : "  - all dangling images\n") +
                               "\nAre you sure you want to continue?";
            if (!f->force && !cli::confirm(what)) return 0;
            std::vector<std::string> containers = prune_containers(filters);
            stage3::PruneResult images = stage3::prune_images(f->all, filters);  // after: a stopped container's image is free now
            if (!containers.empty()) {
                printf("Deleted Containers:\n");
                for (const auto& id : containers) printf("%s\n", id.c_str());
                printf("\n");
            }
            stage3::print_pruned(images);
            return 0;
        };
    });

    // box info's containers, as docker counts them (created ones are stopped).
    stage3::add_info_filler([](json& info) {
        int running = 0, paused = 0, stopped = 0;
        for (const auto& c : ContainerStore(state_root()).list()) {
            if (c.state.status == Status::Paused) ++paused;
            else if (c.running()) ++running;
            else ++stopped;
        }
        info["Containers"] = running + paused + stopped;
        info["ContainersRunning"] = running;
        info["ContainersPaused"] = paused;
        info["ContainersStopped"] = stopped;
    });

    stage3::add_disk_usage_filler([](std::vector<stage3::DiskUsage>& rows) {
        stage3::DiskUsage containers{"Containers"}, volumes{"Local Volumes"};
        for (const auto& c : ContainerStore(state_root()).list()) {
            std::int64_t size = tree_size(c.dir + "/upper");  // its writable layer
            ++containers.total;
            containers.size += size;
            if (c.running()) ++containers.active;
            else containers.reclaimable += size;
        }
        for (const auto& name : list_volumes()) {
            std::int64_t size = tree_size(volume_path(name));
            ++volumes.total;
            volumes.size += size;
            if (!volume_users(name).empty()) ++volumes.active;
            else volumes.reclaimable += size;
        }
        rows.push_back(containers);
        rows.push_back(volumes);
    });

    // What every container gets, whatever the command: its volumes mounted;
    // and an image a container uses cannot be removed.
    add_volume_extension();
    add_etc_files_extension();
    add_use_check("image", [](const std::string& image_id) -> std::string {
        for (const auto& c : ContainerStore(state_root()).list())
            if (c.image_id == image_id) return c.id;
        return "";
    });
}

}  // namespace box::stage4
