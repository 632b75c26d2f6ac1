// Chapter 7: how containers find each other by name. docker runs a DNS
// server for each user network (127.0.0.11 inside); box keeps every
// container's /etc/hosts current instead: a container's start or end
// rewrites the hosts file of each container on its network, in place — the
// file is bind-mounted over /etc/hosts, so the container sees the change at
// once, with no process to run. The resolver of every C library and of
// busybox reads /etc/hosts before asking DNS.
#include <fcntl.h>
#include <unistd.h>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/file_lock.hpp"
#include "box/util.hpp"
#include "etc_files.hpp"
#include "stage3.hpp"
#include "stage7.hpp"

namespace box::stage7 {

std::string hosts_file(const Endpoint& self, const std::vector<Endpoint>& peers, bool by_name) {
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

void refresh_hosts(const Network& n) {
    if (n.name == "bridge") return;  // as docker's default bridge: names only through --link
    auto all = n.leases().list();
    for (const auto& e : all) {
        if (e.hosts_file.empty()) continue;
        std::string text;
        try {
            text = hosts_file(e, all, true);
        } catch (const Error&) {
            continue;  // a link whose peer has gone: keep what it has
        }
        // In place (same inode): the bind mount inside shows the new text.
        Fd fd(::open(e.hosts_file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
        if (fd) (void)write_all(fd.get(), text.data(), text.size());
    }
}

}  // namespace box::stage7
