// Chapter 7's commands: run's network flags (-p, -P, --network NAME,
// --network-alias, --dns..., --add-host, --link), `box network
// create/ls/inspect/rm/prune`, `box port`, and the network's fields of ps and
// inspect.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "box/cli.hpp"
#include "box/digest.hpp"
#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/filters.hpp"
#include "box/render.hpp"
#include "box/request.hpp"
#include "box/util.hpp"
#include "stage3.hpp"
#include "stage4.hpp"
#include "stage7.hpp"

namespace box::stage7 {

void add_network_extension();  // attach.cpp

namespace {

// run's flags, as typed.
struct Flags {
    std::vector<std::string> publish, expose, aliases, dns, dns_search, dns_options, add_host, links;
    std::string ip;
    bool publish_all = false;
    CLI::Option* network = nullptr;  // stage 1's --network: given or not
};

// The flags into the request, in docker's fields.
void fill(const Flags& f, ContainerRequest& r) {
    if (f.network && f.network->count() == 0) r.HostConfig.NetworkMode = "default";  // docker's default: the bridge
    for (const auto& text : f.publish)
        for (const auto& p : parse_publish(text))
            r.HostConfig.PortBindings[std::to_string(p.container_port) + "/" + p.protocol].push_back(
                {p.host_ip, p.host_port ? std::to_string(p.host_port) : ""});
    r.HostConfig.PublishAllPorts = f.publish_all;
    // docker's ExposedPorts: --expose's ports (ranges too) and every published one.
    for (const auto& text : f.expose) {
        if (text.find(':') != std::string::npos)
            throw Error("invalid argument \"" + text + "\" for \"--expose\" flag", "expected PORT[-PORT][/PROTO], no host part");
        for (const auto& p : parse_publish(text)) r.Config.ExposedPorts[std::to_string(p.container_port) + "/" + p.protocol] = json::object();
    }
    for (const auto& [port, unused] : r.HostConfig.PortBindings) r.Config.ExposedPorts[port] = json::object();
    r.HostConfig.Dns = f.dns;
    r.HostConfig.DnsSearch = f.dns_search;
    r.HostConfig.DnsOptions = f.dns_options;
    r.HostConfig.ExtraHosts = f.add_host;
    r.HostConfig.Links = f.links;
    if (!f.aliases.empty()) r.NetworkingConfig.EndpointsConfig[r.HostConfig.NetworkMode].Aliases = f.aliases;
    if (!f.ip.empty()) r.NetworkingConfig.EndpointsConfig[r.HostConfig.NetworkMode].IPAMConfig.IPv4Address = f.ip;
}

// The request's network fields into the spec (stage 1 read NetworkMode).
void read_request(const ContainerRequest& r, ContainerSpec& spec) {
    NetworkSpec& n = spec.net;
    for (const auto& [port, bindings] : r.HostConfig.PortBindings) {
        auto parsed = parse_publish(port);
        for (const auto& b : bindings) {
            PortMapping p = parsed.at(0);
            p.host_ip = b.HostIp;
            p.host_port = b.HostPort.empty() ? 0 : parse_number<int>(b.HostPort).value_or(-1);
            if (p.host_port < 0 || p.host_port > 65535) throw Error("invalid hostPort: " + b.HostPort, "ports are 1 to 65535");
            n.ports.push_back(p);
        }
    }
    n.publish_all = r.HostConfig.PublishAllPorts;
    if (n.publish_all)  // -P: --expose's ports too (the image's are added when the image is known)
        for (const auto& [port, unused] : r.Config.ExposedPorts)
            for (const auto& p : parse_publish(port)) {
                bool mapped = std::any_of(n.ports.begin(), n.ports.end(), [&](const PortMapping& m) {
                    return m.container_port == p.container_port && m.protocol == p.protocol;
                });
                if (!mapped) n.ports.push_back(p);
            }
    // Checked here, not in the flags: a request a program made gets the same errors.
    for (const auto& h : r.HostConfig.ExtraHosts) {
        size_t colon = h.find(':');
        if (colon == std::string::npos || colon == 0 || !parse_ip(h.substr(colon + 1)))
            throw Error("invalid argument \"" + h + "\" for \"--add-host\" flag", "expected HOST:IP, e.g. db:10.0.0.5");
    }
    for (const auto& d : r.HostConfig.Dns)
        if (!parse_ip(d)) throw Error("invalid argument \"" + d + "\" for \"--dns\" flag", "not an IPv4 address");
    n.dns = r.HostConfig.Dns;
    n.dns_search = r.HostConfig.DnsSearch;
    n.dns_options = r.HostConfig.DnsOptions;
    n.extra_hosts = r.HostConfig.ExtraHosts;
    n.links = r.HostConfig.Links;
    // Its --network's entry of EndpointsConfig (aliases, --ip), and every other
    // one: a network more, at every start (a request from a program, `network connect`).
    const std::string& mode = r.HostConfig.NetworkMode;
    bool bridge_mode = mode == "default" || mode == "bridge";
    bool user_mode = !bridge_mode && mode != "none" && mode != "host" && !starts_with(mode, "container:");
    for (const auto& [name, endpoint] : r.NetworkingConfig.EndpointsConfig) {
        const std::string& ip = endpoint.IPAMConfig.IPv4Address;
        if (!ip.empty() && !parse_ip(ip))
            throw Error("invalid argument \"" + ip + "\" for \"--ip\" flag", "invalid string being converted to IP address: " + ip);
        bool primary = name == mode || (bridge_mode && (name == "default" || name == "bridge"));
        if (!ip.empty() && (primary ? !user_mode : name == "default" || name == "bridge"))
            throw Error("user specified IP address is supported on user defined networks only", "create a network with box network create");
        if (primary) {
            n.aliases.insert(n.aliases.end(), endpoint.Aliases.begin(), endpoint.Aliases.end());
            n.ip = ip;
        } else if (mode == "none") {
            throw Error("container cannot be connected to multiple networks with one of the networks in private (none) mode",
                        "network " + name);
        } else if (!bridge_mode && !user_mode) {
            throw Error("container cannot be disconnected from host network or connected to host network", "network " + name);
        } else {
            n.more.push_back({name, endpoint.Aliases, ip});
        }
    }
}

std::optional<std::pair<Network, Endpoint>> endpoint_of(const std::string& id);

// The ports image `image` EXPOSEs ("80/tcp" keys of its config's ExposedPorts),
// each as a mapping to a host port yet to choose; none for "" (a --rootfs).
std::vector<PortMapping> exposed_ports(const std::string& image) {
    std::vector<PortMapping> out;
    if (image.empty()) return out;
    json config = stage3::ImageStore(state_root()).find(image).config.value("config", json::object());
    json exposed = config.value("ExposedPorts", json::object());  // items() of a temporary would dangle
    for (const auto& item : exposed.items())
        for (const auto& p : parse_publish(item.key())) out.push_back(p);
    return out;
}

// docker's legacy variables of a --link NAME:ALIAS: ALIAS_NAME, ALIAS_PORT and
// ALIAS_PORT_80_TCP[_ADDR|_PORT|_PROTO] for each port it exposes or publishes,
// ALIAS_ENV_X for each of its variables.
std::vector<std::string> link_environment(const std::string& link) {
    size_t colon = link.find(':');
    std::string name = link.substr(0, colon), alias = colon == std::string::npos ? name : link.substr(colon + 1);
    std::string prefix = to_upper(alias);
    for (char& ch : prefix)
        if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
    stage4::Container peer;
    try {
        peer = stage4::ContainerStore(state_root()).find(name);
    } catch (const Error&) {
        throw Error("Cannot link to a non running container: /" + name, "start it first, on the default bridge");
    }
    auto found = endpoint_of(peer.id);
    if (!peer.running() || !found) throw Error("Cannot link to a non running container: /" + name, "start it first");
    std::string ip = ip_text(found->second.ip);
    std::set<std::pair<int, std::string>> ports;
    for (const auto& p : found->second.ports) ports.insert({p.container_port, p.protocol});
    for (const auto& p : exposed_ports(peer.spec.image)) ports.insert({p.container_port, p.protocol});
    std::vector<std::string> env = {prefix + "_NAME=/" + alias};
    bool lowest = true;
    for (const auto& [port, proto] : ports) {
        std::string key = prefix + "_PORT_" + std::to_string(port) + "_" + to_upper(proto);
        std::string url = proto + "://" + ip + ":" + std::to_string(port);
        if (lowest) env.push_back(prefix + "_PORT=" + url);
        lowest = false;
        env.insert(env.end(), {key + "=" + url, key + "_ADDR=" + ip, key + "_PORT=" + std::to_string(port),
                               key + "_PROTO=" + proto});
    }
    for (const auto& e : peer.spec.env) {
        if (starts_with(e, "PATH=") || starts_with(e, "HOME=") || starts_with(e, "HOSTNAME=")) continue;
        env.push_back(prefix + "_ENV_" + e);
    }
    return env;
}

// The network's name into a network (SpecPhase::Resolve): the default bridge,
// a user network, another container's; -P's ports from the image.
void resolve_network(ContainerSpec& spec) {
    if (spec.network != NetworkMode::None || spec.net.name.empty()) return;  // none, host, or resolved
    const std::string& name = spec.net.name;
    if (starts_with(name, "container:")) {
        if (!spec.net.ports.empty() || spec.net.publish_all)
            throw Error("conflicting options", "port publishing and the container network mode");
        spec.network = NetworkMode::Container;
        return;
    }
    Network n;
    try {
        n = NetworkStore().find(name == "default" ? "bridge" : name);
    } catch (const Error&) {
        throw Error("network " + name + " not found", "see 'box network ls'");
    }
    spec.network = NetworkMode::Bridge;
    spec.net.name = n.name;
    if (!spec.net.aliases.empty() && n.name == "bridge")
        throw Error("network-scoped alias is supported only for containers in user defined networks",
                    "create one: box network create NAME");
    for (auto& a : spec.net.more) {  // its other networks: there, and named as the store names them
        try {
            a.name = NetworkStore().find(a.name == "default" ? "bridge" : a.name).name;
        } catch (const Error&) {
            throw Error("network " + a.name + " not found", "see 'box network ls'");
        }
        if (!a.aliases.empty() && a.name == "bridge")
            throw Error("network-scoped alias is supported only for containers in user defined networks",
                        "create one: box network create NAME");
    }
    for (const auto& link : spec.net.links) {
        auto env = link_environment(link);
        spec.env.insert(spec.env.end(), env.begin(), env.end());
    }
    if (spec.net.publish_all)
        for (const auto& p : exposed_ports(spec.image)) {
            bool mapped = false;
            for (const auto& m : spec.net.ports)
                mapped = mapped || (m.container_port == p.container_port && m.protocol == p.protocol);
            if (!mapped) spec.net.ports.push_back(p);
        }
}

// The endpoints a container has now, its first network's (eth0) first.
std::vector<std::pair<Network, Endpoint>> endpoints_of(const std::string& id) {
    std::vector<std::pair<Network, Endpoint>> out;
    for (const auto& n : NetworkStore().list())
        for (const auto& e : n.leases().list())
            if (e.container == id) out.insert(e.device == "eth0" ? out.begin() : out.end(), {n, e});
    return out;
}

// Its first network's endpoint, if it runs on one.
std::optional<std::pair<Network, Endpoint>> endpoint_of(const std::string& id) {
    auto all = endpoints_of(id);
    if (all.empty()) return std::nullopt;
    return all.front();
}

json ports_json(const std::vector<PortMapping>& ports) {
    json out = json::object();
    for (const auto& p : ports)
        out[std::to_string(p.container_port) + "/" + p.protocol].push_back(
            {{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
    return out;
}

json network_inspect(const Network& n) {
    json j = n;
    json containers = json::object();
    for (const auto& e : n.leases().list())
        containers[e.container] = {{"Name", e.name}, {"MacAddress", e.mac},
                                   {"IPv4Address", ip_text(e.ip) + "/" + std::to_string(n.subnet.prefix)}, {"IPv6Address", ""}};
    j["Containers"] = containers;
    return j;
}

void inspect_fill(const stage4::Container& c, json& j) {
    const NetworkSpec& s = c.spec.net;
    json& h = j["HostConfig"];
    if (c.spec.network == NetworkMode::Bridge || c.spec.network == NetworkMode::Container)
        h["NetworkMode"] = s.name == "bridge" ? "default" : s.name;
    json bindings = json::object();
    for (const auto& p : s.ports)
        bindings[std::to_string(p.container_port) + "/" + p.protocol].push_back(
            {{"HostIp", p.host_ip}, {"HostPort", p.host_port ? std::to_string(p.host_port) : ""}});
    h["PortBindings"] = bindings;
    h["PublishAllPorts"] = s.publish_all;
    h["Dns"] = s.dns;
    h["DnsSearch"] = s.dns_search;
    h["DnsOptions"] = s.dns_options;
    h["ExtraHosts"] = s.extra_hosts.empty() ? json(nullptr) : json(s.extra_hosts);
    h["Links"] = s.links.empty() ? json(nullptr) : json(s.links);
    json settings = {{"IPAddress", ""}, {"IPPrefixLen", 0}, {"Gateway", ""}, {"MacAddress", ""},
                     {"Ports", json::object()}, {"Networks", json::object()}};
    auto endpoints = endpoints_of(c.id);
    if (!endpoints.empty()) {  // docker's top-level fields: the first network's
        const auto& [n, e] = endpoints.front();
        settings["IPAddress"] = ip_text(e.ip);
        settings["IPPrefixLen"] = n.subnet.prefix;
        settings["Gateway"] = ip_text(n.gateway);
        settings["MacAddress"] = e.mac;
        settings["Ports"] = ports_json(e.ports);
    }
    for (const auto& [n, e] : endpoints)
        settings["Networks"][n.name] = {{"NetworkID", n.id}, {"IPAddress", ip_text(e.ip)}, {"IPPrefixLen", n.subnet.prefix},
                                        {"Gateway", ip_text(n.gateway)}, {"MacAddress", e.mac},
                                        {"Aliases", e.aliases.empty() ? json(nullptr) : json(e.aliases)}};
    j["NetworkSettings"] = settings;
}

// docker network ls's filters that box has: id, name, label, driver, type (custom|builtin), scope.
int network_ls(bool quiet, bool no_trunc, const std::vector<std::string>& filter_args, const std::string& format) {
    Filters f = Filters::parse(filter_args, {"id", "name", "label", "driver", "type", "scope"});
    f.check_values("type", {"custom", "builtin"});
    std::vector<json> rows;
    auto add = [&](const std::string& id, const std::string& name, const std::string& driver, const Labels& labels,
                   bool builtin) {
        bool keep = f.any("id", [&](const std::string& v) { return starts_with(id, v); }) &&
                    f.any("name", [&](const std::string& v) { return name.find(v) != std::string::npos; }) &&
                    f.any("driver", [&](const std::string& v) { return v == driver; }) &&
                    f.any("scope", [](const std::string& v) { return v == "local"; }) &&
                    f.any("type", [&](const std::string& v) { return (v == "builtin") == builtin; }) && f.match_labels(labels);
        if (keep)
            rows.push_back({{"ID", no_trunc ? id : id.substr(0, 12)}, {"Name", name}, {"Driver", driver}, {"Scope", "local"},
                            {"Labels", labels_text(labels)}, {"_Label", labels}});
    };
    for (const auto& n : NetworkStore().list()) add(n.id, n.name, n.driver, n.labels, n.name == "bridge");
    // docker's two networks that are modes, not bridges: listed, as docker does.
    for (const char* mode : {"host", "none"})
        add(sha256_digest(std::string("box network ") + mode).substr(7), mode, std::string(mode) == "host" ? "host" : "null",
            {}, true);
    std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a["Name"] < b["Name"]; });  // docker's order
    render::print_list(quiet ? "{{.ID}}" : format.empty() ? "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}" : format, rows,
                       {{"ID", "NETWORK ID"}});
    return 0;
}

void declare_network_commands() {
    cli::define_group("network", "Manage networks");
    cli::define("network create", "Create a network", [](CLI::App& c) -> cli::Action {
        auto q = std::make_shared<NetworkRequest>();
        auto driver = std::make_shared<std::string>("bridge");
        c.add_option("-d,--driver", *driver, "Driver to manage the Network (box has bridge)")->capture_default_str();
        c.add_option("--subnet", q->subnet, "Subnet in CIDR format, e.g. 10.86.5.0/24");
        c.add_option("--gateway", q->gateway, "IPv4 Gateway for the subnet");
        c.add_flag("--internal", q->internal, "Restrict external access to the network");
        auto labels = std::make_shared<std::vector<std::string>>();
        c.add_option("--label", *labels, "Set metadata on a network: KEY=VALUE")->allow_extra_args(false);
        c.add_option("NETWORK", q->name, "Name")->required();
        return [q, driver, labels] {
            if (*driver != "bridge") throw Error("plugin \"" + *driver + "\" not found", "box's networks use the bridge driver");
            q->labels = parse_labels(*labels, {}, true);
            printf("%s\n", NetworkStore().create(*q).id.c_str());
            return 0;
        };
    });
    cli::define("network ls", "List networks", [](CLI::App& c) -> cli::Action {
        struct Ls { bool quiet = false, no_trunc = false; std::vector<std::string> filters; std::string format; };
        auto f = std::make_shared<Ls>();
        c.add_flag("-q,--quiet", f->quiet, "Only display network IDs");
        c.add_flag("--no-trunc", f->no_trunc, "Do not truncate the output");
        c.add_option("-f,--filter", f->filters, "Provide filter values: id=, name=, label=KEY[=VALUE], driver=, type=custom|builtin")
            ->allow_extra_args(false);
        c.add_option("--format", f->format, "Pretty-print networks using a template: '{{.Name}} {{.Labels}}'");
        return [f] { return network_ls(f->quiet, f->no_trunc, f->filters, f->format); };
    });
    cli::alias("network list", "network ls");
    cli::define("network inspect", "Display detailed information on one or more networks", [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<std::pair<std::vector<std::string>, std::string>>();
        c.add_option("NETWORK", f->first, "Networks")->required();
        c.add_option("-f,--format", f->second, "Format the output using the given Go template");
        return [f] {
            std::vector<json> found;
            int status = cli::for_each(f->first, [&](const std::string& ref) {
                try {
                    found.push_back(network_inspect(NetworkStore().find(ref)));
                } catch (const Error&) {
                    throw Error("network " + ref + " not found", "see 'box network ls'");
                }
            });
            render::print_inspect(found, f->second);
            return status;
        };
    });
    cli::define("network rm", "Remove one or more networks", [](CLI::App& c) -> cli::Action {
        auto refs = std::make_shared<std::vector<std::string>>();
        c.add_option("NETWORK", *refs, "Networks")->required();
        return [refs] {
            return cli::for_each(*refs, [](const std::string& ref) {
                NetworkStore store;
                store.remove(store.find(ref));
                printf("%s\n", ref.c_str());
            });
        };
    });
    cli::alias("network remove", "network rm");
    cli::define("network connect", "Connect a container to a network", [](CLI::App& c) -> cli::Action {
        struct Connect { std::string network, container, ip; std::vector<std::string> aliases; };
        auto f = std::make_shared<Connect>();
        c.add_option("--alias", f->aliases, "Add network-scoped alias for the container")->allow_extra_args(false);
        c.add_option("--ip", f->ip, "IPv4 address (e.g., 172.30.100.104)");
        c.add_option("NETWORK", f->network, "Network")->required();
        c.add_option("CONTAINER", f->container, "Container name or id")->required();
        return [f] {
            if (!f->ip.empty() && !parse_ip(f->ip))
                throw Error("invalid argument \"" + f->ip + "\" for \"--ip\" flag",
                            "invalid string being converted to IP address: " + f->ip);
            connect_container(NetworkStore().find(f->network), f->container, f->aliases, f->ip);
            return 0;
        };
    });
    cli::define("network disconnect", "Disconnect a container from a network", [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<std::pair<std::string, std::string>>();
        c.add_option("NETWORK", f->first, "Network")->required();
        c.add_option("CONTAINER", f->second, "Container name or id")->required();
        return [f] {
            disconnect_container(NetworkStore().find(f->first), f->second);
            return 0;
        };
    });
    cli::define("network prune", "Remove all networks no container is on", [](CLI::App& c) -> cli::Action {
        auto force = std::make_shared<bool>(false);
        auto filters = std::make_shared<std::vector<std::string>>();
        c.add_flag("-f,--force", *force, "Do not prompt for confirmation");
        c.add_option("--filter", *filters, "Provide filter values: label=KEY[=VALUE], label!=KEY[=VALUE]")->allow_extra_args(false);
        return [force, filters] {
            Filters f = Filters::parse(*filters, {"label", "label!"});
            if (!*force && !cli::confirm("WARNING! This will remove all custom networks not used by at least one container.\n"
                                         "Are you sure you want to continue?"))
                return 0;
            std::vector<std::string> removed = prune_networks(f);
            if (!removed.empty()) printf("Deleted Networks:\n%s\n", join(removed, "\n").c_str());
            return 0;
        };
    });
}

void declare_port_command() {
    cli::define("port", "List port mappings or a specific mapping for the container", [](CLI::App& c) -> cli::Action {
        auto f = std::make_shared<std::pair<std::string, std::string>>();
        c.add_option("CONTAINER", f->first, "Container name or id")->required();
        c.add_option("PRIVATE_PORT", f->second, "PORT[/PROTO]: only this port's mapping");
        return [f] {
            stage4::Container c = stage4::ContainerStore(state_root()).find(f->first);
            std::vector<PortMapping> ports = published_ports(c.id);
            if (!f->second.empty()) {
                PortMapping want = parse_publish(f->second).at(0);
                bool any = false;
                for (const auto& p : ports)
                    if (p.container_port == want.container_port && p.protocol == want.protocol) {
                        printf("%s:%d\n", p.host_ip.empty() ? "0.0.0.0" : p.host_ip.c_str(), p.host_port);
                        any = true;
                    }
                if (!any) throw Error("No public port '" + f->second + (f->second.find('/') == std::string::npos ? "/tcp" : "") +
                                          "' published for " + f->first, "see 'box port " + f->first + "'");
                return 0;
            }
            for (const auto& p : ports)
                printf("%d/%s -> %s:%d\n", p.container_port, p.protocol.c_str(),
                       p.host_ip.empty() ? "0.0.0.0" : p.host_ip.c_str(), p.host_port);
            return 0;
        };
    });
    cli::alias("container port", "port");
}

}  // namespace

std::vector<std::string> prune_networks(const Filters& filters) {
    NetworkStore store;
    std::vector<std::string> removed;
    for (const auto& n : store.list())
        if (n.name != "bridge" && n.leases().list().empty() && filters.match_labels(n.labels)) {
            store.remove(n);
            removed.push_back(n.name);
        }
    return removed;
}

std::vector<PortMapping> published_ports(const std::string& id) {
    auto found = endpoint_of(id);
    return found ? found->second.ports : std::vector<PortMapping>{};
}

void register_commands() {
    cli::extend("run", [](CLI::App& run) {
        auto f = std::make_shared<Flags>();
        f->network = run.get_option("--network");
        f->network->description("Connect a container to a network: bridge (the default), NAME, container:NAME, host, none")
            ->default_str("bridge");
        run.add_option("-p,--publish", f->publish, "Publish a container's port(s) to the host: [IP:][HOST:]PORT[/PROTO]")
            ->allow_extra_args(false);
        run.add_flag("-P,--publish-all", f->publish_all, "Publish all exposed ports to random ports");
        run.add_option("--expose", f->expose, "Expose a port or a range of ports: PORT[-PORT][/PROTO]")->allow_extra_args(false);
        run.add_option("--network-alias", f->aliases, "Add network-scoped alias for the container")->allow_extra_args(false);
        run.add_option("--ip", f->ip, "IPv4 address (e.g., 172.30.100.104) on the network of --network");
        run.add_option("--dns", f->dns, "Set custom DNS servers")->allow_extra_args(false);
        run.add_option("--dns-search", f->dns_search, "Set custom DNS search domains")->allow_extra_args(false);
        run.add_option("--dns-option", f->dns_options, "Set DNS options")->allow_extra_args(false);
        run.add_option("--add-host", f->add_host, "Add a custom host-to-IP mapping (host:ip)")->allow_extra_args(false);
        run.add_option("--link", f->links, "Add link to another container (NAME[:ALIAS], default bridge only)")
            ->allow_extra_args(false);
        add_request_filler([f](ContainerRequest& r) { fill(*f, r); });
    });
    add_request_reader(read_request);
    add_spec_preparer(SpecPhase::Resolve, resolve_network);
    add_network_extension();
    declare_network_commands();
    declare_port_command();
    stage4::add_inspect_filler(inspect_fill);
    stage3::add_info_filler([](json& info) {
        json config = stage3::daemon_config();
        info["BoxNetwork"] = {{"Bridge", "box0 " + config.value("bip", std::string(kDefaultBip))},
                              {"Dns", config.value("dns", json::array())}};
    });
    stage4::add_ps_filler([](const stage4::Container& c, json& row) {
        // As docker: a running container on a network, its exposed ports too
        // ("5000/tcp, 127.0.0.1:5000->5000/udp").
        if (!c.running() || (c.spec.net.ports.empty() && c.request.Config.ExposedPorts.empty())) return;
        if (auto found = endpoint_of(c.id)) {
            std::vector<PortMapping> exposed;
            for (const auto& [port, unused] : c.request.Config.ExposedPorts)
                if (auto parsed = parse_publish(port); parsed.size() == 1) exposed.push_back(parsed[0]);
            row["Ports"] = ports_text(exposed, found->second.ports);
        }
    });
}

}  // namespace box::stage7
