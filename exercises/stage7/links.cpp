// Chapter 7: the netlink requests that make a network's links. Each is one
// message to the kernel's routing family (rtnetlink), built with libmnl: a
// header (nlmsghdr), a fixed part for its kind (ifinfomsg for links,
// ifaddrmsg for addresses, rtmsg for routes), then attributes — type, length,
// value — some nested in others. `ip link add ... type veth peer ...` sends
// the same bytes.
#include <arpa/inet.h>
#include <net/if.h>  // before the kernel's headers: it defines IFF_UP and friends for both
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cstdio>
#include <vector>

#include "box/error.hpp"
#include "stage7.hpp"

namespace box::stage7 {
namespace {

// One request's buffer and header.
struct Message {
    std::vector<char> buf = std::vector<char>(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh;
    Message(Netlink& nl, std::uint16_t type, std::uint16_t flags) {
        nlh = mnl_nlmsg_put_header(buf.data());
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        nlh->nlmsg_seq = nl.next_seq();
    }
    template <typename T>
    T* fixed() {  // the message's fixed part, zeroed
        return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
    }
};

std::vector<unsigned char> mac_bytes(const std::string& mac) {
    unsigned b[6];
    if (sscanf(mac.c_str(), "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        throw Error("invalid MAC address \"" + mac + "\"", "expected six hex bytes, e.g. 02:42:0a:57:00:02");
    return {static_cast<unsigned char>(b[0]), static_cast<unsigned char>(b[1]), static_cast<unsigned char>(b[2]),
            static_cast<unsigned char>(b[3]), static_cast<unsigned char>(b[4]), static_cast<unsigned char>(b[5])};
}

}  // namespace

std::string mac_for(Ip4 ip) {
    char buf[18];
    snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return buf;
}

int link_index(const std::string& name) { return static_cast<int>(if_nametoindex(name.c_str())); }

// The pattern every request here follows: a link of kind "bridge".
void add_bridge(Netlink& nl, const std::string& name) {
    Message m(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifi = m.fixed<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;  // up as soon as it exists
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(m.nlh, info);
    nl.request(m.nlh, "ifname=\"" + name + "\", kind=\"bridge\", up");
}

void add_veth(Netlink& nl, const std::string& host_end, int bridge_index, const std::string& peer_name,
              const std::string& mac, pid_t pid) {
    Message m(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifi = m.fixed<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, host_end.c_str());
    mnl_attr_put_u32(m.nlh, IFLA_MASTER, static_cast<std::uint32_t>(bridge_index));  // a port of the bridge
    nlattr* info = mnl_attr_nest_start(m.nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(m.nlh, IFLA_INFO_DATA);
    // The peer: a link message of its own inside the attribute, made
    // straight in the container's namespace, so its name cannot clash
    // with a host interface of that name.
    nlattr* peer = mnl_attr_nest_start(m.nlh, VETH_INFO_PEER);
    auto* peer_ifi = m.fixed<ifinfomsg>();
    peer_ifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, peer_name.c_str());
    auto bytes = mac_bytes(mac);
    mnl_attr_put(m.nlh, IFLA_ADDRESS, bytes.size(), bytes.data());
    mnl_attr_put_u32(m.nlh, IFLA_NET_NS_PID, static_cast<std::uint32_t>(pid));
    mnl_attr_nest_end(m.nlh, peer);
    mnl_attr_nest_end(m.nlh, data);
    mnl_attr_nest_end(m.nlh, info);
    nl.request(m.nlh, "ifname=\"" + host_end + "\", master=" + std::to_string(bridge_index) +
                          ", up, kind=\"veth\", peer={ifname=\"" + peer_name + "\", address=" + mac + ", net_ns_pid=" +
                          std::to_string(pid) + "}");
}

void add_address(Netlink& nl, int index, Ip4 ip, int prefix) {
    Message m(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    auto* ifa = m.fixed<ifaddrmsg>();
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
    ifa->ifa_index = static_cast<unsigned>(index);
    Subnet s{ip & Subnet{0, prefix}.mask(), prefix};
    mnl_attr_put_u32(m.nlh, IFA_LOCAL, htonl(ip));  // addresses go in network byte order
    mnl_attr_put_u32(m.nlh, IFA_ADDRESS, htonl(ip));
    mnl_attr_put_u32(m.nlh, IFA_BROADCAST, htonl(s.broadcast()));
    nl.request(m.nlh, "index=" + std::to_string(index) + ", local=" + ip_text(ip) + "/" + std::to_string(prefix) +
                          ", broadcast=" + ip_text(s.broadcast()));
}

void set_up(Netlink& nl, int index) {
    Message m(nl, RTM_NEWLINK, 0);
    auto* ifi = m.fixed<ifinfomsg>();
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index;
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    nl.request(m.nlh, "index=" + std::to_string(index) + ", up");
}

void add_default_route(Netlink& nl, Ip4 gateway) {
    Message m(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    auto* rt = m.fixed<rtmsg>();
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = 0;  // 0.0.0.0/0: every destination
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(m.nlh, RTA_GATEWAY, htonl(gateway));
    nl.request(m.nlh, "dst=0.0.0.0/0, gateway=" + ip_text(gateway));
}

void delete_link(Netlink& nl, const std::string& name) {
    Message m(nl, RTM_DELLINK, 0);
    m.fixed<ifinfomsg>()->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(m.nlh, IFLA_IFNAME, name.c_str());
    nl.request(m.nlh, "ifname=\"" + name + "\"", ENODEV);
}

void place_veth(const Network& n, const Endpoint& e, pid_t pid) {
    // EXERCISE 1: write place_veth() — see chapters/07-network/README.md, exercise 1.
    // Replace the line below with your code.
    box::not_implemented("place_veth()", "chapters/07-network", 1);
}

void configure_eth0(const Network& n, const Endpoint& e) {
    // EXERCISE 2: write configure_eth0() — see chapters/07-network/README.md, exercise 2.
    // Replace the line below with your code.
    box::not_implemented("configure_eth0()", "chapters/07-network", 2);
}

}  // namespace box::stage7
