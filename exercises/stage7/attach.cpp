// Chapter 7: a container's network, made at each start and undone at its end
// — the extension stage 1's start_container() calls (ExtensionPhase::Network).
//
//   made (in box, before the clone)   host ports checked and chosen, the bridge
//                                     and its NAT if missing, a lease
//   before_start(child)               the lease held by the child from now on,
//                                     the veth pair into the child's namespace,
//                                     DNAT of its published ports, the hosts
//                                     files of it and its peers
//   in_child_first()                  eth0's address, up, the default route
//   destroyed                         all of it undone, in reverse
//
// Every change to a network's endpoints holds the networks' lock, and every
// start first takes back what a killed box left (a lease whose holder is dead:
// its DNAT, its veth, its address).
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <memory>

#include "box/error.hpp"
#include "box/extension.hpp"
#include "box/fd.hpp"
#include "box/file_lock.hpp"
#include "box/nftables.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "etc_files.hpp"
#include "stage4.hpp"
#include "stage7.hpp"

namespace box::stage7 {
namespace {

// The lock every change to endpoints and to box's table holds.
FileLock networks_lock() { return FileLock(state_root() + "/networks"); }

std::string publish_commands(const Endpoint& e, bool add) {
    std::string out;
    for (const auto& p : e.ports) out += publish_command(p, e.ip, add);
    return out;
}

// Undoes one endpoint: its DNAT, its veth, its lease; then the peers' hosts
// files. The caller holds networks_lock(). The veth is deleted only while
// the container still runs (a failed start, `network disconnect`): once its
// last process has gone the kernel deletes the pair with the namespace, and
// a delete would make box wait for the kernel's grace period (16 ms here).
// A user network's own NAT (its bridge and subnet in the sets) goes with its
// last endpoint, and the next start puts it back. The default bridge's stays,
// as docker keeps docker0's: a delete of elements makes the kernel's next
// nf_tables change wait out an RCU grace period (Netlink::close_later), which
// every run right after another (a script's loop) would pay.
void tear_down(const Network& n, const Endpoint& e, const std::vector<Network>& all) {
    // Undone already (by the container's own box, when its process ended):
    // a delete of what is gone is a refused nf_tables transaction, and the
    // kernel's abort of one waits out an RCU grace period (13-23 ms here).
    if (!n.leases().holds(e)) return;
    if (!e.ports.empty()) nft_delete(publish_commands(e, false));
    if (!e.veth.empty() && stage4::process_alive(e.holder, e.holder_start) && link_index(e.veth)) {
        Netlink nl;
        delete_link(nl, e.veth);
    }
    n.leases().release(e);
    if (n.name != "bridge" && n.leases().list(true).empty()) leave_bridge(n);
    if (n.name != "bridge") refresh_hosts(n, all);  // the default bridge's names are --link's, fixed at start
}

// The address --ip (or an EndpointsConfig's IPv4Address) asks for; 0: any.
Ip4 requested_ip(const std::string& text) {
    if (text.empty()) return 0;
    auto ip = parse_ip(text);
    if (!ip) throw Error("invalid IP address " + text, "expected an IPv4 address such as 172.20.0.5");
    return *ip;
}

// Takes back the endpoints whose holder is dead (a box or a container killed
// before it could clean up), on every network.
void take_back_stale(const std::vector<Network>& all) {
    for (const auto& n : all) {
        Leases leases = n.leases();
        auto live = leases.list();
        for (const auto& e : leases.list(true)) {
            bool alive = false;
            for (const auto& l : live) alive = alive || l.ip == e.ip;
            if (!alive) tear_down(n, e, all);
        }
    }
}

class NetworkExtension : public ContainerExtension {
public:
    // Create: everything that can refuse the container is done here, before
    // the clone (a taken port, a full subnet, a link to a stopped container).
    explicit NetworkExtension(const ContainerSpec& spec) : net_spec_(spec.net) {
        NetworkStore store;
        net_ = store.find(spec.net.name);
        std::string dir = state_root() + "/containers/" + spec.id;
        FileLock lock = networks_lock();
        std::vector<Network> all = store.list();
        try {
            join_network(spec, dir, all);
            join_more(spec, store);
        } catch (...) {
            // the lock is held: nothing half-made is seen
            for (const auto& [n, e] : more_) tear_down(n, e, all);
            if (made_) tear_down(net_, e_, all);
            throw;
        }
    }

    // Its other networks (the request's other EndpointsConfig entries): eth1,
    // eth2..., in the order of their names, as `network connect` would add them.
    void join_more(const ContainerSpec& spec, const NetworkStore& store) {
        for (const auto& a : spec.net.more) {
            Network n = store.find(a.name);
            if (n.id == net_.id) continue;  // its --network's, under another name
            Endpoint e = e_;
            e.aliases = a.aliases;
            e.ports.clear();  // published on its first network only
            e.links.clear();
            e.device = "eth" + std::to_string(more_.size() + 1);
            e.veth = "vb" + spec.id.substr(0, 6) + n.id.substr(0, 6);
            e.ip = requested_ip(a.ip);
            e.hosts_file.clear();  // its /etc/hosts is its first network's, kept by refresh_hosts
            ensure_bridge(n);
            e = n.leases().take(e, n.subnet, n.gateway);
            more_.push_back({n, e});
        }
    }

    // The constructor's work, under the networks' lock.
    void join_network(const ContainerSpec& spec, const std::string& dir, const std::vector<Network>& all) {
        take_back_stale(all);
        e_.container = spec.id;
        e_.hostname = spec.hostname;
        e_.name = spec.hostname;
        try {
            e_.name = stage4::ContainerStore(state_root()).find(spec.id).name;
        } catch (const Error&) {
        }
        e_.aliases = spec.net.aliases;
        e_.links = spec.net.links;
        e_.extra_hosts = spec.net.extra_hosts;
        e_.veth = "vb" + spec.id.substr(0, 10);
        e_.ip = requested_ip(spec.net.ip);
        if (is_directory(dir)) e_.hosts_file = dir + "/hosts";
        if (!net_.internal) {
            e_.ports = spec.net.ports;
            std::vector<PortMapping> used;
            for (const auto& n : all)
                for (const auto& e : n.leases().list()) used.insert(used.end(), e.ports.begin(), e.ports.end());
            choose_host_ports(e_.ports, used);  // a taken port refuses before anything is made
        }
        ensure_bridge(net_);
        e_.holder = getpid();
        e_.holder_start = stage4::process_start_time(e_.holder);
        e_ = net_.leases().take(e_, net_.subnet, net_.gateway);
        made_ = true;
        hosts_ = hosts_file(e_, net_.leases().list(), net_.name != "bridge");  // a bad --link refuses here
    }

    // Adopt: the record of a start whose box is gone.
    explicit NetworkExtension(const json& record) {
        try {
            NetworkStore store;
            net_ = store.find(record.value("network", ""));
            e_ = record.value("endpoint", json::object()).get<Endpoint>();
            made_ = true;
            for (const auto& m : record.value("more", json::array()))
                more_.push_back({store.find(m.value("network", "")), m.value("endpoint", json::object()).get<Endpoint>()});
        } catch (const std::exception&) {
            // the network is gone, or the record unreadable: the next start takes back what is left
        }
    }

    ~NetworkExtension() override {
        if (!made_ || released_) return;
        try {
            FileLock lock = networks_lock();
            std::vector<Network> all = NetworkStore().list();
            tear_down(net_, e_, all);
            for (const auto& [n, e] : more_) tear_down(n, e, all);
            for (const auto& n : all)  // and what `network connect` gave it
                for (const auto& e : n.leases().list(true))
                    if (e.container == e_.container) tear_down(n, e, all);
        } catch (const std::exception&) {
            // the next start takes back what is left (take_back_stale)
        }
    }

    void before_start(pid_t child) override {
        // From now on the lease lasts as long as the container's first process
        // (this one, after its execve): a box killed from here on leaves it held.
        e_.holder = child;
        e_.holder_start = stage4::process_start_time(child);
        net_.leases().update(e_);
        place_veth(net_, e_, child);
        for (auto& [n, e] : more_) {
            e.holder = e_.holder;
            e.holder_start = e_.holder_start;
            n.leases().update(e);
            place_veth(n, e, child);
        }
        if (!e_.ports.empty()) nft(publish_commands(e_, true));
        if (!e_.hosts_file.empty()) {
            std::string dir = e_.hosts_file.substr(0, e_.hosts_file.rfind('/'));
            stage4::write_etc_file(e_.hosts_file, hosts_);
            stage4::write_etc_file(dir + "/resolv.conf", resolv_conf(try_read_file("/etc/resolv.conf").value_or(""), net_spec_));
            // On a user network the peers learn its name (and it theirs, on every network it is on).
            if (net_.name != "bridge" || !more_.empty()) {
                FileLock lock = networks_lock();
                std::vector<Network> all = NetworkStore().list();
                if (net_.name != "bridge") refresh_hosts(net_, all);
                for (const auto& [n, e] : more_)
                    if (n.name != "bridge") refresh_hosts(n, all);
            }
        }
    }

    void in_child_first(const NamespacePlan&) override {
        configure_eth0(net_, e_);
        for (const auto& [n, e] : more_) configure_eth0(n, e);
    }

    void release() override { released_ = true; }

    json record() const override {
        json more = json::array();
        for (const auto& [n, e] : more_) more.push_back({{"network", n.id}, {"endpoint", e}});
        return {{"network", net_.id}, {"endpoint", e_}, {"more", more}};
    }

private:
    NetworkSpec net_spec_;  // its --dns... for /etc/resolv.conf
    Network net_;
    Endpoint e_;
    std::vector<std::pair<Network, Endpoint>> more_;  // its other networks: eth1, eth2...
    std::string hosts_;  // its /etc/hosts, made before the clone
    bool made_ = false, released_ = false;
};

// --network container:NAME: the other container's network namespace, joined.
class JoinExtension : public ContainerExtension {
public:
    explicit JoinExtension(const ContainerSpec& spec) {
        std::string ref = spec.net.name.substr(std::string("container:").size());
        stage4::Container c = stage4::ContainerStore(state_root()).find(ref);
        if (!c.running() || c.state.pid <= 0)
            throw Error("cannot join network of a non running container: " + ref, "start it first");
        pid_ = c.state.pid;
    }
    void plan_namespaces(NamespacePlan& plan) override {
        plan.clone_flags &= ~static_cast<unsigned long>(CLONE_NEWNET);
        plan.join.push_back({"/proc/" + std::to_string(pid_) + "/ns/net", "net"});
    }

private:
    pid_t pid_ = 0;
};

// Box's thread in the network namespace of process `pid` while it lives,
// then back in its own.
class InNetns {
public:
    explicit InNetns(pid_t pid)
        : own_(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)),
          theirs_(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC)) {
        if (!own_ || !theirs_) throw_errno("open the network namespaces of box and of process " + std::to_string(pid), errno);
        sys::setns(theirs_.get(), "net");
    }
    ~InNetns() {
        try {
            sys::setns(own_.get(), "net");
        } catch (const Error&) {
            std::terminate();  // box must not go on in a container's namespace
        }
    }

private:
    Fd own_, theirs_;
};

}  // namespace

namespace {

// Whether network reference `ref` (a name or id, as a request keeps it) is `n`.
bool names(const std::string& ref, const Network& n) {
    if (ref == n.name || ref == n.id || (n.name == "bridge" && ref == "default")) return true;
    try {
        return NetworkStore().find(ref).id == n.id;
    } catch (const Error&) {
        return false;  // a network removed since
    }
}

// Running container `c` gets an endpoint on `n` now.
void connect_now(const Network& n, const stage4::Container& c, const std::vector<std::string>& aliases, const std::string& ip) {
    FileLock lock = networks_lock();
    std::vector<Network> all = NetworkStore().list();
    take_back_stale(all);
    int devices = 0;
    for (const auto& net : all)
        for (const auto& e : net.leases().list())
            if (e.container == c.id) ++devices;
    ensure_bridge(n);
    Endpoint e;
    e.container = c.id;
    e.name = c.name;
    e.hostname = c.spec.hostname;
    e.aliases = aliases;
    e.device = "eth" + std::to_string(devices);
    e.veth = "vb" + c.id.substr(0, 6) + n.id.substr(0, 6);
    e.hosts_file = c.dir + "/hosts";
    e.holder = c.state.pid;
    e.holder_start = stage4::process_start_time(c.state.pid);
    e.ip = requested_ip(ip);
    e = n.leases().take(e, n.subnet, n.gateway);
    try {
        place_veth(n, e, c.state.pid);
        {
            InNetns in(c.state.pid);
            configure_eth0(n, e);
        }
        refresh_hosts(n, all);
    } catch (...) {
        tear_down(n, e, all);
        throw;
    }
}

}  // namespace

void connect_container(const Network& n, const std::string& id, const std::vector<std::string>& aliases,
                       const std::string& ip) {
    stage4::ContainerStore store(state_root());
    stage4::Container c = store.find(id);
    if (c.spec.network == NetworkMode::None)
        throw Error("container cannot be connected to multiple networks with one of the networks in private (none) mode",
                    "it runs with --network none");
    if (c.spec.network != NetworkMode::Bridge)
        throw Error("container cannot be disconnected from host network or connected to host network",
                    "it shares another network namespace");
    bool on = names(c.spec.net.name, n);
    for (const auto& a : c.spec.net.more) on = on || names(a.name, n);
    if (on) throw Error("endpoint with name " + c.name + " already exists in network " + n.name, "disconnect it first");
    if (!ip.empty() && n.name == "bridge")
        throw Error("user specified IP address is supported on user defined networks only", "not on the default bridge");
    if (c.state.status == stage4::Status::Running && c.state.pid > 0) connect_now(n, c, aliases, ip);
    // From now on it is on `n` at every start, as docker keeps it.
    store.update_config(c.id, [&](ContainerRequest& r, ContainerSpec& spec) {
        r.NetworkingConfig.EndpointsConfig[n.name] = {aliases, {ip}};
        spec.net.more.push_back({n.name, aliases, ip});
    });
}

void disconnect_container(const Network& n, const std::string& id) {
    stage4::ContainerStore store(state_root());
    stage4::Container c = store.find(id);
    if (c.spec.network == NetworkMode::Bridge && names(c.spec.net.name, n))
        throw Error("container " + c.name + " started on network " + n.name, "box disconnects only what `network connect` added");
    bool recorded = std::any_of(c.spec.net.more.begin(), c.spec.net.more.end(),
                                [&](const NetworkAttachment& a) { return names(a.name, n); });
    bool live = false;
    {
        FileLock lock = networks_lock();
        std::vector<Network> all = NetworkStore().list();
        for (const auto& e : n.leases().list())
            if (e.container == c.id) {
                tear_down(n, e, all);
                live = true;
            }
    }
    if (!recorded && !live)
        throw Error("container " + c.name + " is not connected to network " + n.name, "see 'box network inspect " + n.name + "'");
    store.update_config(c.id, [&](ContainerRequest& r, ContainerSpec& spec) {
        std::erase_if(spec.net.more, [&](const NetworkAttachment& a) { return names(a.name, n); });
        std::erase_if(r.NetworkingConfig.EndpointsConfig, [&](const auto& entry) { return names(entry.first, n); });
    });
}

void add_network_extension() {
    add_extension("network", ExtensionPhase::Network, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        if (ctx.spec.network != NetworkMode::Bridge) return nullptr;
        if (ctx.mode == ExtensionMode::Adopt) {
            if (!ctx.record.is_object()) return nullptr;
            return std::make_unique<NetworkExtension>(ctx.record);
        }
        return std::make_unique<NetworkExtension>(ctx.spec);
    });
    add_extension("network-join", ExtensionPhase::Namespaces, [](const ExtensionContext& ctx) -> std::unique_ptr<ContainerExtension> {
        if (ctx.spec.network != NetworkMode::Container || ctx.mode != ExtensionMode::Create) return nullptr;
        return std::make_unique<JoinExtension>(ctx.spec);
    });
}

}  // namespace box::stage7
