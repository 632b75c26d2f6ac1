// Chapter 7: IPv4 subnets and the address allocator (IPAM). A network's
// addresses are handed out as leases, one file per address, so that two
// containers never get the same one, and a lease lasts only as long as the
// process holding it: what a box killed at any moment held, the next box
// takes back.
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "box/error.hpp"
#include "box/file_lock.hpp"
#include "box/util.hpp"
#include "stage4.hpp"
#include "stage7.hpp"

namespace box::stage7 {

std::string ip_text(Ip4 ip) {
    char buf[16];
    snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
    return buf;
}

std::optional<Ip4> parse_ip(const std::string& text) {
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

Subnet Subnet::parse(const std::string& cidr) {
    size_t slash = cidr.find('/');
    auto bad = [&](const std::string& why) { return Error("invalid subnet \"" + cidr + "\"", why); };
    if (slash == std::string::npos) throw bad("expected ADDRESS/PREFIX, e.g. 192.168.100.0/24");
    auto ip = parse_ip(cidr.substr(0, slash));
    auto prefix = parse_number<int>(cidr.substr(slash + 1));
    if (!ip) throw bad("\"" + cidr.substr(0, slash) + "\" is not an IPv4 address");
    if (!prefix || *prefix < 8 || *prefix > 30) throw bad("the prefix length must be 8 to 30");
    Subnet s{*ip, *prefix};
    if ((s.base & ~s.mask()) != 0) throw bad("host bits are set (did you mean " + Subnet{*ip & s.mask(), *prefix}.text() + "?)");
    return s;
}

std::string Subnet::text() const { return ip_text(base) + "/" + std::to_string(prefix); }

bool Subnet::overlaps(const Subnet& other) const { return contains(other.base) || other.contains(base); }

std::optional<Ip4> first_free(const Subnet& subnet, Ip4 gateway, const std::set<Ip4>& taken) {
    // BEGIN EXERCISE 3: first_free()
    for (Ip4 ip = subnet.base + 1; ip < subnet.broadcast(); ++ip)
        if (ip != gateway && !taken.count(ip)) return ip;
    return std::nullopt;
    // END EXERCISE
}

void to_json(json& j, const Endpoint& e) {
    j = {{"ip", ip_text(e.ip)},     {"container", e.container}, {"name", e.name},     {"hostname", e.hostname},
         {"aliases", e.aliases},    {"veth", e.veth},  {"device", e.device},  {"mac", e.mac},       {"ports", e.ports},
         {"links", e.links}, {"extra_hosts", e.extra_hosts}, {"hosts_file", e.hosts_file}, {"holder", e.holder},   {"holder_start", e.holder_start}};
}

void from_json(const json& j, Endpoint& e) {
    e.ip = parse_ip(j.value("ip", "")).value_or(0);
    e.container = j.value("container", "");
    e.name = j.value("name", "");
    e.hostname = j.value("hostname", "");
    e.aliases = j.value("aliases", std::vector<std::string>{});
    e.veth = j.value("veth", "");
    e.device = j.value("device", "eth0");
    e.mac = j.value("mac", "");
    e.ports = j.value("ports", std::vector<PortMapping>{});
    e.links = j.value("links", std::vector<std::string>{});
    e.extra_hosts = j.value("extra_hosts", std::vector<std::string>{});
    e.hosts_file = j.value("hosts_file", "");
    e.holder = j.value("holder", 0);
    e.holder_start = j.value("holder_start", 0LL);
}

Leases::Leases(std::string dir) : dir_(std::move(dir)) { make_dirs(dir_); }

namespace {

bool holder_alive(const Endpoint& e) { return e.holder > 0 && stage4::process_alive(e.holder, e.holder_start); }

std::vector<Endpoint> read_all(const std::string& dir) {
    std::vector<Endpoint> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename();
        if (name.empty() || name[0] == '.') continue;  // the lock, a temporary file
        auto text = try_read_file(dir + "/" + name);
        Endpoint e;
        try {
            if (text) e = json::parse(*text).get<Endpoint>();
        } catch (const json::exception&) {
        }
        if (!e.ip) e.ip = parse_ip(name).value_or(0);  // unreadable: a lease nobody holds
        out.push_back(e);
    }
    return out;
}

}  // namespace

Endpoint Leases::take(Endpoint e, const Subnet& subnet, Ip4 gateway) const {
    FileLock lock(dir_);
    std::set<Ip4> taken;
    for (const auto& old : read_all(dir_)) {
        if (holder_alive(old)) taken.insert(old.ip);
        else ::unlink((dir_ + "/" + ip_text(old.ip)).c_str());  // its holder is gone: take it back
    }
    std::optional<Ip4> ip;
    if (e.ip) {  // asked for (--ip): docker's errors
        ip = e.ip;
        if (!subnet.contains(*ip) || *ip == subnet.base || *ip == subnet.broadcast())
            throw Error("Invalid address " + ip_text(*ip), "It does not belong to any of this network's subnets (" +
                                                              subnet.text() + ")");
        if (*ip == gateway || taken.count(*ip)) throw Error("Address already in use", ip_text(*ip));
    } else {
        ip = first_free(subnet, gateway, taken);
        if (!ip) throw Error("no address left", "every address of " + subnet.text() + " is in use");
    }
    if (!subnet.contains(*ip) || *ip == gateway || taken.count(*ip))
        throw Error("address allocation", ip_text(*ip) + " is not a free address of " + subnet.text());
    e.ip = *ip;
    e.mac = mac_for(e.ip);
    write_file_atomic(dir_ + "/" + ip_text(e.ip), json(e).dump(), 0644, false);
    return e;
}

void Leases::update(const Endpoint& e) const {
    FileLock lock(dir_);
    write_file_atomic(dir_ + "/" + ip_text(e.ip), json(e).dump(), 0644, false);
}

bool Leases::holds(const Endpoint& e) const {
    auto text = try_read_file(dir_ + "/" + ip_text(e.ip));
    if (!text) return false;
    try {
        return json::parse(*text).value("container", "") == e.container;
    } catch (const json::exception&) {
        return true;
    }
}

void Leases::release(const Endpoint& e) const {
    FileLock lock(dir_);
    if (holds(e)) ::unlink((dir_ + "/" + ip_text(e.ip)).c_str());  // not if given to another since
}

std::vector<Endpoint> Leases::list(bool stale) const {
    std::vector<Endpoint> out;
    for (auto& e : read_all(dir_))
        if (stale || holder_alive(e)) out.push_back(std::move(e));
    return out;
}

}  // namespace box::stage7
