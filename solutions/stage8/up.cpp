// Chapter 8: up and down — the reconcile. What the model asks for is
// compared with the objects box has that carry the project's label; what is
// missing is made, what changed is made anew, what is left over is reported
// (or removed). Everything is done through the functions `box run`,
// `box network create` and `box build` use.
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/filters.hpp"
#include "box/util.hpp"
#include "health.hpp"
#include "lifecycle.hpp"
#include "logs.hpp"
#include "ps.hpp"
#include "stage3.hpp"
#include "stage6.hpp"
#include "stage7.hpp"
#include "stage8.hpp"
#include "volumes.hpp"

namespace box::stage8 {
namespace {

using stage4::Container;

// docker compose's progress lines, on stderr: " Container p-web-1  Started".
void say(const std::string& kind, const std::string& name, const std::string& what) {
    fprintf(stderr, " %s %s  %s\n", kind.c_str(), name.c_str(), what.c_str());
    fflush(stderr);
}

stage4::ContainerStore containers() { return stage4::ContainerStore(state_root()); }

int number_of(const Container& c) { return parse_number<int>(label_of(c, label::kNumber)).value_or(0); }

// How many containers service `name` runs: --scale, scale, deploy.replicas, else 1.
int replicas(const Project& p, const std::string& name, const UpOptions& o) {
    if (auto it = o.scale.find(name); it != o.scale.end()) return it->second;
    const json& s = p.model["services"].at(name);
    if (s.contains("scale")) return s["scale"];
    return s.value("deploy", json::object()).value("replicas", 1);
}

// The services up acts on: those named (with what they depend on), else all; in start order.
std::vector<std::string> services_to_run(const Project& p, const std::vector<std::string>& named) {
    std::vector<std::string> order = start_order(p.model["services"]);
    if (named.empty()) return order;
    std::set<std::string> wanted;
    std::function<void(const std::string&)> add = [&](const std::string& n) {
        if (!p.model["services"].contains(n)) throw Error("no such service: " + n, "see 'box compose config --services'");
        if (!wanted.insert(n).second) return;
        for (const auto& [dep, how] : member(p.model["services"][n], "depends_on").items())
            if (p.model["services"].contains(dep)) add(dep);
    };
    for (const auto& n : named) add(n);
    std::erase_if(order, [&](const std::string& n) { return !wanted.count(n); });
    return order;
}

Labels project_labels(const Project& p) { return {{label::kProject, p.name}, {label::kVersion, BOX_VERSION}}; }

void make_networks(const Project& p, const std::vector<std::string>& services) {
    std::set<std::string> used;
    for (const auto& s : services)
        for (const auto& [key, unused] : member(p.model["services"][s], "networks").items()) used.insert(key);
    stage7::NetworkStore store;
    for (const auto& key : used) {
        const json& n = p.model["networks"].value(key, json::object());
        std::string name = network_name(p, key);
        std::optional<stage7::Network> have;
        try {
            have = store.find(name);
        } catch (const Error&) {
        }
        if (n.value("external", false)) {
            if (!have) throw Error("network " + name + " declared as external, but could not be found", "make it with 'box network create " + name + "'");
            continue;
        }
        if (have) {
            auto it = have->labels.find(label::kProject);
            if (it == have->labels.end() || it->second != p.name)
                fprintf(stderr, "WARN[0000] a network with name %s exists but was not created for project \"%s\".\n"
                                "Set `external: true` to use an existing network\n", name.c_str(), p.name.c_str());
            continue;
        }
        stage7::NetworkRequest r;
        r.name = name;
        r.internal = n.value("internal", false);
        const json& configs = n.value("ipam", json::object()).value("config", json::array());
        if (!configs.empty()) {
            r.subnet = configs[0].value("subnet", "");
            r.gateway = configs[0].value("gateway", "");
        }
        for (const auto& [k, v] : member(n, "labels").items()) r.labels[k] = v.is_null() ? "" : v.get<std::string>();
        for (const auto& [k, v] : project_labels(p)) r.labels[k] = v;
        r.labels[label::kNetwork] = key;
        say("Network", name, "Creating");
        store.create(r);
        say("Network", name, "Created");
    }
}

void make_volumes(const Project& p) {
    std::set<std::string> have;
    for (const auto& v : stage4::list_volumes()) have.insert(v);
    for (const auto& [key, v] : p.model["volumes"].items()) {
        std::string name = volume_name(p, key);
        if (v.value("external", false)) {
            if (!have.count(name)) throw Error("external volume \"" + name + "\" not found", "make it with 'box volume create " + name + "'");
            continue;
        }
        if (have.count(name)) continue;
        Labels labels;
        for (const auto& [k, val] : member(v, "labels").items()) labels[k] = val.is_null() ? "" : val.get<std::string>();
        for (const auto& [k, val] : project_labels(p)) labels[k] = val;
        labels[label::kVolume] = key;
        say("Volume", "\"" + name + "\"", "Creating");
        stage4::create_volume(name, labels);
        say("Volume", "\"" + name + "\"", "Created");
    }
}

bool have_image(const std::string& image) {
    try {
        stage3::ImageStore(state_root()).find(image);
        return true;
    } catch (const Error&) {
        return false;
    }
}

// Builds service `name`'s image from its build section; its output on stderr.
}  // namespace

void build_image(const Project& p, const std::string& name) {
    const json& b = p.model["services"][name]["build"];
    stage6::BuildOptions o;
    o.context = b["context"];
    std::string file = b.value("dockerfile", "Dockerfile");
    o.file = file[0] == '/' ? file : o.context + "/" + file;
    o.tags = {service_image(p, name)};
    for (const auto& [k, v] : member(b, "args").items()) {
        if (!v.is_null()) o.build_args.push_back(k + "=" + v.get<std::string>());
        else if (auto it = p.env.find(k); it != p.env.end()) o.build_args.push_back(k + "=" + it->second);
    }
    for (const auto& [k, v] : member(b, "labels").items()) o.labels.push_back(k + "=" + (v.is_null() ? "" : v.get<std::string>()));
    o.target = b.value("target", "");
    if (b.contains("network")) o.network = b["network"];
    o.no_cache = b.value("no_cache", false);
    o.pull = b.value("pull", false);
    fprintf(stderr, "[+] Building %s\n", name.c_str());
    stage6::build(o, stage6::compact_view(stderr, ::isatty(STDERR_FILENO)));
}

namespace {

void get_image(const Project& p, const std::string& name, const UpOptions& o) {
    const json& s = p.model["services"][name];
    std::string image = service_image(p, name), policy = s.value("pull_policy", "missing");
    bool can_build = s.contains("build") && !o.no_build;
    if (can_build && (o.build || policy == "build" || !have_image(image))) return build_image(p, name);
    if (have_image(image) && policy != "always") return;
    if (policy == "never") throw Error("image " + image + " of service " + name + " is not here", "pull_policy is never");
    stage3::pull_image(image, stderr);
}

// Waits until what service `name`'s depends_on asks holds.
void wait_for_dependencies(const Project& p, const std::string& name) {
    for (const auto& [dep, how] : member(p.model["services"][name], "depends_on").items()) {
        if (!p.model["services"].contains(dep)) continue;  // required: false, and not in the file
        std::string condition = how.value("condition", "service_started");
        if (condition == "service_started") continue;
        for (auto c : project_containers(p.name)) {
            if (label_of(c, label::kService) != dep) continue;
            say("Container", c.name, "Waiting");
            for (;;) {
                c = containers().find(c.id);
                if (condition == "service_healthy") {
                    std::string h = stage4::health_word(c);
                    if (h == "none") throw Error("dependency failed to start", "container " + c.name + " has no healthcheck configured");
                    if (h == "healthy") {
                        say("Container", c.name, "Healthy");
                        break;
                    }
                    if (h == "unhealthy") throw Error("dependency failed to start", "container " + c.name + " is unhealthy");
                    if (!c.running()) throw Error("dependency failed to start", "container " + c.name + " exited (" + std::to_string(c.state.exit_code) + ")");
                } else if (!c.running()) {  // service_completed_successfully
                    if (c.state.exit_code != 0)
                        throw Error("service \"" + dep + "\" didn't complete successfully: exit " + std::to_string(c.state.exit_code),
                                    "a service that depends on it waits for a successful end");
                    say("Container", c.name, "Exited");
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
    }
}

// The request for a new container of `name` that replaces `old` (if any):
// its anonymous volumes are the new one's, as docker compose keeps them.
ContainerRequest request_for(const Project& p, const std::string& name, int number, const Container* old) {
    ContainerRequest r = service_request(p, name, number);
    if (!old) return r;
    for (const auto& m : old->spec.mounts) {
        if (m.type != "volume" || !stage4::is_anonymous_volume(m.name)) continue;
        bool taken = std::any_of(r.HostConfig.Binds.begin(), r.HostConfig.Binds.end(), [&](const std::string& b) {
            return split(b, ':').size() > 1 && split(b, ':')[1] == m.destination;
        });
        auto same = std::find_if(r.HostConfig.Mounts.begin(), r.HostConfig.Mounts.end(), [&](const RequestMount& x) { return x.Target == m.destination; });
        if (same != r.HostConfig.Mounts.end()) {
            if (same->Type == "volume" && same->Source.empty()) same->Source = m.name;
        } else if (!taken) {
            RequestMount keep;
            keep.Type = "volume";
            keep.Source = m.name;
            keep.Target = m.destination;
            r.HostConfig.Mounts.push_back(keep);
        }
    }
    return r;
}

// docker compose's warning about containers of services the file no longer has.
void warn_orphans(const std::vector<Container>& orphans) {
    std::vector<std::string> names;
    for (const auto& c : orphans) names.push_back(c.name);
    fprintf(stderr, "WARN[0000] Found orphan containers ([%s]) for this project. If you removed or renamed this service "
                    "in your compose file, you can run this command with the --remove-orphans flag to clean it up.\n",
            join(names, " ").c_str());
}

void start(const Container& c) {
    say("Container", c.name, "Starting");
    stage4::start_detached(c);
    say("Container", c.name, "Started");
}

void remove(const Container& c, std::optional<int> grace, bool volumes) {
    auto store = containers();
    if (c.running()) {
        say("Container", c.name, "Stopping");
        stage4::stop_container(store, c.id, grace);
        say("Container", c.name, "Stopped");
    }
    say("Container", c.name, "Removing");
    stage4::remove_container(store, c.id, true, volumes);
    say("Container", c.name, "Removed");
}

}  // namespace

int show_logs(const Project& p, const std::vector<Container>& started, const stage4::LogQuery& query, bool timestamps,
              const UpOptions* up) {
    if (started.empty()) return 0;
    UpOptions none;
    const UpOptions& o = up ? *up : none;
    size_t width = 0;
    auto short_name = [&](const Container& c) {
        std::string prefix = p.name + "-";
        return starts_with(c.name, prefix) ? c.name.substr(prefix.size()) : c.name;
    };
    for (const auto& c : started) width = std::max(width, short_name(c).size());
    bool colour = ::isatty(STDOUT_FILENO);
    static const char* const colours[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};
    std::mutex out;
    Fd ended(::eventfd(0, EFD_CLOEXEC));
    if (!ended) throw_errno("eventfd", errno);
    const bool query_times = timestamps;
    // Block the signals up reacts to before the threads start: they inherit it.
    sigset_t signals, old;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, &old);
    Fd sigfd(::signalfd(-1, &signals, SFD_CLOEXEC));
    std::vector<std::thread> threads;
    struct Joined {  // the followers end with their containers; the mask is put back whatever happens
        std::vector<std::thread>& threads;
        sigset_t old;
        ~Joined() {
            for (auto& t : threads)
                if (t.joinable()) t.join();
            pthread_sigmask(SIG_SETMASK, &old, nullptr);
        }
    } joined{threads, old};
    for (size_t i = 0; i < started.size(); ++i) {
        threads.emplace_back([&, i] {
            const Container& c = started[i];
            std::string name = short_name(c), pad(width - name.size(), ' ');
            std::string prefix = colour ? "\033[" + std::string(colours[i % 10]) + "m" + name + pad + "  |\033[0m " : name + pad + "  | ";
            try {
                stage4::read_logs(c, query, [&](const stage4::LogLine& l) {
                    std::lock_guard<std::mutex> hold(out);
                    std::string text = query_times ? l.time + " " + l.text : l.text;
                    if (text.empty() || text.back() != '\n') text += '\n';
                    fputs((prefix + text).c_str(), stdout);
                    fflush(stdout);
                });
            } catch (const std::exception&) {
            }
            ::eventfd_write(ended.get(), 1);
        });
    }
    int status = 0;
    size_t done = 0;
    bool aborting = false;
    auto stop_all = [&] {
        for (const auto& c : started) {
            try {
                Container now = containers().find(c.id);
                if (now.running()) {
                    say("Container", c.name, "Stopping");
                    stage4::stop_container(containers(), c.id, o.timeout);
                    say("Container", c.name, "Stopped");
                }
            } catch (const std::exception&) {
            }
        }
    };
    std::set<std::string> reported;
    while (done < started.size()) {
        struct pollfd fds[2] = {{ended.get(), POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo si {};
            if (::read(sigfd.get(), &si, sizeof si) == sizeof si) {
                if (!up) ::_exit(130);  // logs -f: Ctrl-C ends the command, the containers run on
                fprintf(stderr, "Gracefully stopping... (press Ctrl+C again to force)\n");
                stop_all();
            }
        }
        if (fds[0].revents & POLLIN) {
            eventfd_t n = 0;
            ::eventfd_read(ended.get(), &n);
            done += n;
            // Which ended: say so, as docker compose does, and act on it.
            for (const auto& c : started) {
                if (!up) break;
                std::optional<Container> now;
                try {
                    now = containers().find(c.id);
                } catch (const Error&) {  // removed meanwhile (`box rm -f` elsewhere): it ended
                }
                if ((now && now->running()) || reported.count(c.id)) continue;
                reported.insert(c.id);
                int code = now ? now->state.exit_code : 137;
                std::lock_guard<std::mutex> hold(out);
                printf("%s exited with code %d\n", short_name(c).c_str(), code);
                fflush(stdout);
                if (!o.exit_code_from.empty() && label_of(c, label::kService) == o.exit_code_from) status = code;
                if ((o.abort_on_exit || !o.exit_code_from.empty()) && !aborting) {
                    aborting = true;
                    fprintf(stderr, "Aborting on container exit...\n");
                }
            }
            if (aborting) stop_all();
        }
    }
    return status;
}

void prepare(const Project& p, const std::vector<std::string>& services, const UpOptions& o) {
    make_networks(p, services);
    make_volumes(p);
    for (const auto& name : services) get_image(p, name, o);
}

std::vector<Container> project_containers(const std::string& project, bool oneoff) {
    stage4::PsQuery q;
    q.all = true;
    q.filters = Filters::parse({"label=" + std::string(label::kProject) + "=" + project}, {"label"});
    std::vector<Container> out = stage4::list_containers(q);
    if (!oneoff) std::erase_if(out, [](const Container& c) { return label_of(c, label::kOneoff) == "True"; });
    return out;
}

int up(const Project& p, const UpOptions& o) {
    if (o.force_recreate && o.no_recreate) throw Error("--force-recreate and --no-recreate are incompatible", "choose one");
    if (o.detach && (o.abort_on_exit || !o.exit_code_from.empty()))
        throw Error("--abort-on-container-exit and --exit-code-from cannot be combined with --detach", "choose one");
    if (!o.exit_code_from.empty() && !p.model["services"].contains(o.exit_code_from))
        throw Error("no such service: " + o.exit_code_from, "--exit-code-from names a service of the file");
    std::vector<std::string> order = services_to_run(p, o.services);
    std::vector<Container> existing = project_containers(p.name);

    // Containers of services the file no longer has: orphans.
    std::vector<Container> orphans;
    for (const auto& c : existing)
        if (!p.model["services"].contains(label_of(c, label::kService))) orphans.push_back(c);
    if (!orphans.empty() && o.remove_orphans) {
        for (const auto& c : orphans) remove(c, o.timeout, false);
    } else if (!orphans.empty()) {
        warn_orphans(orphans);
    }

    prepare(p, order, o);

    std::vector<Container> attached;
    for (const auto& name : order) {
        if (!o.no_start) wait_for_dependencies(p, name);
        std::string hash = config_hash(p.model["services"][name]);
        int n = replicas(p, name, o);
        std::map<int, Container> mine;
        for (const auto& c : existing)
            if (label_of(c, label::kService) == name) mine[number_of(c)] = c;
        for (const auto& [number, c] : mine)  // scaled down: the highest numbers go, with their anonymous volumes
            if (number > n) remove(c, o.timeout, true);
        for (int i = 1; i <= n; ++i) {
            auto it = mine.find(i);
            if (it != mine.end() && !stage8::needs_recreate(it->second, hash, o.force_recreate, o.no_recreate)) {
                const Container& c = it->second;
                if (c.running()) say("Container", c.name, "Running");
                else if (!o.no_start) start(c);
                attached.push_back(c);
                continue;
            }
            const Container* old = it == mine.end() ? nullptr : &it->second;
            std::string shown = old ? old->name : container_name(p, name, i);
            if (old) {
                say("Container", shown, "Recreate");
                ContainerRequest r = request_for(p, name, i, old);
                remove(*old, o.timeout, false);
                Container c = stage4::create_container(r);
                say("Container", c.name, "Recreated");
                if (!o.no_start) start(c);
                attached.push_back(c);
            } else {
                say("Container", shown, "Creating");
                Container c = stage4::create_container(request_for(p, name, i, nullptr));
                say("Container", c.name, "Created");
                if (!o.no_start) start(c);
                attached.push_back(c);
            }
        }
    }
    if (o.wait) {  // --wait: every container running, and healthy if it is checked
        for (const auto& c : attached)
            for (;;) {
                Container now = containers().find(c.id);
                std::string h = stage4::health_word(now);
                if (!now.running() || h == "unhealthy") throw Error("container " + c.name + " is " + (now.running() ? "unhealthy" : "not running"), "see 'box compose logs'");
                if (h == "none" || h == "healthy") break;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
    }
    if (o.detach || o.no_start || o.wait) return 0;
    return show_logs(p, attached, {true, "all", ""}, false, &o);
}

void down(const Project& p, const DownOptions& o) {
    std::vector<Container> all = project_containers(p.name, true);
    std::vector<std::string> order = start_order(p.model["services"]);
    std::reverse(order.begin(), order.end());
    std::vector<Container> orphans;
    for (const auto& c : all)
        if (!p.model["services"].contains(label_of(c, label::kService))) orphans.push_back(c);
    for (const auto& name : order)
        for (const auto& c : all)
            if (label_of(c, label::kService) == name) remove(c, o.timeout, o.volumes);
    if (o.remove_orphans) {
        for (const auto& c : orphans) remove(c, o.timeout, o.volumes);
    } else if (!orphans.empty()) {
        warn_orphans(orphans);
    }
    // The project's networks (by label: also those the file no longer names), unless still used.
    stage7::NetworkStore networks;
    for (const auto& n : networks.list()) {
        auto it = n.labels.find(label::kProject);
        if (it == n.labels.end() || it->second != p.name) continue;
        say("Network", n.name, "Removing");
        try {
            networks.remove(n);
            say("Network", n.name, "Removed");
        } catch (const Error& e) {
            say("Network", n.name, std::string("Resource is still in use (") + e.what() + ")");
        }
    }
    if (o.volumes)
        for (const auto& v : stage4::list_volumes(Filters::parse({"label=" + std::string(label::kProject) + "=" + p.name}, {"label"}))) {
            std::string name = v["Name"];
            if (!stage4::volume_users(name).empty()) continue;
            say("Volume", name, "Removing");
            stage4::remove_volume(name);
            say("Volume", name, "Removed");
        }
    if (!o.rmi.empty()) {
        if (o.rmi != "local" && o.rmi != "all") throw Error("invalid --rmi \"" + o.rmi + "\"", "local or all");
        std::set<std::string> images;
        for (const auto& [name, s] : p.model["services"].items())
            if (o.rmi == "all" || !s.contains("image")) images.insert(service_image(p, name));
        for (const auto& image : images) {
            if (!have_image(image)) continue;
            say("Image", image, "Removing");
            stage3::ImageStore(state_root()).remove(image, false);
            say("Image", image, "Removed");
        }
    }
}

}  // namespace box::stage8
