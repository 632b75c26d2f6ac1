/// @file stage7.hpp
/// @brief Chapter 7: networks — a bridge on the host, a veth pair per
/// container, an address from the network's pool, the kernel's NAT for the
/// way out and for published ports, and names peers resolve.
///
/// A container on a network gets, at every start:
///
///     host netns                                  container netns
///     ┌──────────────────────────────┐            ┌───────────────────┐
///     │ box0 (bridge) 10.87.0.1/16   │            │ eth0 10.87.0.2/16 │
///     │   └── vb<id>  ═══ veth pair ═══════════════ default via .1    │
///     │ nftables table ip box: masquerade out, DNAT of published ports│
///     └──────────────────────────────┘            └───────────────────┘
///
///     addresses.cpp  subnets, the address allocator and its leases on disk
///     networks.cpp   the network store, the bridge's set-up and removal
///     links.cpp      the netlink requests: bridge, veth pair, address, route
///     nat.cpp        box's nftables table: egress, published ports
///     ports.cpp      -p's syntax, free and taken host ports
///     names.cpp      /etc/hosts of every container on a network, kept current
///     attach.cpp     the container's network extension (its start and end),
///                    `network connect` and `disconnect`
///     commands.cpp   `box network ...`, `box port`, run's flags, ps and inspect
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "box/filters.hpp"
#include "box/netlink.hpp"
#include "box/spec.hpp"

namespace box::stage7 {

using json = nlohmann::json;  ///< the JSON type box uses

// ---- addresses (addresses.cpp) ---------------------------------------------

/// An IPv4 address in host byte order (10.87.0.2 is 0x0a570002).
using Ip4 = std::uint32_t;

/// "10.87.0.2"
std::string ip_text(Ip4 ip);
/// The address `text` spells, or nothing.
std::optional<Ip4> parse_ip(const std::string& text);

/// An IPv4 subnet: its first address and the prefix length.
struct Subnet {
    Ip4 base = 0;    ///< host bits zero
    int prefix = 0;  ///< 0..32
    /// Parses "10.87.0.0/16"; throws box::Error (host bits set, no prefix, ...).
    static Subnet parse(const std::string& cidr);
    /// "10.87.0.0/16"
    std::string text() const;
    /// The netmask's bits (0xffff0000 for /16).
    Ip4 mask() const { return prefix == 0 ? 0 : ~Ip4(0) << (32 - prefix); }
    /// The last address (the broadcast).
    Ip4 broadcast() const { return base | ~mask(); }
    /// Whether `ip` is in it.
    bool contains(Ip4 ip) const { return (ip & mask()) == base; }
    /// Whether it shares an address with `other`.
    bool overlaps(const Subnet& other) const;
};

/// Basic exercise 3: the lowest address of `subnet` a container may get — not
/// the subnet's own first address, not its broadcast, not `gateway` and not
/// one in `taken` — or nothing if none is left.
std::optional<Ip4> first_free(const Subnet& subnet, Ip4 gateway, const std::set<Ip4>& taken);

/// A container's place on a network while it runs: its address, names and
/// ports. One file per address (NETWORK_DIR/endpoints/10.87.0.2), so one
/// address is never given twice; it lasts while its holder lives — the box
/// that starts the container, then the container's first process — checked by
/// pid and start time, so what a killed box left is taken back by the next.
struct Endpoint {
    Ip4 ip = 0;                          ///< its address
    std::string container;               ///< the container's id
    std::string name;                    ///< the container's name
    std::string hostname;                ///< its host name (-h)
    std::vector<std::string> aliases;    ///< --network-alias, --link's aliases are the peer's
    std::string veth;                    ///< the host end of its veth pair
    std::string device = "eth0";         ///< the container's end: eth0, or eth1... for `network connect`
    std::string mac;                     ///< eth0's MAC address
    std::vector<PortMapping> ports;      ///< published ports, host ports chosen
    std::vector<std::string> links;      ///< --link NAME[:ALIAS]
    std::vector<std::string> extra_hosts;  ///< --add-host NAME:IP
    std::string hosts_file;              ///< its /etc/hosts on the host (kept current by names.cpp)
    pid_t holder = 0;                    ///< the process the lease lasts for
    long long holder_start = 0;          ///< its start time (/proc/PID/stat field 22)
};
void to_json(json& j, const Endpoint& e);    ///< an endpoint's file
void from_json(const json& j, Endpoint& e);  ///< see to_json()

/// The endpoints of one network, under DIR (NETWORK_DIR/endpoints).
class Leases {
public:
    /// The leases kept in `dir` (made if missing).
    explicit Leases(std::string dir);
    /// Gives `e` the first free address of `subnet` (see first_free) and
    /// its MAC (mac_for), and writes its file, under the network's lock; takes back leases whose
    /// holder is gone first. Throws box::Error if the subnet is full.
    Endpoint take(Endpoint e, const Subnet& subnet, Ip4 gateway) const;
    /// Rewrites endpoint `e`'s file (its holder or ports changed).
    void update(const Endpoint& e) const;
    /// Removes `e`'s lease, if it is still its container's.
    void release(const Endpoint& e) const;
    /// True while `e`'s lease is still its container's (an unreadable one
    /// counts as held, so that a release takes it).
    bool holds(const Endpoint& e) const;
    /// The endpoints whose holder lives (with `stale`, also those that do not).
    std::vector<Endpoint> list(bool stale = false) const;

private:
    std::string dir_;
};

// ---- networks (networks.cpp) ------------------------------------------------

/// A network: a bridge on the host and a subnet for its containers.
struct Network {
    std::string id;         ///< 64 hex digits
    std::string name;       ///< "bridge" for the default one
    std::string driver = "bridge";  ///< the only driver box has
    std::string bridge;     ///< the bridge's interface name: box0, or br-ID12
    Subnet subnet;          ///< its addresses
    Ip4 gateway = 0;        ///< the bridge's own address, the containers' default route
    bool internal = false;  ///< --internal: no way out, no published ports
    std::string created;    ///< RFC 3339
    Labels labels;          ///< --label
    /// Its endpoints.
    Leases leases() const;
};
void to_json(json& j, const Network& n);    ///< docker's shape: Name, Id, IPAM.Config...
void from_json(const json& j, Network& n);  ///< see to_json()

/// The default bridge's gateway and subnet unless the daemon config's "bip" says.
inline constexpr const char* kDefaultBip = "10.87.0.1/16";

/// What `network create` asks for.
struct NetworkRequest {
    std::string name;     ///< its name
    std::string subnet;   ///< --subnet ("": the next free 10.86.N.0/24)
    std::string gateway;  ///< --gateway ("": the subnet's first address)
    bool internal = false;  ///< --internal
    Labels labels;          ///< --label K=V
};

/// Networks under STATE/networks (a RecordStore of lib's).
class NetworkStore {
public:
    NetworkStore();
    /// Records a new network; throws box::Error on a taken name, a bad or
    /// overlapping subnet. The bridge is made when a container first needs it.
    Network create(const NetworkRequest& request) const;
    /// By name, id or id prefix; "bridge" (or "default") is made on first use.
    Network find(const std::string& ref) const;
    /// Every network, the default one first.
    std::vector<Network> list() const;
    /// Removes a network with no container on it: its bridge, its NAT.
    void remove(const Network& n) const;
    /// The default network: "bridge" on box0, daemon config's "bip" or 10.87.0.1/16.
    Network default_network() const;

private:
    std::string dir_;
};

/// Makes the network's bridge and its NAT if the kernel lacks them (a new
/// network, a new boot, or a test's new network namespace): the bridge up
/// with the gateway's address, IPv4 forwarding on, box's nftables table;
/// and adds the network to the table's sets (its NAT while a container is on it).
void ensure_bridge(const Network& n);
/// A user network's last container has left: its part of the table's sets
/// goes (until the next start on it), and its bridge's route_localnet is off.
void leave_bridge(const Network& n);
/// Removes the bridge and the network's part of box's nftables table.
void remove_bridge(const Network& n);

// ---- netlink (links.cpp) ----------------------------------------------------

/// The MAC address docker gives an address: 02:42 and its four bytes.
std::string mac_for(Ip4 ip);
/// RTM_NEWLINK of a bridge `name`, up: the pattern the others follow.
void add_bridge(Netlink& nl, const std::string& name);
/// Advanced exercise 5: RTM_NEWLINK of a veth pair: `host_end` in this
/// network namespace, attached to bridge `bridge_index` and up; its peer
/// `peer` (eth0) with MAC `mac`, made in the network namespace of process `pid`.
void add_veth(Netlink& nl, const std::string& host_end, int bridge_index, const std::string& peer,
              const std::string& mac, pid_t pid);
/// Advanced exercise 6: RTM_NEWADDR of `ip`/`prefix` on interface `index`.
void add_address(Netlink& nl, int index, Ip4 ip, int prefix);
/// RTM_NEWLINK that brings interface `index` up.
void set_up(Netlink& nl, int index);
/// Advanced exercise 7: RTM_NEWROUTE of the default route via `gateway`.
void add_default_route(Netlink& nl, Ip4 gateway);
/// RTM_DELLINK of `name`; one already gone is not an error.
void delete_link(Netlink& nl, const std::string& name);
/// The index of interface `name` in this network namespace, or 0.
int link_index(const std::string& name);

/// Basic exercise 1: places the container on the network — in box, before
/// the container's process goes on: the veth pair from the host's bridge
/// into the network namespace of `pid` (the container's first process),
/// its end there named `e.device`.
void place_veth(const Network& n, const Endpoint& e, pid_t pid);
/// Basic exercise 2: in the container's network namespace (its process, or
/// box joined to it for `network connect`): `e.device` gets the endpoint's
/// address and comes up; on eth0 (its first network), unless the network is
/// internal, the default route goes through the gateway.
void configure_eth0(const Network& n, const Endpoint& e);

// ---- NAT (nat.cpp) ----------------------------------------------------------

/// Advanced exercise 8: the nft commands that make box's table `ip box` if
/// it is missing and set its chains' rules anew (idempotent: a second run
/// changes nothing): masquerade of the networks' traffic out, DNAT of
/// published ports from elsewhere and from the host itself, masquerade of
/// what a DNAT sends back onto a bridge from the host or a container, the
/// guard of the host's loopback, internal networks and networks kept apart.
std::string nat_table_commands();
/// Adds network `n` to the table's sets (`add`; what is there already is no
/// error), or deletes it from them (what is gone already is no error), in
/// one nf_tables transaction: its bridge, the bridge paired with itself
/// (`same`), its subnet, and for an internal network its bridge in
/// `internal`. Returns false if an add finds no box table (or sets) to add to.
bool nat_network_elements(const Network& n, bool add);
/// Runs `commands` (deletes) as one transaction; if something of them is
/// gone already, each line as its own, so that the others still go.
void nft_delete(const std::string& commands);
/// Basic exercise 4: the nft command that adds (or deletes) the DNAT of one
/// published port `p` to `ip`:`p.container_port` — an element of map
/// `publish` (any host address) or `publish_ip` (one host address).
std::string publish_command(const PortMapping& p, Ip4 ip, bool add);

// ---- ports (ports.cpp) ------------------------------------------------------

/// Parses one -p: `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]`, ports or
/// ranges (`8000-8001:80-81`); throws box::Error as docker words it.
std::vector<PortMapping> parse_publish(const std::string& text);
/// `0.0.0.0:8080->80/tcp`, as docker's ps and port print it.
std::string mapping_text(const PortMapping& p);
/// docker ps's PORTS cell: the `exposed` ports that no mapping of
/// `published` covers ("5000/tcp", consecutive ones as "7000-7002/tcp"),
/// then the mappings, in docker's order (by container port, address, host
/// port, protocol): "5000/tcp, 127.0.0.1:5000->5000/udp".
std::string ports_text(const std::vector<PortMapping>& exposed, const std::vector<PortMapping>& published);
/// Chooses a host port for every mapping that has none (the first free one
/// from 32768 up) and refuses one already taken — by a container (`used`)
/// or by a process of the host (a bind(2) says so). Throws box::Error
/// "Bind for 0.0.0.0:8080 failed: port is already allocated".
void choose_host_ports(std::vector<PortMapping>& ports, const std::vector<PortMapping>& used);

// ---- names (names.cpp) ------------------------------------------------------

/// Advanced exercise 9: the /etc/hosts of endpoint `self`: localhost and
/// the IPv6 names docker writes; each --add-host (`self.extra_hosts`,
/// "NAME:IP"); each --link (`self.links`, "NAME[:ALIAS]") to a peer named
/// NAME, as "IP ALIAS HOSTNAME NAME"; itself as "IP HOSTNAME" (docker's
/// line); and, `by_name` (a user network), its NAME and ALIASES on that line
/// too (NAME left out when it is HOSTNAME) and every other peer as "IP NAME
/// ALIASES... HOSTNAME". Throws box::Error if a link names no peer.
std::string hosts_file(const Endpoint& self, const std::vector<Endpoint>& peers, bool by_name);
/// /etc/resolv.conf: the host's (less loopback resolvers), --dns, --dns-search
/// and --dns-option replacing what they name; daemon config's "dns" default.
std::string resolv_conf(const std::string& host, const NetworkSpec& net);
/// Rewrites the hosts file of every running container on `n` in place (the
/// container sees its /etc/hosts change), so each resolves the others: its
/// peers are those of every user network it is on (of `all`).
void refresh_hosts(const Network& n, const std::vector<Network>& all);

// ---- connect, disconnect (attach.cpp) ------------------------------------------

/// `network connect`: container `id` is on `n` too, from now on — its request
/// (EndpointsConfig) and spec say so, so every later start attaches it — and
/// if it runs it gets an endpoint now: a lease (address `ip`, or the first
/// free), a veth pair to its next free ethN, the address, names (`aliases`
/// too). Throws box::Error, recording nothing, if it is on `n` already, runs
/// with --network none/host, or the address cannot be had.
void connect_container(const Network& n, const std::string& id, const std::vector<std::string>& aliases,
                       const std::string& ip = "");
/// `network disconnect`: its endpoint on `n` undone if it runs, and `n` gone
/// from its request and spec; throws if it is not on `n`, or `n` is its
/// --network's (box disconnects only what `network connect` added).
void disconnect_container(const Network& n, const std::string& id);

// ---- the container's side (attach.cpp, commands.cpp) -------------------------

/// docker network prune: removes every user network no container is on that
/// `filters` (label, label!) keep; returns their names. Prints nothing.
std::vector<std::string> prune_networks(const Filters& filters = {});

/// The ports container `id` publishes now (its first network's), host ports
/// chosen: what `box port` prints. Empty if it does not run on a network.
std::vector<PortMapping> published_ports(const std::string& id);

/// Registers the network extension, run's flags, `network`, `port`, and
/// what ps and inspect show.
void register_commands();

}  // namespace box::stage7
