// Chapter 7: networks on disk (STATE/networks, lib's RecordStore) and their
// bridges in the kernel. A record outlives the kernel's state — a reboot, or
// a test's network namespace that is gone — so a bridge is made whenever a
// container needs it and finds it missing.
#include <arpa/inet.h>
#include <net/if.h>  // before the kernel's headers (IFF_UP and friends)
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>
#include <functional>

#include "box/clock.hpp"
#include "box/fd.hpp"
#include "box/error.hpp"
#include "box/file_lock.hpp"
#include "box/nftables.hpp"
#include "box/record_store.hpp"
#include "box/sys.hpp"
#include "box/util.hpp"
#include "stage3.hpp"
#include "stage7.hpp"

namespace box::stage7 {
namespace {

RecordStore records() {
    return RecordStore("network", state_root() + "/networks", state_root() + "/network-names");
}

constexpr Ip4 kUserPools = 0x0a560000;               // user networks: 10.86.N.0/24

}  // namespace

Leases Network::leases() const { return Leases(state_root() + "/networks/" + id + "/endpoints"); }

void to_json(json& j, const Network& n) {
    j = {{"Name", n.name},
         {"Id", n.id},
         {"Created", n.created},
         {"Scope", "local"},
         {"Driver", n.driver},
         {"EnableIPv6", false},
         {"IPAM",
          {{"Driver", "default"},
           {"Options", json::object()},
           {"Config", {{{"Subnet", n.subnet.text()}, {"Gateway", ip_text(n.gateway)}}}}}},
         {"Internal", n.internal},
         {"Attachable", false},
         {"Ingress", false},
         {"Options", {{"com.docker.network.bridge.name", n.bridge}}},
         {"Labels", n.labels}};
}

void from_json(const json& j, Network& n) {
    n.name = j.value("Name", "");
    n.id = j.value("Id", "");
    n.created = j.value("Created", "");
    n.driver = j.value("Driver", "bridge");
    n.internal = j.value("Internal", false);
    json labels = j.value("Labels", json::object());
    if (labels.is_object()) n.labels = labels.get<Labels>();
    n.bridge = j.value("Options", json::object()).value("com.docker.network.bridge.name", "");
    const json& config = j.value("IPAM", json::object()).value("Config", json::array());
    if (!config.empty()) {
        n.subnet = Subnet::parse(config[0].value("Subnet", ""));
        n.gateway = parse_ip(config[0].value("Gateway", "")).value_or(n.subnet.base + 1);
    }
}

NetworkStore::NetworkStore() : dir_(state_root() + "/networks") {}

namespace {

Network load(const RecordStore& r, const std::string& id) { return json_as<Network>(r.read(id), "network " + id); }

void check_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 64 && isalnum(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-');
    if (!ok) throw Error("invalid network name \"" + name + "\"", "use letters, digits, '_', '.' and '-', starting with a letter or digit");
}

// The subnets of the host's own IPv4 addresses (RTM_GETADDR): a network must
// not take one, or the host would have two routes for its addresses (a bridge
// that a removed state root left behind, a LAN, a VPN).
std::vector<Subnet> host_subnets() {
    std::vector<Subnet> out;
    Netlink nl;
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_seq = nl.next_seq();
    static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)))->ifa_family = AF_INET;
    nl.dump(nlh, [&](const nlmsghdr* h) {
        const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(h));
        if (ifa->ifa_family != AF_INET) return;
        mnl_attr_parse(h, sizeof(ifaddrmsg), [](const nlattr* a, void* data) -> int {
            if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4)
                *static_cast<Ip4*>(data) = ntohl(mnl_attr_get_u32(a));
            return MNL_CB_OK;
        }, &out.emplace_back(Subnet{0, ifa->ifa_prefixlen}).base);
        Subnet& s = out.back();
        s.base &= s.mask();
        if (s.prefix == 0 || (s.base >> 24) == 127) out.pop_back();  // loopback: never a network's
    });
    return out;
}

// Makes a record under the store's lock (held by the caller).
Network record_network(const RecordStore& r, Network n) {
    for (const auto& id : r.ids()) {
        Network other = load(r, id);
        if (other.subnet.overlaps(n.subnet))
            throw Error("invalid pool request", "Pool overlaps with other one on this address space (" + other.name +
                                                    ": " + other.subnet.text() + ")");
    }
    r.create(n.id, n.name, n, false);
    return n;
}

}  // namespace

Network NetworkStore::default_network() const {
    RecordStore r = records();
    if (std::string id = r.id_of_name("bridge"); !id.empty()) return load(r, id);
    FileLock lock = r.lock();
    if (std::string id = r.id_of_name("bridge"); !id.empty()) return load(r, id);  // made meanwhile
    std::string bip = stage3::daemon_config().value("bip", kDefaultBip);
    size_t slash = bip.find('/');
    auto gateway = parse_ip(bip.substr(0, slash));
    if (!gateway || slash == std::string::npos)
        throw Error("daemon config: bip \"" + bip + "\"", "expected the bridge's address and prefix, e.g. 10.87.0.1/16");
    auto prefix = parse_number<int>(bip.substr(slash + 1)).value_or(0);
    Network n;
    n.id = random_hex(64);
    n.name = "bridge";
    n.bridge = "box0";
    n.subnet = Subnet::parse(ip_text(*gateway & Subnet{0, prefix}.mask()) + "/" + std::to_string(prefix));
    n.gateway = *gateway;
    n.created = now_rfc3339();
    return record_network(r, n);
}

Network NetworkStore::create(const NetworkRequest& q) const {
    check_name(q.name);
    if (q.name == "bridge" || q.name == "host" || q.name == "none" || q.name == "default")
        throw Error("network create", "operation is not permitted on predefined " + q.name + " network");
    RecordStore r = records();
    default_network();  // so that a user network never takes its addresses
    FileLock lock = r.lock();
    Network n;
    n.id = random_hex(64);
    n.name = q.name;
    n.bridge = "br-" + n.id.substr(0, 12);
    n.internal = q.internal;
    n.labels = q.labels;
    n.created = now_rfc3339();
    std::vector<Subnet> hosts = host_subnets();
    if (!q.subnet.empty()) {
        n.subnet = Subnet::parse(q.subnet);
        for (const auto& h : hosts)
            if (h.overlaps(n.subnet))
                throw Error("invalid pool request", "Pool overlaps with other one on this address space (the host's " +
                                                        h.text() + ")");
    } else {  // the first 10.86.N.0/24 that no network and no address of the host has
        std::vector<Subnet> used = hosts;
        for (const auto& id : r.ids()) used.push_back(load(r, id).subnet);
        for (Ip4 k = 0; k < 256 && !n.subnet.prefix; ++k) {
            Subnet candidate{kUserPools | (k << 8), 24};
            bool free = true;
            for (const auto& u : used) free = free && !u.overlaps(candidate);
            if (free) n.subnet = candidate;
        }
        if (!n.subnet.prefix) throw Error("network create", "no free subnet left in 10.86.0.0/16: give --subnet");
    }
    n.gateway = n.subnet.base + 1;
    if (!q.gateway.empty()) {
        auto gw = parse_ip(q.gateway);
        if (!gw || !n.subnet.contains(*gw) || *gw == n.subnet.base || *gw == n.subnet.broadcast())
            throw Error("invalid gateway \"" + q.gateway + "\"", "it must be an address of " + n.subnet.text());
        n.gateway = *gw;
    }
    return record_network(r, n);
}

Network NetworkStore::find(const std::string& ref) const {
    if (ref == "bridge" || ref == "default") return default_network();
    RecordStore r = records();
    return load(r, r.find(ref, "see 'box network ls'"));
}

std::vector<Network> NetworkStore::list() const {
    Network def = default_network();
    std::vector<Network> out{def};
    RecordStore r = records();
    for (const auto& id : r.ids())
        if (id != def.id) out.push_back(load(r, id));
    return out;
}

void NetworkStore::remove(const Network& n) const {
    if (n.name == "bridge") throw Error("network rm bridge", "bridge is a pre-defined network and cannot be removed");
    RecordStore r = records();
    FileLock lock = r.lock();
    auto on = n.leases().list();
    if (!on.empty())
        throw Error("error while removing network: network " + n.name + " id " + n.id,
                    "has active endpoints (" + on[0].name + ")");
    remove_bridge(n);
    r.remove(n.id, n.name);
}

namespace {

// Whether interface `name` has an IPv4 address (SIOCGIFADDR: its first).
bool has_address(const std::string& name) {
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    if (!s || name.size() >= sizeof ifr.ifr_name) return false;
    memcpy(ifr.ifr_name, name.c_str(), name.size() + 1);
    return ::ioctl(s.get(), SIOCGIFADDR, &ifr) == 0;
}

// Writes `value` to a sysctl that does not hold it already.
void set_sysctl(const std::string& path, const std::string& value) {
    if (try_read_file(path).value_or("") != value + "\n") sys::write_file(path, value);
}

}  // namespace

// Each step checked first, so that what a box killed half-way left is
// finished by the next, and a start on a network that is ready costs a few
// reads and one nf_tables transaction. The NAT goes first. Box's table is set
// up when STATE/networks/nat-rules does not name the rules this box writes
// (a first start, a newer box's rules: a guard more) or when the network's
// elements find no table to go in (a new boot, a test's new namespace).
void ensure_bridge(const Network& n) {
    std::string rules = nat_table_commands();
    std::string applied = state_root() + "/networks/nat-rules";
    std::string version = std::to_string(std::hash<std::string>{}(rules)) + "\n";
    auto set_up_table = [&] {
        nft(rules);
        write_file_atomic(applied, version, 0644, false);
    };
    if (try_read_file(applied).value_or("") != version) set_up_table();
    if (!nat_network_elements(n, true)) {
        set_up_table();
        if (!nat_network_elements(n, true)) throw Error("add network " + n.name + " to box's nftables table", "no such table or set");
    }
    Netlink nl;
    if (link_index(n.bridge) == 0) add_bridge(nl, n.bridge);
    if (!has_address(n.bridge)) add_address(nl, link_index(n.bridge), n.gateway, n.subnet.prefix);
    // Packets the host sends from 127.0.0.1 to a published port are routed
    // onto the bridge (then masqueraded): allowed on this link only.
    set_sysctl("/proc/sys/net/ipv4/conf/" + n.bridge + "/route_localnet", "1");
    set_sysctl("/proc/sys/net/ipv4/ip_forward", "1");  // the host routes between its links
}

void leave_bridge(const Network& n) {
    // First the door route_localnet opens, then the rules: the guard drops
    // what a namespace left behind (one that joined the last container's)
    // could send to 127.0.0.1 until then.
    if (link_index(n.bridge) != 0) set_sysctl("/proc/sys/net/ipv4/conf/" + n.bridge + "/route_localnet", "0");
    nat_network_elements(n, false);
}

void remove_bridge(const Network& n) {
    nat_network_elements(n, false);
    Netlink nl;
    delete_link(nl, n.bridge);
}

}  // namespace box::stage7
