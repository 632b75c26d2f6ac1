// Chapter 7: -p's syntax, and which host ports are free. A published port is
// only a DNAT rule: nothing listens on the host. So before the rule is added
// box makes sure the port is not another container's and that no process of
// the host has it (it binds it for a moment), as docker refuses one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "box/error.hpp"
#include "box/fd.hpp"
#include "box/util.hpp"
#include "stage7.hpp"

namespace box::stage7 {
namespace {

// "80" or "8000-8010": first and last.
std::pair<int, int> port_range(const std::string& text, const std::string& what) {
    auto bad = [&] { return Error("invalid " + what + ": " + text, "ports are 1 to 65535, or a range FIRST-LAST"); };
    size_t dash = text.find('-');
    auto first = parse_number<int>(text.substr(0, dash));
    auto last = dash == std::string::npos ? first : parse_number<int>(text.substr(dash + 1));
    if (!first || !last || *first < 1 || *last > 65535 || *first > *last) throw bad();
    return {*first, *last};
}

bool same_address(const std::string& a, const std::string& b) {
    auto any = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0"; };
    return any(a) || any(b) || a == b;
}

// Whether a process of the host has the port: bind(2) it, and let go.
int bind_error(const PortMapping& p) {
    Fd s(::socket(AF_INET, (p.protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
    if (!s) return errno;
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // a TIME_WAIT is no owner
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(p.host_port));
    a.sin_addr.s_addr = htonl(parse_ip(p.host_ip.empty() ? "0.0.0.0" : p.host_ip).value_or(0));
    return ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
}

bool taken(const PortMapping& p, const std::vector<PortMapping>& used) {
    for (const auto& u : used)
        if (u.protocol == p.protocol && u.host_port == p.host_port && same_address(u.host_ip, p.host_ip)) return true;
    return false;
}

}  // namespace

std::vector<PortMapping> parse_publish(const std::string& text) {
    std::string spec = text, proto = "tcp";
    if (size_t slash = spec.rfind('/'); slash != std::string::npos) {
        proto = spec.substr(slash + 1);
        spec.resize(slash);
        if (proto != "tcp" && proto != "udp")
            throw Error("invalid proto: " + proto, "box publishes tcp and udp ports");
    }
    if (spec.find('[') != std::string::npos)
        throw Error("invalid -p " + text, "box's networks are IPv4: give an IPv4 address or none");
    auto parts = split(spec, ':');
    std::string ip, host, container;
    if (parts.size() == 1) container = parts[0];
    else if (parts.size() == 2) host = parts[0], container = parts[1];
    else if (parts.size() == 3) ip = parts[0], host = parts[1], container = parts[2];
    else throw Error("invalid -p " + text, "expected [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]");
    if (!ip.empty() && !parse_ip(ip)) throw Error("invalid IP address: " + ip, "in -p " + text);
    if (container.empty()) throw Error("no port specified: " + text + "<empty>", "expected [IP:][HOST_PORT:]CONTAINER_PORT");
    auto [cfirst, clast] = port_range(container, "containerPort");
    int hfirst = 0, hlast = 0;
    if (!host.empty()) {
        std::tie(hfirst, hlast) = port_range(host, "hostPort");
        if (hlast - hfirst != clast - cfirst)
            throw Error("invalid ranges specified for container and host Ports: " + container + " and " + host,
                        "give ranges of one length");
    }
    std::vector<PortMapping> out;
    for (int c = cfirst; c <= clast; ++c)
        out.push_back({ip, host.empty() ? 0 : hfirst + (c - cfirst), c, proto});
    return out;
}

std::string mapping_text(const PortMapping& p) {
    return (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":" + std::to_string(p.host_port) + "->" +
           std::to_string(p.container_port) + "/" + p.protocol;
}

std::string ports_text(const std::vector<PortMapping>& exposed, const std::vector<PortMapping>& published) {
    // docker's DisplayablePorts: one list of ports, each bound (an address and
    // a host port) or not; sorted, runs of one kind grouped into ranges.
    struct Shown { int port, host_port; std::string ip, proto; };
    std::vector<Shown> all;
    for (const auto& p : published)
        all.push_back({p.container_port, p.host_port, p.host_ip.empty() ? "0.0.0.0" : p.host_ip, p.protocol});
    for (const auto& e : exposed) {
        bool bound = std::any_of(published.begin(), published.end(), [&](const PortMapping& p) {
            return p.container_port == e.container_port && p.protocol == e.protocol;
        });
        if (!bound) all.push_back({e.container_port, 0, "", e.protocol});
    }
    std::sort(all.begin(), all.end(), [](const Shown& a, const Shown& b) {
        return std::tie(a.port, a.ip, a.host_port, a.proto) < std::tie(b.port, b.ip, b.host_port, b.proto);
    });
    struct Group { std::string key; int first, last; };
    std::vector<Group> groups;   // in the order their keys first appear
    std::vector<std::string> done, mappings;
    auto text = [](const Group& g) {
        std::string range = std::to_string(g.first) + (g.first == g.last ? "" : "-" + std::to_string(g.last));
        size_t slash = g.key.find('/');
        if (slash == std::string::npos) return range + "/" + g.key;  // "tcp": not bound
        return g.key.substr(0, slash) + ":" + range + "->" + range + "/" + g.key.substr(slash + 1);
    };
    for (const auto& s : all) {
        std::string key = s.proto;
        if (!s.ip.empty()) {
            if (s.host_port != s.port) {  // mapped to another port: listed apart, last
                mappings.push_back(s.ip + ":" + std::to_string(s.host_port) + "->" + std::to_string(s.port) + "/" + s.proto);
                continue;
            }
            key = s.ip + "/" + s.proto;
        }
        auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.key == key; });
        if (g == groups.end()) {
            groups.push_back({key, s.port, s.port});
        } else if (s.port == g->last + 1) {
            g->last = s.port;
        } else {
            done.push_back(text(*g));
            *g = {key, s.port, s.port};
        }
    }
    for (const auto& g : groups) done.push_back(text(g));
    done.insert(done.end(), mappings.begin(), mappings.end());
    return join(done, ", ");
}

void choose_host_ports(std::vector<PortMapping>& ports, const std::vector<PortMapping>& used) {
    std::vector<PortMapping> now = used;  // and those chosen so far here
    for (auto& p : ports) {
        std::string where = (p.host_ip.empty() ? "0.0.0.0" : p.host_ip) + ":";
        if (p.host_port == 0) {
            for (int port = 32768; port <= 60999 && p.host_port == 0; ++port) {
                PortMapping candidate = p;
                candidate.host_port = port;
                if (!taken(candidate, now) && bind_error(candidate) == 0) p.host_port = port;
            }
            if (p.host_port == 0) throw Error("Bind for " + where + "0 failed", "no free host port from 32768 to 60999");
        } else if (taken(p, now)) {
            throw Error("Bind for " + where + std::to_string(p.host_port) + " failed", "port is already allocated");
        } else if (int err = bind_error(p)) {
            throw Error("Bind for " + where + std::to_string(p.host_port) + " failed",
                        err == EADDRINUSE ? "port is already allocated" : strerror(err));
        }
        now.push_back(p);
    }
}

}  // namespace box::stage7
