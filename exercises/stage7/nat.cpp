// Chapter 7: box's table in the kernel's nf_tables, `table ip box`. Its rules
// never change while it exists; what changes is the data they look up:
//
//   set bridges, same, subnets, internal   the networks (added and removed with them)
//   map publish                      tcp . 8080 : 10.87.0.2 . 80  (-p 8080:80)
//   map publish_ip                   127.0.0.1 . tcp . 5001 : 10.87.0.2 . 5000
//
// so a container's start adds elements and its end deletes them, each one
// command, and a box killed half-way leaves nothing the next cannot redo.
#include "box/error.hpp"
#include "box/nftables.hpp"
#include "box/util.hpp"
#include "stage7.hpp"

namespace box::stage7 {

std::string nat_table_commands() {
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
}

std::string nat_network_commands(const Network& n, bool add) {
    std::string verb = add ? "add" : "delete";
    std::string out = verb + " element ip box bridges { \"" + n.bridge + "\" }\n" +
                      verb + " element ip box same { \"" + n.bridge + "\" . \"" + n.bridge + "\" }\n" +
                      verb + " element ip box subnets { " + n.subnet.text() + " }\n";
    if (n.internal) out += verb + " element ip box internal { \"" + n.bridge + "\" }\n";
    return out;
}

void nft_delete(const std::string& commands) {
    for (const auto& line : split(commands, '\n'))
        if (!line.empty()) nft(line, true);
}

std::string publish_command(const PortMapping& p, Ip4 ip, bool add) {
    // EXERCISE 4: write publish_command() — see chapters/07-network/README.md, exercise 4.
    // Replace the line below with your code.
    box::not_implemented("publish_command()", "chapters/07-network", 4);
}

}  // namespace box::stage7
