// Chapter 8: `box compose` — its global flags (which files, which project)
// and its commands, each a few lines over the functions of this stage and
// those `box run`, `box ps` and `box logs` use.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "box/cli.hpp"
#include "box/error.hpp"
#include "box/filters.hpp"
#include "box/render.hpp"
#include "box/util.hpp"
#include "box/yaml.hpp"
#include "lifecycle.hpp"
#include "logs.hpp"
#include "ps.hpp"
#include "stage3.hpp"
#include "stage8.hpp"

namespace box::stage8 {
namespace {

using stage4::Container;

std::string service_of(const Container& c) {
    auto it = c.request.Config.Labels.find(label::kService);
    return it == c.request.Config.Labels.end() ? "" : it->second;
}

// The project's containers of `services` (all if none), in start order.
std::vector<Container> of_services(const Project& p, const std::vector<std::string>& services, bool all) {
    for (const auto& s : services)
        if (!p.model["services"].contains(s)) throw Error("no such service: " + s, "see 'box compose config --services'");
    std::vector<Container> out;
    for (const auto& name : start_order(p.model["services"])) {
        if (!services.empty() && std::find(services.begin(), services.end(), name) == services.end()) continue;
        std::vector<Container> mine;
        for (const auto& c : project_containers(p.name))
            if (service_of(c) == name && (all || c.running())) mine.push_back(c);
        std::sort(mine.begin(), mine.end(), [](const Container& a, const Container& b) { return a.name < b.name; });
        out.insert(out.end(), mine.begin(), mine.end());
    }
    return out;
}

void say(const Container& c, const char* what) { fprintf(stderr, " Container %s  %s\n", c.name.c_str(), what); }

}  // namespace

void register_commands() {
    cli::define("compose", "Define and run multi-container applications (docker compose)", [](CLI::App& c) -> cli::Action {
        auto lo = std::make_shared<LoadOptions>();
        c.add_option("-f,--file", lo->files, "Compose configuration files (several merge in order; - for stdin)")->allow_extra_args(false);
        c.add_option("-p,--project-name", lo->project_name, "Project name");
        c.add_option("--project-directory", lo->project_directory, "Alternate working directory (default: the first file's)");
        c.add_option("--env-file", lo->env_files, "Alternate environment files (instead of PROJECT_DIR/.env)")->allow_extra_args(false);
        c.add_option("--profile", lo->profiles, "Enable a profile")->allow_extra_args(false);
        c.require_subcommand(1);
        auto chosen = std::make_shared<std::function<int()>>();
        auto load = [lo] { return load_project(*lo); };

        // up
        auto* up = c.add_subcommand("up", "Create and start containers");
        auto uo = std::make_shared<UpOptions>();
        auto scale = std::make_shared<std::vector<std::string>>();
        auto timeout = std::make_shared<int>(-2);
        up->add_flag("-d,--detach", uo->detach, "Detached mode: run containers in the background");
        up->add_flag("--build", uo->build, "Build images before starting containers");
        up->add_flag("--no-build", uo->no_build, "Don't build an image, even if it's missing");
        up->add_flag("--force-recreate", uo->force_recreate, "Recreate containers even if their configuration hasn't changed");
        up->add_flag("--no-recreate", uo->no_recreate, "If containers already exist, don't recreate them");
        up->add_flag("--no-start", uo->no_start, "Don't start the services after creating them");
        up->add_flag("--remove-orphans", uo->remove_orphans, "Remove containers for services not defined in the Compose file");
        up->add_flag("--abort-on-container-exit", uo->abort_on_exit, "Stops all containers if any container was stopped");
        up->add_option("--exit-code-from", uo->exit_code_from, "Return the exit code of the selected service container");
        up->add_flag("--wait", uo->wait, "Wait for services to be running|healthy; implies detached mode");
        up->add_option("--scale", *scale, "Scale SERVICE to NUM instances: SERVICE=NUM")->allow_extra_args(false);
        up->add_option("-t,--timeout", *timeout, "Use this timeout in seconds for container shutdown");
        up->add_option("SERVICE", uo->services, "Services (and what they depend on); default: all");
        up->callback([=] {
            *chosen = [=] {
                for (const auto& s : *scale) {
                    size_t eq = s.find('=');
                    auto n = eq == std::string::npos ? std::nullopt : parse_number<int>(s.substr(eq + 1));
                    if (!n || *n < 0) throw Error("invalid --scale \"" + s + "\"", "use SERVICE=NUM");
                    uo->scale[s.substr(0, eq)] = *n;
                }
                if (*timeout != -2) uo->timeout = *timeout;
                if (!uo->exit_code_from.empty()) uo->abort_on_exit = true;
                return stage8::up(load(), *uo);
            };
        });

        // down
        auto* down = c.add_subcommand("down", "Stop and remove containers, networks");
        auto dn = std::make_shared<DownOptions>();
        auto down_timeout = std::make_shared<int>(-2);
        down->add_flag("-v,--volumes", dn->volumes, "Remove named volumes declared in the volumes section and anonymous volumes");
        down->add_option("--rmi", dn->rmi, "Remove images used by services: local (built ones) or all");
        down->add_flag("--remove-orphans", dn->remove_orphans, "Remove containers for services not defined in the Compose file");
        down->add_option("-t,--timeout", *down_timeout, "Specify a shutdown timeout in seconds");
        down->callback([=] {
            *chosen = [=] {
                if (*down_timeout != -2) dn->timeout = *down_timeout;
                stage8::down(load(), *dn);
                return 0;
            };
        });

        // ps
        auto* ps = c.add_subcommand("ps", "List containers");
        struct Ps { bool all = false, quiet = false, services = false; std::string format; std::vector<std::string> names; };
        auto po = std::make_shared<Ps>();
        ps->add_flag("-a,--all", po->all, "Show all stopped containers");
        ps->add_flag("-q,--quiet", po->quiet, "Only display IDs");
        ps->add_flag("--services", po->services, "Display services");
        ps->add_option("--format", po->format, "Format the output: table (default), json, or a template");
        ps->add_option("SERVICE", po->names, "Services");
        ps->callback([=] {
            *chosen = [=] {
                Project p = load();
                std::vector<Container> list = of_services(p, po->names, po->all);
                if (po->services) {
                    std::vector<std::string> seen;
                    for (const auto& x : list)
                        if (std::find(seen.begin(), seen.end(), service_of(x)) == seen.end()) seen.push_back(service_of(x));
                    for (const auto& s : seen) printf("%s\n", s.c_str());
                    return 0;
                }
                std::vector<json> rows;
                for (const auto& x : list) {
                    json row = stage4::ps_row(x);
                    row["Name"] = x.name;
                    row["Service"] = service_of(x);
                    row["Project"] = p.name;
                    rows.push_back(row);
                }
                if (po->format == "json") {
                    printf("%s\n", json(rows).dump().c_str());
                    return 0;
                }
                std::string format = po->quiet ? "{{.ID}}"
                                     : po->format.empty() || po->format == "table"
                                         ? "table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}"
                                         : po->format;
                render::print_list(format, rows, {{"Name", "NAME"}, {"RunningFor", "CREATED"}});
                return 0;
            };
        });

        // logs
        auto* logs = c.add_subcommand("logs", "View output from containers");
        struct Logs { bool follow = false, timestamps = false; std::string tail = "all"; std::vector<std::string> names; };
        auto lg = std::make_shared<Logs>();
        logs->add_flag("-f,--follow", lg->follow, "Follow log output");
        logs->add_flag("-t,--timestamps", lg->timestamps, "Show timestamps");
        logs->add_option("-n,--tail", lg->tail, "Number of lines to show from the end of the logs for each container");
        logs->add_option("SERVICE", lg->names, "Services");
        logs->callback([=] {
            *chosen = [=] {
                Project p = load();
                return show_logs(p, of_services(p, lg->names, true), {lg->follow, lg->tail, ""}, lg->timestamps);
            };
        });

        // config
        auto* config = c.add_subcommand("config", "Parse, resolve and render compose file in canonical format");
        struct Config { bool services = false, volumes = false, quiet = false; std::string format = "yaml"; };
        auto co = std::make_shared<Config>();
        config->add_flag("--services", co->services, "Print the service names, one per line");
        config->add_flag("--volumes", co->volumes, "Print the volume names, one per line");
        config->add_flag("-q,--quiet", co->quiet, "Only validate the configuration, don't print anything");
        config->add_option("--format", co->format, "Format the output: yaml or json")->capture_default_str();
        config->callback([=] {
            *chosen = [=] {
                Project p = load();
                if (co->quiet) return 0;
                if (co->services) {
                    for (const auto& name : start_order(p.model["services"])) printf("%s\n", name.c_str());
                } else if (co->volumes) {
                    for (const auto& [key, v] : p.model["volumes"].items()) printf("%s\n", key.c_str());
                } else if (co->format == "json") {
                    printf("%s\n", p.model.dump(2).c_str());
                } else if (co->format == "yaml") {
                    fputs(json_to_yaml(p.model).c_str(), stdout);
                } else {
                    throw Error("unsupported format \"" + co->format + "\"", "yaml or json");
                }
                return 0;
            };
        });

        // build, pull
        auto build_names = std::make_shared<std::vector<std::string>>();
        auto* build = c.add_subcommand("build", "Build or rebuild services");
        build->add_option("SERVICE", *build_names, "Services");
        build->callback([=] {
            *chosen = [=] {
                Project p = load();
                for (const auto& name : start_order(p.model["services"]))
                    if (p.model["services"][name].contains("build") &&
                        (build_names->empty() || std::count(build_names->begin(), build_names->end(), name)))
                        build_image(p, name);
                return 0;
            };
        });
        auto pull_names = std::make_shared<std::vector<std::string>>();
        auto* pull = c.add_subcommand("pull", "Pull service images");
        pull->add_option("SERVICE", *pull_names, "Services");
        pull->callback([=] {
            *chosen = [=] {
                Project p = load();
                for (const auto& name : start_order(p.model["services"])) {
                    const json& s = p.model["services"][name];
                    if (!s.contains("image") || (!pull_names->empty() && !std::count(pull_names->begin(), pull_names->end(), name))) continue;
                    fprintf(stderr, " %s Pulling\n", name.c_str());
                    stage3::pull_image(s["image"], stderr);
                    fprintf(stderr, " %s Pulled\n", name.c_str());
                }
                return 0;
            };
        });

        // start, stop, restart, rm
        struct Each { std::vector<std::string> names; int timeout = -2; bool force = false, stop = false, volumes = false; };
        auto each = std::make_shared<Each>();
        auto* start = c.add_subcommand("start", "Start services");
        start->add_option("SERVICE", each->names, "Services");
        start->callback([=] {
            *chosen = [=] {
                Project p = load();
                for (const auto& x : of_services(p, each->names, true))
                    if (!x.running()) {
                        say(x, "Starting");
                        stage4::start_detached(x);
                        say(x, "Started");
                    }
                return 0;
            };
        });
        auto* stop = c.add_subcommand("stop", "Stop services");
        stop->add_option("-t,--timeout", each->timeout, "Specify a shutdown timeout in seconds");
        stop->add_option("SERVICE", each->names, "Services");
        auto stop_all = [=](const Project& p) {
            std::vector<Container> list = of_services(p, each->names, false);
            std::reverse(list.begin(), list.end());  // dependants first
            std::optional<int> grace;
            if (each->timeout != -2) grace = each->timeout;
            for (const auto& x : list) {
                say(x, "Stopping");
                stage4::stop_container(stage4::ContainerStore(state_root()), x.id, grace);
                say(x, "Stopped");
            }
        };
        stop->callback([=] {
            *chosen = [=] {
                stop_all(load());
                return 0;
            };
        });
        auto* restart = c.add_subcommand("restart", "Restart service containers");
        restart->add_option("-t,--timeout", each->timeout, "Specify a shutdown timeout in seconds");
        restart->add_option("SERVICE", each->names, "Services");
        restart->callback([=] {
            *chosen = [=] {
                Project p = load();
                stop_all(p);
                for (const auto& x : of_services(p, each->names, true)) {
                    say(x, "Starting");
                    stage4::start_detached(stage4::ContainerStore(state_root()).find(x.id));
                    say(x, "Started");
                }
                return 0;
            };
        });
        auto* rm = c.add_subcommand("rm", "Removes stopped service containers");
        rm->add_flag("-f,--force", each->force, "Don't ask to confirm removal");
        rm->add_flag("-s,--stop", each->stop, "Stop the containers, if required, before removing");
        rm->add_flag("-v,--volumes", each->volumes, "Remove any anonymous volumes attached to containers");
        rm->add_option("SERVICE", each->names, "Services");
        rm->callback([=] {
            *chosen = [=] {
                Project p = load();
                if (each->stop) stop_all(p);
                std::vector<Container> gone;
                for (const auto& x : of_services(p, each->names, true))
                    if (!stage4::ContainerStore(state_root()).find(x.id).running()) gone.push_back(x);
                if (gone.empty()) {
                    fprintf(stderr, "No stopped containers\n");
                    return 0;
                }
                if (!each->force) {
                    std::vector<std::string> names;
                    for (const auto& x : gone) names.push_back(x.name);
                    if (!cli::confirm("Going to remove " + join(names, ", ") + "\n? Are you sure?")) return 0;
                }
                for (const auto& x : gone) {
                    say(x, "Removing");
                    stage4::remove_container(stage4::ContainerStore(state_root()), x.id, false, each->volumes);
                    say(x, "Removed");
                }
                return 0;
            };
        });

        auto* version = c.add_subcommand("version", "Show the Docker Compose version information");
        version->callback([=] {
            *chosen = [] {
                printf("box compose version %s\n", BOX_VERSION);
                return 0;
            };
        });
        return [chosen] { return (*chosen)(); };
    });
}

}  // namespace box::stage8
