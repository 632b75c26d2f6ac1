// Chapter 4: the container commands — docker's names, flags, tables and exit
// statuses — on top of the store (container.cpp) and the lifecycle
// (lifecycle.cpp).
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <thread>

#include "box/cli.hpp"
#include "box/clock.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/file_lock.hpp"
#include "box/units.hpp"
#include "box/util.hpp"
#include "attach.hpp"
#include "commit.hpp"
#include "cp.hpp"
#include "exec.hpp"
#include "lifecycle.hpp"
#include "pause.hpp"
#include "volumes.hpp"
#include "stage3.hpp"
#include "stage4.hpp"

namespace box::stage4 {
namespace {

ContainerStore store() { return ContainerStore(state_root()); }

// Runs `each` for every name; like docker, goes on after a failure, prints
// it, and exits 1 if any failed.
int for_each(const std::vector<std::string>& refs, const std::function<void(const std::string&)>& each) {
    int status = 0;
    for (const auto& r : refs) {
        try {
            each(r);
        } catch (const Error& e) {
            fprintf(stderr, "box: %s\n", e.what());
            status = 1;
        }
    }
    return status;
}

// ---- run, create ---------------------------------------------------------

struct RunFlags {
    bool detach = false, auto_remove = false, create_only = false;
    std::string name, restart = "no", detach_keys = "ctrl-p,ctrl-q";
    std::vector<std::string> volumes;
};

// Waits until container `id` no longer runs; returns its state then.
Container wait_until_stopped(const ContainerStore& s, const std::string& id) {
    for (;;) {
        Container c = s.find(id);
        if (!c.running()) return c;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Starts container `c` under a shim (see start_detached); a --rm container
// that cannot start is removed, as docker's is.
void start_or_remove(const ContainerStore& s, const Container& c, int attach_socket = -1) {
    try {
        start_detached(c, attach_socket);
    } catch (const Error&) {
        if (c.auto_remove) {
            s.remove(s.find(c.id));
            remove_anonymous_volumes(c);
        }
        throw;
    }
}

// run -it, start -a, attach: relays this terminal to container `c` through
// `socket` until it ends; returns what box exits with. `attach_command`: the
// detach keys end `box attach` with docker's "read escape sequence" and 1;
// they end run -it and start -a quietly with 0.
int attach_and_wait(const ContainerStore& s, const Container& c, Fd socket, const AttachOptions& o,
                    bool attach_command) {
    AttachResult r = relay_attached(std::move(socket), o);
    switch (r.how) {
    case AttachResult::Exited:
    case AttachResult::Signalled:
        return r.status;
    case AttachResult::Detached:
        if (!attach_command) return 0;
        fprintf(stderr, "read escape sequence\n");
        return 1;
    case AttachResult::Lost:
        break;
    }
    // The shim went without a word: killed, or it dropped us for reading its
    // output too slowly.
    std::optional<Container> found = [&]() -> std::optional<Container> {
        try {
            return s.find(c.id);
        } catch (const Error&) {
            return std::nullopt;  // --rm: removed meanwhile
        }
    }();
    if (!found) throw Error("attach " + c.name, "lost the connection to its shim, and it is removed: its exit status is unknown");
    const Container& now = *found;
    if (!now.running()) return now.state.exit_code;
    throw Error("attach " + c.name, "lost the connection to its shim; it still runs (box attach " + c.name + ")");
}

// A connected pair of attach sockets: the shim gets one, this box keeps the other.
std::pair<Fd, Fd> attach_pair() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) throw_errno("socketpair", errno);
    return {Fd(sv[0]), Fd(sv[1])};
}

void check_restart(const std::string& policy) {
    // no|always|unless-stopped|on-failure[:N] (no std::regex: compiling one costs
    // every `box run` a few hundred microseconds)
    std::string retries = starts_with(policy, "on-failure:") ? policy.substr(11) : "";
    bool valid = policy == "no" || policy == "always" || policy == "unless-stopped" || policy == "on-failure" ||
                 (!retries.empty() && retries.find_first_not_of("0123456789") == std::string::npos);
    if (!valid)
        throw Error("invalid restart policy \"" + policy + "\"", "use no, always, unless-stopped or on-failure[:max-retries]");
}

int run(const RunFlags& f, ContainerSpec spec) {
    check_restart(f.restart);
    parse_detach_keys(f.detach_keys);  // refused before anything is made
    if (f.auto_remove && f.restart != "no") throw Error("Conflicting options", "--restart and --rm");
    spec.keep_rootfs = true;  // its writable layer stays until `box rm`
    std::string image_id;
    json image_volumes;
    if (!spec.image.empty()) {
        auto image = stage3::ImageStore(state_root()).find(spec.image);
        image_id = image.id;
        image_volumes = image.config.value("config", json::object()).value("Volumes", json());
    }
    fill_volumes(spec, f.volumes, image_volumes);
    // -it: under a shim, as -d, with this terminal attached from the first
    // byte, so that Ctrl-P Ctrl-Q can leave it running. The sockets first, so
    // that nothing is recorded if they cannot be had.
    bool attached = !f.detach && !f.create_only && spec.tty && spec.interactive;
    std::pair<Fd, Fd> ends;
    if (attached) ends = attach_pair();
    ContainerStore s = store();
    Container c = s.create(spec, f.name, image_id, f.restart, f.auto_remove);
    create_volumes(spec);  // only now: a refused create (a taken name) makes none
    if (f.create_only) {
        printf("%s\n", c.id.c_str());
        return 0;
    }
    if (f.detach) {
        start_or_remove(s, c);
        printf("%s\n", c.id.c_str());
        return 0;
    }
    if (!attached) return run_foreground(s, c);
    AttachOptions o;
    o.input = o.tty = true;
    o.detach_keys = f.detach_keys;
    start_or_remove(s, c, ends.second.get());
    ends.second.reset();
    return attach_and_wait(s, c, std::move(ends.first), o, false);
}

// ---- ps --------------------------------------------------------------------

struct PsFlags {
    bool all = false, latest = false, quiet = false, no_trunc = false;
    int last = -1;
    std::vector<std::string> filters;
};

std::string command_text(const Container& c, bool no_trunc) {
    std::string cmd;
    for (const auto& a : c.spec.args) cmd += (cmd.empty() ? "" : " ") + a;
    if (!no_trunc && cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    return "\"" + cmd + "\"";
}

bool matches(const Container& c, const std::vector<std::string>& filters) {
    for (const auto& f : filters) {
        std::string key = f.substr(0, f.find('=')), value = f.find('=') == std::string::npos ? "" : f.substr(f.find('=') + 1);
        if (key == "status" && c.state.status != value) return false;
        if (key == "name" && c.name.find(value) == std::string::npos) return false;
        if (key == "id" && !starts_with(c.id, value)) return false;
        if (key != "status" && key != "name" && key != "id")
            throw Error("invalid filter '" + f + "'", "box ps filters by status=, name= or id=");
    }
    return true;
}

void print_table(const std::vector<std::vector<std::string>>& rows);

int ps(const PsFlags& f) {
    std::vector<Container> shown;
    auto all = store().list();
    int limit = f.latest ? 1 : f.last;
    for (const auto& c : all) {
        if (!f.all && limit < 0 && f.filters.empty() && !c.running()) continue;
        if (!matches(c, f.filters)) continue;
        if (limit >= 0 && static_cast<int>(shown.size()) >= limit) break;
        shown.push_back(c);
    }
    if (f.quiet) {
        for (const auto& c : shown) printf("%s\n", f.no_trunc ? c.id.c_str() : c.id.substr(0, 12).c_str());
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    for (const auto& c : shown)
        rows.push_back({f.no_trunc ? c.id : c.id.substr(0, 12), c.spec.image.empty() ? c.spec.rootfs : c.spec.image,
                        command_text(c, f.no_trunc), ago(c.created), c.status_text(), "", c.name});
    print_table(rows);
    return 0;
}

// docker's tables: columns as wide as their widest cell, three spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width(rows[0].size(), 0);
    auto display = [](const std::string& s) {  // "…" is one column, three bytes
        size_t n = 0;
        for (unsigned char ch : s) n += (ch & 0xc0) != 0x80;
        return n;
    };
    for (const auto& r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], display(r[i]));
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - display(r[i]) + 3, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        printf("%s\n", line.c_str());
    }
}

// ---- logs ------------------------------------------------------------------

struct LogsFlags {
    bool follow = false, timestamps = false;
    std::string tail = "all", since, container;
};

std::optional<double> since_time(const std::string& since) {
    if (since.empty()) return std::nullopt;
    if (auto t = parse_rfc3339(since)) return t;
    static const std::regex relative("([0-9]+)(s|m|h)");
    std::smatch m;
    if (!std::regex_match(since, m, relative))
        throw Error("invalid value for \"since\": " + since, "use an RFC 3339 time or a duration such as 10m");
    double n = std::stod(m[1]) * (m[2] == "s" ? 1 : m[2] == "m" ? 60 : 3600);
    return parse_rfc3339(now_rfc3339()).value_or(0) - n;
}

void print_record(const std::string& line, const LogsFlags& f, std::optional<double> since) {
    json r = json::parse(line, nullptr, false);
    if (r.is_discarded()) return;
    std::string time = r.value("time", "");
    if (since && parse_rfc3339(time).value_or(0) < *since) return;
    std::string text = (f.timestamps ? time + " " : "") + r.value("log", "");
    FILE* out = r.value("stream", "stdout") == "stderr" ? stderr : stdout;
    fwrite(text.data(), 1, text.size(), out);
    fflush(out);
}

int logs(const LogsFlags& f) {
    ContainerStore s = store();
    Container c = s.find(f.container);
    auto since = since_time(f.since);
    long tail = -1;
    if (f.tail != "all") {
        try {
            tail = std::stol(f.tail);
        } catch (...) {
            throw Error("invalid value for --tail: " + f.tail, "use a number or all");
        }
    }
    std::ifstream in(c.dir + "/container.log", std::ios::binary);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    size_t first = tail >= 0 && static_cast<size_t>(tail) < lines.size() ? lines.size() - static_cast<size_t>(tail) : 0;
    for (size_t i = first; i < lines.size(); ++i) print_record(lines[i], f, since);
    if (!f.follow) return 0;
    // -f: new records as the shim writes them, until the container stops.
    in.clear();
    std::string partial;
    for (;;) {
        bool done = !s.find(c.id).running();
        while (std::getline(in, line)) {
            if (in.eof()) {  // no newline yet: the rest of it is still coming
                partial += line;
                break;
            }
            print_record(partial + line, f, since);
            partial.clear();
        }
        in.clear();
        if (done) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

// ---- inspect -----------------------------------------------------------------

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

json inspect_json(const Container& c) {
    const auto& l = c.spec.limits;
    std::string policy = c.restart.substr(0, c.restart.find(':'));
    int retries = c.restart.find(':') == std::string::npos ? 0 : std::atoi(c.restart.c_str() + c.restart.find(':') + 1);
    std::string lowers;
    for (auto it = c.spec.layers.rbegin(); it != c.spec.layers.rend(); ++it) lowers += (lowers.empty() ? "" : ":") + *it;
    return {
        {"Id", c.id},
        {"Created", c.created},
        {"Path", c.spec.args.empty() ? "" : c.spec.args[0]},
        {"Args", c.spec.args.size() > 1 ? json(std::vector<std::string>(c.spec.args.begin() + 1, c.spec.args.end()))
                                         : json::array()},
        {"State",
         {{"Status", c.state.status}, {"Running", c.state.status == "running" || c.state.status == "paused"},
          {"Paused", c.state.status == "paused"},
          {"Restarting", c.state.status == "restarting"}, {"OOMKilled", c.state.oom_killed}, {"Dead", false},
          {"Pid", c.state.pid}, {"ExitCode", c.state.exit_code}, {"Error", c.state.error},
          {"StartedAt", c.state.started_at}, {"FinishedAt", c.state.finished_at}}},
        {"Image", c.image_id},
        {"LogPath", c.dir + "/container.log"},
        {"Name", "/" + c.name},
        {"RestartCount", c.state.restart_count},
        {"Driver", c.spec.layers.empty() ? "rootfs" : "overlay2"},
        {"HostConfig",
         {{"NetworkMode", c.spec.network == NetworkMode::Host ? "host" : "none"},
          {"RestartPolicy", {{"Name", policy}, {"MaximumRetryCount", retries}}},
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
          {"Env", c.spec.env}, {"Cmd", c.spec.args}, {"Image", c.spec.image}, {"WorkingDir", c.spec.workdir}}},
    };
}

// docker's -f/--format for the simple cases: {{.Path.To.Field}} and
// {{json .Field}}; text around them is kept.
std::string apply_format(const std::string& format, const json& j) {
    static const std::regex action(R"(\{\{\s*(json\s+)?((?:\.[A-Za-z0-9_]+)+|\.)\s*\}\})");
    std::string out;
    auto begin = std::sregex_iterator(format.begin(), format.end(), action);
    size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
        out += format.substr(last, static_cast<size_t>(it->position()) - last);
        last = static_cast<size_t>(it->position() + it->length());
        const json* v = &j;
        std::string path = (*it)[2];
        for (const auto& key : split(path.substr(1), '.')) {
            if (key.empty()) continue;
            if (!v->is_object() || !v->contains(key))
                throw Error("template: " + format, "map has no entry for key \"" + key + "\"");
            v = &v->at(key);
        }
        if ((*it)[1].matched || v->is_object() || v->is_array()) out += v->dump();
        else if (v->is_string()) out += v->get<std::string>();
        else if (v->is_null()) out += "<no value>";
        else out += v->dump();
    }
    out += format.substr(last);
    if (format.find("{{") != std::string::npos && begin == std::sregex_iterator())
        throw Error("template: " + format, "box understands {{.Field.Sub}} and {{json .Field}}");
    return out;
}

int parse_signal(const std::string& text) {
    std::string name = text;
    for (auto& ch : name) ch = static_cast<char>(toupper(ch));
    if (starts_with(name, "SIG")) name = name.substr(3);
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
        int n = std::atoi(name.c_str());
        if (n > 0 && n < NSIG) return n;
    }
    for (int n = 1; n < NSIG; ++n)
        if (sigabbrev_np(n) && name == sigabbrev_np(n)) return n;
    throw Error("invalid signal: " + text, "use a name (KILL, TERM, HUP...) or a number");
}

}  // namespace

void add_commands(CLI::App& app) {
    // run: -d, --name, --rm, --restart, and the store in front of chapter 1's run.
    auto rf = std::make_shared<RunFlags>();
    CLI::App* r = app.get_subcommand("run");
    r->add_flag("-d,--detach", rf->detach, "Run container in background and print container ID");
    r->add_option("--name", rf->name, "Assign a name to the container");
    r->add_flag("--rm", rf->auto_remove, "Automatically remove the container when it exits");
    r->add_option("--restart", rf->restart, "Restart policy: no, on-failure[:max-retries], always, unless-stopped")
        ->capture_default_str();
    r->add_option("-v,--volume", rf->volumes, "Bind mount a volume: /host/dir:/path[:ro], NAME:/path[:ro], /path")
        ->allow_extra_args(false);
    r->add_option("--detach-keys", rf->detach_keys, "Override the key sequence for detaching a container (-it)")
        ->capture_default_str();
    r->add_flag("--create-only", rf->create_only, "(box create) Record the container; do not start it")->group("");
    set_container_runner([rf](const ContainerSpec& spec) { return run(*rf, spec); });
    add_volume_extension();
    stage3::set_image_user([](const std::string& image_id) -> std::string {
        for (const auto& c : store().list())
            if (c.image_id == image_id) return c.id;
        return "";
    });

    // create: run's flags, without the start (box re-reads its command line as run's).
    auto self = std::make_shared<CLI::App*>();
    CLI::App* c = cli::add_command(app, "create", "Create a new container (run's options; it does not start)", [self]() -> int {
        std::vector<std::string> args = {"/proc/self/exe", "--root", state_root(), "run", "--create-only"};
        for (const auto& a : (*self)->remaining()) args.push_back(a);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        fflush(stdout);
        ::execv("/proc/self/exe", argv.data());
        throw_errno("exec box run", errno);
    });
    *self = c;
    c->prefix_command();

    struct StartFlags {
        std::vector<std::string> refs;
        bool attach = false, interactive = false;
        std::string detach_keys = "ctrl-p,ctrl-q";
    };
    auto stf = std::make_shared<StartFlags>();
    c = cli::add_command(app, "start", "Start one or more stopped containers", [stf] {
        ContainerStore s = store();
        if (!stf->attach && !stf->interactive) {
            return for_each(stf->refs, [&](const std::string& ref) {
                Container ct = s.find(ref);
                if (!ct.running()) {
                    clean_up_leftovers(s, ct);
                    start_or_remove(s, s.find(ct.id));
                }
                printf("%s\n", ref.c_str());
            });
        }
        // -a/-i: attached from the first byte; box exits with its exit code.
        if (stf->refs.size() != 1) throw Error("start -a", "you cannot start and attach multiple containers at once");
        Container ct = s.find(stf->refs.front());
        AttachOptions o;
        o.input = stf->interactive && ct.spec.interactive;
        o.tty = ct.spec.tty;
        o.detach_keys = stf->detach_keys;
        parse_detach_keys(o.detach_keys);
        if (ct.running()) return attach_and_wait(s, ct, connect_attach(ct), o, false);
        clean_up_leftovers(s, ct);
        auto [mine, theirs] = attach_pair();
        start_or_remove(s, s.find(ct.id), theirs.get());
        theirs.reset();
        return attach_and_wait(s, ct, std::move(mine), o, false);
    });
    c->add_option("CONTAINER", stf->refs, "Containers to start")->required();
    c->add_flag("-a,--attach", stf->attach, "Attach STDOUT/STDERR and forward signals; exit with the container's code");
    c->add_flag("-i,--interactive", stf->interactive, "Attach container's STDIN");
    c->add_option("--detach-keys", stf->detach_keys, "Override the key sequence for detaching a container")
        ->capture_default_str();

    struct AttachFlags {
        std::string ref, detach_keys = "ctrl-p,ctrl-q";
        bool no_stdin = false, sig_proxy = true;
    };
    auto af = std::make_shared<AttachFlags>();
    c = cli::add_command(app, "attach", "Attach local standard input, output, and error streams to a running container",
                         [af] {
        ContainerStore s = store();
        Container ct = s.find(af->ref);
        AttachOptions o;
        o.input = !af->no_stdin && ct.spec.interactive;
        o.tty = ct.spec.tty;
        o.sig_proxy = af->sig_proxy;
        o.detach_keys = af->detach_keys;
        parse_detach_keys(o.detach_keys);
        return attach_and_wait(s, ct, connect_attach(ct), o, true);
    });
    c->add_option("CONTAINER", af->ref, "Container")->required();
    c->add_flag("--no-stdin", af->no_stdin, "Do not attach STDIN");
    c->add_flag("--sig-proxy", af->sig_proxy, "Proxy all received signals to the process (without a terminal)")
        ->capture_default_str();
    c->add_option("--detach-keys", af->detach_keys, "Override the key sequence for detaching a container")
        ->capture_default_str();

    auto grace = std::make_shared<int>(10);
    auto stop_refs = std::make_shared<std::vector<std::string>>();
    c = cli::add_command(app, "stop", "Stop one or more running containers", [stop_refs, grace] {
        return for_each(*stop_refs, [&](const std::string& ref) {
            stop_container(store(), ref, *grace);
            printf("%s\n", ref.c_str());
        });
    });
    c->add_option("CONTAINER", *stop_refs, "Containers to stop")->required();
    c->add_option("-t,--time", *grace, "Seconds to wait for stop before killing it")->capture_default_str();

    auto restart_refs = std::make_shared<std::vector<std::string>>();
    auto restart_grace = std::make_shared<int>(10);
    c = cli::add_command(app, "restart", "Restart one or more containers", [restart_refs, restart_grace] {
        ContainerStore s = store();
        return for_each(*restart_refs, [&](const std::string& ref) {
            stop_container(s, ref, *restart_grace);
            Container ct = s.find(ref);
            update_stopped_by_user(s, ct, false);
            start_detached(s.find(ct.id));
            printf("%s\n", ref.c_str());
        });
    });
    c->add_option("CONTAINER", *restart_refs, "Containers to restart")->required();
    c->add_option("-t,--time", *restart_grace, "Seconds to wait for stop before killing it")->capture_default_str();

    auto kill_refs = std::make_shared<std::vector<std::string>>();
    auto sig = std::make_shared<std::string>("KILL");
    c = cli::add_command(app, "kill", "Kill one or more running containers", [kill_refs, sig] {
        int signal = parse_signal(*sig);
        ContainerStore s = store();
        return for_each(*kill_refs, [&](const std::string& ref) {
            Container ct = s.find(ref);
            if (!ct.running() || ct.state.pid <= 0)
                throw Error("Cannot kill container: " + ref, "container " + ct.id + " is not running");
            update_stopped_by_user(s, ct, true);
            if (::kill(ct.state.pid, signal) != 0) throw_errno("kill " + ref, errno);
            printf("%s\n", ref.c_str());
        });
    });
    c->add_option("CONTAINER", *kill_refs, "Containers to kill")->required();
    c->add_option("-s,--signal", *sig, "Signal to send to the container")->capture_default_str();

    // pause / unpause: the cgroup freezer.
    for (bool frozen : {true, false}) {
        auto prefs = std::make_shared<std::vector<std::string>>();
        c = cli::add_command(app, frozen ? "pause" : "unpause",
                             frozen ? "Pause all processes within one or more containers"
                                    : "Unpause all processes within one or more containers",
                             [prefs, frozen] {
                                 ContainerStore s = store();
                                 return for_each(*prefs, [&](const std::string& ref) {
                                     Container ct = s.find(ref);
                                     if (frozen && ct.state.status == "paused")
                                         throw Error("Container " + ct.id + " is already paused", "box unpause it");
                                     if (!frozen && ct.state.status != "paused")
                                         throw Error("Container " + ct.id + " is not paused", "nothing to do");
                                     set_frozen(ct, frozen);
                                     set_status(s, ct, frozen ? "paused" : "running");
                                     printf("%s\n", ref.c_str());
                                 });
                             });
        c->add_option("CONTAINER", *prefs, "Containers")->required();
    }

    // stats: CPU % over a second, memory, network, pids; --no-stream prints once.
    struct StatsFlags { std::vector<std::string> refs; bool no_stream = false, all = false; };
    auto sf = std::make_shared<StatsFlags>();
    c = cli::add_command(app, "stats", "Display a live stream of container(s) resource usage statistics", [sf] {
        ContainerStore s = store();
        for (;;) {
            std::vector<Container> shown;
            if (sf->refs.empty()) {
                for (const auto& ct : s.list())
                    if (ct.running() || sf->all) shown.push_back(ct);
            } else {
                for (const auto& r : sf->refs) shown.push_back(s.find(r));
            }
            std::vector<std::int64_t> before;
            for (const auto& ct : shown) before.push_back(ct.running() ? cpu_usage_ns(ct) : 0);
            auto t0 = std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::chrono::milliseconds(sf->no_stream ? 500 : 1000));
            double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::vector<std::vector<std::string>> rows = {
                {"CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"}};
            for (size_t i = 0; i < shown.size(); ++i) {
                if (!shown[i].running()) {
                    rows.push_back({shown[i].id.substr(0, 12), shown[i].name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0"});
                    continue;
                }
                double pct = 100.0 * static_cast<double>(cpu_usage_ns(shown[i]) - before[i]) / (secs * 1e9);
                rows.push_back(stats_row(shown[i], pct < 0 ? 0 : pct));
            }
            if (!sf->no_stream) printf("\033[2J\033[H");  // a fresh screen each second, as docker's
            print_table(rows);
            fflush(stdout);
            if (sf->no_stream) return 0;
        }
    });
    c->add_option("CONTAINER", sf->refs, "Containers (default: all running)");
    c->add_flag("--no-stream", sf->no_stream, "Disable streaming stats and only pull the first result");
    c->add_flag("-a,--all", sf->all, "Show all containers (default shows just running)");

    auto wait_refs = std::make_shared<std::vector<std::string>>();
    c = cli::add_command(app, "wait", "Block until one or more containers stop, then print their exit codes", [wait_refs] {
        ContainerStore s = store();
        return for_each(*wait_refs, [&](const std::string& ref) {
            printf("%d\n", wait_until_stopped(s, s.find(ref).id).state.exit_code);
            fflush(stdout);
        });
    });
    c->add_option("CONTAINER", *wait_refs, "Containers to wait for")->required();

    struct RmFlags { std::vector<std::string> refs; bool force = false, volumes = false; };
    auto rm = std::make_shared<RmFlags>();
    c = cli::add_command(app, "rm", "Remove one or more containers", [rm] {
        ContainerStore s = store();
        return for_each(rm->refs, [&](const std::string& ref) {
            FileLock not_starting = starting_lock(s.find(ref));
            Container ct = s.find(ref);
            if (ct.running() && !rm->force)
                throw Error("You cannot remove a running container " + ct.id,
                            "Stop the container before attempting removal or force remove");
            if (ct.running()) stop_container(s, ref, 0);
            clean_up_leftovers(s, s.find(ct.id));
            s.remove(s.find(ct.id));
            if (rm->volumes) remove_anonymous_volumes(ct);  // -v: its anonymous volumes go with it
            printf("%s\n", ref.c_str());
        });
    });
    c->add_option("CONTAINER", rm->refs, "Containers to remove")->required();
    c->add_flag("-f,--force", rm->force, "Force the removal of a running container (uses SIGKILL)");
    c->add_flag("-v,--volumes", rm->volumes, "Remove anonymous volumes associated with the container");

    auto ps_flags = std::make_shared<PsFlags>();
    auto add_ps_flags = [ps_flags](CLI::App* cmd) {
        cmd->add_flag("-a,--all", ps_flags->all, "Show all containers (default shows just running)");
        cmd->add_flag("-l,--latest", ps_flags->latest, "Show the latest created container (includes all states)");
        cmd->add_option("-n,--last", ps_flags->last, "Show n last created containers (includes all states)");
        cmd->add_flag("-q,--quiet", ps_flags->quiet, "Only display container IDs");
        cmd->add_flag("--no-trunc", ps_flags->no_trunc, "Don't truncate output");
        cmd->add_option("-f,--filter", ps_flags->filters, "Filter output: status=..., name=..., id=...");
    };
    add_ps_flags(cli::add_command(app, "ps", "List containers", [ps_flags] { return ps(*ps_flags); }));

    auto lf = std::make_shared<LogsFlags>();
    c = cli::add_command(app, "logs", "Fetch the logs of a container", [lf] { return logs(*lf); });
    c->add_option("CONTAINER", lf->container, "Container")->required();
    c->add_flag("-f,--follow", lf->follow, "Follow log output");
    c->add_flag("-t,--timestamps", lf->timestamps, "Show timestamps");
    c->add_option("-n,--tail", lf->tail, "Number of lines to show from the end of the logs")->capture_default_str();
    c->add_option("--since", lf->since, "Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)");

    struct InspectFlags { std::vector<std::string> refs; std::string format; };
    auto inf = std::make_shared<InspectFlags>();
    c = cli::add_command(app, "inspect", "Return low-level information on containers", [inf] {
        ContainerStore s = store();
        json all = json::array();
        int status = for_each(inf->refs, [&](const std::string& ref) {
            json j = inspect_json(s.find(ref));
            if (inf->format.empty()) all.push_back(j);
            else printf("%s\n", apply_format(inf->format, j).c_str());
        });
        if (inf->format.empty()) printf("%s\n", all.dump(4).c_str());
        return status;
    });
    c->add_option("CONTAINER", inf->refs, "Containers to inspect")->required();
    c->add_option("-f,--format", inf->format, "Format the output using a template ({{.State.Status}})");

    auto names = std::make_shared<std::vector<std::string>>();
    c = cli::add_command(app, "rename", "Rename a container", [names] {
        ContainerStore s = store();
        s.rename(s.find(names->at(0)), names->at(1));
        return 0;
    });
    c->add_option("CONTAINER NEW_NAME", *names, "The container and its new name")->required()->expected(2);

    auto eo = std::make_shared<ExecOptions>();
    auto exec_self = std::make_shared<CLI::App*>();
    c = cli::add_command(app, "exec", "Execute a command in a running container", [eo, exec_self] {
        auto rest = (*exec_self)->remaining();
        if (rest.size() < 2) throw Error("exec", "usage: box exec [OPTIONS] CONTAINER COMMAND [ARG...]");
        eo->args.assign(rest.begin() + 1, rest.end());
        return exec_in(store().find(rest[0]), *eo);
    });
    *exec_self = c;
    c->prefix_command();
    c->add_flag("-i,--interactive", eo->interactive, "Keep STDIN open");
    c->add_flag("-t,--tty", eo->tty, "Allocate a pseudo-TTY");
    c->add_flag("-d,--detach", eo->detach, "Detached mode: run command in the background");
    c->add_option("-e,--env", eo->env, "Set environment variables")->allow_extra_args(false);
    c->add_option("-w,--workdir", eo->workdir, "Working directory inside the container");
    c->add_option("-u,--user", eo->user, "Username or UID (format: <name|uid>[:<group|gid>])");

    auto top_self = std::make_shared<CLI::App*>();
    c = cli::add_command(app, "top", "Display the running processes of a container", [top_self] {
        auto rest = (*top_self)->remaining();
        if (rest.empty()) throw Error("top", "usage: box top CONTAINER [ps OPTIONS]");
        return top(store().find(rest[0]), std::vector<std::string>(rest.begin() + 1, rest.end()));
    });
    *top_self = c;
    c->prefix_command();

    auto diff_ref = std::make_shared<std::string>();
    c = cli::add_command(app, "diff", "Inspect changes to files or directories on a container's filesystem",
                         [diff_ref] { return diff(store().find(*diff_ref)); });
    c->add_option("CONTAINER", *diff_ref, "Container")->required();

    struct CommitFlags { std::string ref; CommitOptions o; };
    auto cf = std::make_shared<CommitFlags>();
    c = cli::add_command(app, "commit", "Create a new image from a container's changes",
                         [cf] { return commit(store().find(cf->ref), cf->o); });
    c->add_option("CONTAINER", cf->ref, "Container")->required();
    c->add_option("REPOSITORY[:TAG]", cf->o.reference, "Name of the new image");
    c->add_option("-m,--message", cf->o.message, "Commit message");
    c->add_option("-a,--author", cf->o.author, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")");
    c->add_option("-c,--change", cf->o.changes, "Apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, WORKDIR, USER)")
        ->allow_extra_args(false);

    auto cp_args = std::make_shared<std::vector<std::string>>();
    auto cp_follow = std::make_shared<bool>(false);
    c = cli::add_command(app, "cp", "Copy files/folders between a container and the local filesystem", [cp_args, cp_follow] {
        const auto& a = *cp_args;
        auto container_part = [](const std::string& s) {
            size_t colon = s.find(':');
            return colon != std::string::npos && s[0] != '/' && s[0] != '.' ? colon : std::string::npos;
        };
        size_t from = container_part(a[0]), to = container_part(a[1]);
        if ((from == std::string::npos) == (to == std::string::npos))
            throw Error("cp", "give one CONTAINER:PATH and one local path");
        if (from != std::string::npos)
            return copy_out(store().find(a[0].substr(0, from)), a[0].substr(from + 1), a[1], *cp_follow);
        return copy_in(store().find(a[1].substr(0, to)), a[0], a[1].substr(to + 1));
    });
    c->add_option("SRC DEST", *cp_args, "CONTAINER:SRC_PATH DEST_PATH, or SRC_PATH CONTAINER:DEST_PATH")
        ->required()
        ->expected(2);
    c->add_flag("-L,--follow-link", *cp_follow, "Always follow symbol link in SRC_PATH");

    struct ExportFlags { std::string ref, output; };
    auto ef = std::make_shared<ExportFlags>();
    c = cli::add_command(app, "export", "Export a container's filesystem as a tar archive",
                         [ef] { return export_container(store().find(ef->ref), ef->output); });
    c->add_option("CONTAINER", ef->ref, "Container")->required();
    c->add_option("-o,--output", ef->output, "Write to a file, instead of STDOUT");

    // container prune, and docker's `container` group for the same commands.
    CLI::App* group = app.add_subcommand("container", "Manage containers");
    auto force = std::make_shared<bool>(false);
    c = cli::add_command(*group, "prune", "Remove all stopped containers", [force] {
        if (!*force) {
            printf("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
            fflush(stdout);
            std::string answer;
            std::getline(std::cin, answer);
            if (answer != "y" && answer != "Y") return 0;
        }
        ContainerStore s = store();
        printf("Deleted Containers:\n");
        for (const auto& listed : s.list()) {
            FileLock not_starting = starting_lock(listed);
            Container ct = s.find(listed.id);
            if (ct.running()) continue;
            clean_up_leftovers(s, ct);
            s.remove(ct);
            printf("%s\n", ct.id.c_str());
        }
        remove_partial_containers(s);
        printf("\nTotal reclaimed space: 0B\n");
        return 0;
    });
    c->add_flag("-f,--force", *force, "Do not prompt for confirmation");
    add_ps_flags(cli::add_command(*group, "ls", "List containers", [ps_flags] { return ps(*ps_flags); }));

    // volume create/ls/inspect/rm/prune
    CLI::App* vg = app.add_subcommand("volume", "Manage volumes");
    auto vname = std::make_shared<std::string>();
    c = cli::add_command(*vg, "create", "Create a volume", [vname] {
        printf("%s\n", create_volume(vname->empty() ? random_hex(64) : *vname).c_str());
        return 0;
    });
    c->add_option("VOLUME", *vname, "Name (default: a random one)");
    auto vquiet = std::make_shared<bool>(false);
    c = cli::add_command(*vg, "ls", "List volumes", [vquiet] {
        if (!*vquiet) printf("DRIVER    VOLUME NAME\n");
        for (const auto& n : list_volumes()) printf(*vquiet ? "%s\n" : "local     %s\n", n.c_str());
        return 0;
    });
    c->add_flag("-q,--quiet", *vquiet, "Only display volume names");
    auto vnames = std::make_shared<std::vector<std::string>>();
    c = cli::add_command(*vg, "inspect", "Display detailed information on one or more volumes", [vnames] {
        json all = json::array();
        int status = for_each(*vnames, [&](const std::string& n) { all.push_back(inspect_volume(n)); });
        printf("%s\n", all.dump(4).c_str());
        return status;
    });
    c->add_option("VOLUME", *vnames, "Volumes")->required();
    auto vrm = std::make_shared<std::vector<std::string>>();
    c = cli::add_command(*vg, "rm", "Remove one or more volumes", [vrm] {
        return for_each(*vrm, [&](const std::string& n) {
            inspect_volume(n);
            auto users = volume_users(n);
            if (!users.empty())
                throw Error("remove " + n + ": volume is in use", "[" + users.front() + "]");
            remove_volume(n);
            printf("%s\n", n.c_str());
        });
    });
    c->add_option("VOLUME", *vrm, "Volumes")->required();
    auto vforce = std::make_shared<bool>(false);
    c = cli::add_command(*vg, "prune", "Remove all volumes no container uses", [vforce] {
        if (!*vforce) {
            printf("WARNING! This will remove all local volumes not used by at least one container.\n"
                   "Are you sure you want to continue? [y/N] ");
            fflush(stdout);
            std::string answer;
            std::getline(std::cin, answer);
            if (answer != "y" && answer != "Y") return 0;
        }
        printf("Deleted Volumes:\n");
        for (const auto& n : list_volumes())
            if (volume_users(n).empty()) {
                remove_volume(n);
                printf("%s\n", n.c_str());
            }
        printf("\nTotal reclaimed space: 0B\n");
        return 0;
    });
    c->add_flag("-f,--force", *vforce, "Do not prompt for confirmation");

    // What box-shim runs (not for people: hidden from --help).
    auto helper_id = std::make_shared<std::string>();
    auto helper_arg = std::make_shared<int>(3);
    c = cli::add_command(app, "__start", "(box-shim) start a container", [helper_id, helper_arg] {
        return start_helper(*helper_id, *helper_arg);
    });
    c->group("");
    c->add_option("ID", *helper_id)->required();
    c->add_option("FD", *helper_arg);
    c = cli::add_command(app, "__cleanup", "(box-shim) record a container's end", [helper_id, helper_arg] {
        return cleanup_helper(*helper_id, *helper_arg);
    });
    c->group("");
    c->add_option("ID", *helper_id)->required();
    c->add_option("WAIT_STATUS", *helper_arg)->required();
}

}  // namespace box::stage4
