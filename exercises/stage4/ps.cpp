// Chapter 4: seeing containers — `box ps`, `box inspect`, `box rename` —
// with docker's columns and field names, printed through lib's render.
#include <cstdio>
#include <memory>
#include <regex>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/filters.hpp"
#include "box/render.hpp"
#include "box/util.hpp"
#include "health.hpp"
#include "ps.hpp"
#include "stage3.hpp"
#include "volumes.hpp"

namespace box::stage4 {
namespace {

struct PsFlags {
    PsQuery query;
    bool latest = false, quiet = false, no_trunc = false;
    std::vector<std::string> filters;
    std::string format;
};

std::string command_text(const Container& c, bool no_trunc) {
    std::string cmd;
    for (const auto& a : c.spec.args) cmd += (cmd.empty() ? "" : " ") + a;
    if (!no_trunc) cmd = render::ellipsis(cmd, 20);
    return "\"" + cmd + "\"";
}

// docker ps's filters that box has: status, exited, id, name, label, ancestor, health.
Filters ps_filters(const std::vector<std::string>& args) {
    Filters f = Filters::parse(args, {"status", "exited", "id", "name", "label", "ancestor", "health"});
    f.check_values("status", {"created", "restarting", "running", "removing", "paused", "exited", "dead"});
    f.check_values("health", {"starting", "healthy", "unhealthy", "none"});
    for (const auto& code : f.values("exited"))
        if (code.empty() || code.find_first_not_of("0123456789") != std::string::npos)
            throw Error("invalid filter 'exited=" + code + "'", "an exit code is a number");
    return f;
}

bool matches(const Container& c, const Filters& f) {
    return f.any("status", [&](const std::string& v) { return v == to_string(c.state.status); }) &&
           f.any("exited", [&](const std::string& v) {
               return c.state.status == Status::Exited && std::to_string(c.state.exit_code) == v;
           }) &&
           f.any("id", [&](const std::string& v) { return starts_with(c.id, v); }) &&
           f.any("name", [&](const std::string& v) {  // docker: a regular expression, searched for
               try {
                   return std::regex_search(c.name, std::regex(v));
               } catch (const std::regex_error&) {
                   return c.name.find(v) != std::string::npos;
               }
           }) &&
           f.any("ancestor", [&](const std::string& v) {
               return c.spec.image == v || c.request.Config.Image == v || starts_with(c.image_id, v) ||
                      starts_with(c.image_id, "sha256:" + v);
           }) &&
           f.any("health", [&](const std::string& v) { return v == health_word(c); }) &&
           f.match_labels(c.request.Config.Labels);
}

std::vector<std::function<void(const Container&, json&)>>& ps_fillers() {
    static std::vector<std::function<void(const Container&, json&)>> all;
    return all;
}

int ps(const PsFlags& f) {
    PsQuery q = f.query;
    q.filters = ps_filters(f.filters);  // a bad filter fails before anything is read
    if (f.latest) q.last = 1;
    std::vector<Container> shown = list_containers(q);
    if (f.quiet) {
        for (const auto& c : shown) printf("%s\n", f.no_trunc ? c.id.c_str() : c.id.substr(0, 12).c_str());
        return 0;
    }
    std::vector<json> items;
    for (const auto& c : shown) items.push_back(ps_row(c, f.no_trunc));
    render::print_list(f.format.empty() ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
                                        : f.format,
                       items,
                       {{"ID", "CONTAINER ID"}, {"RunningFor", "CREATED"}, {"CreatedAt", "CREATED AT"}});
    return 0;
}

json mounts_of(const Container& c) {
    json out = json::array();
    for (const auto& m : c.spec.mounts) {
        json j = {{"Type", m.type}, {"Source", m.source}, {"Destination", m.destination}, {"Mode", m.readonly ? "ro" : ""},
                  {"RW", !m.readonly}, {"Propagation", m.type == "bind" ? "rprivate" : ""}};
        if (m.type == "volume") {
            j["Name"] = m.name;
            j["Driver"] = "local";
        }
        out.push_back(j);
    }
    return out;
}

std::vector<std::function<void(const Container&, json&)>>& inspect_fillers() {
    static std::vector<std::function<void(const Container&, json&)>> all;
    return all;
}

// docker's fields of a container that chapters 1-4 know.
json inspect_document(const Container& c) {
    const auto& l = c.spec.limits;
    std::string lowers;
    for (auto it = c.spec.layers.rbegin(); it != c.spec.layers.rend(); ++it) lowers += (lowers.empty() ? "" : ":") + *it;
    json document = {
        {"Id", c.id},
        {"Created", c.created},
        {"Path", c.spec.args.empty() ? "" : c.spec.args[0]},
        {"Args", c.spec.args.size() > 1 ? json(std::vector<std::string>(c.spec.args.begin() + 1, c.spec.args.end()))
                                         : json::array()},
        {"State",
         {{"Status", to_string(c.state.status)}, {"Running", c.state.status == Status::Running || c.state.status == Status::Paused},
          {"Paused", c.state.status == Status::Paused},
          {"Restarting", c.state.status == Status::Restarting}, {"OOMKilled", c.state.oom_killed}, {"Dead", false},
          {"Pid", c.state.pid}, {"ExitCode", c.state.exit_code}, {"Error", c.state.error},
          {"StartedAt", c.state.started_at}, {"FinishedAt", c.state.finished_at}}},
        {"Image", c.image_id},
        {"LogPath", c.dir + "/container.log"},
        {"Name", "/" + c.name},
        {"RestartCount", c.state.restart_count},
        {"Driver", c.spec.layers.empty() ? "rootfs" : "overlay2"},
        {"HostConfig",
         {{"NetworkMode", c.spec.network == NetworkMode::Host ? "host" : "none"},
          {"RestartPolicy", {{"Name", c.restart.docker_name()}, {"MaximumRetryCount", c.restart.max_retries}}},
          {"AutoRemove", c.auto_remove},
          {"Memory", l.memory.value_or(0)},
          {"MemorySwap", l.memory_swap.value_or(0)},
          {"NanoCpus", static_cast<std::int64_t>(l.cpus.value_or(0) * 1e9)},
          {"CpuShares", l.cpu_shares.value_or(0)},
          {"CpusetCpus", l.cpuset_cpus},
          {"PidsLimit", l.pids ? json(*l.pids) : json(nullptr)}}},
        {"GraphDriver",
         {{"Name", c.spec.layers.empty() ? "rootfs" : "overlay2"},
          {"Data",
           {{"LowerDir", lowers}, {"UpperDir", c.dir + "/upper"}, {"WorkDir", c.dir + "/work"}, {"MergedDir", c.spec.rootfs}}}}},
        {"Mounts", mounts_of(c)},
        {"Config",
         {{"Hostname", c.spec.hostname}, {"User", c.spec.user}, {"Tty", c.spec.tty}, {"OpenStdin", c.spec.interactive},
          {"Env", c.spec.env}, {"Cmd", c.spec.args}, {"Image", c.spec.image}, {"WorkingDir", c.spec.workdir},
          {"Labels", c.request.Config.Labels}}},
    };
    if (!c.request.Config.ExposedPorts.empty()) document["Config"]["ExposedPorts"] = c.request.Config.ExposedPorts;
    if (c.request.Config.Healthcheck) document["Config"]["Healthcheck"] = *c.request.Config.Healthcheck;
    if (!c.request.Config.StopSignal.empty()) document["Config"]["StopSignal"] = c.request.Config.StopSignal;
    const auto& host = c.request.HostConfig;
    document["HostConfig"]["Init"] = host.Init ? json(*host.Init) : json(nullptr);
    document["HostConfig"]["Binds"] = host.Binds.empty() ? json(nullptr) : json(host.Binds);
    document["HostConfig"]["VolumesFrom"] = host.VolumesFrom.empty() ? json(nullptr) : json(host.VolumesFrom);
    if (!host.Mounts.empty()) document["HostConfig"]["Mounts"] = request_to_json(c.request)["HostConfig"]["Mounts"];
    if (!host.Sysctls.empty()) document["HostConfig"]["Sysctls"] = host.Sysctls;
    if (c.request.Config.StopTimeout) document["Config"]["StopTimeout"] = *c.request.Config.StopTimeout;
    if (auto health = read_health(c)) document["State"]["Health"] = health_json(*health);
    return document;
}

}  // namespace

std::vector<Container> list_containers(const PsQuery& q) {
    std::vector<Container> shown;
    // docker: a status filter lists every state, as -a does; the others only narrow.
    bool every = q.all || q.last >= 0 || q.filters.has("status");
    for (const auto& c : ContainerStore(state_root()).list()) {
        if (!every && !c.running()) continue;
        if (!matches(c, q.filters)) continue;
        if (q.last >= 0 && static_cast<int>(shown.size()) >= q.last) break;
        shown.push_back(c);
    }
    return shown;
}

json ps_row(const Container& c, bool no_trunc) {
    json row = {{"ID", no_trunc ? c.id : c.id.substr(0, 12)},
                {"Image", c.spec.image.empty() ? c.spec.rootfs : c.spec.image},
                {"Command", command_text(c, no_trunc)}, {"CreatedAt", c.created},
                {"RunningFor", ago(c.created)}, {"Ports", ""}, {"State", to_string(c.state.status)},
                {"Status", c.status_text()}, {"Names", c.name}, {"Labels", labels_text(c.request.Config.Labels)},
                {"_Label", c.request.Config.Labels}};
    for (const auto& fill : ps_fillers()) fill(c, row);
    return row;
}

json inspect_json(const Container& c) {
    json j = inspect_document(c);
    for (const auto& fill : inspect_fillers()) fill(c, j);  // chapter 5: its HostConfig fields
    return j;
}

void add_inspect_filler(std::function<void(const Container&, json&)> fill) { inspect_fillers().push_back(std::move(fill)); }

void add_ps_filler(std::function<void(const Container&, json&)> fill) { ps_fillers().push_back(std::move(fill)); }

void register_ps_commands() {
    auto declare_ps = [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<PsFlags>();
        c.add_flag("-a,--all", f->query.all, "Show all containers (default shows just running)");
        c.add_flag("-l,--latest", f->latest, "Show the latest created container (includes all states)");
        c.add_option("-n,--last", f->query.last, "Show n last created containers (includes all states)");
        c.add_flag("-q,--quiet", f->quiet, "Only display container IDs");
        c.add_flag("--no-trunc", f->no_trunc, "Don't truncate output");
        c.add_option("-f,--filter", f->filters, "Filter output: status=, exited=, id=, name=, label=KEY[=VALUE], ancestor=")
            ->allow_extra_args(false);
        c.add_option("--format", f->format, "Format output using a template: '{{.ID}} {{.Names}}', 'table {{.Names}}\\t{{.Status}}'");
        return [f] { return ps(*f); };
    };
    cli::define("ps", "List containers", declare_ps);
    cli::define_group("container", "Manage containers");
    cli::define("container ls", "List containers", declare_ps);

    cli::define("inspect", "Return low-level information on box objects (containers, images, volumes)",
                [](CLI::App& c) -> cli::Action {
        struct InspectFlags { std::vector<std::string> refs; std::string format, type; };
        auto f = std::make_shared<InspectFlags>();
        c.add_option("NAME|ID", f->refs, "Containers, images or volumes to inspect")->required();
        c.add_option("-f,--format", f->format, "Format the output using a template ({{.State.Status}})");
        c.add_option("--type", f->type, "Only this type of object: container, image or volume")
            ->check(CLI::IsMember({"container", "image", "volume"}));
        return [f] {
            ContainerStore s(state_root());
            std::vector<json> found;
            // docker's order: a container, else an image, else a volume of that name.
            auto lookup = [&](const std::string& ref) -> json {
                if (f->type.empty() || f->type == "container") {
                    try {
                        return inspect_json(s.find(ref));
                    } catch (const Error& e) {
                        // Not a container: try the others. A container's broken record is its own error.
                        if (!f->type.empty() || std::string(e.what()).rfind("No such container", 0) != 0) throw;
                    }
                }
                if (f->type.empty() || f->type == "image") {
                    try {
                        return stage3::inspect_json(stage3::ImageStore(state_root()).find(ref));
                    } catch (const Error&) {
                        if (!f->type.empty()) throw;
                    }
                }
                if (f->type.empty() || f->type == "volume") {
                    try {
                        return inspect_volume(ref);
                    } catch (const Error&) {
                        if (!f->type.empty()) throw;
                    }
                }
                throw Error("No such object: " + ref, "not a container, an image or a volume");
            };
            int status = cli::for_each(f->refs, [&](const std::string& ref) {
                json j = lookup(ref);
                if (!f->format.empty()) render::format(f->format, j);  // a bad template fails this one
                found.push_back(j);
            });
            render::print_inspect(found, f->format);
            return status;
        };
    });

    cli::define("rename", "Rename a container", [](CLI::App& c) -> cli::Action {
        auto names = std::make_shared<std::vector<std::string>>();
        c.add_option("CONTAINER NEW_NAME", *names, "The container and its new name")->required()->expected(2);
        return [names] {
            ContainerStore s(state_root());
            s.rename(s.find(names->at(0)), names->at(1));
            return 0;
        };
    });
}

}  // namespace box::stage4
