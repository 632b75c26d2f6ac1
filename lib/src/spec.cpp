#include "box/spec.hpp"

#include <charconv>

#include "box/error.hpp"
#include "box/util.hpp"

namespace box {

IdMapping parse_id_range(const std::string& text) {
    auto parts = split(text, ':');
    auto bad = [&] { return Error("invalid id range " + text, "expected HOSTID[:COUNT], e.g. 100000:65536"); };
    if (parts.size() > 2) throw bad();
    IdMapping m{0, 0, 65536};
    auto num = [&](const std::string& s, std::uint32_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (s.empty() || ec != std::errc() || p != s.data() + s.size()) throw bad();
    };
    num(parts[0], m.outside);
    if (parts.size() == 2) num(parts[1], m.count);
    if (m.count == 0) throw bad();
    if (m.outside == 0) throw Error("invalid id range " + text, "host id 0 would map the host's root into the container");
    if (static_cast<std::uint64_t>(m.outside) + m.count > 0xffffffffULL) throw bad();
    return m;
}

namespace {
nlohmann::json map_json(const IdMapping& m) { return {m.inside, m.outside, m.count}; }
IdMapping map_from(const nlohmann::json& j) { return {j.at(0), j.at(1), j.at(2)}; }
template <typename T>
void put(nlohmann::json& j, const char* key, const std::optional<T>& v) {
    if (v) j[key] = *v;
}
template <typename T>
void get(const nlohmann::json& j, const char* key, std::optional<T>& v) {
    if (j.contains(key)) v = j.at(key).get<T>();
}
}  // namespace

nlohmann::json mounts_json(const std::vector<VolumeMount>& mounts) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : mounts)
        out.push_back({{"type", m.type}, {"name", m.name}, {"source", m.source}, {"destination", m.destination},
                       {"readonly", m.readonly}});
    return out;
}

nlohmann::json spec_to_json(const ContainerSpec& s) {
    nlohmann::json limits = {{"cpuset_cpus", s.limits.cpuset_cpus}};
    put(limits, "memory", s.limits.memory);
    put(limits, "memory_swap", s.limits.memory_swap);
    put(limits, "cpus", s.limits.cpus);
    put(limits, "cpu_shares", s.limits.cpu_shares);
    put(limits, "pids", s.limits.pids);
    return {{"id", s.id}, {"rootfs", s.rootfs}, {"args", s.args}, {"env", s.env}, {"hostname", s.hostname},
            {"workdir", s.workdir}, {"user", s.user}, {"interactive", s.interactive}, {"tty", s.tty},
            {"network", s.network == NetworkMode::Host ? "host" : "none"}, {"userns", s.userns},
            {"uid_map", map_json(s.uid_map)}, {"gid_map", map_json(s.gid_map)}, {"limits", limits},
            {"image", s.image}, {"layers", s.layers}, {"rootfs_made_later", s.rootfs_made_later},
            {"keep_rootfs", s.keep_rootfs}, {"mounts", mounts_json(s.mounts)}};
}

ContainerSpec spec_from_json(const nlohmann::json& j) {
    try {
        ContainerSpec s;
        s.id = j.at("id");
        s.rootfs = j.at("rootfs");
        s.args = j.at("args").get<std::vector<std::string>>();
        s.env = j.at("env").get<std::vector<std::string>>();
        s.hostname = j.at("hostname");
        s.workdir = j.at("workdir");
        s.user = j.at("user");
        s.interactive = j.at("interactive");
        s.tty = j.at("tty");
        s.network = j.at("network") == "host" ? NetworkMode::Host : NetworkMode::None;
        s.userns = j.at("userns");
        s.uid_map = map_from(j.at("uid_map"));
        s.gid_map = map_from(j.at("gid_map"));
        const auto& l = j.at("limits");
        get(l, "memory", s.limits.memory);
        get(l, "memory_swap", s.limits.memory_swap);
        get(l, "cpus", s.limits.cpus);
        get(l, "cpu_shares", s.limits.cpu_shares);
        get(l, "pids", s.limits.pids);
        s.limits.cpuset_cpus = l.value("cpuset_cpus", "");
        s.image = j.at("image");
        s.layers = j.at("layers").get<std::vector<std::string>>();
        s.rootfs_made_later = j.at("rootfs_made_later");
        s.keep_rootfs = j.at("keep_rootfs");
        for (const auto& m : j.value("mounts", nlohmann::json::array()))
            s.mounts.push_back({m.at("type"), m.at("name"), m.at("source"), m.at("destination"), m.at("readonly")});
        return s;
    } catch (const nlohmann::json::exception& e) {
        throw Error("container spec", e.what());
    }
}

}  // namespace box
