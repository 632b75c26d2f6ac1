// Chapter 7: box's table in the kernel's nf_tables, `table ip box`. Its rules
// never change while it exists; what changes is the data they look up:
//
//   set bridges, same, subnets, internal   the networks (added and removed with them)
//   map publish                      tcp . 8080 : 10.87.0.2 . 80  (-p 8080:80)
//   map publish_ip                   127.0.0.1 . tcp . 5001 : 10.87.0.2 . 5000
//
// so a container's start adds elements and its end deletes them, each one
// transaction, and a box killed half-way leaves nothing the next cannot redo.
// A network's own elements are there while a container is on it: every start
// adds them (present is fine), the last container's end deletes them. They
// change at every start, so box sends them itself — nf_tables netlink
// messages built with libmnl, as `nft` would send them — instead of loading
// libnftables for a few elements.
#include <arpa/inet.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "box/error.hpp"
#include "box/netlink.hpp"
#include "box/nftables.hpp"
#include "box/util.hpp"
#include "stage7.hpp"

namespace box::stage7 {

std::string nat_table_commands() {
    // BEGIN ADVANCED EXERCISE 8: nat_table_commands()
    // `add` of what exists is no error; `flush` then `add rule` sets each
    // chain's rules anew — all in one transaction, so no packet sees a half.
    return "add table ip box\n"
           "add set ip box bridges { type ifname; }\n"
           "add set ip box internal { type ifname; }\n"
           "add set ip box subnets { type ipv4_addr; flags interval; }\n"
           "add set ip box same { type ifname . ifname; }\n"
           "add map ip box publish { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
           "add map ip box publish_ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }\n"
           "add chain ip box prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
           "add chain ip box output { type nat hook output priority -100; policy accept; }\n"
           "add chain ip box published\n"
           "add chain ip box postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
           "add chain ip box forward { type filter hook forward priority filter; policy accept; }\n"
           "add chain ip box guard { type filter hook prerouting priority raw; policy accept; }\n"
           "flush chain ip box guard\n"
           "flush chain ip box prerouting\n"
           "flush chain ip box output\n"
           "flush chain ip box published\n"
           "flush chain ip box postrouting\n"
           "flush chain ip box forward\n"
           // route_localnet lets the host route 127.0.0.0/8 onto its bridges
           // (for -p 127.0.0.1:...): a container's packet *for* 127.0.0.1 must
           // not reach the host's loopback services (CVE-2020-8558). Before
           // conntrack, so the answers to the host's own connections, for
           // the gateway until translated back, pass.
           "add rule ip box guard iifname @bridges ip daddr 127.0.0.0/8 drop\n"
           // From outside, 127.0.0.1 never reaches a port published on loopback.
           "add rule ip box prerouting ip daddr 127.0.0.0/8 return\n"
           // Published ports: to any of the host's own addresses, arriving
           // from elsewhere (prerouting) or sent by the host itself (output).
           "add rule ip box prerouting fib daddr type local jump published\n"
           "add rule ip box output fib daddr type local jump published\n"
           "add rule ip box published dnat ip to ip daddr . meta l4proto . th dport map @publish_ip\n"
           "add rule ip box published dnat ip to meta l4proto . th dport map @publish\n"
           // What a DNAT sends onto a bridge from the host's loopback or from a
           // container (hairpin) leaves as from the gateway, so the answer
           // comes back through the host and is translated back.
           "add rule ip box postrouting oifname @bridges ct status dnat ip saddr 127.0.0.0/8 masquerade\n"
           "add rule ip box postrouting oifname @bridges ct status dnat ip saddr @subnets masquerade\n"
           // The way out: the networks' traffic leaves as from the host.
           "add rule ip box postrouting ip saddr @subnets oifname != @bridges masquerade\n"
           // An internal network's traffic is routed nowhere. (Traffic within
           // one bridge is not routed — but where br_netfilter is loaded, as
           // docker loads it, bridged packets pass here too: they keep going.)
           "add rule ip box forward iifname @internal oifname != @internal drop\n"
           "add rule ip box forward oifname @internal iifname != @internal drop\n"
           // Networks are apart: nothing is routed from one bridge to another
           // (docker's DOCKER-ISOLATION), but a published port is for everyone.
           "add rule ip box forward iifname @bridges oifname @bridges iifname . oifname != @same ct status & dnat == 0 drop\n";
    // END EXERCISE
}

namespace {

// One set's elements, as nf_tables stores their keys.
struct SetElements {
    const char* set;
    std::vector<std::string> keys;  // each key's bytes
    std::vector<bool> ends;         // in an interval set: the first key after an interval
    std::string shown;              // as nft writes them, for the trace
};

// An interface name as a key of type ifname: IFNAMSIZ bytes, NUL-padded.
std::string ifname_key(const std::string& name) {
    std::string k(IFNAMSIZ, '\0');
    k.replace(0, std::min(name.size(), k.size() - 1), name.substr(0, k.size() - 1));
    return k;
}

std::string ipv4_key(Ip4 ip) {
    std::uint32_t be = htonl(ip);
    return std::string(reinterpret_cast<const char*>(&be), sizeof be);
}

// What network `n` puts in the sets.
std::vector<SetElements> network_elements(const Network& n) {
    std::string br = ifname_key(n.bridge), q = "\"" + n.bridge + "\"";
    // The subnet is an interval: its first address, and the first after it
    // flagged as the interval's end (what `nft` sends for 10.87.0.0/16).
    Ip4 first = n.subnet.base, after = n.subnet.broadcast() + 1;
    SetElements subnets{"subnets", {ipv4_key(first)}, {false}, n.subnet.text()};
    if (after != 0) {  // an interval to the very end of the addresses has no end element
        subnets.keys.push_back(ipv4_key(after));
        subnets.ends.push_back(true);
    }
    std::vector<SetElements> out = {{"bridges", {br}, {false}, q}, {"same", {br + br}, {false}, q + " . " + q}, subnets};
    if (n.internal) out.push_back({"internal", {br}, {false}, q});
    return out;
}

// Appends one NFT_MSG_NEWSETELEM (or DELSETELEM) of table `ip box` to `batch`.
void put_elements(mnl_nlmsg_batch* batch, std::uint32_t seq, const SetElements& e, bool add) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch));
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE : 0);  // no NLM_F_EXCL: present is fine
    nlh->nlmsg_seq = seq;
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = NFPROTO_IPV4;
    g->version = NFNETLINK_V0;
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "box");
    mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e.set);
    nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    for (size_t i = 0; i < e.keys.size(); ++i) {
        nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
        nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
        mnl_attr_put(nlh, NFTA_DATA_VALUE, e.keys[i].size(), e.keys[i].data());
        mnl_attr_nest_end(nlh, key);
        if (e.ends[i]) mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
        mnl_attr_nest_end(nlh, elem);
    }
    mnl_attr_nest_end(nlh, list);
    mnl_nlmsg_batch_next(batch);
}

// The batch's begin or end marker, for the nf_tables subsystem.
void put_marker(mnl_nlmsg_batch* batch, std::uint32_t seq, std::uint16_t type) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(batch));
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq;
    auto* g = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(NFNL_SUBSYS_NFTABLES);
    mnl_nlmsg_batch_next(batch);
}

// One transaction of `sets`; returns the errno tolerated (ENOENT) or 0.
int change_elements(Netlink& nl, const std::vector<SetElements>& sets, bool add, bool tolerate_missing) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), buf.size());
    put_marker(batch, nl.next_seq(), NFNL_MSG_BATCH_BEGIN);
    std::string what;
    for (const auto& e : sets) {
        put_elements(batch, nl.next_seq(), e, add);
        what += std::string(what.empty() ? "" : "; ") + (add ? "add" : "delete") + " element ip box " + e.set + " { " +
                e.shown + " }";
    }
    put_marker(batch, nl.next_seq(), NFNL_MSG_BATCH_END);
    int err = nl.batch(mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch), what, tolerate_missing ? ENOENT : 0);
    mnl_nlmsg_batch_stop(batch);
    return err;
}

}  // namespace

bool nat_network_elements(const Network& n, bool add) {
    Netlink nl(NETLINK_NETFILTER);
    std::vector<SetElements> sets = network_elements(n);
    bool done = change_elements(nl, sets, add, true) == 0;
    if (add) return done;  // not done: box's table is missing
    // A delete of what is partly gone: each set's part alone, so that one
    // already gone does not keep the others from going.
    if (!done)
        for (const auto& e : sets) change_elements(nl, {e}, false, true);
    // What a delete took is freed after an RCU grace period, and the
    // socket's release waits for it: a helper waits instead of box.
    nl.close_later();
    return true;
}

void nft_delete(const std::string& commands) {
    // One transaction; if part of it is gone already (a box killed half-way
    // through a teardown), each line alone.
    if (nft(commands, true)) return;
    for (const auto& line : split(commands, '\n'))
        if (!line.empty()) nft(line, true);
}

std::string publish_command(const PortMapping& p, Ip4 ip, bool add) {
    // BEGIN EXERCISE 4: publish_command()
    bool any = p.host_ip.empty() || p.host_ip == "0.0.0.0";
    std::string key = p.protocol + " . " + std::to_string(p.host_port);
    if (!any) key = p.host_ip + " . " + key;
    std::string map = any ? "publish" : "publish_ip";
    if (!add) return "delete element ip box " + map + " { " + key + " }\n";
    return "add element ip box " + map + " { " + key + " : " + ip_text(ip) + " . " + std::to_string(p.container_port) +
           " }\n";
    // END EXERCISE
}

}  // namespace box::stage7
