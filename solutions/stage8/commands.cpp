// Chapter 8: `box compose` — its global flags (which files, which project)
// and its commands, each a few lines over the functions of this stage and
// those `box run`, `box ps` and `box logs` use.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "box/cli.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/filters.hpp"
#include "box/reference.hpp"
#include "box/render.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "box/yaml.hpp"
#include "exec.hpp"
#include "lifecycle.hpp"
#include "logs.hpp"
#include "pause.hpp"
#include "ps.hpp"
#include "stage3.hpp"
#include "stage7.hpp"
#include "stage8.hpp"

namespace box::stage8 {
namespace {

using stage4::Container;

std::string service_of(const Container& c) { return label_of(c, label::kService); }

// The project's services named in `names` (all if none), in start order; an
// unknown name is an error.
std::vector<std::string> chosen_services(const Project& p, const std::vector<std::string>& names) {
    for (const auto& s : names)
        if (!p.model["services"].contains(s)) throw Error("no such service: " + s, "see 'box compose config --services'");
    std::vector<std::string> out;
    for (const auto& name : start_order(p.model["services"]))
        if (names.empty() || std::count(names.begin(), names.end(), name)) out.push_back(name);
    return out;
}

// The project's containers of `services` (all if none), in start order.
std::vector<Container> of_services(const Project& p, const std::vector<std::string>& services, bool all) {
    std::vector<Container> out, all_of_project = project_containers(p.name);
    for (const auto& name : chosen_services(p, services)) {
        std::vector<Container> mine;
        for (const auto& c : all_of_project)
            if (service_of(c) == name && (all || c.running())) mine.push_back(c);
        std::sort(mine.begin(), mine.end(), [](const Container& a, const Container& b) { return a.name < b.name; });
        out.insert(out.end(), mine.begin(), mine.end());
    }
    return out;
}

// Container `index` of service `service`, running; throws box::Error if it is not.
Container running_container(const Project& p, const std::string& service, int index) {
    std::string want = container_name(p, service, index);
    for (const auto& x : of_services(p, {service}, false))
        if (x.name == want) return x;
    throw Error("service \"" + service + "\" is not running", "start it with 'box compose up -d'");
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
        c.set_version_flag("-v,--version", std::string("box compose version ") + BOX_VERSION);
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
        struct Config { bool services = false, volumes = false, quiet = false, no_interpolate = false; std::string format = "yaml"; };
        auto co = std::make_shared<Config>();
        config->add_flag("--services", co->services, "Print the service names, one per line");
        config->add_flag("--volumes", co->volumes, "Print the volume names, one per line");
        config->add_flag("-q,--quiet", co->quiet, "Only validate the configuration, don't print anything");
        config->add_flag("--no-interpolate", co->no_interpolate, "Don't interpolate environment variables");
        config->add_option("--format", co->format, "Format the output: yaml or json")->capture_default_str();
        config->callback([=] {
            *chosen = [=] {
                lo->interpolate = !co->no_interpolate;
                Project p = load();
                if (co->quiet) return 0;
                if (co->services) {
                    for (const auto& name : start_order(p.model["services"])) printf("%s\n", name.c_str());
                    return 0;
                }
                if (co->volumes) {
                    for (const auto& [key, v] : p.model["volumes"].items()) printf("%s\n", key.c_str());
                    return 0;
                }
                if (co->format != "yaml" && co->format != "json")
                    throw Error("unsupported format \"" + co->format + "\"", "yaml or json");
                // As docker compose prints it: each network and volume with the
                // name it has on the engine, empty sections left out, env_file
                // already read into environment; and, interpolated, every `$`
                // doubled so that the output reads back as the same model.
                json shown = p.model;
                for (const char* section : {"networks", "volumes"}) {
                    for (auto& [key, item] : shown[section].items()) {
                        std::string name = section == std::string("networks") ? network_name(p, key) : volume_name(p, key);
                        if (!item.is_object()) item = json::object();
                        item["name"] = name;
                    }
                    if (shown[section].empty()) shown.erase(section);
                }
                if (!co->no_interpolate)
                    for (auto& [name, s] : shown["services"].items()) s.erase("env_file");
                std::string text = co->format == "json" ? shown.dump(2) + "\n" : json_to_yaml(shown);
                for (char ch : text) {
                    if (ch == '$' && !co->no_interpolate) fputc('$', stdout);
                    fputc(ch, stdout);
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
                for (const auto& name : chosen_services(p, *build_names))
                    if (p.model["services"][name].contains("build")) build_image(p, name);
                return 0;
            };
        });
        auto pull_names = std::make_shared<std::vector<std::string>>();
        auto* pull = c.add_subcommand("pull", "Pull service images");
        pull->add_option("SERVICE", *pull_names, "Services");
        pull->callback([=] {
            *chosen = [=] {
                Project p = load();
                for (const auto& name : chosen_services(p, *pull_names)) {
                    const json& s = p.model["services"][name];
                    if (!s.contains("image")) continue;
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

        // exec, run: a command in a service's container, or in a new one-off container
        struct Exec {
            bool no_tty = false, detach = false, privileged = false, rm = false, no_deps = false, service_ports = false;
            int index = 1;
            std::vector<std::string> env, publish;
            std::string user, workdir, name, entrypoint;
        };
        auto xo = std::make_shared<Exec>();
        auto* ex = c.add_subcommand("exec", "Execute a command in a running container");
        ex->prefix_command();
        ex->add_flag("-T,--no-TTY", xo->no_tty, "Disable pseudo-TTY allocation (default: a TTY when stdin is one)");
        ex->add_flag("-d,--detach", xo->detach, "Detached mode: run command in the background");
        ex->add_flag("--privileged", xo->privileged, "Give extended privileges to the process");
        ex->add_option("-e,--env", xo->env, "Set environment variables")->allow_extra_args(false);
        ex->add_option("-u,--user", xo->user, "Run the command as this user");
        ex->add_option("-w,--workdir", xo->workdir, "Path to workdir directory for this command");
        ex->add_option("--index", xo->index, "Index of the container if service has multiple replicas")->capture_default_str();
        ex->callback([=] {
            *chosen = [=] {
                auto rest = ex->remaining();
                if (rest.size() < 2) throw Error("exec", "usage: box compose exec [OPTIONS] SERVICE COMMAND [ARGS...]");
                Container target = running_container(load(), rest[0], xo->index);
                stage4::ExecOptions o;
                o.args.assign(rest.begin() + 1, rest.end());
                o.env = xo->env;
                o.user = xo->user;
                o.workdir = xo->workdir;
                o.detach = xo->detach;
                o.privileged = xo->privileged;
                o.interactive = !xo->detach;
                o.tty = !xo->no_tty && !xo->detach && ::isatty(STDIN_FILENO);
                return stage4::exec_in(target, o);
            };
        });
        auto* run = c.add_subcommand("run", "Run a one-off command on a service");
        run->prefix_command();
        run->add_flag("--rm", xo->rm, "Automatically remove the container when it exits");
        run->add_flag("-d,--detach", xo->detach, "Run container in background and print container ID");
        run->add_flag("-T,--no-TTY", xo->no_tty, "Disable pseudo-TTY allocation (default: a TTY when stdin is one)");
        run->add_flag("--no-deps", xo->no_deps, "Don't start linked services");
        run->add_flag("--service-ports", xo->service_ports, "Run command with the service's ports published");
        run->add_option("-e,--env", xo->env, "Set environment variables")->allow_extra_args(false);
        run->add_option("-p,--publish", xo->publish, "Publish a container's port(s) to the host")->allow_extra_args(false);
        run->add_option("--name", xo->name, "Assign a name to the container");
        run->add_option("--entrypoint", xo->entrypoint, "Override the entrypoint of the image");
        run->add_option("-u,--user", xo->user, "Run as specified username or uid");
        run->add_option("-w,--workdir", xo->workdir, "Working directory inside the container");
        run->callback([=] {
            *chosen = [=] {
                auto rest = run->remaining();
                if (rest.empty()) throw Error("run", "usage: box compose run [OPTIONS] SERVICE [COMMAND] [ARGS...]");
                Project p = load();
                const std::string service = rest[0];
                if (!p.model["services"].contains(service)) throw Error("no such service: " + service, "see 'box compose config --services'");
                // Its dependencies first (up -d of them), unless --no-deps; then its own image.
                UpOptions deps;
                deps.detach = true;
                for (const auto& [dep, how] : member(p.model["services"][service], "depends_on").items())
                    if (p.model["services"].contains(dep)) deps.services.push_back(dep);
                if (!xo->no_deps && !deps.services.empty()) stage8::up(p, deps);
                prepare(p, {service}, UpOptions{});
                ContainerRequest r = service_request(p, service, 1);
                r.Name = xo->name.empty() ? p.name + "-" + service + "-run-" + random_hex(12) : xo->name;
                r.Config.Labels[label::kOneoff] = "True";
                if (rest.size() > 1) r.Config.Cmd.assign(rest.begin() + 1, rest.end());
                if (!xo->entrypoint.empty()) r.Config.Entrypoint = std::vector<std::string>{xo->entrypoint};
                for (const auto& e : xo->env) {  // `-e KEY`: the project's value (shell, --env-file, .env), if it has one
                    auto it = e.find('=') == std::string::npos ? p.env.find(e) : p.env.end();
                    r.Config.Env.push_back(it == p.env.end() ? e : e + "=" + it->second);
                }
                if (!xo->user.empty()) r.Config.User = xo->user;
                if (!xo->workdir.empty()) r.Config.WorkingDir = xo->workdir;
                if (!xo->service_ports) r.HostConfig.PortBindings.clear();
                for (const auto& spec : xo->publish) {  // -p [IP:][HOST:]CONTAINER[/PROTO]
                    std::string port = spec, proto = "tcp";
                    if (size_t slash = port.rfind('/'); slash != std::string::npos) proto = port.substr(slash + 1), port = port.substr(0, slash);
                    auto parts = split(port, ':');
                    RequestPortBinding b;
                    if (parts.size() == 3) b = {parts[0], parts[1]};
                    else if (parts.size() == 2) b.HostPort = parts[0];
                    r.HostConfig.PortBindings[parts.back() + "/" + proto].push_back(b);
                }
                r.HostConfig.AutoRemove = xo->rm;
                r.HostConfig.RestartPolicy.Name = "no";
                r.Config.Tty = !xo->no_tty && !xo->detach && ::isatty(STDIN_FILENO);
                r.Config.OpenStdin = !xo->detach;
                Container x = stage4::create_container(r);
                stage4::ContainerStore store(state_root());
                if (xo->detach) {
                    stage4::start_detached(x);
                    printf("%s\n", x.name.c_str());
                    return 0;
                }
                return stage4::run_foreground(store, x);
            };
        });

        // port, top, kill
        struct Port { std::string protocol = "tcp"; int index = 1; };
        auto pt = std::make_shared<Port>();
        auto port_args = std::make_shared<std::vector<std::string>>();
        auto* port = c.add_subcommand("port", "Print the public port for a port binding");
        port->add_option("--protocol", pt->protocol, "tcp or udp")->capture_default_str();
        port->add_option("--index", pt->index, "Index of the container if service has multiple replicas")->capture_default_str();
        port->add_option("SERVICE PRIVATE_PORT", *port_args, "The service and its port")->expected(2);
        port->callback([=] {
            *chosen = [=] {
                auto port_number = parse_number<int>((*port_args)[1]);
                if (!port_number) throw Error("invalid port \"" + (*port_args)[1] + "\"", "a number");
                Container x = running_container(load(), (*port_args)[0], pt->index);
                for (const auto& m : stage7::published_ports(x.id))
                    if (m.container_port == *port_number && m.protocol == pt->protocol) {
                        printf("%s:%d\n", m.host_ip.empty() ? "0.0.0.0" : m.host_ip.c_str(), m.host_port);
                        return 0;
                    }
                throw Error("no port " + (*port_args)[1] + "/" + pt->protocol + " for container " + x.name, "see 'box compose ps'");
            };
        });
        auto top_names = std::make_shared<std::vector<std::string>>();
        auto* top = c.add_subcommand("top", "Display the running processes");
        top->add_option("SERVICE", *top_names, "Services");
        top->callback([=] {
            *chosen = [=] {
                Project p = load();
                int status = 0;
                for (const auto& x : of_services(p, *top_names, false)) {
                    printf("%s\n", x.name.c_str());
                    fflush(stdout);
                    status |= stage4::top(x, {});
                    printf("\n");
                }
                return status;
            };
        });
        struct Kill { std::string signal = "SIGKILL"; std::vector<std::string> names; };
        auto kl = std::make_shared<Kill>();
        auto* kill = c.add_subcommand("kill", "Force stop service containers");
        kill->add_option("-s,--signal", kl->signal, "SIGNAL to send to the container")->capture_default_str();
        kill->add_option("SERVICE", kl->names, "Services");
        kill->callback([=] {
            *chosen = [=] {
                int sig = stage4::parse_signal(kl->signal);
                Project p = load();
                stage4::ContainerStore store(state_root());
                for (const auto& x : of_services(p, kl->names, false)) {
                    say(x, "Killing");
                    if (sig == SIGKILL || sig == SIGTERM) stage4::update_stopped_by_user(store, x, true);
                    // SIGKILL ends it for sure: return once its end is recorded, as docker's kill does.
                    if (stage4::signal_container(x, sig) && sig == SIGKILL) stage4::wait_container(store, x.id);
                    say(x, "Killed");
                }
                return 0;
            };
        });

        // pause, unpause: the freezer of each running container.
        for (bool frozen : {true, false}) {
            auto names = std::make_shared<std::vector<std::string>>();
            auto* cmd = c.add_subcommand(frozen ? "pause" : "unpause", frozen ? "Pause services" : "Unpause services");
            cmd->add_option("SERVICE", *names, "Services");
            cmd->callback([=] {
                *chosen = [=] {
                    Project p = load();
                    stage4::ContainerStore store(state_root());
                    for (const auto& x : of_services(p, *names, false)) {
                        if ((x.state.status == stage4::Status::Paused) == frozen) continue;  // already so
                        say(x, frozen ? "Pausing" : "Unpausing");
                        stage4::pause_container(store, x, frozen);
                        say(x, frozen ? "Paused" : "Unpaused");
                    }
                    return 0;
                };
            });
        }

        // images: the image of each of the project's containers.
        struct Images { bool quiet = false; std::string format; std::vector<std::string> names; };
        auto im = std::make_shared<Images>();
        auto* images = c.add_subcommand("images", "List images used by the created containers");
        images->add_flag("-q,--quiet", im->quiet, "Only display IDs");
        images->add_option("--format", im->format, "Format the output: table (default) or json");
        images->add_option("SERVICE", im->names, "Services");
        images->callback([=] {
            *chosen = [=] {
                Project p = load();
                stage3::ImageStore store(state_root());
                std::vector<json> rows;
                std::vector<std::string> ids;
                for (const auto& x : of_services(p, im->names, true)) {
                    json row = {{"ContainerName", x.name}, {"Repository", "<none>"}, {"Tag", "<none>"}, {"ID", x.image_id}, {"Size", 0}};
                    try {
                        stage3::StoredImage image = store.find(x.image_id);
                        row["Size"] = image.size;
                        // The name the service asked for if the image still has it, else its first.
                        std::string wanted = parse_ref(service_image(p, service_of(x))).full();
                        std::string ref = std::count(image.refs.begin(), image.refs.end(), wanted) ? wanted
                                          : image.refs.empty()                                   ? ""
                                                                                                 : image.refs.front();
                        if (!ref.empty()) {
                            ImageRef r = parse_ref(ref);
                            row["Repository"] = r.repository();
                            row["Tag"] = r.tag;
                        }
                    } catch (const Error&) {  // removed since: docker shows the container with <none>
                    }
                    std::string hex = x.image_id.substr(x.image_id.find(':') + 1);
                    if (!std::count(ids.begin(), ids.end(), hex)) ids.push_back(hex);
                    rows.push_back(row);
                }
                if (im->quiet) {
                    for (const auto& id : ids) printf("%s\n", id.c_str());
                } else if (im->format == "json") {
                    printf("%s\n", json(rows).dump().c_str());
                } else if (im->format.empty() || im->format == "table") {
                    std::vector<std::vector<std::string>> table = {{"CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"}};
                    for (const auto& r : rows)
                        table.push_back({r["ContainerName"], r["Repository"], r["Tag"], short_id(r["ID"]), human_size(r["Size"])});
                    render::print_table(table);
                } else {
                    throw Error("invalid --format \"" + im->format + "\"", "use table or json");
                }
                return 0;
            };
        });

        // push: the images of services that build one and name it, as docker compose does.
        auto push_names = std::make_shared<std::vector<std::string>>();
        auto* push = c.add_subcommand("push", "Push service images");
        push->add_option("SERVICE", *push_names, "Services");
        push->callback([=] {
            *chosen = [=] {
                Project p = load();
                for (const auto& name : chosen_services(p, *push_names)) {
                    const json& s = p.model["services"][name];
                    if (!s.contains("build") || !s.contains("image")) {
                        fprintf(stderr, " %s Skipped\n", name.c_str());
                        continue;
                    }
                    fprintf(stderr, " %s Pushing\n", name.c_str());
                    stage3::push_image(s["image"], stderr);
                    fprintf(stderr, " %s Pushed\n", name.c_str());
                }
                return 0;
            };
        });

        // ls: every project that has containers here, from their labels alone (no file is read).
        struct Ls { bool all = false, quiet = false; std::string format; };
        auto ls = std::make_shared<Ls>();
        auto* lscmd = c.add_subcommand("ls", "List running compose projects");
        lscmd->add_flag("-a,--all", ls->all, "Show all stopped Compose projects");
        lscmd->add_flag("-q,--quiet", ls->quiet, "Only display project names");
        lscmd->add_option("--format", ls->format, "Format the output: table (default) or json");
        lscmd->callback([=] {
            *chosen = [=] {
                struct Seen { std::map<std::string, int> states; std::vector<std::string> files; };
                std::map<std::string, Seen> projects;
                for (const auto& x : stage4::ContainerStore(state_root()).list()) {
                    std::string project = label_of(x, label::kProject);
                    if (project.empty() || (!ls->all && !x.running())) continue;
                    Seen& seen = projects[project];
                    seen.states[stage4::to_string(x.state.status)]++;
                    for (const auto& f : split(label_of(x, label::kConfigFiles), ','))
                        if (!f.empty() && !std::count(seen.files.begin(), seen.files.end(), f)) seen.files.push_back(f);
                }
                std::vector<json> rows;
                for (const auto& [name, seen] : projects) {
                    std::string status;
                    for (const auto& [state, n] : seen.states)
                        status += (status.empty() ? "" : ", ") + state + "(" + std::to_string(n) + ")";
                    rows.push_back({{"Name", name}, {"Status", status}, {"ConfigFiles", join(seen.files, ",")}});
                }
                if (ls->quiet) {
                    for (const auto& r : rows) printf("%s\n", r["Name"].get<std::string>().c_str());
                } else if (ls->format == "json") {
                    printf("%s\n", json(rows).dump().c_str());
                } else if (ls->format.empty() || ls->format == "table") {
                    std::vector<std::vector<std::string>> table = {{"NAME", "STATUS", "CONFIG FILES"}};
                    for (const auto& r : rows) table.push_back({r["Name"], r["Status"], r["ConfigFiles"]});
                    render::print_table(table);
                } else {
                    throw Error("invalid --format \"" + ls->format + "\"", "use table or json");
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
