// Chapter 7: how containers find each other by name. docker runs a DNS
// server for each user network (127.0.0.11 inside); box keeps every
// container's /etc/hosts current instead: a container's start or end
// rewrites the hosts file of each container on its network, in place — the
// file is bind-mounted over /etc/hosts, so the container sees the change at
// once, with no process to run. The resolver of every C library and of
// busybox reads /etc/hosts before asking DNS.
#include <algorithm>
#include <set>

#include "box/error.hpp"
#include "box/util.hpp"
#include "etc_files.hpp"
#include "stage3.hpp"
#include "stage7.hpp"

namespace box::stage7 {

std::string hosts_file(const Endpoint& self, const std::vector<Endpoint>& peers, bool by_name) {
    // BEGIN ADVANCED EXERCISE 9: hosts_file()
    std::string out =
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "ff00::0\tip6-mcastprefix\n"
        "ff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
    for (const auto& h : self.extra_hosts) {
        size_t colon = h.find(':');
        out += h.substr(colon + 1) + "\t" + h.substr(0, colon) + "\n";
    }
    for (const auto& link : self.links) {
        size_t colon = link.find(':');
        std::string name = link.substr(0, colon);
        std::string alias = colon == std::string::npos ? name : link.substr(colon + 1);
        const Endpoint* peer = nullptr;
        for (const auto& p : peers)
            if (p.name == name || p.container == name) peer = &p;
        if (!peer) throw Error("Cannot link to a non running container: /" + name, "start it first, on the same network");
        out += ip_text(peer->ip) + "\t" + alias + " " + peer->hostname + " " + peer->name + "\n";
    }
    std::string me = ip_text(self.ip) + "\t" + self.hostname;  // docker's line
    if (by_name && self.name != self.hostname) me += " " + self.name;
    if (by_name)
        for (const auto& a : self.aliases) me += " " + a;
    out += me + "\n";
    if (by_name)
        for (const auto& p : peers) {
            if (p.container == self.container) continue;
            std::string line = ip_text(p.ip) + "\t" + p.name;
            for (const auto& a : p.aliases) line += " " + a;
            if (p.hostname != p.name) line += " " + p.hostname;
            out += line + "\n";
        }
    return out;
    // END EXERCISE
}

std::string resolv_conf(const std::string& host, const NetworkSpec& net) {
    json config = stage3::daemon_config();
    auto strings = [&](const std::vector<std::string>& given, const char* key) {
        if (!given.empty()) return given;
        return config.value(key, std::vector<std::string>{});
    };
    std::vector<std::string> dns = strings(net.dns, "dns"), search = strings(net.dns_search, "dns-search"),
                             options = strings(net.dns_options, "dns-opts");
    std::string base = stage4::container_resolv_conf(host, false);
    std::string out;
    for (const auto& line : split(base, '\n')) {
        if (line.empty()) continue;
        if (!dns.empty() && starts_with(line, "nameserver")) continue;
        if (!search.empty() && (starts_with(line, "search") || starts_with(line, "domain"))) continue;
        if (!options.empty() && starts_with(line, "options")) continue;
        out += line + "\n";
    }
    for (const auto& d : dns) out += "nameserver " + d + "\n";
    if (!search.empty()) out += "search " + join(search, " ") + "\n";
    if (!options.empty()) out += "options " + join(options, " ") + "\n";
    return out;
}

void refresh_hosts(const Network& n, const std::vector<Network>& all) {
    // Every live endpoint of every network, once: what each container is on.
    std::vector<std::pair<const Network*, std::vector<Endpoint>>> on;
    for (const auto& net : all) on.push_back({&net, net.leases().list()});
    std::set<std::string> touched;  // the containers on `n`
    for (const auto& [net, eps] : on)
        if (net->id == n.id)
            for (const auto& e : eps) touched.insert(e.container);
    for (const auto& id : touched) {
        const Endpoint* self = nullptr;  // its first network's endpoint: eth0
        std::vector<const Network*> mine;
        bool by_name = false;  // on a user network, where every peer has a name
        for (const auto& [net, eps] : on)
            for (const auto& e : eps)
                if (e.container == id) {
                    if (!self || e.device == "eth0") self = &e;
                    mine.push_back(net);
                    by_name = by_name || net->name != "bridge";
                }
        // The peers of its user networks; on the default bridge alone, its
        // peers there, which only a --link names (docker's rule).
        std::vector<Endpoint> peers;
        for (const auto& [net, eps] : on)
            if (std::count(mine.begin(), mine.end(), net) && (!by_name || net->name != "bridge"))
                peers.insert(peers.end(), eps.begin(), eps.end());
        if (!self || self->hosts_file.empty()) continue;
        try {
            stage4::write_etc_file(self->hosts_file, hosts_file(*self, peers, by_name));
        } catch (const Error&) {
            continue;  // a link whose peer has gone, a container being removed: keep what it has
        }
    }
}

}  // namespace box::stage7
