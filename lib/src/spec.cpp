#include "box/spec.hpp"


#include "box/error.hpp"
#include "box/util.hpp"

namespace box {

IdMapping parse_id_range(const std::string& text) {
    auto parts = split(text, ':');
    auto bad = [&] { return Error("invalid id range " + text, "expected HOSTID[:COUNT], e.g. 100000:65536"); };
    if (parts.size() > 2) throw bad();
    IdMapping m{0, 0, 65536};
    auto num = [&](const std::string& s, std::uint32_t& out) {
        auto n = parse_number<std::uint32_t>(s);
        if (!n) throw bad();
        out = *n;
    };
    num(parts[0], m.outside);
    if (parts.size() == 2) num(parts[1], m.count);
    if (m.count == 0) throw bad();
    if (m.outside == 0) throw Error("invalid id range " + text, "host id 0 would map the host's root into the container");
    if (static_cast<std::uint64_t>(m.outside) + m.count > 0xffffffffULL) throw bad();
    return m;
}

// Containers' records (chapter 4) are read back by later versions of box:
// every field has its default when a record lacks it, and fields a record
// has that this box does not know are ignored.

void to_json(nlohmann::json& j, const IdMapping& m) { j = {m.inside, m.outside, m.count}; }
void from_json(const nlohmann::json& j, IdMapping& m) {
    if (j.is_array()) m = {j.at(0), j.at(1), j.at(2)};  // [inside, outside, count]
    else m = {j.value("inside", 0u), j.value("outside", 0u), j.value("count", 0u)};
}

NLOHMANN_JSON_SERIALIZE_ENUM(NetworkMode, {{NetworkMode::None, "none"}, {NetworkMode::Host, "host"}, {NetworkMode::Bridge, "bridge"}, {NetworkMode::Container, "container"}})
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ResourceLimits, memory, memory_swap, cpus, cpu_shares, cpuset_cpus, pids)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VolumeMount, type, name, source, destination, readonly, options)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Ulimit, name, soft, hard)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(DeviceMapping, host, container, permissions)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(SecuritySpec, privileged, cap_add, cap_drop, no_new_privileges,
                                                seccomp, read_only, tmpfs, ulimits, devices)
void to_json(nlohmann::json& j, const PortMapping& p) {
    j = {{"host_ip", p.host_ip}, {"host_port", p.host_port}, {"container_port", p.container_port}, {"protocol", p.protocol}};
}
void from_json(const nlohmann::json& j, PortMapping& p) {
    PortMapping d;
    p.host_ip = j.value("host_ip", d.host_ip);
    p.host_port = j.value("host_port", d.host_port);
    p.container_port = j.value("container_port", d.container_port);
    p.protocol = j.value("protocol", d.protocol);
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkAttachment, name, aliases, ip)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(NetworkSpec, name, aliases, ports, publish_all, dns, dns_search, dns_options,
                                                extra_hosts, links, ip, more)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ContainerSpec, id, rootfs, args, env, hostname, workdir, user,
                                                interactive, tty, network, userns, uid_map, gid_map, limits, image,
                                                layers, rootfs_made_later, keep_rootfs, mounts, security, entrypoint, net,
                                                init, sysctls)

nlohmann::json spec_to_json(const ContainerSpec& s) { return s; }

ContainerSpec spec_from_json(const nlohmann::json& j) { return json_as<ContainerSpec>(j, "container spec"); }

}  // namespace box
